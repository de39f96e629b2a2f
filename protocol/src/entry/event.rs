//! The domain events an entry can carry.
//!
//! Encoding note: bincode tags enum variants by position, so variants are only ever added
//! at the end of an enum, and a variant's fields never change once released. A changed
//! shape is a new variant (or a new envelope version), never an edit.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::subject::EntryRef;
use super::workflow::{CaseInitiation, CaseStep, ObjectionOutcome};
use crate::merkle::Hash;
use crate::record::Record;

/// One domain event: the payload of a log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A record is published for the first time under its business key.
    RecordPublished { record: Record },
    /// A resubmission under an existing business key: the new version supersedes `previous`.
    RecordAmended {
        previous: EntryRef,
        record: Record,
        reason: String,
    },
    /// 行政处罚法 Art. 48: a changed, revoked, illegal or void decision is withdrawn
    /// from publication (within 3 days), with the reason published.
    RecordWithdrawn {
        target: EntryRef,
        kind: WithdrawalKind,
        reason: String,
    },
    /// An objection (异议) was accepted for verification.
    ObjectionOpened {
        objection_id: String,
        target: EntryRef,
        grounds: String,
        /// Whether measures are paused while verifying (the list's `suspend_on_objection`).
        suspends_measures: bool,
    },
    /// The objection was decided.
    ObjectionResolved {
        objection_id: String,
        target: EntryRef,
        outcome: ObjectionOutcome,
        reason: String,
    },
    /// Credit repair approved: publication ends, sharing stops, measures are lifted.
    RepairApproved {
        repair_id: String,
        target: EntryRef,
        approved_on: NaiveDate,
        basis: String,
    },
    /// A listing is removed (移出) before its period ends, e.g. on performance.
    ListingRemoved {
        target: EntryRef,
        removed_on: NaiveDate,
        reason: String,
    },
    /// A joint reward/punishment case is initiated.
    CaseInitiated(CaseInitiation),
    /// One responder's step in a case.
    CaseStep(CaseStep),
    /// The node commits the root of its status map (design brief §4).
    StatusMapRoot {
        root: Hash,
        /// The log sizes the map was computed over, per origin, sorted by origin.
        covers: Vec<LogPosition>,
    },
    /// The node adopted a new signed roster.
    RosterAdopted { version: u64, digest: Hash },
}

/// Why a decision is withdrawn (行政处罚法 Art. 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WithdrawalKind {
    /// 变更
    Changed,
    /// 撤销
    Revoked,
    /// 确认违法
    ConfirmedIllegal,
    /// 确认无效
    ConfirmedVoid,
    /// Entered in error by the department.
    EnteredInError,
}

/// A log and a size: "origin's log as of `size` entries".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogPosition {
    pub origin: String,
    pub size: u64,
}

impl Event {
    /// A short stable name for logs, metrics and error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Event::RecordPublished { .. } => "record-published",
            Event::RecordAmended { .. } => "record-amended",
            Event::RecordWithdrawn { .. } => "record-withdrawn",
            Event::ObjectionOpened { .. } => "objection-opened",
            Event::ObjectionResolved { .. } => "objection-resolved",
            Event::RepairApproved { .. } => "repair-approved",
            Event::ListingRemoved { .. } => "listing-removed",
            Event::CaseInitiated(_) => "case-initiated",
            Event::CaseStep(_) => "case-step",
            Event::StatusMapRoot { .. } => "status-map-root",
            Event::RosterAdopted { .. } => "roster-adopted",
        }
    }

    /// The record carried by this event, if it carries one.
    pub fn record(&self) -> Option<&Record> {
        match self {
            Event::RecordPublished { record } | Event::RecordAmended { record, .. } => Some(record),
            _ => None,
        }
    }
}
