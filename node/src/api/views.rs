//! `GET /v1/subjects/{code}`: what the node holds about one subject, in the public or the
//! shared view.
//!
//! The records come from the subject index and the entries themselves (the log is the
//! truth; nothing here is a table beside it): per business key the latest version, how
//! often it was amended, and whether it was withdrawn (Art. 48) or repaired. The public view
//! shows only records that are published today (not withdrawn, not repaired, within their
//! publication period) with personal identity numbers masked; the shared view shows all.
//! The subject's status (listings, open objections) comes from the status map.

use std::collections::HashMap;

use chrono::NaiveDate;
use credx_protocol::entry::{Entry, EntryRef, Event, SubjectId};
use credx_protocol::ident::{ResidentId, Uscc};
use credx_protocol::record::Record;
use credx_protocol::statusmap::SubjectStatus;
use credx_storage::{EntryLocation, MAX_READ_ENTRIES};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::mask::{mask_free_text, mask_id};
use super::publication::public_until;
use super::state::ApiState;
use super::tokens::View;
use super::withdraw::WithdrawalKindDto;

/// Most entries read for one subject view (a subject with more is shown truncated).
pub const MAX_SUBJECT_ENTRIES: usize = 10_000;
/// Entries read per index page.
const PAGE: usize = 1_000;

/// Where an entry lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntryPosition {
    pub origin: String,
    pub index: u64,
}

impl EntryPosition {
    pub fn of(r: &EntryRef) -> EntryPosition {
        EntryPosition {
            origin: r.origin.clone(),
            index: r.index,
        }
    }

    fn at(l: &EntryLocation) -> EntryPosition {
        EntryPosition {
            origin: l.origin.clone(),
            index: l.index,
        }
    }
}

/// Query parameters of the subject endpoints.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// `public` or `shared`; by default the widest view the token allows.
    pub view: Option<View>,
    /// 证件类型 of a natural person whose code is not a resident ID number: `02` passport,
    /// `03` HK/Macau permit, `04` Taiwan permit, `05` foreign permanent resident card.
    pub id_type: Option<String>,
}

/// The subject asked about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectInfo {
    /// `organisation` or `person`.
    pub kind: String,
    /// USCC, or the identity number (masked in the public view).
    pub code: String,
    /// 证件类型 of a person.
    pub id_type: Option<String>,
}

/// One list membership, as committed in the status map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingView {
    pub list_kind: String,
    pub listed_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub measures: Vec<String>,
    /// An objection is pending and the list suspends measures meanwhile.
    pub suspended: bool,
    /// Within its period and not suspended today: its measures apply.
    pub in_force: bool,
    pub entry: EntryPosition,
}

/// The subject's status from the status map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusView {
    pub listings: Vec<ListingView>,
    /// Entries under objection (异议中), not yet decided.
    pub open_objections: Vec<EntryPosition>,
    /// How many entries have shaped the status.
    pub total_records: u64,
}

/// `published`, `withdrawn` (Art. 48) or `repaired` (信用修复: publication ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordState {
    Published,
    Withdrawn,
    Repaired,
}

/// A withdrawal of a record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WithdrawalView {
    pub kind: WithdrawalKindDto,
    pub reason: String,
    pub entry: EntryPosition,
    pub submitted_by: String,
    pub accepted_at_ms: u64,
}

/// One record (latest version under its business key).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    /// `licence`, `penalty`, `list entry` or `commitment`.
    pub kind: String,
    pub business_key: String,
    /// The entry holding this version.
    pub entry: EntryPosition,
    pub submitted_by: String,
    pub accepted_at_ms: u64,
    /// Versions before this one (amendments = versions − 1).
    pub amendments: u32,
    pub state: RecordState,
    pub withdrawal: Option<WithdrawalView>,
    /// Last day of publication in the public view, when it has one.
    pub public_until: Option<NaiveDate>,
    /// The record's columns, keyed by the standard field codes.
    #[schema(value_type = Object)]
    pub fields: Value,
}

/// What the node holds about a subject.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectView {
    /// The node answering.
    pub origin: String,
    pub view: View,
    /// The day (China Standard Time) publication periods were judged on.
    pub as_of: NaiveDate,
    pub subject: SubjectInfo,
    /// `null` when the status map has no entry for the subject.
    pub status: Option<StatusView>,
    pub records: Vec<RecordView>,
    /// More than the per-view entry limit: the oldest entries were not read.
    pub truncated: bool,
}

/// Parses the subject code of the path: a resident ID number (18 digits, or `id_type`
/// given for other documents) is a person, anything else must be a USCC.
pub fn parse_subject(code: &str, id_type: Option<&str>) -> Result<SubjectId, ApiError> {
    let normalised = code.trim().to_ascii_uppercase();
    let invalid = || ApiError::InvalidSubject {
        code: code.to_owned(),
    };
    if let Some(id_type) = id_type.map(str::trim).filter(|t| !t.is_empty()) {
        let known = ["01", "02", "03", "04", "05"];
        if !known.contains(&id_type) {
            return Err(ApiError::InvalidField {
                field: "id_type",
                reason: format!("{id_type:?} is not a 证件类型 code; use 01 to 05"),
            });
        }
        if normalised.is_empty() || !normalised.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid());
        }
        return Ok(SubjectId::Person {
            id_type: id_type.to_owned(),
            number: normalised,
        });
    }
    if ResidentId::parse(&normalised).is_ok() {
        return Ok(SubjectId::Person {
            id_type: "01".to_owned(),
            number: normalised,
        });
    }
    Uscc::parse(&normalised)
        .map(|u| SubjectId::Organisation(u.as_str().to_owned()))
        .map_err(|_| invalid())
}

/// What the fold keeps per business key.
struct KeyState {
    first_seen: usize,
    latest: (EntryLocation, Entry),
    versions: u32,
    withdrawal: Option<WithdrawalView>,
    repaired: bool,
}

/// Builds the view of `subject` (blocking: reads storage).
pub(crate) fn subject_view(
    state: &ApiState,
    subject: &SubjectId,
    view: View,
) -> Result<SubjectView, ApiError> {
    let today = state.today();
    let (entries, truncated) = load_entries(state, subject)?;

    let mut by_key: HashMap<String, KeyState> = HashMap::new();
    // Entry position → business key, to resolve withdrawal and repair targets.
    let mut key_of: HashMap<(String, u64), String> = HashMap::new();
    for (order, (location, entry)) in entries.into_iter().enumerate() {
        let pos = (location.origin.clone(), location.index);
        match &entry.event {
            Event::RecordPublished { .. } | Event::RecordAmended { .. } => {
                let Some(key) = entry.business_key.as_ref().map(|k| k.to_string()) else {
                    continue;
                };
                key_of.insert(pos, key.clone());
                let slot = by_key.entry(key).or_insert_with(|| KeyState {
                    first_seen: order,
                    latest: (location.clone(), entry.clone()),
                    versions: 0,
                    withdrawal: None,
                    repaired: false,
                });
                slot.versions += 1;
                // A resubmission after a withdrawal publishes the record again.
                slot.withdrawal = None;
                slot.latest = (location, entry);
            }
            Event::RecordWithdrawn {
                target,
                kind,
                reason,
            } => {
                let key = key_of.get(&(target.origin.clone(), target.index)).cloned();
                key_of.insert(pos, key.clone().unwrap_or_default());
                if let Some(slot) = key.and_then(|k| by_key.get_mut(&k)) {
                    slot.withdrawal = Some(WithdrawalView {
                        kind: (*kind).into(),
                        reason: reason.clone(),
                        entry: EntryPosition::at(&location),
                        submitted_by: entry.submitted_by.clone(),
                        accepted_at_ms: entry.accepted_at_ms,
                    });
                }
            }
            Event::RepairApproved { target, .. } => {
                let key = key_of.get(&(target.origin.clone(), target.index)).cloned();
                if let Some(slot) = key.and_then(|k| by_key.get_mut(&k)) {
                    slot.repaired = true;
                }
            }
            _ => {}
        }
    }

    let mut states: Vec<(String, KeyState)> = by_key.into_iter().collect();
    states.sort_by_key(|(_, s)| s.first_seen);
    let mut records = Vec::with_capacity(states.len());
    for (key, s) in states {
        let (location, entry) = s.latest;
        let Some(record) = entry.event.record() else {
            continue;
        };
        let until = public_until(record);
        let record_state = if s.withdrawal.is_some() {
            RecordState::Withdrawn
        } else if s.repaired {
            RecordState::Repaired
        } else {
            RecordState::Published
        };
        if view == View::Public
            && (record_state != RecordState::Published || !until.is_public_on(today))
        {
            continue;
        }
        records.push(RecordView {
            kind: record.kind_name().to_owned(),
            business_key: key,
            entry: EntryPosition::at(&location),
            submitted_by: entry.submitted_by.clone(),
            accepted_at_ms: entry.accepted_at_ms,
            amendments: s.versions.saturating_sub(1),
            state: record_state,
            withdrawal: s.withdrawal,
            public_until: until.end(),
            fields: record_fields(record, view)?,
        });
    }

    let status = match state.store.subject_status(&subject.map_key())? {
        None => None,
        Some(bytes) => {
            let status = SubjectStatus::decode(&bytes).map_err(|e| {
                ApiError::Internal(format!("stored status of {}: {e}", subject.index_key()))
            })?;
            Some(status_view(&status, today))
        }
    };
    Ok(SubjectView {
        origin: state.origin.to_string(),
        view,
        as_of: today,
        subject: subject_info(subject, view),
        status,
        records,
        truncated,
    })
}

fn subject_info(subject: &SubjectId, view: View) -> SubjectInfo {
    match subject {
        SubjectId::Organisation(code) => SubjectInfo {
            kind: "organisation".into(),
            code: code.clone(),
            id_type: None,
        },
        SubjectId::Person { id_type, number } => SubjectInfo {
            kind: "person".into(),
            code: match view {
                View::Public => mask_id(number),
                View::Shared => number.clone(),
            },
            id_type: Some(id_type.clone()),
        },
    }
}

fn status_view(status: &SubjectStatus, today: NaiveDate) -> StatusView {
    StatusView {
        listings: status
            .listings
            .iter()
            .map(|l| ListingView {
                list_kind: l.list_kind.clone(),
                listed_on: l.listed_on,
                valid_until: l.valid_until,
                measures: l.measures.clone(),
                suspended: l.suspended,
                in_force: l.is_in_force_on(today),
                entry: EntryPosition::of(&l.entry),
            })
            .collect(),
        open_objections: status
            .open_objections
            .iter()
            .map(EntryPosition::of)
            .collect(),
        total_records: status.total_records,
    }
}

/// The record's columns as JSON; in the public view with identity numbers masked.
fn record_fields(record: &Record, view: View) -> Result<Value, ApiError> {
    let to_json = |r: &Record| {
        match r {
            Record::Licence(x) => serde_json::to_value(x),
            Record::Penalty(x) => serde_json::to_value(x),
            Record::ListEntry(x) => serde_json::to_value(x),
            Record::Commitment(x) => serde_json::to_value(x),
        }
        .map_err(|e| ApiError::Internal(format!("record to JSON: {e}")))
    };
    if view == View::Shared {
        return to_json(record);
    }
    let mut masked = record.clone();
    mask_record(&mut masked);
    let mut value = to_json(&masked)?;
    mask_strings(&mut value);
    Ok(value)
}

/// Masks the typed identity-number columns of a record.
fn mask_record(record: &mut Record) {
    use credx_protocol::record::SubjectCategory;
    let mask = |v: &mut Option<String>| {
        if let Some(s) = v {
            *s = mask_id(s);
        }
    };
    match record {
        Record::Licence(r) => {
            mask(&mut r.id_no);
            mask(&mut r.legal_rep_id_no);
        }
        Record::Penalty(r) => {
            mask(&mut r.id_no);
            mask(&mut r.legal_rep_id_no);
        }
        Record::ListEntry(e) => {
            if e.subject.category == SubjectCategory::NaturalPerson {
                e.subject.code = mask_id(&e.subject.code);
            }
        }
        Record::Commitment(c) => {
            if c.subject_category == SubjectCategory::NaturalPerson {
                c.subject_code = mask_id(&c.subject_code);
            }
        }
    }
}

/// Masks identity numbers anywhere in the text values of a JSON tree.
fn mask_strings(value: &mut Value) {
    match value {
        Value::String(s) => *s = mask_free_text(s),
        Value::Array(items) => items.iter_mut().for_each(mask_strings),
        Value::Object(map) => map.values_mut().for_each(mask_strings),
        _ => {}
    }
}

/// Reads the subject's entries in index order (at most [`MAX_SUBJECT_ENTRIES`], the most
/// recent kept when there are more).
fn load_entries(
    state: &ApiState,
    subject: &SubjectId,
) -> Result<(Vec<(EntryLocation, Entry)>, bool), ApiError> {
    let mut locations: Vec<EntryLocation> = Vec::new();
    let mut after: Option<EntryLocation> = None;
    loop {
        let page = state
            .store
            .entries_for_subject(subject, after.as_ref(), PAGE)?;
        let done = page.len() < PAGE;
        after = page.last().cloned();
        locations.extend(page);
        if done || after.is_none() {
            break;
        }
    }
    let truncated = locations.len() > MAX_SUBJECT_ENTRIES;
    if truncated {
        locations.drain(..locations.len() - MAX_SUBJECT_ENTRIES);
    }
    let mut out = Vec::with_capacity(locations.len());
    let mut i = 0;
    while let Some(first) = locations.get(i) {
        // Read runs of consecutive indexes of one log in one call.
        let mut run = 1usize;
        while let Some(next) = locations.get(i + run) {
            if next.origin == first.origin
                && next.index == first.index + run as u64
                && (run as u64) < MAX_READ_ENTRIES
            {
                run += 1;
            } else {
                break;
            }
        }
        let bytes = state
            .store
            .read_entries(&first.origin, first.index, run as u64)?;
        for (offset, b) in bytes.into_iter().enumerate() {
            let Some(location) = locations.get(i + offset) else {
                break;
            };
            let entry = Entry::decode(&b).map_err(|e| {
                ApiError::Internal(format!("entry {}#{}: {e}", location.origin, location.index))
            })?;
            out.push((location.clone(), entry));
        }
        i += run;
    }
    Ok((out, truncated))
}
