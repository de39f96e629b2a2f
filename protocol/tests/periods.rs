//! Publication periods and repair eligibility: credit-data.md §4.6, §5.1–5.4 test vectors.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use credx_protocol::period::*;
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn default_period(date: &str, class: SeverityClass) -> PublicationPeriod {
    publication_period(d(date), class, &PeriodOptions::default()).unwrap()
}

fn check(p: &PublicationPeriod, min_end: &str, earliest: &str, end: &str) {
    assert_eq!(p.min_end, Some(d(min_end)), "min_end");
    assert_eq!(p.earliest_repair, Some(d(earliest)), "earliest_repair");
    assert_eq!(p.publication_end, Some(d(end)), "publication_end");
    assert!(p.repairable);
}

// ---- §5.4 test vectors -------------------------------------------------------------------

#[test]
fn vector_2026_05_11_general() {
    let p = default_period("2026-05-11", SeverityClass::General);
    assert_eq!(p.regime, Regime::Order36);
    check(&p, "2026-08-11", "2026-08-12", "2027-05-11");
}

#[test]
fn vector_2026_11_30_general_no_feb_30() {
    let p = default_period("2026-11-30", SeverityClass::General);
    check(&p, "2027-02-28", "2027-03-01", "2027-11-30");
}

#[test]
fn vector_2027_11_30_general_leap() {
    let p = default_period("2027-11-30", SeverityClass::General);
    check(&p, "2028-02-29", "2028-03-01", "2028-11-30");
}

#[test]
fn vector_2026_05_11_serious() {
    let p = default_period("2026-05-11", SeverityClass::Serious);
    check(&p, "2027-05-11", "2027-05-12", "2029-05-11");
}

#[test]
fn vector_2026_05_11_minor_not_published_by_default() {
    let err = publication_period(
        d("2026-05-11"),
        SeverityClass::Minor,
        &PeriodOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PeriodError::NotPublished {
            regime: Regime::Order36,
            class: SeverityClass::Minor
        }
    );
    assert_eq!(publication_end(d("2026-05-11"), SeverityClass::Minor), None);
}

#[test]
fn vector_2026_05_11_minor_if_published() {
    let opts = PeriodOptions {
        publish_optional: true,
        ..PeriodOptions::default()
    };
    let p = publication_period(d("2026-05-11"), SeverityClass::Minor, &opts).unwrap();
    assert_eq!(p.publication_end, Some(d("2026-08-11")));
    assert_eq!(p.min_end, None);
    assert_eq!(p.earliest_repair, None);
    assert!(p.repair_on_fulfilment());
    assert!(p.is_published_on(d("2026-08-11")));
    assert!(!p.is_published_on(d("2026-08-12")));
    // Repair on fulfilment: eligible the day after the decision once conditions 2–3 hold.
    let facts = RepairFacts {
        obligations_fulfilled: true,
        commitment_made: true,
        barred_until: None,
    };
    assert!(repair_eligibility(&p, d("2026-05-12"), &facts).is_eligible());
    assert!(repair_eligibility(&p, d("2026-05-11"), &facts).is_eligible());
}

#[test]
fn vector_2026_03_20_order58_keep_decision_regime() {
    let p = default_period("2026-03-20", SeverityClass::General);
    assert_eq!(p.regime, Regime::Order58);
    assert_eq!(p.decision_regime, Regime::Order58);
    check(&p, "2026-06-20", "2026-06-21", "2029-03-20");
    // Order 58 does not grade: every class gets 3 months – 3 years.
    for class in [SeverityClass::Minor, SeverityClass::Serious] {
        let q = default_period("2026-03-20", class);
        check(&q, "2026-06-20", "2026-06-21", "2029-03-20");
    }
}

#[test]
fn vector_2026_03_20_order58_apply_current_regime() {
    let opts = PeriodOptions {
        transition: TransitionPolicy::ApplyCurrentRegime,
        ..PeriodOptions::default()
    };
    let general = publication_period(d("2026-03-20"), SeverityClass::General, &opts).unwrap();
    assert_eq!(general.regime, Regime::Order36);
    assert_eq!(general.decision_regime, Regime::Order58);
    check(&general, "2026-06-20", "2026-06-21", "2027-03-20");
    let serious = publication_period(d("2026-03-20"), SeverityClass::Serious, &opts).unwrap();
    check(&serious, "2027-03-20", "2027-03-21", "2029-03-20");
    // 轻微 is not published by default under order 36: publication stops when it takes effect.
    let minor = publication_period(d("2026-03-20"), SeverityClass::Minor, &opts).unwrap();
    assert_eq!(minor.regime, Regime::Order36);
    assert_eq!(minor.publication_end, Some(d("2026-03-31")));
    assert!(minor.repair_on_fulfilment());
    // Published under order 36 rules, 轻微 ends 3 months after the decision.
    let opts_pub = PeriodOptions {
        publish_optional: true,
        ..opts
    };
    let minor = publication_period(d("2026-03-20"), SeverityClass::Minor, &opts_pub).unwrap();
    assert_eq!(minor.publication_end, Some(d("2026-06-20")));
}

#[test]
fn apply_current_regime_clamps_past_maxima_to_switch() {
    // Decided 2025-03-10 under order 58 (ends 2028-03-10, still published on 2026-04-01);
    // order 36 一般 max would be 2026-03-10, already past: ends on 2026-03-31.
    let opts = PeriodOptions {
        transition: TransitionPolicy::ApplyCurrentRegime,
        ..PeriodOptions::default()
    };
    let p = publication_period(d("2025-03-10"), SeverityClass::General, &opts).unwrap();
    assert_eq!(p.regime, Regime::Order36);
    assert_eq!(p.publication_end, Some(d("2026-03-31")));
    assert!(p.is_published_on(d("2026-03-31")));
    assert!(!p.is_published_on(d("2026-04-01")));
    // Information no longer published on 2026-04-01 keeps its regime.
    let old = publication_period(d("2022-01-10"), SeverityClass::General, &opts).unwrap();
    assert_eq!(old.regime, Regime::Notice527);
    assert_eq!(old.publication_end, Some(d("2023-01-10")));
}

#[test]
fn transition_policy_default_is_keep() {
    assert_eq!(
        TransitionPolicy::default(),
        TransitionPolicy::KeepDecisionRegime
    );
}

// ---- §4.6 sample penalty -------------------------------------------------------------------

#[test]
fn sample_penalty_4_6() {
    // CF_JDRQ 2026-05-11, BZ "失信程度：一般", CF_GSJZQ 2027-05-11.
    let class = SeverityClass::from_chinese("失信程度：一般").unwrap();
    assert_eq!(class, SeverityClass::General);
    let p = default_period("2026-05-11", class);
    assert_eq!(p.min_end, Some(d("2026-08-11")));
    assert_eq!(p.earliest_repair, Some(d("2026-08-12")));
    assert_eq!(
        publication_end(d("2026-05-11"), class),
        Some(d("2027-05-11"))
    );
    assert!(p.is_published_on(d("2027-05-11")));
    assert!(!p.is_published_on(d("2027-05-12")));
    assert!(!p.is_published_on(d("2026-05-10")));
}

// ---- regimes ----------------------------------------------------------------------------------

#[test]
fn regime_boundaries() {
    assert_eq!(
        Regime::for_decision_date(d("2026-03-31")),
        Some(Regime::Order58)
    );
    assert_eq!(
        Regime::for_decision_date(d("2026-04-01")),
        Some(Regime::Order36)
    );
    assert_eq!(
        Regime::for_decision_date(d("2023-04-30")),
        Some(Regime::Notice527)
    );
    assert_eq!(
        Regime::for_decision_date(d("2023-05-01")),
        Some(Regime::Order58)
    );
    assert_eq!(
        Regime::for_decision_date(d("2019-07-01")),
        Some(Regime::Notice527)
    );
    assert_eq!(Regime::for_decision_date(d("2019-06-30")), None);
    assert_eq!(
        Regime::for_decision_date(d("2099-01-01")),
        Some(Regime::Order36)
    );
    // Consecutive, gap-free ranges.
    for r in Regime::ALL {
        if let Some(next) = r.successor() {
            assert_eq!(
                r.in_force_until().unwrap().succ_opt().unwrap(),
                next.in_force_from()
            );
        }
        assert_ne!(r.in_force_from(), NaiveDate::MIN);
    }
}

#[test]
fn regime_boundary_periods_differ() {
    let old = default_period("2026-03-31", SeverityClass::General);
    let new = default_period("2026-04-01", SeverityClass::General);
    assert_eq!(old.regime, Regime::Order58);
    assert_eq!(old.publication_end, Some(d("2029-03-31")));
    assert_eq!(new.regime, Regime::Order36);
    assert_eq!(new.publication_end, Some(d("2027-04-01")));
    // 轻微 at the boundary: published under 58, not by default under 36.
    assert!(publication_period(
        d("2026-03-31"),
        SeverityClass::Minor,
        &PeriodOptions::default()
    )
    .is_ok());
    assert!(publication_end(d("2026-04-01"), SeverityClass::Minor).is_none());
}

#[test]
fn order36_rules() {
    let r = |c| Regime::Order36.rule(c, None).unwrap();
    assert_eq!(
        r(SeverityClass::Minor),
        PeriodRule {
            min_months: None,
            max_months: Some(3),
            repairable: true,
            published_by_default: false
        }
    );
    assert_eq!(
        r(SeverityClass::General),
        PeriodRule {
            min_months: Some(3),
            max_months: Some(12),
            repairable: true,
            published_by_default: true
        }
    );
    assert_eq!(
        r(SeverityClass::Serious),
        PeriodRule {
            min_months: Some(12),
            max_months: Some(36),
            repairable: true,
            published_by_default: true
        }
    );
    // The sector rule only affects order 58.
    assert_eq!(
        Regime::Order36.rule(
            SeverityClass::General,
            Some(SectorRule::SpecialEquipmentWorkSafetyFire)
        ),
        Some(r(SeverityClass::General))
    );
}

#[test]
fn order58_sector_rule_one_year_minimum() {
    let opts = PeriodOptions {
        sector: Some(SectorRule::SpecialEquipmentWorkSafetyFire),
        ..PeriodOptions::default()
    };
    let p = publication_period(d("2024-02-29"), SeverityClass::General, &opts).unwrap();
    assert_eq!(p.regime, Regime::Order58);
    check(&p, "2025-02-28", "2025-03-01", "2027-02-28");
}

#[test]
fn notice527_rules() {
    let g = default_period("2020-01-31", SeverityClass::General);
    check(&g, "2020-04-30", "2020-05-01", "2021-01-31");
    let s = default_period("2020-01-31", SeverityClass::Serious);
    check(&s, "2020-07-31", "2020-08-01", "2023-01-31");
    let sp = default_period("2020-01-31", SeverityClass::SpecialSerious);
    assert!(!sp.repairable);
    assert_eq!(sp.earliest_repair, None);
    assert_eq!(sp.publication_end, Some(d("2023-01-31")));
    assert_eq!(
        publication_period(
            d("2020-01-31"),
            SeverityClass::Minor,
            &PeriodOptions::default()
        ),
        Err(PeriodError::ClassNotInRegime {
            regime: Regime::Notice527,
            class: SeverityClass::Minor
        })
    );
}

#[test]
fn decision_before_any_regime() {
    assert_eq!(
        publication_period(
            d("2019-06-30"),
            SeverityClass::General,
            &PeriodOptions::default()
        ),
        Err(PeriodError::NoRegime {
            decision_date: d("2019-06-30")
        })
    );
    assert_eq!(
        publication_end(d("2018-01-01"), SeverityClass::Serious),
        None
    );
}

#[test]
fn overflow_is_an_error() {
    let err = publication_period(
        NaiveDate::MAX,
        SeverityClass::General,
        &PeriodOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, PeriodError::Overflow { .. }), "{err:?}");
    assert_eq!(add_months_civil(NaiveDate::MAX, 1), None);
    assert_eq!(add_years_civil(d("2026-01-01"), u32::MAX), None);
}

// ---- Civil Code arithmetic -----------------------------------------------------------------

#[test]
fn civil_code_month_ends() {
    assert_eq!(add_months_civil(d("2026-01-31"), 1), Some(d("2026-02-28")));
    assert_eq!(add_months_civil(d("2028-01-31"), 1), Some(d("2028-02-29")));
    assert_eq!(add_months_civil(d("2026-03-31"), 1), Some(d("2026-04-30")));
    assert_eq!(add_months_civil(d("2026-08-31"), 3), Some(d("2026-11-30")));
    assert_eq!(add_months_civil(d("2026-02-28"), 1), Some(d("2026-03-28")));
    assert_eq!(add_months_civil(d("2026-11-30"), 3), Some(d("2027-02-28")));
    assert_eq!(add_months_civil(d("2027-11-30"), 3), Some(d("2028-02-29")));
    assert_eq!(add_months_civil(d("2026-05-11"), 0), Some(d("2026-05-11")));
    assert_eq!(add_months_civil(d("2026-12-15"), 1), Some(d("2027-01-15")));
}

#[test]
fn civil_code_years_and_leap_day() {
    assert_eq!(add_years_civil(d("2028-02-29"), 1), Some(d("2029-02-28")));
    assert_eq!(add_years_civil(d("2028-02-29"), 4), Some(d("2032-02-29")));
    assert_eq!(add_years_civil(d("2026-05-11"), 3), Some(d("2029-05-11")));
    assert_eq!(day_after(d("2028-02-28")), Some(d("2028-02-29")));
    assert_eq!(day_after(d("2026-12-31")), Some(d("2027-01-01")));
}

// ---- repair eligibility ------------------------------------------------------------------------

const ALL_MET: RepairFacts = RepairFacts {
    obligations_fulfilled: true,
    commitment_made: true,
    barred_until: None,
};

#[test]
fn repair_eligible_from_earliest_day() {
    let p = default_period("2026-05-11", SeverityClass::General);
    let e = repair_eligibility(&p, d("2026-08-12"), &ALL_MET);
    assert!(e.is_eligible());
    assert!(e.blockers().is_empty());
    assert!(repair_eligibility(&p, d("2027-05-11"), &ALL_MET).is_eligible());
}

#[test]
fn repair_not_yet() {
    let p = default_period("2026-05-11", SeverityClass::General);
    let e = repair_eligibility(&p, d("2026-08-11"), &ALL_MET);
    assert_eq!(
        e.unmet,
        vec![RepairBlocker::NotYet {
            earliest: d("2026-08-12")
        }]
    );
}

#[test]
fn repair_obligations_outstanding() {
    let p = default_period("2026-05-11", SeverityClass::General);
    let facts = RepairFacts {
        obligations_fulfilled: false,
        ..ALL_MET
    };
    let e = repair_eligibility(&p, d("2026-09-01"), &facts);
    assert_eq!(e.unmet, vec![RepairBlocker::ObligationsOutstanding]);
}

#[test]
fn repair_commitment_missing() {
    let p = default_period("2026-05-11", SeverityClass::General);
    let facts = RepairFacts {
        commitment_made: false,
        ..ALL_MET
    };
    let e = repair_eligibility(&p, d("2026-09-01"), &facts);
    assert_eq!(e.unmet, vec![RepairBlocker::CommitmentMissing]);
}

#[test]
fn repair_barred_through_inclusive_date() {
    let p = default_period("2026-05-11", SeverityClass::General);
    let facts = RepairFacts {
        barred_until: Some(d("2026-10-01")),
        ..ALL_MET
    };
    assert_eq!(
        repair_eligibility(&p, d("2026-10-01"), &facts).unmet,
        vec![RepairBlocker::Barred {
            until: d("2026-10-01")
        }]
    );
    assert!(repair_eligibility(&p, d("2026-10-02"), &facts).is_eligible());
}

#[test]
fn repair_publication_ended() {
    let p = default_period("2026-05-11", SeverityClass::General);
    let e = repair_eligibility(&p, d("2027-05-12"), &ALL_MET);
    assert_eq!(
        e.unmet,
        vec![RepairBlocker::PublicationEnded {
            ended: d("2027-05-11")
        }]
    );
}

#[test]
fn repair_not_repairable_527_specific_serious() {
    let p = default_period("2021-06-01", SeverityClass::SpecialSerious);
    let e = repair_eligibility(&p, d("2022-06-01"), &ALL_MET);
    assert_eq!(
        e.unmet,
        vec![RepairBlocker::NotRepairable {
            reason: NotRepairableReason::FullTermRequired {
                regime: Regime::Notice527,
                class: SeverityClass::SpecialSerious
            }
        }]
    );
}

#[test]
fn repair_reports_all_reasons_in_order() {
    let p = default_period("2026-05-11", SeverityClass::Serious);
    let facts = RepairFacts {
        obligations_fulfilled: false,
        commitment_made: false,
        barred_until: Some(d("2027-12-31")),
    };
    let e = repair_eligibility(&p, d("2026-06-01"), &facts);
    assert!(!e.is_eligible());
    assert_eq!(
        e.unmet,
        vec![
            RepairBlocker::NotYet {
                earliest: d("2027-05-12")
            },
            RepairBlocker::ObligationsOutstanding,
            RepairBlocker::CommitmentMissing,
            RepairBlocker::Barred {
                until: d("2027-12-31")
            },
        ]
    );
}

#[test]
fn repair_on_fulfilment_for_minor_before_decision_is_not_yet() {
    let opts = PeriodOptions {
        publish_optional: true,
        ..PeriodOptions::default()
    };
    let p = publication_period(d("2026-05-11"), SeverityClass::Minor, &opts).unwrap();
    let facts = RepairFacts {
        obligations_fulfilled: false,
        ..ALL_MET
    };
    assert_eq!(
        repair_eligibility(&p, d("2026-05-20"), &facts).unmet,
        vec![RepairBlocker::ObligationsOutstanding]
    );
    assert_eq!(
        repair_eligibility(&p, d("2026-05-10"), &ALL_MET).unmet,
        vec![RepairBlocker::NotYet {
            earliest: d("2026-05-11")
        }]
    );
}

// ---- severity classes ---------------------------------------------------------------------

#[test]
fn severity_class_names_and_serde() {
    for c in SeverityClass::ALL {
        assert_eq!(SeverityClass::from_chinese(c.chinese_name()), Some(c));
        assert_eq!(c.to_string().parse::<SeverityClass>().unwrap(), c);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, format!("\"{}\"", c.chinese_name()));
        assert_eq!(serde_json::from_str::<SeverityClass>(&json).unwrap(), c);
    }
    assert_eq!(
        serde_json::from_str::<SeverityClass>("\"Serious\"").unwrap(),
        SeverityClass::Serious
    );
    assert_eq!(
        SeverityClass::from_chinese("严重失信"),
        Some(SeverityClass::Serious)
    );
    assert_eq!(
        SeverityClass::from_chinese("失信程度:轻微"),
        Some(SeverityClass::Minor)
    );
    assert!("重大".parse::<SeverityClass>().is_err());
}

// ---- list periods ---------------------------------------------------------------------------

#[test]
fn list_rules_table_is_indexed_by_kind() {
    assert_eq!(LIST_PERIOD_RULES.len(), ListPeriodKind::ALL.len());
    for k in ListPeriodKind::ALL {
        assert_eq!(k.rule().kind, k);
    }
}

#[test]
fn court_dishonest_debtor() {
    let r = ListPeriodKind::CourtDishonestDebtor.rule();
    assert!(!r.suspend_on_objection);
    assert!(r.removed_on_performance);
    assert_eq!(
        r.listing_end(d("2026-01-31"), 0).unwrap(),
        Some(d("2028-01-31"))
    );
    assert_eq!(
        r.listing_end(d("2026-01-31"), 12).unwrap(),
        Some(d("2029-01-31"))
    );
    assert_eq!(
        r.listing_end(d("2026-01-31"), 36).unwrap(),
        Some(d("2031-01-31"))
    );
    assert!(matches!(
        r.listing_end(d("2026-01-31"), 6),
        Err(PeriodError::ExtensionOutOfRange { months: 6, .. })
    ));
    assert!(r.listing_end(d("2026-01-31"), 37).is_err());
    let refusal = ListPeriodKind::CourtDishonestDebtorRefusal.rule();
    assert_eq!(refusal.duration, ListDuration::UntilPerformance);
    assert_eq!(refusal.listing_end(d("2026-01-31"), 0).unwrap(), None);
    assert!(!ListPeriodKind::CourtDishonestDebtorRefusal.suspend_on_objection());
}

#[test]
fn commerce_and_market_regulation() {
    let c = ListPeriodKind::CommerceJointPunishment.rule();
    assert_eq!(c.duration, ListDuration::AtMost { months: 36 });
    assert!(c.suspend_on_objection);
    assert!(c.listing_end(d("2026-01-01"), 12).is_err());
    let k = ListPeriodKind::CommerceKeyAttention.rule();
    assert_eq!(
        k.listing_end(d("2026-01-01"), 0).unwrap(),
        Some(d("2028-01-01"))
    );
    let m = ListPeriodKind::MarketRegulationSerious.rule();
    assert!(m.suspend_on_objection);
    assert_eq!(
        m.listing_end(d("2026-05-11"), 0).unwrap(),
        Some(d("2029-05-11"))
    );
    assert_eq!(
        m.early_removal_from(d("2026-05-11")).unwrap(),
        Some(d("2027-05-12"))
    );
    assert_eq!(c.early_removal_from(d("2026-05-11")).unwrap(), None);
    let legacy = ListPeriodKind::LegacyAicSerious.rule();
    assert_eq!(
        legacy.listing_end(d("2017-03-01"), 0).unwrap(),
        Some(d("2022-03-01"))
    );
    let elder = ListPeriodKind::ElderlyCareJointPunishment.rule();
    assert_eq!(elder.listing_end(d("2026-01-01"), 0).unwrap(), None);
    assert_eq!(
        elder.early_removal_from(d("2026-01-01")).unwrap(),
        Some(d("2028-01-02"))
    );
    // Only the courts' lists keep measures in force during objections.
    for k in ListPeriodKind::ALL {
        let court = matches!(
            k,
            ListPeriodKind::CourtDishonestDebtor | ListPeriodKind::CourtDishonestDebtorRefusal
        );
        assert_eq!(k.suspend_on_objection(), !court, "{k:?}");
    }
}

// ---- properties --------------------------------------------------------------------------

fn any_date() -> impl Strategy<Value = NaiveDate> {
    // Whole chrono range (days from CE).
    (NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce())
        .prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap())
}

use chrono::Datelike;

proptest! {
    #[test]
    fn add_months_never_panics_and_not_before_start(start in any_date(), months in any::<u32>()) {
        if let Some(end) = add_months_civil(start, months) {
            prop_assert!(end >= start);
        }
    }

    #[test]
    fn add_months_is_monotonic(start in any_date(), a in 0u32..2000, b in 0u32..2000) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        if let (Some(x), Some(y)) = (add_months_civil(start, lo), add_months_civil(start, hi)) {
            prop_assert!(x <= y);
        }
    }

    #[test]
    fn add_months_lands_on_corresponding_or_last_day(
        days in 730_000i32..760_000, months in 0u32..600
    ) {
        let start = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
        let end = add_months_civil(start, months).unwrap();
        let total = start.year() * 12 + start.month0() as i32 + months as i32;
        prop_assert_eq!(end.year() * 12 + end.month0() as i32, total);
        if end.day() != start.day() {
            prop_assert!(end.day() < start.day());
            prop_assert_eq!(end.succ_opt().unwrap().day(), 1);
        }
    }

    #[test]
    fn publication_period_is_ordered(days in 737_241i32..760_000, c in 0usize..4) {
        // 737_241 = 2019-07-01 days from CE.
        let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
        let class = SeverityClass::ALL[c];
        for transition in [TransitionPolicy::KeepDecisionRegime, TransitionPolicy::ApplyCurrentRegime] {
            let opts = PeriodOptions { transition, publish_optional: true, ..PeriodOptions::default() };
            if let Ok(p) = publication_period(date, class, &opts) {
                let end = p.publication_end.unwrap();
                prop_assert!(end > date);
                if let Some(min) = p.min_end {
                    prop_assert!(min > date && min <= end);
                }
                if let (Some(min), Some(er)) = (p.min_end, p.earliest_repair) {
                    prop_assert_eq!(min.succ_opt(), Some(er));
                }
            }
        }
    }
}
