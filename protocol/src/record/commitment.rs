//! `CreditCommitment`: a 信用承诺 record, after the template table of §4.7.
//!
//! JSON uses the template's field identifiers (`subjectName`, `identify`, …) since no
//! column-code standard exists for commitments.

use serde::{Deserialize, Serialize};

use super::date::RecordDate;
use super::enums::SubjectCategory;

/// 承诺类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommitmentType {
    /// 审批替代型
    #[serde(rename = "审批替代型")]
    ApprovalSubstitute,
    /// 容缺受理型
    #[serde(rename = "容缺受理型")]
    IncompleteAcceptance,
    /// 证明事项型
    #[serde(rename = "证明事项型")]
    Certification,
    /// 信用修复型
    #[serde(rename = "信用修复型")]
    CreditRepair,
    /// 行业自律型
    #[serde(rename = "行业自律型")]
    IndustrySelfDiscipline,
    /// 主动型
    #[serde(rename = "主动型")]
    Voluntary,
    /// 其他
    #[serde(rename = "其他")]
    Other,
}

/// 承诺履行状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FulfillmentStatus {
    /// 全部履行
    #[serde(rename = "全部履行")]
    Fulfilled,
    /// 部分履行
    #[serde(rename = "部分履行")]
    PartlyFulfilled,
    /// 全部未履行
    #[serde(rename = "全部未履行")]
    Unfulfilled,
}

/// 公开类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PublicationType {
    /// 可向社会公开
    #[serde(rename = "可向社会公开")]
    Public,
    /// 特定范围内公开
    #[serde(rename = "特定范围内公开")]
    Restricted,
    /// 不可公开
    #[serde(rename = "不可公开")]
    NotPublic,
}

/// A credit commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCommitment {
    /// 承诺编码: division code (6) + YYYYMMDD (8) + serial (6), 20 characters.
    pub code: String,
    /// 承诺人名称
    #[serde(rename = "subjectName")]
    pub subject_name: String,
    /// 承诺人类别
    #[serde(rename = "subjectCategory")]
    pub subject_category: SubjectCategory,
    /// 承诺人代码: USCC, or ID number for 自然人 (normalised)
    #[serde(rename = "identify")]
    pub subject_code: String,
    /// 承诺类型
    #[serde(rename = "commitmentTypeId")]
    pub commitment_type: CommitmentType,
    /// 承诺事由
    pub reason: String,
    /// 承诺内容
    pub content: String,
    /// 违诺责任
    #[serde(rename = "liabilityBreachCommitment")]
    pub breach_liability: String,
    /// 承诺作出日期
    #[serde(rename = "commitmentDate")]
    pub commitment_date: RecordDate,
    /// 承诺有效期
    #[serde(rename = "commitmentValidity")]
    pub validity: Option<RecordDate>,
    /// 承诺履行状态
    #[serde(rename = "fulfillmentStatus")]
    pub fulfillment: FulfillmentStatus,
    /// 未履行的承诺内容 (required unless 全部履行)
    #[serde(rename = "unperformedCommitmentContent")]
    pub unperformed_content: Option<String>,
    /// 违诺责任追究内容 (required unless 全部履行)
    #[serde(rename = "liabilityBreachCommitmentContent")]
    pub liability_pursued: Option<String>,
    /// 承诺履行状态认定日期
    #[serde(rename = "fulfillmentStatusDate")]
    pub fulfillment_date: Option<RecordDate>,
    /// 承诺履行状态认定单位
    #[serde(rename = "acceptanceConfirmUnit")]
    pub confirm_unit: Option<String>,
    /// 承诺履行状态认定单位代码
    #[serde(rename = "acceptanceConfirmUnitIdentify")]
    pub confirm_unit_code: Option<String>,
    /// 承诺受理单位
    #[serde(rename = "acceptanceUnit")]
    pub acceptance_unit: String,
    /// 承诺受理单位代码
    #[serde(rename = "acceptanceUnitIdentify")]
    pub acceptance_unit_code: String,
    /// 公开类型
    #[serde(rename = "publicationType")]
    pub publication: PublicationType,
    /// 备注
    pub remarks: Option<String>,
}
