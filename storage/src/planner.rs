//! The domain planner: what each credx entry changes besides the log.
//!
//! The sequencer hands every batch to a [`BatchPlanner`]; this one decodes each entry and
//! derives, with the protocol's rules, the subject index row, the business-key row (a later
//! entry under the same key supersedes the earlier one), list memberships and the new
//! status of the entry's subject (`credx_protocol::statusmap::apply_entry`). Effects of
//! earlier entries in the same batch are folded locally, so one batch is planned exactly as
//! if its entries had been written one by one.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use credx_protocol::entry::{Entry, EntryRef, Event, LogPosition, ENVELOPE_VERSION};
use credx_protocol::merkle::Hash;
use credx_protocol::record::Record;
use credx_protocol::statusmap::{apply_entry, SubjectStatus};

use crate::api::{
    BusinessKeyUpdate, CaseIndexKey, CaseIndexUpdate, EntryLocation, ListUpdate, SubjectIndexUpdate,
};
use crate::sequencer::{BatchPlanner, Plan, PlanView, PlannedEntry};

/// Plans index and status-map changes for the entries of one log.
#[derive(Debug, Clone)]
pub struct EntryPlanner {
    origin: String,
    /// Account named in anchor entries (the node process).
    node_account: String,
}

impl EntryPlanner {
    pub fn new(origin: impl Into<String>) -> Self {
        EntryPlanner {
            origin: origin.into(),
            node_account: "credx-node".to_owned(),
        }
    }
}

impl BatchPlanner for EntryPlanner {
    fn plan(
        &self,
        entries: &[PlannedEntry<'_>],
        start_index: u64,
        view: &PlanView<'_>,
    ) -> Result<Plan, String> {
        let mut plan = Plan::default();
        plan.index.subjects.reserve(entries.len());
        plan.index.business_keys.reserve(entries.len());
        // The status of every subject the batch touches, after its latest entry so far.
        // Only the last one is encoded and handed on: a later entry of the same subject
        // supersedes the earlier ones, in the status map as in the write batch.
        let mut statuses: HashMap<Hash, SubjectStatus> = HashMap::with_capacity(entries.len());
        // Subjects in the order the batch first touched them (a deterministic plan).
        let mut touched: Vec<(Hash, String)> = Vec::new();
        for (offset, planned) in entries.iter().enumerate() {
            let index = start_index + offset as u64;
            let entry = Entry::decode(planned.bytes)
                .map_err(|e| format!("{} entry {index}: {e}", self.origin))?;
            let location = EntryLocation {
                origin: self.origin.clone(),
                index,
            };
            if let Some(key) = &entry.business_key {
                plan.index.business_keys.push(BusinessKeyUpdate {
                    business_key: key.to_string(),
                    location: location.clone(),
                });
            }
            plan.index
                .cases
                .extend(case_index_rows(&entry.event, &location));
            let always_in_feed = always_in_feed(&entry.event);
            if always_in_feed {
                plan.index.feed.push(location.clone());
            }
            let Some(subject) = &entry.subject else {
                continue;
            };
            let subject_key = subject.index_key();
            let map_key = subject.map_key();
            let before = match statuses.remove(&map_key) {
                Some(status) => Some(status),
                None => {
                    let stored = view
                        .subject_status(&map_key)
                        .map_err(|e| e.to_string())?
                        .map(|bytes| SubjectStatus::decode(&bytes))
                        .transpose()
                        .map_err(|e| format!("stored status of {subject_key}: {e}"))?;
                    touched.push((map_key, subject_key.clone()));
                    stored
                }
            };
            let listed_before = before.as_ref().is_some_and(|s| !s.listings.is_empty());
            let listings_before = before.as_ref().map(listing_entries).unwrap_or_default();
            let at = EntryRef {
                origin: self.origin.clone(),
                index,
                leaf_hash: planned.leaf_hash,
            };
            // `apply_entry` gives a status for every entry that names a subject.
            let after = apply_entry(before, &entry, &at).ok_or_else(|| {
                format!("{} entry {index}: no status for its subject", self.origin)
            })?;
            let list_rows_before = plan.index.lists.len();
            list_changes(&mut plan, &subject_key, &listings_before, &after);
            if !always_in_feed
                && (plan.index.lists.len() > list_rows_before
                    || (listed_before && is_lifecycle(&entry.event)))
            {
                plan.index.feed.push(location.clone());
            }
            plan.index.subjects.push(SubjectIndexUpdate {
                subject_key,
                location,
            });
            statuses.insert(map_key, after);
        }
        plan.status.reserve(touched.len());
        for (map_key, subject_key) in touched {
            let Some(status) = statuses.get(&map_key) else {
                continue;
            };
            let encoded = status
                .encode()
                .map_err(|e| format!("status of {subject_key}: {e}"))?;
            plan.status.push((map_key, Some(encoded)));
        }
        Ok(plan)
    }

    fn anchor_entry(&self, status_root: Hash, log_size: u64) -> Result<Option<Vec<u8>>, String> {
        let accepted_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let anchor = Entry {
            version: ENVELOPE_VERSION,
            origin: self.origin.clone(),
            authority: None,
            submitted_by: self.node_account.clone(),
            subject: None,
            business_key: None,
            accepted_at_ms,
            event: Event::StatusMapRoot {
                root: status_root,
                covers: vec![LogPosition {
                    origin: self.origin.clone(),
                    size: log_size,
                }],
            },
        };
        let encoded = anchor.encode().map_err(|e| e.to_string())?;
        Ok(Some(encoded.into_bytes()))
    }
}

/// The case-index rows of an entry stored at `location`: a case entry under its case id;
/// a lifecycle entry under the entry it acts on (a case's listing may be objected to,
/// repaired, removed or withdrawn, and the case follows it).
pub fn case_index_rows(event: &Event, location: &EntryLocation) -> Vec<CaseIndexUpdate> {
    let key = match event {
        Event::CaseInitiated(case) => CaseIndexKey::Case(case.case.case_id.clone()),
        Event::CaseStep(step) => CaseIndexKey::Case(step.case.case_id.clone()),
        Event::ObjectionOpened { target, .. }
        | Event::ObjectionResolved { target, .. }
        | Event::RepairApproved { target, .. }
        | Event::ListingRemoved { target, .. }
        | Event::RecordWithdrawn { target, .. } => CaseIndexKey::Target(EntryLocation {
            origin: target.origin.clone(),
            index: target.index,
        }),
        _ => return Vec::new(),
    };
    vec![CaseIndexUpdate {
        key,
        location: location.clone(),
    }]
}

/// [`case_index_rows`] of an entry given as bytes (an item received from the parent's
/// feed, already verified). Bytes that do not decode file nothing.
pub fn case_index_rows_of(bytes: &[u8], location: &EntryLocation) -> Vec<CaseIndexUpdate> {
    match Entry::decode(bytes) {
        Ok(entry) => case_index_rows(&entry.event, location),
        Err(_) => Vec::new(),
    }
}

/// Entries that always go down the tree in the list feed: list entries themselves and
/// joint reward/punishment cases (their responders may sit in any region).
fn always_in_feed(event: &Event) -> bool {
    matches!(
        event,
        Event::RecordPublished {
            record: Record::ListEntry(_)
        } | Event::RecordAmended {
            record: Record::ListEntry(_),
            ..
        } | Event::CaseInitiated(_)
            | Event::CaseStep(_)
    )
}

/// Lifecycle changes of a record; they go in the feed when the subject is or was listed.
fn is_lifecycle(event: &Event) -> bool {
    matches!(
        event,
        Event::RecordWithdrawn { .. }
            | Event::ObjectionOpened { .. }
            | Event::ObjectionResolved { .. }
            | Event::RepairApproved { .. }
            | Event::ListingRemoved { .. }
    )
}

/// The listings of a status, by list kind.
fn listing_entries(status: &SubjectStatus) -> HashMap<String, EntryRef> {
    status
        .listings
        .iter()
        .map(|l| (l.list_kind.clone(), l.entry.clone()))
        .collect()
}

/// List membership follows the status: a list the subject is on after the entry and was
/// not on before is an addition; the reverse is a removal.
fn list_changes(
    plan: &mut Plan,
    member: &str,
    old: &HashMap<String, EntryRef>,
    after: &SubjectStatus,
) {
    if old.is_empty() && after.listings.is_empty() {
        return;
    }
    let new = listing_entries(after);
    for (kind, entry) in &new {
        if old.get(kind) != Some(entry) {
            plan.index.lists.push(ListUpdate {
                list_kind: kind.clone(),
                member: member.to_owned(),
                entry: Some(EntryLocation {
                    origin: entry.origin.clone(),
                    index: entry.index,
                }),
            });
        }
    }
    for kind in old.keys().filter(|k| !new.contains_key(*k)) {
        plan.index.lists.push(ListUpdate {
            list_kind: kind.clone(),
            member: member.to_owned(),
            entry: None,
        });
    }
}
