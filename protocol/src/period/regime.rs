//! Publication-period regimes over time, keyed by the date of the decision.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::class::{SectorRule, SeverityClass};

/// Builds a calendar date in a `const` context. Only called with valid literal dates (checked by
/// the tests); an invalid literal would fall back to `NaiveDate::MIN` rather than panic.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => NaiveDate::MIN,
    }
}

/// A publication-period regime (a versioned rule set, in force for decisions dated within its
/// range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Regime {
    /// 发改办财金〔2019〕527号 《关于进一步完善"信用中国"网站及地方信用门户网站行政处罚信息信用
    /// 修复机制的通知》, applied from 2019-07-01 until order No. 58 took effect (2023-04-30).
    /// 一般失信: 3 months – 1 year; 严重失信: 6 months – 3 years; 特定严重失信: the full 3 years,
    /// not repairable. 轻微 is not a class of this regime.
    Notice527,
    /// NDRC order No. 58 (2023) 《失信行为纠正后的信用信息修复管理办法（试行）》, in force
    /// 2023-05-01 → 2026-03-31. Penalty information: 3 months minimum, 3 years maximum, whatever
    /// the class; 特种设备、安全生产、消防: 1 year minimum ([`SectorRule`]).
    Order58,
    /// NDRC order No. 36 (2025) 《信用修复管理办法》, in force from 2026-04-01 (repeals order
    /// No. 58). 轻微: not published by default, ≤ 3 months if published, repair on fulfilment;
    /// 一般: 3 months – 1 year; 严重: 1 – 3 years. Periods count from the date of the judicial
    /// or administrative document.
    Order36,
}

/// The period rule a regime applies to one class of information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodRule {
    /// Minimum publication period in months (repair may be applied for after it); `None` when
    /// there is no minimum (轻微 under order No. 36: repair on fulfilment).
    pub min_months: Option<u32>,
    /// Maximum publication period in months (publication stops automatically after it); `None`
    /// when the regime sets no automatic end.
    pub max_months: Option<u32>,
    /// Whether credit repair (early termination of publication) is possible at all.
    pub repairable: bool,
    /// Whether the information is published unless the determining unit decides otherwise.
    pub published_by_default: bool,
}

impl Regime {
    /// All regimes, oldest first.
    pub const ALL: [Regime; 3] = [Regime::Notice527, Regime::Order58, Regime::Order36];

    /// First decision date the regime applies to.
    #[must_use]
    pub const fn in_force_from(self) -> NaiveDate {
        match self {
            Regime::Notice527 => ymd(2019, 7, 1),
            Regime::Order58 => ymd(2023, 5, 1),
            Regime::Order36 => ymd(2026, 4, 1),
        }
    }

    /// Last decision date the regime applies to (inclusive); `None` while still in force.
    #[must_use]
    pub const fn in_force_until(self) -> Option<NaiveDate> {
        match self {
            Regime::Notice527 => Some(ymd(2023, 4, 30)),
            Regime::Order58 => Some(ymd(2026, 3, 31)),
            Regime::Order36 => None,
        }
    }

    /// The regime that replaced this one, if any.
    #[must_use]
    pub const fn successor(self) -> Option<Regime> {
        match self {
            Regime::Notice527 => Some(Regime::Order58),
            Regime::Order58 => Some(Regime::Order36),
            Regime::Order36 => None,
        }
    }

    /// The regime in force on the decision date (periods count from the date of the decision).
    ///
    /// * 2019-07-01 ..= 2023-04-30 → [`Regime::Notice527`]
    /// * 2023-05-01 ..= 2026-03-31 → [`Regime::Order58`]
    /// * 2026-04-01 .. → [`Regime::Order36`]
    ///
    /// Decisions before 2019-07-01 → `None`: there was no national credit-repair period rule
    /// for 信用中国 before 527号, and this crate does not guess one.
    #[must_use]
    pub fn for_decision_date(decision_date: NaiveDate) -> Option<Regime> {
        Regime::ALL.into_iter().rev().find(|r| {
            decision_date >= r.in_force_from()
                && r.in_force_until().is_none_or(|end| decision_date <= end)
        })
    }

    /// The period rule for `class` under this regime, with an optional sector rule.
    ///
    /// Returns `None` when the class does not exist under the regime (轻微 under 527号).
    /// Choices where a regime does not grade the information:
    /// * order No. 58 sets one rule for all penalty information, so every class gets
    ///   3 months – 3 years (1 year minimum with [`SectorRule::SpecialEquipmentWorkSafetyFire`]);
    /// * order No. 36 has no 特定严重 class; such information gets the 严重 rule.
    ///
    /// `sector` only changes order No. 58's rule.
    #[must_use]
    pub const fn rule(
        self,
        class: SeverityClass,
        sector: Option<SectorRule>,
    ) -> Option<PeriodRule> {
        const fn rule(min: Option<u32>, max: u32, repairable: bool, published: bool) -> PeriodRule {
            PeriodRule {
                min_months: min,
                max_months: Some(max),
                repairable,
                published_by_default: published,
            }
        }
        match self {
            Regime::Notice527 => match class {
                SeverityClass::Minor => None,
                SeverityClass::General => Some(rule(Some(3), 12, true, true)),
                SeverityClass::Serious => Some(rule(Some(6), 36, true, true)),
                // "严格按最长公示期限予以公示": full 3 years, no repair.
                SeverityClass::SpecialSerious => Some(rule(Some(36), 36, false, true)),
            },
            Regime::Order58 => match sector {
                Some(SectorRule::SpecialEquipmentWorkSafetyFire) => {
                    Some(rule(Some(12), 36, true, true))
                }
                None => Some(rule(Some(3), 36, true, true)),
            },
            Regime::Order36 => match class {
                SeverityClass::Minor => Some(rule(None, 3, true, false)),
                SeverityClass::General => Some(rule(Some(3), 12, true, true)),
                SeverityClass::Serious | SeverityClass::SpecialSerious => {
                    Some(rule(Some(12), 36, true, true))
                }
            },
        }
    }

    /// Official citation of the regime's source.
    #[must_use]
    pub const fn source(self) -> &'static str {
        match self {
            Regime::Notice527 => "发改办财金〔2019〕527号",
            Regime::Order58 => {
                "国家发展改革委令2023年第58号《失信行为纠正后的信用信息修复管理办法（试行）》"
            }
            Regime::Order36 => "国家发展改革委令2025年第36号《信用修复管理办法》",
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Regime::Notice527 => "发改办财金〔2019〕527号",
            Regime::Order58 => "国家发展改革委令第58号",
            Regime::Order36 => "国家发展改革委令第36号",
        })
    }
}

/// What happens to information decided under an earlier regime that is still published when a
/// later regime takes effect (e.g. order No. 58 information still published on 2026-04-01).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransitionPolicy {
    /// Keep the periods of the regime in force on the decision date (no retroactive re-timing).
    /// This is the default.
    #[default]
    KeepDecisionRegime,
    /// Re-time the information under each later regime it is still published on the first day
    /// of, up to the newest regime. Periods still count from the decision date; information
    /// whose new maximum already lies before the switch stops being published on the day before
    /// the new regime took effect (the last day it was lawfully published).
    ApplyCurrentRegime,
}
