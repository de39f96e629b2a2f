//! `ListEntry`: an entry on a credit list (严重失信主体名单, 守信红名单, 重点关注名单,
//! 失信被执行人), after the recommended schema of §4.7.
//!
//! There is no national column-code standard for lists, so JSON uses English snake_case
//! names. `measures` is bounded by [`MAX_MEASURES`] so an entry always fits one log entry;
//! the bound is checked by validation (a `Vec` cannot enforce it in serde without a custom
//! deserializer).

use serde::{Deserialize, Serialize};

use super::date::RecordDate;
use super::enums::{CreditSeverity, SubjectCategory};

/// Maximum number of measures attached to one list entry.
pub const MAX_MEASURES: usize = 64;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ListKind {
    /// 严重失信主体名单
    SeriouslyDishonest,
    /// 守信红名单
    RedList,
    /// 重点关注名单
    KeyAttention,
    /// 失信被执行人 (courts)
    DishonestJudgmentDebtor,
}

impl ListKind {
    /// The Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::SeriouslyDishonest => "严重失信主体名单",
            Self::RedList => "守信红名单",
            Self::KeyAttention => "重点关注名单",
            Self::DishonestJudgmentDebtor => "失信被执行人",
        }
    }
}

/// 状态 of a list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ListStatus {
    /// 有效
    Active,
    /// 移出 (removed, e.g. after repair)
    Removed,
    /// 撤销 (decision revoked)
    Revoked,
    /// 到期 (period ended)
    Expired,
}

/// The listed subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSubject {
    /// 名称 / 姓名
    pub name: String,
    /// 类别
    pub category: SubjectCategory,
    /// USCC for organisations, ID number for natural persons (normalised).
    pub code: String,
}

/// An organisation named by its USCC (determining unit, source unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// 名称
    pub name: String,
    /// 统一社会信用代码 (normalised)
    pub uscc: String,
}

/// One measure applied on the basis of the listing (from the 失信惩戒措施基础清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// Measure code in the basic list.
    pub code: String,
    /// Measure text.
    pub text: String,
    /// Legal basis of the measure.
    pub legal_basis: String,
}

/// An entry on a credit list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// 名单类型
    pub kind: ListKind,
    /// 主体
    pub subject: ListSubject,
    /// 认定单位
    pub determining_unit: Unit,
    /// 认定依据 (document + article)
    pub basis: String,
    /// 认定文书号
    pub document_no: String,
    /// 列入事由
    pub reason: String,
    /// 列入日期
    pub listed_on: RecordDate,
    /// 有效期至 (`None`: until performance, e.g. 失信被执行人 item (1))
    pub valid_until: Option<RecordDate>,
    /// 失信程度 (`None` for red lists)
    pub severity: Option<CreditSeverity>,
    /// 状态
    pub status: ListStatus,
    /// 移出日期
    pub removed_on: Option<RecordDate>,
    /// 移出事由
    pub removal_reason: Option<String>,
    /// Measures applied, at most [`MAX_MEASURES`].
    pub measures: Vec<Measure>,
    /// 权利救济的期限和途径
    pub remedy: String,
    /// 数据来源单位
    pub source_unit: Unit,
}
