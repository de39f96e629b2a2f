//! `PenaltyRecord`: an administrative penalty record (行政处罚信息), the 30 columns of §4.3.
//!
//! JSON uses the standard column codes. Amounts are [`AmountWan`] (万元, exact), penalty kinds
//! a [`PenaltyKinds`] list. Optional columns are `Option`, serialised plainly.

use serde::{Deserialize, Serialize};

use super::amount::AmountWan;
use super::date::RecordDate;
use super::enums::{IdType, PenaltyKinds, SubjectCategory};

/// An administrative penalty record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenaltyRecord {
    /// CF_XDR_MC 行政相对人名称
    #[serde(rename = "CF_XDR_MC")]
    pub subject_name: String,
    /// CF_XDR_LB 行政相对人类别
    #[serde(rename = "CF_XDR_LB")]
    pub subject_category: SubjectCategory,
    /// CF_XDR_SHXYM 统一社会信用代码 (normalised)
    #[serde(rename = "CF_XDR_SHXYM")]
    pub uscc: Option<String>,
    /// CF_XDR_GSZC 工商注册号
    #[serde(rename = "CF_XDR_GSZC")]
    pub business_reg_no: Option<String>,
    /// CF_XDR_ZZJG 组织机构代码
    #[serde(rename = "CF_XDR_ZZJG")]
    pub org_code: Option<String>,
    /// CF_XDR_SWDJ 税务登记号
    #[serde(rename = "CF_XDR_SWDJ")]
    pub tax_reg_no: Option<String>,
    /// CF_XDR_SYDW 事业单位证书号
    #[serde(rename = "CF_XDR_SYDW")]
    pub public_institution_no: Option<String>,
    /// CF_XDR_SHZZ 社会组织登记证号
    #[serde(rename = "CF_XDR_SHZZ")]
    pub social_org_no: Option<String>,
    /// CF_FRDB 法定代表人
    #[serde(rename = "CF_FRDB")]
    pub legal_rep: Option<String>,
    /// CF_FR_ZJLX 法定代表人证件类型
    #[serde(rename = "CF_FR_ZJLX")]
    pub legal_rep_id_type: Option<IdType>,
    /// CF_FR_ZJHM 法定代表人证件号码 (sharing channel only)
    #[serde(rename = "CF_FR_ZJHM")]
    pub legal_rep_id_no: Option<String>,
    /// CF_XDR_ZJLX 证件类型 (自然人)
    #[serde(rename = "CF_XDR_ZJLX")]
    pub id_type: Option<IdType>,
    /// CF_XDR_ZJHM 证件号码 (自然人; sharing channel only)
    #[serde(rename = "CF_XDR_ZJHM")]
    pub id_no: Option<String>,
    /// CF_WSH 行政处罚决定书文号
    #[serde(rename = "CF_WSH")]
    pub document_no: String,
    /// CF_WFXW 违法行为类型
    #[serde(rename = "CF_WFXW")]
    pub violation_type: String,
    /// CF_SY 违法事实
    #[serde(rename = "CF_SY")]
    pub facts: String,
    /// CF_YJ 处罚依据
    #[serde(rename = "CF_YJ")]
    pub legal_basis: String,
    /// CF_CFLB 处罚类别
    #[serde(rename = "CF_CFLB")]
    pub kinds: PenaltyKinds,
    /// CF_NR 处罚内容
    #[serde(rename = "CF_NR")]
    pub content: String,
    /// CF_NR_FK 罚款金额（万元）
    #[serde(rename = "CF_NR_FK")]
    pub fine: Option<AmountWan>,
    /// CF_NR_WFFF 没收违法所得、没收非法财物的金额（万元）
    #[serde(rename = "CF_NR_WFFF")]
    pub confiscation: Option<AmountWan>,
    /// CF_NR_ZKDX 暂扣或吊销证照名称及编号
    #[serde(rename = "CF_NR_ZKDX")]
    pub suspended_licence: Option<String>,
    /// CF_JDRQ 处罚决定日期
    #[serde(rename = "CF_JDRQ")]
    pub decision_date: RecordDate,
    /// CF_YXQ 处罚有效期 (2099-12-31 = long term)
    #[serde(rename = "CF_YXQ")]
    pub valid_until: RecordDate,
    /// CF_GSJZQ 公示截止期
    #[serde(rename = "CF_GSJZQ")]
    pub publication_end: Option<RecordDate>,
    /// CF_CFJG 处罚机关
    #[serde(rename = "CF_CFJG")]
    pub authority: String,
    /// CF_CFJGDM 处罚机关统一社会信用代码 (normalised)
    #[serde(rename = "CF_CFJGDM")]
    pub authority_code: String,
    /// CF_SJLY 数据来源单位
    #[serde(rename = "CF_SJLY")]
    pub source_unit: String,
    /// CF_SJLYDM 数据来源单位统一社会信用代码 (normalised)
    #[serde(rename = "CF_SJLYDM")]
    pub source_unit_code: String,
    /// BZ 备注
    #[serde(rename = "BZ")]
    pub remarks: Option<String>,
}
