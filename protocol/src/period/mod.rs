//! Publication periods and credit-repair eligibility (order No. 58 and order No. 36 regimes).
//!
//! * [`civil_code`]: month/year arithmetic per 民法典 Arts. 201–203 (calendar dates).
//! * [`regime`]: the versioned rule sets (发改办财金〔2019〕527号, NDRC order No. 58 (2023),
//!   NDRC order No. 36 (2025)) keyed by decision date, and the transition policy.
//! * [`class`]: severity classes 轻微 / 一般 / 严重 (and 527号's 特定严重), sector rules.
//! * [`repair`]: repair eligibility per order No. 36 conditions (1)–(4).
//! * [`list_periods`]: list-specific periods (失信被执行人, 商务, 市场监管 …) as data.
//!
//! Everything here is a pure function of its inputs: nothing reads the clock.

pub mod civil_code;
pub mod class;
pub mod list_periods;
pub mod regime;
pub mod repair;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use civil_code::{add_months_civil, add_years_civil, day_after};
pub use class::{SectorRule, SeverityClass, UnknownSeverityClass};
pub use list_periods::{
    ExtensionRange, ListDuration, ListPeriodKind, ListPeriodRule, LIST_PERIOD_RULES,
};
pub use regime::{PeriodRule, Regime, TransitionPolicy};
pub use repair::{
    repair_eligibility, NotRepairableReason, RepairBlocker, RepairEligibility, RepairFacts,
};

/// Errors of period computations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The decision predates every known regime (the earliest, 发改办财金〔2019〕527号, applies
    /// from 2019-07-01).
    #[error("decision date {decision_date} precedes every known publication-period regime (earliest applies from 2019-07-01)")]
    NoRegime {
        /// The decision date given.
        decision_date: NaiveDate,
    },
    /// Date arithmetic left chrono's representable range.
    #[error("date arithmetic overflow: {start} + {months} months")]
    Overflow {
        /// Start of the period.
        start: NaiveDate,
        /// Months added.
        months: u32,
    },
    /// The class does not exist under the regime (轻微 under 527号).
    #[error("class {class} is not defined under {regime}")]
    ClassNotInRegime {
        /// Regime applied.
        regime: Regime,
        /// Class asked for.
        class: SeverityClass,
    },
    /// The class is not published by default under the regime (轻微 under order No. 36) and
    /// [`PeriodOptions::publish_optional`] was not set.
    #[error("{class} information is not published by default under {regime}")]
    NotPublished {
        /// Regime applied.
        regime: Regime,
        /// Class asked for.
        class: SeverityClass,
    },
    /// A list-period extension outside the range the list allows.
    #[error("extension of {months} months is not allowed for {kind:?} (allowed: {allowed})")]
    ExtensionOutOfRange {
        /// The list.
        kind: ListPeriodKind,
        /// Extension asked for.
        months: u32,
        /// Human-readable allowed range.
        allowed: String,
    },
}

/// Options for [`publication_period`]. `Default` = keep the decision regime, no sector rule,
/// publish only what the regime publishes by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodOptions {
    /// Treatment of information still published when a later regime takes effect.
    pub transition: TransitionPolicy,
    /// Sector rule (order No. 58: 特种设备、安全生产、消防 → 1-year minimum).
    pub sector: Option<SectorRule>,
    /// The determining unit decided to publish information the regime does not publish by
    /// default (轻微 under order No. 36: then at most 3 months).
    pub publish_optional: bool,
}

/// The publication period of one piece of dishonesty information.
///
/// All dates are inclusive "last day" / "first day" dates computed with
/// [`add_months_civil`] from the decision date (the date of the judicial or administrative
/// document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicationPeriod {
    /// Regime whose rules were applied (differs from `decision_regime` only under
    /// [`TransitionPolicy::ApplyCurrentRegime`]).
    pub regime: Regime,
    /// Regime in force on the decision date.
    pub decision_regime: Regime,
    /// Severity class.
    pub class: SeverityClass,
    /// Date of the decision (start day, not counted: 民法典 Art. 201).
    pub decision_date: NaiveDate,
    /// Last day of the minimum period; `None` when there is no minimum.
    pub min_end: Option<NaiveDate>,
    /// First day a repair application may be made (day after `min_end`); `None` when there is
    /// no minimum period (repair "on fulfilment": see `repairable`) or repair is impossible.
    pub earliest_repair: Option<NaiveDate>,
    /// Last day of publication: publication stops automatically after this day; `None` when
    /// the regime sets no automatic end.
    pub publication_end: Option<NaiveDate>,
    /// Whether repair (early termination of publication) is possible at all.
    pub repairable: bool,
}

impl PublicationPeriod {
    /// Whether the information is within its publication period on `date`: from the decision
    /// date through `publication_end` inclusive. Ignores repair (a repaired record stops
    /// earlier) and the up-to-7-working-day delay before it actually goes online.
    #[must_use]
    pub fn is_published_on(&self, date: NaiveDate) -> bool {
        date >= self.decision_date && self.publication_end.is_none_or(|end| date <= end)
    }

    /// `true` when repair is possible without waiting for a minimum period, as soon as the
    /// obligations are fulfilled (轻微 under order No. 36).
    #[must_use]
    pub fn repair_on_fulfilment(&self) -> bool {
        self.repairable && self.min_end.is_none()
    }
}

fn add(start: NaiveDate, months: u32) -> Result<NaiveDate, PeriodError> {
    add_months_civil(start, months).ok_or(PeriodError::Overflow { start, months })
}

fn next_day(date: NaiveDate) -> Result<NaiveDate, PeriodError> {
    day_after(date).ok_or(PeriodError::Overflow {
        start: date,
        months: 0,
    })
}

/// Period of `class` information decided on `decision_date` under `regime`'s rules.
fn period_under(
    regime: Regime,
    decision_regime: Regime,
    decision_date: NaiveDate,
    class: SeverityClass,
    options: &PeriodOptions,
) -> Result<PublicationPeriod, PeriodError> {
    let rule = regime
        .rule(class, options.sector)
        .ok_or(PeriodError::ClassNotInRegime { regime, class })?;
    if !rule.published_by_default && !options.publish_optional {
        return Err(PeriodError::NotPublished { regime, class });
    }
    let min_end = rule.min_months.map(|m| add(decision_date, m)).transpose()?;
    let earliest_repair = match (rule.repairable, min_end) {
        (true, Some(end)) => Some(next_day(end)?),
        _ => None,
    };
    let publication_end = rule.max_months.map(|m| add(decision_date, m)).transpose()?;
    Ok(PublicationPeriod {
        regime,
        decision_regime,
        class,
        decision_date,
        min_end,
        earliest_repair,
        publication_end,
        repairable: rule.repairable,
    })
}

/// Computes the publication period of `class` information decided on `decision_date`.
///
/// The regime is chosen by [`Regime::for_decision_date`]; periods count from the decision date
/// (order No. 58; order No. 36: "from the date of the judicial or administrative document")
/// with 民法典 Arts. 201–202 arithmetic (calendar dates, no holiday extension).
///
/// Under [`TransitionPolicy::ApplyCurrentRegime`], information still published on the first
/// day of a later regime is re-timed under it (see [`TransitionPolicy`]). If the later regime
/// does not publish the class by default (轻微 under order No. 36) and
/// `publish_optional` is unset, publication ends on the day before the later regime took
/// effect and repair is on fulfilment.
///
/// # Errors
/// [`PeriodError::NoRegime`] (decision before 2019-07-01), [`PeriodError::ClassNotInRegime`],
/// [`PeriodError::NotPublished`] (轻微 under order No. 36 without `publish_optional`),
/// [`PeriodError::Overflow`].
pub fn publication_period(
    decision_date: NaiveDate,
    class: SeverityClass,
    options: &PeriodOptions,
) -> Result<PublicationPeriod, PeriodError> {
    let decision_regime =
        Regime::for_decision_date(decision_date).ok_or(PeriodError::NoRegime { decision_date })?;
    let mut period = period_under(
        decision_regime,
        decision_regime,
        decision_date,
        class,
        options,
    )?;
    if options.transition == TransitionPolicy::ApplyCurrentRegime {
        while let Some(next) = period.regime.successor() {
            let switch = next.in_force_from();
            if !period.is_published_on(switch) {
                break;
            }
            let last_old_day = switch.pred_opt().ok_or(PeriodError::Overflow {
                start: switch,
                months: 0,
            })?;
            period = match period_under(next, decision_regime, decision_date, class, options) {
                Ok(mut p) => {
                    // Already-past maxima end publication when the new regime starts.
                    p.publication_end = p.publication_end.map(|end| end.max(last_old_day));
                    p
                }
                Err(PeriodError::NotPublished { .. }) => PublicationPeriod {
                    regime: next,
                    decision_regime,
                    class,
                    decision_date,
                    min_end: None,
                    earliest_repair: None,
                    publication_end: Some(last_old_day),
                    repairable: true,
                },
                Err(e) => return Err(e),
            };
        }
    }
    Ok(period)
}

/// Last day of publication with default options ([`PeriodOptions::default`]): publication
/// stops automatically after this day. `None` when the information is not published by default
/// (轻微 under order No. 36), predates every regime, or on overflow.
#[must_use]
pub fn publication_end(decision_date: NaiveDate, class: SeverityClass) -> Option<NaiveDate> {
    publication_period(decision_date, class, &PeriodOptions::default())
        .ok()
        .and_then(|p| p.publication_end)
}
