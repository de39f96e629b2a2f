//! Tracking statistics per responding department, computed from folded cases (so, like
//! the cases, from entries only): acknowledgement in time, feedback rate, overdue count,
//! lift confirmations, and feedback timeliness against the 7-working-day rule (counted
//! from the first push to the day the last measure's result was recorded, Monday–Friday;
//! the State Council's holiday schedule is not shipped, see `protocol::validate::calendar`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use credx_protocol::validate::{WeekendsOnly, WorkingDays};
use serde::Serialize;
use utoipa::ToSchema;

use super::state::{CaseState, CaseStatus, TargetPhase};

/// The working days feedback is expected within.
pub const FEEDBACK_WORKING_DAYS: u32 = 7;

/// One responding unit's figures over every case that names it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResponderStatistics {
    pub node: String,
    pub department: Option<String>,
    /// Cases naming this unit as a target.
    pub cases: u64,
    /// Of those, pushed to it.
    pub pushed: u64,
    /// Accepted (签收).
    pub acknowledged: u64,
    /// Refused (拒收).
    pub refused: u64,
    /// Acknowledged (accepted or refused) on or before the respond-by date.
    pub acknowledged_in_time: u64,
    /// `acknowledged_in_time / pushed`; none when nothing was pushed.
    pub acknowledged_in_time_rate: Option<f64>,
    /// Every measure has a result.
    pub feedback: u64,
    /// `feedback / pushed`.
    pub feedback_rate: Option<f64>,
    /// Feedback complete within 7 working days of the first push.
    pub feedback_in_working_days: u64,
    /// Marked overdue by the initiator, or overdue today.
    pub overdue: u64,
    /// Told to lift measures.
    pub lift_required: u64,
    /// Confirmed the lift (LIFT_ACK).
    pub lift_acknowledged: u64,
}

/// Cases by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusCounts {
    pub open: u64,
    pub suspended: u64,
    pub lifted: u64,
    pub closed: u64,
}

/// `GET /v1/cases/statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CaseStatistics {
    /// The date overdue and expiry were judged for (China Standard Time).
    pub as_of: NaiveDate,
    pub cases: u64,
    pub by_status: StatusCounts,
    /// Sorted by node, then department.
    pub responders: Vec<ResponderStatistics>,
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The statistics of `cases` as of `today`.
pub fn statistics(cases: &[CaseState], today: NaiveDate) -> CaseStatistics {
    let mut by_status = StatusCounts::default();
    let mut units: BTreeMap<(String, Option<String>), ResponderStatistics> = BTreeMap::new();
    for case in cases {
        match case.status {
            CaseStatus::Open => by_status.open += 1,
            CaseStatus::Suspended => by_status.suspended += 1,
            CaseStatus::Lifted => by_status.lifted += 1,
            CaseStatus::Closed => by_status.closed += 1,
        }
        for t in &case.targets {
            let s = units
                .entry((t.node.clone(), t.department.clone()))
                .or_insert_with(|| ResponderStatistics {
                    node: t.node.clone(),
                    department: t.department.clone(),
                    cases: 0,
                    pushed: 0,
                    acknowledged: 0,
                    refused: 0,
                    acknowledged_in_time: 0,
                    acknowledged_in_time_rate: None,
                    feedback: 0,
                    feedback_rate: None,
                    feedback_in_working_days: 0,
                    overdue: 0,
                    lift_required: 0,
                    lift_acknowledged: 0,
                });
            s.cases += 1;
            if !t.pushed_versions.is_empty() {
                s.pushed += 1;
            }
            if let Some(ack) = &t.acknowledgement {
                if ack.accepted {
                    s.acknowledged += 1;
                } else {
                    s.refused += 1;
                }
                if ack.on <= t.respond_by {
                    s.acknowledged_in_time += 1;
                }
            }
            if let Some(done) = t.feedback_on {
                s.feedback += 1;
                let in_time = t.first_pushed_on.is_some_and(|pushed| {
                    WeekendsOnly.working_days_after(pushed, done, FEEDBACK_WORKING_DAYS)
                        <= FEEDBACK_WORKING_DAYS
                });
                if in_time {
                    s.feedback_in_working_days += 1;
                }
            }
            if t.overdue_now || !t.overdue_versions.is_empty() || t.phase == TargetPhase::Overdue {
                s.overdue += 1;
            }
            if t.lift.is_some() {
                s.lift_required += 1;
            }
            if t.lift_acknowledged_on.is_some() {
                s.lift_acknowledged += 1;
            }
        }
    }
    let responders = units
        .into_values()
        .map(|mut s| {
            s.acknowledged_in_time_rate = rate(s.acknowledged_in_time, s.pushed);
            s.feedback_rate = rate(s.feedback, s.pushed);
            s
        })
        .collect();
    CaseStatistics {
        as_of: today,
        cases: cases.len() as u64,
        by_status,
        responders,
    }
}
