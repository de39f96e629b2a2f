//! Typed 双公示 records (licence XK_*, penalty CF_*), list entries and credit commitments.
//!
//! One concept per file: column metadata ([`fields`]), dates ([`date`]), 万元 amounts
//! ([`amount`]), code tables ([`enums`]), the four record types, and the untyped
//! [`raw::RawRecord`] read from JSON or CSV. The typed records are what the log stores: they
//! go through the bincode codec, so they use only plain serde (no `flatten`, `untagged`,
//! `skip_serializing_if` or `deserialize_any`); lenient input parsing lives in
//! `validate`, which turns a `RawRecord` into a typed record.

pub mod amount;
pub mod commitment;
pub mod date;
pub mod enums;
pub mod fields;
pub mod licence;
pub mod list_entry;
pub mod penalty;
pub mod raw;

use serde::{Deserialize, Serialize};

pub use amount::AmountWan;
pub use commitment::CreditCommitment;
pub use date::RecordDate;
pub use enums::{IdType, LicenceClass, PenaltyKind, PenaltyKinds, RecordStatus, SubjectCategory};
pub use licence::LicenceRecord;
pub use list_entry::ListEntry;
pub use penalty::PenaltyRecord;
pub use raw::{RawRecord, RecordKind};

/// Any record credx stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// 行政许可
    Licence(LicenceRecord),
    /// 行政处罚
    Penalty(PenaltyRecord),
    /// 名单 entry
    ListEntry(ListEntry),
    /// 信用承诺
    Commitment(CreditCommitment),
}

/// The key under which a repeated submission is an update of an earlier one (§4.5 W2):
/// the deciding authority's USCC and its document number. For licences the document number
/// is `XK_WSH`, followed by `|` and `XK_XKBH` when a licence number is present, since one
/// decision can grant several numbered licences.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BusinessKey {
    /// Normalised USCC of the deciding authority (CF_CFJGDM / XK_XKJGDM / 认定单位 /
    /// 承诺受理单位).
    pub authority: String,
    /// Document number (see the type docs for licences).
    pub document_no: String,
}

impl BusinessKey {
    /// The key of a licence: XK_XKJGDM + XK_WSH (+ `|` XK_XKBH).
    pub fn licence(authority_code: &str, document_no: &str, licence_no: Option<&str>) -> Self {
        let document_no = document_no.trim();
        BusinessKey {
            authority: authority_code.trim().to_ascii_uppercase(),
            document_no: match licence_no.map(str::trim).filter(|s| !s.is_empty()) {
                Some(no) => format!("{document_no}|{no}"),
                None => document_no.to_string(),
            },
        }
    }

    /// The key of a penalty: CF_CFJGDM + CF_WSH.
    pub fn penalty(authority_code: &str, document_no: &str) -> Self {
        BusinessKey {
            authority: authority_code.trim().to_ascii_uppercase(),
            document_no: document_no.trim().to_string(),
        }
    }
}

impl std::fmt::Display for BusinessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.authority, self.document_no)
    }
}

impl Record {
    /// The amendment key (§4.5 W2). Always present for validated records; `Option` leaves
    /// room for record types without one.
    pub fn business_key(&self) -> Option<BusinessKey> {
        match self {
            Record::Licence(r) => Some(BusinessKey::licence(
                &r.authority_code,
                &r.document_no,
                r.licence_no.as_deref(),
            )),
            Record::Penalty(r) => Some(BusinessKey::penalty(&r.authority_code, &r.document_no)),
            Record::ListEntry(e) => Some(BusinessKey::penalty(
                &e.determining_unit.uscc,
                &e.document_no,
            )),
            Record::Commitment(c) => Some(BusinessKey::penalty(&c.acceptance_unit_code, &c.code)),
        }
    }

    /// The counter-party's identifier: normalised USCC, else ID number (upper-case), else
    /// `None` (e.g. an organisation identified only by a legacy code).
    pub fn subject_key(&self) -> Option<String> {
        let pick = |uscc: &Option<String>, id: &Option<String>| {
            uscc.as_deref()
                .or(id.as_deref())
                .map(|s| s.trim().to_ascii_uppercase())
                .filter(|s| !s.is_empty())
        };
        match self {
            Record::Licence(r) => pick(&r.uscc, &r.id_no),
            Record::Penalty(r) => pick(&r.uscc, &r.id_no),
            Record::ListEntry(e) => Some(e.subject.code.trim().to_ascii_uppercase()),
            Record::Commitment(c) => Some(c.subject_code.trim().to_ascii_uppercase()),
        }
    }

    /// The record's kind name, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Record::Licence(_) => "licence",
            Record::Penalty(_) => "penalty",
            Record::ListEntry(_) => "list entry",
            Record::Commitment(_) => "commitment",
        }
    }
}
