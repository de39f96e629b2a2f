//! The validation rule set (credit-data.md §4.5): E1–E7 reject, W1–W3 warn.
//!
//! Validation turns an untyped [`RawRecord`] into a typed record and reports **every**
//! finding for the record, never stopping at the first: departments fix a whole batch from
//! one report. A record is accepted (typed record returned) when no finding has severity
//! [`Severity::Reject`].
//!
//! Choices beyond §4.5, each applied as documented on the check:
//! * field lengths from [`crate::record::fields`] are E4 (value domain); USCC columns are
//!   judged by the USCC check instead, so a code is not reported twice;
//! * unknown column codes are E4 warnings (the value is not taken over), nested JSON
//!   values E4 rejects;
//! * empty text is the same as an absent column;
//! * legacy codes (工商注册号 MOD 11,10, 组织机构代码 GB 11714) only warn (E2), since they are
//!   optional and superseded by the USCC;
//! * a penalty's CF_GSJZQ is compared with the period module's maximum for the severity
//!   class stated in BZ (`失信程度：一般`); beyond it is an E3 warning;
//! * penalties have no status column in the current template, so E7 applies to licences
//!   (and list entries) only.

mod calendar;
mod check;
mod context;
mod finding;
mod ident_adapter;
mod licence;
mod other;
mod penalty;

use std::collections::HashSet;

pub use calendar::{WeekendsOnly, WorkingDays};
pub use context::ValidationContext;
pub use finding::{Finding, Rule, Severity, Validated};
pub use licence::validate_licence;
pub use other::{validate_commitment, validate_list_entry};
pub use penalty::validate_penalty;

use crate::record::raw::RawError;
use crate::record::{BusinessKey, RawRecord, Record, RecordKind};

/// Validates a raw 双公示 record of either kind.
pub fn validate_raw(raw: &RawRecord, ctx: &ValidationContext<'_>) -> Validated<Record> {
    match raw.kind {
        RecordKind::Licence => validate_licence(raw, ctx).map(Record::Licence),
        RecordKind::Penalty => validate_penalty(raw, ctx).map(Record::Penalty),
    }
}

/// The finding for an input item that could not become a raw record at all.
pub fn raw_error_finding(err: &RawError) -> Finding {
    Finding::new(None, Rule::E1, Severity::Reject, err.to_string())
}

/// Validates a batch (a file): numbers findings 1-based in input order, turns unreadable
/// items into an E1 finding, and treats a business key repeated *within* the batch like a
/// known one (W2), in addition to the keys in `ctx.known_business_keys`.
pub fn validate_batch(
    items: &[Result<RawRecord, RawError>],
    ctx: &ValidationContext<'_>,
) -> Vec<Validated<Record>> {
    let mut seen: HashSet<BusinessKey> = ctx.known_business_keys.cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let v = match item {
            Ok(raw) => validate_raw(raw, &ctx.with_known_business_keys(&seen)),
            Err(e) => Validated {
                record: None,
                findings: vec![raw_error_finding(e)],
            },
        };
        if let Some(k) = v.record.as_ref().and_then(Record::business_key) {
            seen.insert(k);
        }
        out.push(v.numbered(i + 1));
    }
    out
}
