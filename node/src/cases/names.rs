//! The JSON names of the protocol's case enums (the protocol types carry no schema), and
//! the China date of an entry.

use chrono::{DateTime, FixedOffset, NaiveDate};
use credx_protocol::entry::{CaseKind, ExecutionResult, LiftReason};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// 联合惩戒 or 联合激励.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseKindName {
    /// 联合惩戒
    Punishment,
    /// 联合激励
    Reward,
}

impl CaseKindName {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKindName::Punishment => "punishment",
            CaseKindName::Reward => "reward",
        }
    }
}

impl From<CaseKind> for CaseKindName {
    fn from(k: CaseKind) -> Self {
        match k {
            CaseKind::Punishment => CaseKindName::Punishment,
            CaseKind::Reward => CaseKindName::Reward,
        }
    }
}

impl From<CaseKindName> for CaseKind {
    fn from(k: CaseKindName) -> Self {
        match k {
            CaseKindName::Punishment => CaseKind::Punishment,
            CaseKindName::Reward => CaseKind::Reward,
        }
    }
}

/// What a responder did with a measure (执行反馈 `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultName {
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

impl From<ExecutionResult> for ResultName {
    fn from(r: ExecutionResult) -> Self {
        match r {
            ExecutionResult::Punished => ResultName::Punished,
            ExecutionResult::Rewarded => ResultName::Rewarded,
            ExecutionResult::NoRelatedBusiness => ResultName::NoRelatedBusiness,
            ExecutionResult::NotApplicable => ResultName::NotApplicable,
            ExecutionResult::Deferred => ResultName::Deferred,
        }
    }
}

impl From<ResultName> for ExecutionResult {
    fn from(r: ResultName) -> Self {
        match r {
            ResultName::Punished => ExecutionResult::Punished,
            ResultName::Rewarded => ExecutionResult::Rewarded,
            ResultName::NoRelatedBusiness => ExecutionResult::NoRelatedBusiness,
            ResultName::NotApplicable => ExecutionResult::NotApplicable,
            ResultName::Deferred => ExecutionResult::Deferred,
        }
    }
}

/// Why measures were lifted (同步解除).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiftReasonName {
    /// Credit repair approved, or the listing removed (移出/终止公示).
    Repaired,
    /// The listing decision was withdrawn (撤销).
    Revoked,
    /// An objection was upheld: the information was corrected.
    Corrected,
    /// The listing's validity period ended.
    Expired,
}

impl From<LiftReason> for LiftReasonName {
    fn from(r: LiftReason) -> Self {
        match r {
            LiftReason::Repaired => LiftReasonName::Repaired,
            LiftReason::Revoked => LiftReasonName::Revoked,
            LiftReason::Corrected => LiftReasonName::Corrected,
            LiftReason::Expired => LiftReasonName::Expired,
        }
    }
}

impl From<LiftReasonName> for LiftReason {
    fn from(r: LiftReasonName) -> Self {
        match r {
            LiftReasonName::Repaired => LiftReason::Repaired,
            LiftReasonName::Revoked => LiftReason::Revoked,
            LiftReasonName::Corrected => LiftReason::Corrected,
            LiftReasonName::Expired => LiftReason::Expired,
        }
    }
}

/// Offset of China Standard Time.
const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

/// The date in China of an entry's acceptance time (Unix milliseconds).
pub fn china_date(accepted_at_ms: u64) -> NaiveDate {
    let ms = i64::try_from(accepted_at_ms).unwrap_or(i64::MAX);
    let utc = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    match FixedOffset::east_opt(CHINA_OFFSET_SECONDS) {
        Some(offset) => utc.with_timezone(&offset).date_naive(),
        None => utc.date_naive(),
    }
}
