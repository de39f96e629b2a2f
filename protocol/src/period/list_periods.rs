//! List-specific listing periods (名单期限), as data.
//!
//! Keys are [`ListPeriodKind`], independent of the record module's own list kinds; callers map
//! their list kind to one of these. Each rule carries its legal source and whether an objection
//! (异议) suspends the measures while the information is verified (`suspend_on_objection`):
//! the general rule of 国发〔2016〕33号 (25) is to suspend; the courts' 失信被执行人 list stays
//! in force during reconsideration (法释〔2017〕7号 Art. 12).
//!
//! Periods follow `credit-data.md` §5.2; the 市场监管 numbers (SAMR order No. 44, under revision
//! since 2025-10) and the document titles of the 养老服务 / 社会组织 / 工商 lists are
//! unconfirmed against the official texts and kept here as data so they can be corrected in one
//! place.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::civil_code::add_months_civil;
use super::PeriodError;

/// A list with its own listing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ListPeriodKind {
    /// 失信被执行人, 法释〔2017〕7号 Art. 1 items (2)–(6): 2 years, extendable by 1–3 years.
    CourtDishonestDebtor,
    /// 失信被执行人, 法释〔2017〕7号 Art. 1 item (1) (有履行能力而拒不履行): until performance.
    CourtDishonestDebtorRefusal,
    /// 商务领域 失信联合惩戒对象名单: at most 3 years.
    CommerceJointPunishment,
    /// 商务领域 重点关注名单: at most 2 years.
    CommerceKeyAttention,
    /// 养老服务 联合惩戒对象名单: removal may be applied for after 2 years.
    ElderlyCareJointPunishment,
    /// 社会组织 严重违法失信名单: removal after at least 2 years without new issues.
    SocialOrganisationSerious,
    /// 市场监管 严重违法失信名单 (SAMR order No. 44 (2021)): 3 years; early removal after 1 year.
    MarketRegulationSerious,
    /// Old 工商 严重违法失信企业名单 (2016–2021): removed after 5 years.
    LegacyAicSerious,
}

/// How long a listing lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ListDuration {
    /// Listed for exactly this many months (plus any extension), unless removed early.
    Fixed {
        /// Months.
        months: u32,
    },
    /// The deciding authority sets the period, at most this many months.
    AtMost {
        /// Maximum months.
        months: u32,
    },
    /// Until the obligation is performed (no automatic end).
    UntilPerformance,
    /// No automatic end: removal on application (see `early_removal_after_months`).
    UntilRemoval,
}

/// Allowed extension range of a listing, in months (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExtensionRange {
    /// Minimum extension.
    pub min_months: u32,
    /// Maximum extension.
    pub max_months: u32,
}

/// Listing-period rule of one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ListPeriodRule {
    /// The list.
    pub kind: ListPeriodKind,
    /// Chinese name of the list.
    pub name: &'static str,
    /// Legal source.
    pub source: &'static str,
    /// Listing duration.
    pub duration: ListDuration,
    /// Allowed extension, if the list can be extended.
    pub extension: Option<ExtensionRange>,
    /// Removal (on application) possible once this many months have passed.
    pub early_removal_after_months: Option<u32>,
    /// Deleted early once the obligation is performed / the conduct corrected.
    pub removed_on_performance: bool,
    /// Whether an objection suspends the measures during verification.
    pub suspend_on_objection: bool,
}

/// All list rules (one per [`ListPeriodKind`], in declaration order).
pub const LIST_PERIOD_RULES: &[ListPeriodRule] = &[
    ListPeriodRule {
        kind: ListPeriodKind::CourtDishonestDebtor,
        name: "失信被执行人名单（第一条第二至六项）",
        source: "法释〔2017〕7号《最高人民法院关于公布失信被执行人名单信息的若干规定》第二条、第十条、第十二条",
        duration: ListDuration::Fixed { months: 24 },
        extension: Some(ExtensionRange { min_months: 12, max_months: 36 }),
        early_removal_after_months: None,
        removed_on_performance: true,
        suspend_on_objection: false,
    },
    ListPeriodRule {
        kind: ListPeriodKind::CourtDishonestDebtorRefusal,
        name: "失信被执行人名单（第一条第一项：有履行能力而拒不履行）",
        source: "法释〔2017〕7号《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第一项、第十条、第十二条",
        duration: ListDuration::UntilPerformance,
        extension: None,
        early_removal_after_months: None,
        removed_on_performance: true,
        suspend_on_objection: false,
    },
    ListPeriodRule {
        kind: ListPeriodKind::CommerceJointPunishment,
        name: "商务领域失信联合惩戒对象名单",
        source: "《商务信用联合惩戒对象名单管理办法》第七条",
        duration: ListDuration::AtMost { months: 36 },
        extension: None,
        early_removal_after_months: None,
        removed_on_performance: false,
        suspend_on_objection: true,
    },
    ListPeriodRule {
        kind: ListPeriodKind::CommerceKeyAttention,
        name: "商务领域重点关注名单",
        source: "《商务信用联合惩戒对象名单管理办法》第七条",
        duration: ListDuration::AtMost { months: 24 },
        extension: None,
        early_removal_after_months: None,
        removed_on_performance: false,
        suspend_on_objection: true,
    },
    ListPeriodRule {
        kind: ListPeriodKind::ElderlyCareJointPunishment,
        name: "养老服务领域失信联合惩戒对象名单",
        source: "《养老服务市场失信联合惩戒对象名单管理办法》（民政部）",
        duration: ListDuration::UntilRemoval,
        extension: None,
        early_removal_after_months: Some(24),
        removed_on_performance: false,
        suspend_on_objection: true,
    },
    ListPeriodRule {
        kind: ListPeriodKind::SocialOrganisationSerious,
        name: "社会组织严重违法失信名单",
        source: "《社会组织信用信息管理办法》（民政部令第60号）",
        duration: ListDuration::UntilRemoval,
        extension: None,
        early_removal_after_months: Some(24),
        removed_on_performance: false,
        suspend_on_objection: true,
    },
    ListPeriodRule {
        kind: ListPeriodKind::MarketRegulationSerious,
        name: "市场监督管理严重违法失信名单",
        source: "国家市场监督管理总局令第44号《市场监督管理严重违法失信名单管理办法》（2021）",
        duration: ListDuration::Fixed { months: 36 },
        extension: None,
        early_removal_after_months: Some(12),
        removed_on_performance: false,
        suspend_on_objection: true,
    },
    ListPeriodRule {
        kind: ListPeriodKind::LegacyAicSerious,
        name: "严重违法失信企业名单（工商，2016–2021）",
        source: "《严重违法失信企业名单管理暂行办法》（原国家工商行政管理总局令第83号）",
        duration: ListDuration::Fixed { months: 60 },
        extension: None,
        early_removal_after_months: None,
        removed_on_performance: false,
        suspend_on_objection: true,
    },
];

impl ListPeriodKind {
    /// All kinds, in declaration order (same order as [`LIST_PERIOD_RULES`]).
    pub const ALL: [ListPeriodKind; 8] = [
        ListPeriodKind::CourtDishonestDebtor,
        ListPeriodKind::CourtDishonestDebtorRefusal,
        ListPeriodKind::CommerceJointPunishment,
        ListPeriodKind::CommerceKeyAttention,
        ListPeriodKind::ElderlyCareJointPunishment,
        ListPeriodKind::SocialOrganisationSerious,
        ListPeriodKind::MarketRegulationSerious,
        ListPeriodKind::LegacyAicSerious,
    ];

    /// The rule for this list.
    #[must_use]
    pub fn rule(self) -> &'static ListPeriodRule {
        // LIST_PERIOD_RULES holds one entry per kind, in declaration order (checked by tests).
        &LIST_PERIOD_RULES[self as usize]
    }

    /// Whether an objection suspends the measures during verification.
    #[must_use]
    pub fn suspend_on_objection(self) -> bool {
        self.rule().suspend_on_objection
    }
}

impl ListPeriodRule {
    /// Last day of the listing for an entry listed on `listed_on` with an extension of
    /// `extension_months` (0 = none), counted with 民法典 Arts. 201–202 arithmetic.
    ///
    /// `Ok(None)` when the listing has no automatic end (until performance / removal). For
    /// [`ListDuration::AtMost`] this is the latest possible end.
    ///
    /// # Errors
    /// [`PeriodError::ExtensionOutOfRange`] for a non-zero extension outside the list's range
    /// (or on a list without extensions); [`PeriodError::Overflow`].
    pub fn listing_end(
        &self,
        listed_on: NaiveDate,
        extension_months: u32,
    ) -> Result<Option<NaiveDate>, PeriodError> {
        if extension_months != 0 {
            let ok = self
                .extension
                .is_some_and(|r| (r.min_months..=r.max_months).contains(&extension_months));
            if !ok {
                return Err(PeriodError::ExtensionOutOfRange {
                    kind: self.kind,
                    months: extension_months,
                    allowed: match self.extension {
                        Some(r) => format!("{}–{} months", r.min_months, r.max_months),
                        None => "none".to_owned(),
                    },
                });
            }
        }
        let base = match self.duration {
            ListDuration::Fixed { months } | ListDuration::AtMost { months } => months,
            ListDuration::UntilPerformance | ListDuration::UntilRemoval => return Ok(None),
        };
        let months = base
            .checked_add(extension_months)
            .ok_or(PeriodError::Overflow {
                start: listed_on,
                months: base,
            })?;
        add_months_civil(listed_on, months)
            .map(Some)
            .ok_or(PeriodError::Overflow {
                start: listed_on,
                months,
            })
    }

    /// First day early removal may be applied for (the day after `early_removal_after_months`
    /// have passed), or `Ok(None)` when the list has no time-based early removal.
    ///
    /// # Errors
    /// [`PeriodError::Overflow`].
    pub fn early_removal_from(
        &self,
        listed_on: NaiveDate,
    ) -> Result<Option<NaiveDate>, PeriodError> {
        let Some(months) = self.early_removal_after_months else {
            return Ok(None);
        };
        add_months_civil(listed_on, months)
            .and_then(|d| d.succ_opt())
            .map(Some)
            .ok_or(PeriodError::Overflow {
                start: listed_on,
                months,
            })
    }
}
