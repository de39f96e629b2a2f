//! Bounds on an entry beyond its byte size.
//!
//! The codec already caps an entry at 64 KiB; these checks give the semantic limits a
//! reviewer expects (name lengths, list counts) and precise errors that name the field.

use super::{Entry, Event};

pub const MAX_ORIGIN_LEN: usize = 255;
pub const MAX_SUBMITTER_LEN: usize = 128;
pub const MAX_MEASURES: usize = 64;
pub const MAX_TARGETS: usize = 512;
pub const MAX_COVERED_LOGS: usize = 4096;
pub const MAX_REASON_BYTES: usize = 4000 * 3;

/// An entry field outside its bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {rule}")]
pub struct EntryLimitError {
    pub field: &'static str,
    pub rule: String,
}

fn fail(field: &'static str, rule: impl Into<String>) -> Result<(), EntryLimitError> {
    Err(EntryLimitError {
        field,
        rule: rule.into(),
    })
}

/// An origin name is a C2SP key name: non-empty, no whitespace, no `+`, bounded.
pub fn check_origin(field: &'static str, origin: &str) -> Result<(), EntryLimitError> {
    if origin.is_empty() || origin.len() > MAX_ORIGIN_LEN {
        return fail(field, format!("must be 1 to {MAX_ORIGIN_LEN} bytes"));
    }
    if origin
        .chars()
        .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return fail(
            field,
            "must not contain whitespace, control characters or '+'",
        );
    }
    Ok(())
}

fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), EntryLimitError> {
    if text.len() > max {
        return fail(field, format!("is {} bytes, above {max}", text.len()));
    }
    Ok(())
}

pub(super) fn check(entry: &Entry) -> Result<(), EntryLimitError> {
    check_origin("origin", &entry.origin)?;
    if let Some(authority) = &entry.authority {
        if authority.len() != 18 || !authority.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return fail("authority", "must be a normalised 18-character USCC");
        }
    }
    if entry.submitted_by.is_empty() {
        return fail("submitted_by", "must name the submitting account");
    }
    check_text("submitted_by", &entry.submitted_by, MAX_SUBMITTER_LEN)?;
    if let Some(subject) = &entry.subject {
        if let Err(rule) = subject.check_shape() {
            return fail("subject", rule);
        }
    }
    match &entry.event {
        Event::RecordAmended {
            reason, previous, ..
        } => {
            check_origin("event.previous.origin", &previous.origin)?;
            check_text("event.reason", reason, MAX_REASON_BYTES)
        }
        Event::RecordWithdrawn { reason, target, .. } => {
            check_origin("event.target.origin", &target.origin)?;
            if reason.trim().is_empty() {
                return fail("event.reason", "a withdrawal must state its reason");
            }
            check_text("event.reason", reason, MAX_REASON_BYTES)
        }
        Event::ObjectionOpened {
            target, grounds, ..
        } => {
            check_origin("event.target.origin", &target.origin)?;
            check_text("event.grounds", grounds, MAX_REASON_BYTES)
        }
        Event::ObjectionResolved { target, reason, .. } => {
            check_origin("event.target.origin", &target.origin)?;
            check_text("event.reason", reason, MAX_REASON_BYTES)
        }
        Event::RepairApproved { target, .. } | Event::ListingRemoved { target, .. } => {
            check_origin("event.target.origin", &target.origin)
        }
        Event::CaseInitiated(case) => {
            if case.measures.is_empty() || case.measures.len() > MAX_MEASURES {
                return fail(
                    "event.measures",
                    format!("must hold 1 to {MAX_MEASURES} measures"),
                );
            }
            if case.targets.len() > MAX_TARGETS {
                return fail(
                    "event.targets",
                    format!("must hold at most {MAX_TARGETS} targets"),
                );
            }
            check_origin("event.listing.origin", &case.listing.origin)
        }
        Event::CaseStep(step) => check_origin("event.responder.node", &step.responder.node),
        Event::StatusMapRoot { covers, .. } => {
            if covers.len() > MAX_COVERED_LOGS {
                return fail(
                    "event.covers",
                    format!("must list at most {MAX_COVERED_LOGS} logs"),
                );
            }
            if !covers
                .windows(2)
                .all(|w| matches!(w, [a, b] if a.origin < b.origin))
            {
                return fail("event.covers", "must be sorted by origin without repeats");
            }
            Ok(())
        }
        Event::RecordPublished { .. } | Event::RosterAdopted { .. } => Ok(()),
    }
}
