//! How entries change a subject's status: the deterministic fold behind the status map.
//!
//! The map is a function of the logs a node holds (design brief §4), so every node that
//! replays the same entries reaches the same root. The rules here are the only place that
//! decides what an event does to a status; time-based facts (a listing whose period ended)
//! are not applied here but evaluated by the reader for its own date.

use crate::entry::{Entry, EntryRef, Event, ObjectionOutcome};
use crate::record::list_entry::ListKind;
use crate::record::Record;

use super::status::{Listing, SubjectStatus};

/// The stable name of a list in the status map.
pub fn list_kind_name(kind: ListKind) -> &'static str {
    match kind {
        ListKind::SeriouslyDishonest => "seriously-dishonest",
        ListKind::RedList => "red-list",
        ListKind::KeyAttention => "key-attention",
        ListKind::DishonestJudgmentDebtor => "dishonest-judgment-debtor",
    }
}

/// Applies `entry`, stored at `at`, to the current status of its subject.
///
/// Returns `None` when the entry names no subject (node anchors, case steps addressed to a
/// department): such entries do not touch the map. Otherwise returns the new status in
/// canonical order, which the caller stores under `subject.map_key()`.
pub fn apply_entry(
    current: Option<SubjectStatus>,
    entry: &Entry,
    at: &EntryRef,
) -> Option<SubjectStatus> {
    let subject = entry.subject.as_ref()?;
    let mut status = match current {
        Some(status) if &status.subject == subject => status,
        _ => SubjectStatus::new(subject.clone()),
    };
    status.add_record(at.clone());
    match &entry.event {
        Event::RecordPublished { record } => add_listing(&mut status, record, at),
        Event::RecordAmended {
            previous, record, ..
        } => {
            // The amendment replaces the listing the earlier version made, if any.
            remove_listing(&mut status, previous);
            add_listing(&mut status, record, at);
        }
        Event::RecordWithdrawn { target, .. }
        | Event::ListingRemoved { target, .. }
        | Event::RepairApproved { target, .. } => remove_listing(&mut status, target),
        Event::ObjectionOpened {
            target,
            suspends_measures,
            ..
        } => {
            status.open_objections.push(target.clone());
            if *suspends_measures {
                set_suspended(&mut status, target, true);
            }
        }
        Event::ObjectionResolved {
            target, outcome, ..
        } => {
            status.open_objections.retain(|t| t != target);
            match outcome {
                // Upheld: the record is corrected or revoked and its measures lifted.
                ObjectionOutcome::Upheld => remove_listing(&mut status, target),
                ObjectionOutcome::Dismissed | ObjectionOutcome::Rejected => {
                    set_suspended(&mut status, target, false)
                }
            }
        }
        Event::CaseInitiated(_)
        | Event::CaseStep(_)
        | Event::StatusMapRoot { .. }
        | Event::RosterAdopted { .. } => {}
    }
    status.normalize();
    Some(status)
}

fn add_listing(status: &mut SubjectStatus, record: &Record, at: &EntryRef) {
    let Record::ListEntry(list) = record else {
        return;
    };
    status.listings.push(Listing {
        entry: at.clone(),
        list_kind: list_kind_name(list.kind).to_owned(),
        listed_on: list.listed_on.0,
        valid_until: list.valid_until.map(|d| d.0),
        measures: list.measures.iter().map(|m| m.code.clone()).collect(),
        suspended: false,
    });
}

fn remove_listing(status: &mut SubjectStatus, target: &EntryRef) {
    status.listings.retain(|l| &l.entry != target);
}

fn set_suspended(status: &mut SubjectStatus, target: &EntryRef, suspended: bool) {
    for listing in status.listings.iter_mut().filter(|l| &l.entry == target) {
        listing.suspended = suspended;
    }
}
