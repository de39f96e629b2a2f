//! Credit-repair eligibility (信用修复), per NDRC order No. 36 (2025) 《信用修复管理办法》.
//!
//! Order No. 36 lets a credit subject apply to terminate publication early when:
//! 1. the minimum publication period has been reached;
//! 2. the misconduct has been corrected and the obligations of the penalty (or of the abnormal /
//!    serious-dishonesty listing) have been **fully** performed;
//! 3. a public credit commitment (信用承诺: materials true, liability accepted) has been made;
//! 4. other legal conditions are met: here, a bar on repair (e.g. for repeat offenders
//!    屡禁不止/屡罚不改) must have expired.
//!
//! The same conditions are applied to information whose period was computed under order No. 58
//! (whose repair conditions were essentially (1)–(3)), since repair applications from
//! 2026-04-01 are handled under order No. 36.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::class::SeverityClass;
use super::regime::Regime;
use super::PublicationPeriod;

/// Facts about the credit subject relevant to repair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RepairFacts {
    /// Condition (2): misconduct corrected and all obligations fully performed.
    pub obligations_fulfilled: bool,
    /// Condition (3): public credit commitment (信用承诺) made.
    pub commitment_made: bool,
    /// Condition (4): repair barred through this date **inclusive** (e.g. a repeat-offender bar);
    /// repair is possible again from the next day.
    pub barred_until: Option<NaiveDate>,
}

/// Why information can never be repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotRepairableReason {
    /// The regime requires publication for the full maximum period
    /// (发改办财金〔2019〕527号 特定严重失信: "严格按最长公示期限予以公示").
    FullTermRequired {
        /// Regime applied.
        regime: Regime,
        /// Class of the information.
        class: SeverityClass,
    },
}

/// One reason repair is not (yet) possible.
///
/// [`repair_eligibility`] reports **every** reason that applies, in this order (the declaration
/// order): `PublicationEnded`, `NotRepairable`, `NotYet` (condition 1), `ObligationsOutstanding`
/// (condition 2), `CommitmentMissing` (condition 3), `Barred` (condition 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RepairBlocker {
    /// Publication already stopped automatically (the day is after `publication_end`); there
    /// is nothing left to repair.
    PublicationEnded {
        /// Last day of publication.
        ended: NaiveDate,
    },
    /// The information cannot be repaired at all.
    NotRepairable {
        /// Why.
        reason: NotRepairableReason,
    },
    /// Condition (1): the minimum publication period has not been reached. For information
    /// without a minimum (轻微) this only occurs for days before the decision date.
    NotYet {
        /// First day an application can be made.
        earliest: NaiveDate,
    },
    /// Condition (2): misconduct not corrected or obligations not fully performed.
    ObligationsOutstanding,
    /// Condition (3): no public credit commitment (信用承诺).
    CommitmentMissing,
    /// Condition (4): repair barred through `until` inclusive.
    Barred {
        /// Last barred day.
        until: NaiveDate,
    },
}

/// Outcome of [`repair_eligibility`]: eligible iff no blocker applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RepairEligibility {
    /// All unmet conditions, in the order documented on [`RepairBlocker`]; empty = eligible.
    pub unmet: Vec<RepairBlocker>,
}

impl RepairEligibility {
    /// `true` when every condition is met.
    #[must_use]
    pub fn is_eligible(&self) -> bool {
        self.unmet.is_empty()
    }

    /// The unmet conditions (empty when eligible).
    #[must_use]
    pub fn blockers(&self) -> &[RepairBlocker] {
        &self.unmet
    }
}

/// Whether a repair application for `period` can succeed on day `on`, given `facts`.
///
/// Checks, and reports all failures of: publication still running (through `publication_end`
/// inclusive), repairability under the regime, and order No. 36 conditions (1)–(4). For
/// 轻微 information (no minimum period) condition (1) is met from the decision date: repair is
/// "on fulfilment".
#[must_use]
pub fn repair_eligibility(
    period: &PublicationPeriod,
    on: NaiveDate,
    facts: &RepairFacts,
) -> RepairEligibility {
    let mut unmet = Vec::new();
    if let Some(ended) = period.publication_end {
        if on > ended {
            unmet.push(RepairBlocker::PublicationEnded { ended });
        }
    }
    if period.repairable {
        let earliest = period.earliest_repair.unwrap_or(period.decision_date);
        if on < earliest {
            unmet.push(RepairBlocker::NotYet { earliest });
        }
    } else {
        unmet.push(RepairBlocker::NotRepairable {
            reason: NotRepairableReason::FullTermRequired {
                regime: period.regime,
                class: period.class,
            },
        });
    }
    if !facts.obligations_fulfilled {
        unmet.push(RepairBlocker::ObligationsOutstanding);
    }
    if !facts.commitment_made {
        unmet.push(RepairBlocker::CommitmentMissing);
    }
    if let Some(until) = facts.barred_until {
        if on <= until {
            unmet.push(RepairBlocker::Barred { until });
        }
    }
    RepairEligibility { unmet }
}
