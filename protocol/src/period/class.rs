//! Severity classes of dishonesty information (失信程度) and sector rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Severity class of dishonesty information (失信信息的失信程度).
///
/// The three classes 轻微 / 一般 / 严重 come from 国办发〔2025〕22号 and NDRC order No. 36 (2025)
/// 《信用修复管理办法》. `SpecialSerious` (特定严重失信) exists only in the older
/// 发改办财金〔2019〕527号 regime, where such penalty information was published for the full
/// three years and could not be repaired.
///
/// Serialised as the Chinese name (`"轻微"`, `"一般"`, `"严重"`, `"特定严重"`); the English
/// variant names are accepted as aliases on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SeverityClass {
    /// 轻微: under order No. 36 not published in principle; at most 3 months if published;
    /// repairable as soon as the legal obligation is fulfilled.
    #[serde(rename = "轻微", alias = "Minor")]
    Minor,
    /// 一般: under order No. 36 published 3 months minimum, 1 year maximum.
    #[serde(rename = "一般", alias = "General")]
    General,
    /// 严重: under order No. 36 published 1 year minimum, 3 years maximum.
    #[serde(rename = "严重", alias = "Serious")]
    Serious,
    /// 特定严重: 发改办财金〔2019〕527号 only (e.g. 责令停产停业 / 吊销 in food, drugs,
    /// environment, safety): published for the full maximum, not repairable.
    #[serde(rename = "特定严重", alias = "SpecialSerious")]
    SpecialSerious,
}

impl SeverityClass {
    /// All classes, lightest first.
    pub const ALL: [SeverityClass; 4] = [
        SeverityClass::Minor,
        SeverityClass::General,
        SeverityClass::Serious,
        SeverityClass::SpecialSerious,
    ];

    /// The Chinese name as used in records (e.g. `BZ: "失信程度：一般"`).
    #[must_use]
    pub const fn chinese_name(self) -> &'static str {
        match self {
            SeverityClass::Minor => "轻微",
            SeverityClass::General => "一般",
            SeverityClass::Serious => "严重",
            SeverityClass::SpecialSerious => "特定严重",
        }
    }

    /// Parses a Chinese class name; accepts the bare name (`一般`) and the long forms
    /// `一般失信` / `失信程度：一般` (full-width or ASCII colon). Surrounding whitespace is ignored.
    #[must_use]
    pub fn from_chinese(s: &str) -> Option<SeverityClass> {
        let s = s.trim();
        let s = s
            .strip_prefix("失信程度：")
            .or_else(|| s.strip_prefix("失信程度:"))
            .unwrap_or(s)
            .trim();
        let s = s.strip_suffix("失信").unwrap_or(s);
        SeverityClass::ALL
            .into_iter()
            .find(|c| c.chinese_name() == s)
    }
}

impl fmt::Display for SeverityClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.chinese_name())
    }
}

/// Error for [`SeverityClass::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity class {0:?} (expected 轻微, 一般, 严重 or 特定严重)")]
pub struct UnknownSeverityClass(pub String);

impl FromStr for SeverityClass {
    type Err = UnknownSeverityClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SeverityClass::from_chinese(s).ok_or_else(|| UnknownSeverityClass(s.to_owned()))
    }
}

/// Sector-specific period rules that override a regime's default for penalty information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SectorRule {
    /// 特种设备、安全生产、消防: under NDRC order No. 58 (2023) penalty information in these
    /// sectors has a **1-year** minimum publication period (instead of 3 months). Ignored by
    /// the other regimes (order No. 36 leaves sector standards to the ministries).
    #[serde(
        rename = "特种设备、安全生产、消防",
        alias = "SpecialEquipmentWorkSafetyFire"
    )]
    SpecialEquipmentWorkSafetyFire,
}

impl SectorRule {
    /// The Chinese name of the sector group.
    #[must_use]
    pub const fn chinese_name(self) -> &'static str {
        match self {
            SectorRule::SpecialEquipmentWorkSafetyFire => "特种设备、安全生产、消防",
        }
    }
}

impl fmt::Display for SectorRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.chinese_name())
    }
}
