//! Code tables of the 双公示 records.
//!
//! Each enum serialises (JSON and binary) as its standard value: the Chinese name where the
//! national template carries names (`法人及非法人组织`, `普通`), the code where it carries codes
//! (`XK_ZT` `1`/`2`, ID types `01`–`05`). `parse` is the lenient reader used in raw → typed
//! conversion: it also accepts the other spelling (code or name) and known feed variants.
//! Variants are append-only: the binary encoding tags them by position.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// 行政相对人类别 (counter-party category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SubjectCategory {
    /// 法人及非法人组织 (beidasoft codes 02 法人, 03 非法人组织).
    #[serde(rename = "法人及非法人组织")]
    Organisation,
    /// 自然人 (beidasoft code 01).
    #[serde(rename = "自然人")]
    NaturalPerson,
    /// 个体工商户 (beidasoft code 04).
    #[serde(rename = "个体工商户")]
    IndividualBusiness,
}

impl SubjectCategory {
    /// Accepts the standard names, the beidasoft codes 01–04 and the split names 法人 /
    /// 非法人组织 those codes stand for.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "法人及非法人组织" | "法人和非法人组织" | "法人" | "非法人组织" | "02" | "03" => {
                Some(Self::Organisation)
            }
            "自然人" | "01" => Some(Self::NaturalPerson),
            "个体工商户" | "04" => Some(Self::IndividualBusiness),
            _ => None,
        }
    }

    /// The standard name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Organisation => "法人及非法人组织",
            Self::NaturalPerson => "自然人",
            Self::IndividualBusiness => "个体工商户",
        }
    }
}

/// 许可类别 (licence class), §4.2 row 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LicenceClass {
    /// 01 普通
    #[serde(rename = "普通")]
    General,
    /// 02 特许
    #[serde(rename = "特许")]
    Franchise,
    /// 03 认可
    #[serde(rename = "认可")]
    Recognition,
    /// 04 核准
    #[serde(rename = "核准")]
    Approval,
    /// 05 登记
    #[serde(rename = "登记")]
    Registration,
    /// 06 其他 (the standard asks for an explanation; we look for it in BZ)
    #[serde(rename = "其他")]
    Other,
}

impl LicenceClass {
    /// Accepts the code `01`–`06` or the name.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "01" | "普通" => Some(Self::General),
            "02" | "特许" => Some(Self::Franchise),
            "03" | "认可" => Some(Self::Recognition),
            "04" | "核准" => Some(Self::Approval),
            "05" | "登记" => Some(Self::Registration),
            "06" | "其他" => Some(Self::Other),
            _ => None,
        }
    }

    /// The code `01`–`06`.
    pub fn code(self) -> &'static str {
        match self {
            Self::General => "01",
            Self::Franchise => "02",
            Self::Recognition => "03",
            Self::Approval => "04",
            Self::Registration => "05",
            Self::Other => "06",
        }
    }
}

/// 当前状态 (record status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordStatus {
    /// `1` 有效
    #[serde(rename = "1")]
    Valid,
    /// `2` 无效 (revoked or changed; needs a reason, E7)
    #[serde(rename = "2")]
    Invalid,
}

impl RecordStatus {
    /// Accepts `1`/`2` or 有效/无效.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "1" | "有效" => Some(Self::Valid),
            "2" | "无效" => Some(Self::Invalid),
            _ => None,
        }
    }
}

/// 证件类型 (personal ID type), §2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdType {
    /// `01` 身份证 (checked with GB 11643)
    #[serde(rename = "01")]
    ResidentId,
    /// `02` 护照
    #[serde(rename = "02")]
    Passport,
    /// `03` 港澳居民来往内地通行证
    #[serde(rename = "03")]
    HkMacauPermit,
    /// `04` 台湾居民来往大陆通行证
    #[serde(rename = "04")]
    TaiwanPermit,
    /// `05` 外国人永久居留身份证
    #[serde(rename = "05")]
    ForeignPermanentResident,
}

impl IdType {
    /// Accepts the code `01`–`05` (also without the leading zero) or the name.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "01" | "1" | "身份证" | "居民身份证" => Some(Self::ResidentId),
            "02" | "2" | "护照" => Some(Self::Passport),
            "03" | "3" | "港澳居民来往内地通行证" => Some(Self::HkMacauPermit),
            "04" | "4" | "台湾居民来往大陆通行证" => Some(Self::TaiwanPermit),
            "05" | "5" | "外国人永久居留身份证" => Some(Self::ForeignPermanentResident),
            _ => None,
        }
    }
}

/// 失信程度: the three classes of order No. 36 (2025) (§0 item 4). Mirrors
/// `period::SeverityClass`; kept here so records do not depend on the period module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CreditSeverity {
    /// 轻微
    #[serde(rename = "轻微")]
    Minor,
    /// 一般
    #[serde(rename = "一般")]
    General,
    /// 严重
    #[serde(rename = "严重")]
    Serious,
}

impl CreditSeverity {
    /// Accepts 轻微/一般/严重 (also with the suffix 失信).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().trim_end_matches("失信") {
            "轻微" => Some(Self::Minor),
            "一般" => Some(Self::General),
            "严重" => Some(Self::Serious),
            _ => None,
        }
    }
}

/// One kind of administrative penalty, 行政处罚法 (2021) Art. 9, light → heavy (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PenaltyKind {
    /// 警告
    Warning,
    /// 通报批评
    PublicCriticism,
    /// 罚款
    Fine,
    /// 没收违法所得
    ConfiscateIllegalGains,
    /// 没收非法财物
    ConfiscateIllegalProperty,
    /// 暂扣许可证件
    SuspendLicence,
    /// 降低资质等级
    LowerQualification,
    /// 吊销许可证件
    RevokeLicence,
    /// 限制开展生产经营活动
    RestrictBusiness,
    /// 责令停产停业
    OrderSuspension,
    /// 责令关闭
    OrderClosure,
    /// 限制从业
    RestrictPractice,
    /// 行政拘留
    Detention,
    /// 其他 (法律、行政法规规定的其他行政处罚)
    Other,
}

impl PenaltyKind {
    /// All 14 kinds in statutory order.
    pub const ALL: [PenaltyKind; 14] = [
        Self::Warning,
        Self::PublicCriticism,
        Self::Fine,
        Self::ConfiscateIllegalGains,
        Self::ConfiscateIllegalProperty,
        Self::SuspendLicence,
        Self::LowerQualification,
        Self::RevokeLicence,
        Self::RestrictBusiness,
        Self::OrderSuspension,
        Self::OrderClosure,
        Self::RestrictPractice,
        Self::Detention,
        Self::Other,
    ];

    /// The statutory name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Warning => "警告",
            Self::PublicCriticism => "通报批评",
            Self::Fine => "罚款",
            Self::ConfiscateIllegalGains => "没收违法所得",
            Self::ConfiscateIllegalProperty => "没收非法财物",
            Self::SuspendLicence => "暂扣许可证件",
            Self::LowerQualification => "降低资质等级",
            Self::RevokeLicence => "吊销许可证件",
            Self::RestrictBusiness => "限制开展生产经营活动",
            Self::OrderSuspension => "责令停产停业",
            Self::OrderClosure => "责令关闭",
            Self::RestrictPractice => "限制从业",
            Self::Detention => "行政拘留",
            Self::Other => "其他",
        }
    }

    /// Accepts the statutory name and the pre-2021 wording still found in feeds
    /// (暂扣许可证/执照, 吊销许可证/执照).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Some(k) = Self::ALL.iter().find(|k| k.name_zh() == t) {
            return Some(*k);
        }
        match t {
            "暂扣许可证" | "暂扣执照" | "暂扣许可证、执照" => {
                Some(Self::SuspendLicence)
            }
            "吊销许可证" | "吊销执照" | "吊销许可证、执照" => {
                Some(Self::RevokeLicence)
            }
            "停产停业" => Some(Self::OrderSuspension),
            _ => None,
        }
    }
}

/// Maximum number of kinds in one CF_CFLB value (there are 14 kinds).
pub const MAX_PENALTY_KINDS: usize = 14;

/// 处罚类别: one or more penalty kinds, written `警告;罚款`.
///
/// `其他` may carry the kind the law names, written `其他（责令改正）`; that text is kept in
/// `other_detail`. Serialised (JSON and binary) as the canonical `;`-joined text in statutory
/// order, which is also the only form accepted when deserialising.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PenaltyKinds {
    kinds: Vec<PenaltyKind>,
    other_detail: Option<String>,
}

/// Why a CF_CFLB value was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PenaltyKindsError {
    /// Empty list.
    #[error("no penalty kind given")]
    Empty,
    /// A token that is none of the 14 kinds.
    #[error("“{0}” is not a penalty kind of 行政处罚法 Art. 9")]
    Unknown(String),
}

impl PenaltyKinds {
    /// Parses a list separated by `;`, `；`, `,`, `，` or `、`. Duplicates collapse; the
    /// result is held in statutory order.
    pub fn parse(text: &str) -> Result<Self, PenaltyKindsError> {
        let mut kinds = Vec::new();
        let mut other_detail = None;
        for token in text.split([';', '；', ',', '，', '、']) {
            let token = token.trim();
            if token.is_empty() {
                continue;
            }
            let kind = match token.strip_prefix("其他") {
                Some(rest) if !rest.is_empty() => {
                    let detail = rest
                        .trim_start_matches(['（', '(', ':', '：'])
                        .trim_end_matches(['）', ')'])
                        .trim();
                    if !detail.is_empty() {
                        other_detail = Some(detail.to_string());
                    }
                    PenaltyKind::Other
                }
                _ => PenaltyKind::parse(token)
                    .ok_or_else(|| PenaltyKindsError::Unknown(token.to_string()))?,
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return Err(PenaltyKindsError::Empty);
        }
        kinds.sort();
        Ok(PenaltyKinds {
            kinds,
            other_detail,
        })
    }

    /// The kinds, in statutory order.
    pub fn kinds(&self) -> &[PenaltyKind] {
        &self.kinds
    }

    /// The explanation attached to 其他, if any.
    pub fn other_detail(&self) -> Option<&str> {
        self.other_detail.as_deref()
    }

    /// Whether `kind` is among the kinds.
    pub fn contains(&self, kind: PenaltyKind) -> bool {
        self.kinds.contains(&kind)
    }
}

impl fmt::Display for PenaltyKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in self.kinds.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            f.write_str(k.name_zh())?;
            if let (PenaltyKind::Other, Some(d)) = (k, &self.other_detail) {
                write!(f, "（{d}）")?;
            }
        }
        Ok(())
    }
}

impl Serialize for PenaltyKinds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct KindsVisitor;

impl Visitor<'_> for KindsVisitor {
    type Value = PenaltyKinds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("penalty kinds as canonical `;`-separated text")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PenaltyKinds, E> {
        let k = PenaltyKinds::parse(v).map_err(E::custom)?;
        if k.to_string() == v {
            Ok(k)
        } else {
            Err(E::custom(format!("“{v}” is not in canonical form “{k}”")))
        }
    }
}

impl<'de> Deserialize<'de> for PenaltyKinds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KindsVisitor)
    }
}
