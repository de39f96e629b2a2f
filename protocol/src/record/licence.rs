//! `LicenceRecord`: an administrative licensing record (行政许可信息), the 28 columns of §4.2.
//!
//! JSON uses the standard column codes. Optional columns are `Option`, serialised plainly
//! (`null`) so the binary log encoding stays positional; empty text never appears here
//! because raw → typed conversion maps empty strings to `None`.

use serde::{Deserialize, Serialize};

use super::date::RecordDate;
use super::enums::{IdType, LicenceClass, RecordStatus, SubjectCategory};

/// An administrative licensing record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceRecord {
    /// XK_XDR_MC 行政相对人名称
    #[serde(rename = "XK_XDR_MC")]
    pub subject_name: String,
    /// XK_XDR_LB 行政相对人类别
    #[serde(rename = "XK_XDR_LB")]
    pub subject_category: SubjectCategory,
    /// XK_XDR_SHXYM 统一社会信用代码 (normalised)
    #[serde(rename = "XK_XDR_SHXYM")]
    pub uscc: Option<String>,
    /// XK_XDR_GSZC 工商注册号
    #[serde(rename = "XK_XDR_GSZC")]
    pub business_reg_no: Option<String>,
    /// XK_XDR_ZZJG 组织机构代码
    #[serde(rename = "XK_XDR_ZZJG")]
    pub org_code: Option<String>,
    /// XK_XDR_SWDJ 税务登记号
    #[serde(rename = "XK_XDR_SWDJ")]
    pub tax_reg_no: Option<String>,
    /// XK_XDR_SYDW 事业单位证书号
    #[serde(rename = "XK_XDR_SYDW")]
    pub public_institution_no: Option<String>,
    /// XK_XDR_SHZZ 社会组织登记证号
    #[serde(rename = "XK_XDR_SHZZ")]
    pub social_org_no: Option<String>,
    /// XK_FRDB 法定代表人
    #[serde(rename = "XK_FRDB")]
    pub legal_rep: Option<String>,
    /// XK_FR_ZJLX 法定代表人证件类型
    #[serde(rename = "XK_FR_ZJLX")]
    pub legal_rep_id_type: Option<IdType>,
    /// XK_FR_ZJHM 法定代表人证件号码 (sharing channel only; never published)
    #[serde(rename = "XK_FR_ZJHM")]
    pub legal_rep_id_no: Option<String>,
    /// XK_XDR_ZJLX 证件类型 (自然人)
    #[serde(rename = "XK_XDR_ZJLX")]
    pub id_type: Option<IdType>,
    /// XK_XDR_ZJHM 证件号码 (自然人; sharing channel only; never published)
    #[serde(rename = "XK_XDR_ZJHM")]
    pub id_no: Option<String>,
    /// XK_XKWS 行政许可决定文书名称
    #[serde(rename = "XK_XKWS")]
    pub document_title: String,
    /// XK_WSH 行政许可决定文书号
    #[serde(rename = "XK_WSH")]
    pub document_no: String,
    /// XK_XKLB 许可类别
    #[serde(rename = "XK_XKLB")]
    pub licence_class: LicenceClass,
    /// XK_XKZS 许可证书名称
    #[serde(rename = "XK_XKZS")]
    pub certificate_name: Option<String>,
    /// XK_XKBH 许可编号
    #[serde(rename = "XK_XKBH")]
    pub licence_no: Option<String>,
    /// XK_NR 许可内容
    #[serde(rename = "XK_NR")]
    pub content: String,
    /// XK_JDRQ 许可决定日期
    #[serde(rename = "XK_JDRQ")]
    pub decision_date: RecordDate,
    /// XK_YXQZ 有效期自
    #[serde(rename = "XK_YXQZ")]
    pub valid_from: RecordDate,
    /// XK_YXQZI 有效期至 (2099-12-31 = long term)
    #[serde(rename = "XK_YXQZI")]
    pub valid_to: RecordDate,
    /// XK_XKJG 许可机关
    #[serde(rename = "XK_XKJG")]
    pub authority: String,
    /// XK_XKJGDM 许可机关统一社会信用代码 (normalised)
    #[serde(rename = "XK_XKJGDM")]
    pub authority_code: String,
    /// XK_ZT 当前状态
    #[serde(rename = "XK_ZT")]
    pub status: RecordStatus,
    /// XK_LYDW 数据来源单位
    #[serde(rename = "XK_LYDW")]
    pub source_unit: String,
    /// XK_LYDWDM 数据来源单位统一社会信用代码 (normalised)
    #[serde(rename = "XK_LYDWDM")]
    pub source_unit_code: String,
    /// BZ 备注
    #[serde(rename = "BZ")]
    pub remarks: Option<String>,
}
