//! The joint reward and punishment case (联合奖惩) as log events.
//!
//! A case is initiated once, pushed to each target, and every target moves through its own
//! sub-states (acknowledged → executed or not applicable → feedback; lifted when the
//! underlying listing is repaired, revoked or expires). Each step is an entry, so the state
//! of a case is a fold over the log and is provable like everything else.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::subject::EntryRef;

/// A measure from the 全国失信惩戒措施基础清单 (or the reward catalogue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureRef {
    /// Code in the measures catalogue edition named by the case.
    pub code: String,
    pub text: String,
    pub legal_basis: String,
}

/// A unit a case is pushed to: a node (by origin name) and optionally one department there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TargetUnit {
    pub node: String,
    /// USCC of the responding department, when the push names one.
    pub department: Option<String>,
}

/// Identifies one version of a case; pushes are idempotent on (case_id, version).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CaseKey {
    pub case_id: String,
    pub version: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseKind {
    /// 联合惩戒 (punishment).
    Punishment,
    /// 联合激励 (reward).
    Reward,
}

/// What a responder did with a measure (执行反馈 `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionResult {
    /// 已惩戒
    Punished,
    /// 已激励
    Rewarded,
    /// 无相关业务
    NoRelatedBusiness,
    /// 不适用 (a reason is required)
    NotApplicable,
    /// 暂缓 (objection under verification)
    Deferred,
}

/// Why measures were lifted (同步解除).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiftReason {
    Repaired,
    Revoked,
    Corrected,
    Expired,
}

/// A case is initiated from a list entry with measures resolved from a catalogue edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseInitiation {
    pub case: CaseKey,
    pub kind: CaseKind,
    /// The list entry the case acts on.
    pub listing: EntryRef,
    /// The catalogue edition the measures were checked against (e.g. `2024`).
    pub catalogue_edition: String,
    pub measures: Vec<MeasureRef>,
    pub targets: Vec<TargetUnit>,
    /// Responders must acknowledge by this date or the push becomes overdue.
    pub respond_by: NaiveDate,
}

/// One responder's step in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStep {
    pub case: CaseKey,
    pub responder: TargetUnit,
    pub step: CaseStepKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseStepKind {
    /// 推送: the initiator (or a relaying node) pushed the case to the responder.
    Pushed,
    /// 签收 / 拒收
    Acknowledged { accepted: bool, reason: String },
    /// 执行反馈 for one measure.
    Executed {
        measure_code: String,
        result: ExecutionResult,
        detail: String,
        business_item: String,
        executed_on: NaiveDate,
    },
    /// The push passed its deadline without acknowledgement (recorded by the initiator).
    Overdue,
    /// Measures lifted at the initiator's notice.
    Lifted { reason: LiftReason },
    /// The responder confirms it lifted the measures (LIFT_ACK).
    LiftAcknowledged,
    /// All the responder's work on this case is done.
    Closed,
}

/// The outcome of an objection (异议) once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectionOutcome {
    /// 异议成立: the record is corrected or revoked and measures are lifted.
    Upheld,
    /// 异议不成立: the mark is removed and suspended measures resume.
    Dismissed,
    /// Not accepted for verification (out of scope, late, duplicate ...).
    Rejected,
}
