//! The entries behind a status (its listings, open objections and recent records), each
//! with a tlog-proof against a checkpoint of its own log that meets the all-ancestors
//! quorum: what lets a verifier read the records themselves, not only the status.
//!
//! Only for the shared view (authorised departments): a record's bytes carry every column,
//! personal ID numbers included, and cannot be masked without breaking their hash. The
//! public bundle carries the status and its proof only.

use std::collections::{BTreeMap, BTreeSet};

use credx_protocol::bundle::model::b64;
use credx_protocol::bundle::ProvenEntry;
use credx_protocol::merkle::leaf_hash;
use credx_protocol::roster::VerifiedRoster;
use credx_protocol::statusmap::SubjectStatus;
use credx_storage::Storage;

use super::cosigned::{cosigned_checkpoint, CosignedCache};
use super::BundleBuildError;

/// Proves every entry `status` names, in (origin, index) order, without duplicates. The
/// count is bounded by the status itself (listings, open objections and at most
/// `MAX_STATUS_RECORDS` records).
pub fn prove_entries(
    store: &dyn Storage,
    roster: &VerifiedRoster,
    status: &SubjectStatus,
) -> Result<Vec<ProvenEntry>, BundleBuildError> {
    let refs: BTreeSet<(&str, u64, _)> = status
        .listings
        .iter()
        .map(|listing| &listing.entry)
        .chain(&status.open_objections)
        .chain(&status.records)
        .map(|r| (r.origin.as_str(), r.index, r.leaf_hash))
        .collect();
    let mut proven = Vec::with_capacity(refs.len());
    let mut caches: BTreeMap<&str, CosignedCache> = BTreeMap::new();
    for (origin, index, expected_leaf) in refs {
        let bytes = store
            .read_entries(origin, index, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| BundleBuildError::EntryMissing {
                origin: origin.to_owned(),
                index,
            })?;
        if leaf_hash(&bytes) != expected_leaf {
            return Err(BundleBuildError::EntryMissing {
                origin: origin.to_owned(),
                index,
            });
        }
        // One cache per origin (a cache holds one origin's checkpoint): entries of the same
        // log share the checkpoint, and its cosignatures are checked once.
        let cache = caches.entry(origin).or_default();
        let checkpoint = cosigned_checkpoint(store, roster, origin, index, cache)?;
        let proof = store.tlog_proof(origin, index, &checkpoint)?;
        proven.push(ProvenEntry {
            entry: b64(&bytes),
            tlog_proof: String::from_utf8_lossy(&proof.to_bytes()).into_owned(),
        });
    }
    Ok(proven)
}
