//! Gathering a case's inputs from storage: the case index points at entries in this node's
//! own log, its mirrors and the items received from its parent's feed; each is read from
//! wherever it is.

use chrono::NaiveDate;
use credx_protocol::entry::{Entry, EntryRef, Event};
use credx_protocol::merkle::leaf_hash;
use credx_protocol::record::Record;
use credx_protocol::statusmap::list_kind_name;
use credx_storage::api::CaseIndexKey;
use credx_storage::{EntryLocation, Storage, StorageError};

use super::state::{fold, CaseEntry, CaseInputs, CaseState, ListingFacts};

/// Rows read per case-index page.
const PAGE: usize = 1_000;

/// Why a case could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("entry {origin}#{index} is in the case index but neither in a log nor among the received feed items")]
    Missing { origin: String, index: u64 },
    #[error("entry {origin}#{index} does not decode: {reason}")]
    Undecodable {
        origin: String,
        index: u64,
        reason: String,
    },
}

/// The exact bytes of the entry at `location`, from a log this node holds or from the
/// received feed items.
pub fn read_entry_bytes(
    store: &dyn Storage,
    location: &EntryLocation,
) -> Result<Option<Vec<u8>>, StorageError> {
    if store.log_size(&location.origin).unwrap_or(0) > location.index {
        return Ok(store
            .read_entries(&location.origin, location.index, 1)?
            .into_iter()
            .next());
    }
    Ok(store
        .received_entry(&location.origin, location.index)?
        .map(|item| item.entry))
}

/// The decoded entry at `location` and its leaf hash.
pub fn read_entry(
    store: &dyn Storage,
    location: &EntryLocation,
) -> Result<(Entry, credx_protocol::merkle::Hash), LoadError> {
    let bytes = read_entry_bytes(store, location)?.ok_or_else(|| LoadError::Missing {
        origin: location.origin.clone(),
        index: location.index,
    })?;
    let entry = Entry::decode(&bytes).map_err(|e| LoadError::Undecodable {
        origin: location.origin.clone(),
        index: location.index,
        reason: e.to_string(),
    })?;
    Ok((entry, leaf_hash(&bytes)))
}

fn indexed(store: &dyn Storage, key: &CaseIndexKey) -> Result<Vec<CaseEntry>, LoadError> {
    let mut out = Vec::new();
    let mut after: Option<EntryLocation> = None;
    loop {
        let page = store.case_entries(key, after.as_ref(), PAGE)?;
        for location in &page {
            let (entry, _) = read_entry(store, location)?;
            out.push(CaseEntry {
                location: location.clone(),
                entry,
            });
        }
        if page.len() < PAGE {
            return Ok(out);
        }
        after = page.last().cloned();
    }
}

/// The case's entries, its listing (when held here, and only if its leaf hash is the one
/// the initiation names) and the listing's lifecycle entries.
pub fn load_inputs(store: &dyn Storage, case_id: &str) -> Result<CaseInputs, LoadError> {
    let entries = indexed(store, &CaseIndexKey::Case(case_id.to_owned()))?;
    let listing_ref = entries
        .iter()
        .filter_map(|e| match &e.entry.event {
            Event::CaseInitiated(init) => Some((init.case.version, &e.location, &init.listing)),
            _ => None,
        })
        .min()
        .map(|(_, _, listing)| listing.clone());
    let Some(listing_ref) = listing_ref else {
        return Ok(CaseInputs {
            entries,
            ..CaseInputs::default()
        });
    };
    let location = EntryLocation {
        origin: listing_ref.origin.clone(),
        index: listing_ref.index,
    };
    let listing = listing_facts(store, &listing_ref)?;
    let listing_events = indexed(store, &CaseIndexKey::Target(location))?;
    Ok(CaseInputs {
        entries,
        listing,
        listing_events,
    })
}

/// The list entry at `at`, if held here and it is the one `at` names.
pub fn listing_facts(
    store: &dyn Storage,
    at: &EntryRef,
) -> Result<Option<ListingFacts>, LoadError> {
    let location = EntryLocation {
        origin: at.origin.clone(),
        index: at.index,
    };
    let Some(bytes) = read_entry_bytes(store, &location)? else {
        return Ok(None);
    };
    if leaf_hash(&bytes) != at.leaf_hash {
        return Ok(None);
    }
    let Ok(entry) = Entry::decode(&bytes) else {
        return Ok(None);
    };
    Ok(match entry.event.record() {
        Some(Record::ListEntry(list)) => Some(ListingFacts {
            at: at.clone(),
            list_kind: list_kind_name(list.kind).to_owned(),
            valid_until: list.valid_until.map(|d| d.0),
        }),
        _ => None,
    })
}

/// The case's state as this node sees it today, or `None` if it holds no initiation.
pub fn load_case(
    store: &dyn Storage,
    case_id: &str,
    today: NaiveDate,
) -> Result<Option<CaseState>, LoadError> {
    Ok(fold(&load_inputs(store, case_id)?, today))
}
