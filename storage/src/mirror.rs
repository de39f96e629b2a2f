//! Mirrors: the parent's copy of a log below it, advanced only by verified deltas.
//!
//! Two operations, both engine-agnostic (written against [`Storage`] only):
//! * [`mirror_state`] reads where a mirror stands as the protocol's
//!   [`MirrorState`] — size, root, frontier and the last checkpoint verified for it — so
//!   [`credx_protocol::delta::DeltaVerifier`] can check the next delta against it;
//! * [`write_verified_delta`] makes a verified delta durable: the entries, their tree
//!   hashes, the sync cursor, the checkpoint and this node's cosignature of it in ONE
//!   atomic write whose root must equal the checkpoint's (checked again by the engine);
//! * [`index_mirror`] follows behind: index rows, feed rows and status-map changes of the
//!   next range, with the mirror's indexed size, in one atomic write. Planning costs ~10x
//!   the raw write (decoding, status reads, map updates), so sync does not wait for it
//!   (docs/decisions/0013-mirror-indexing-follows.md).
//!
//! Durability: after the append returns, entries, cursor, checkpoint and cosignatures are
//! durable together, so whoever reads the mirror's latest checkpoint (this node's own
//! upload to its parent) finds this node's cosignature beside it. The cosignature is
//! computed before the write but leaves the node only after it: nothing is vouched for
//! that a crash could lose. A crash before the write leaves the mirror where it was and the
//! child offers the same delta again.

use credx_protocol::delta::{MirrorState, VerifiedDelta};
use credx_protocol::merkle::{leaf_hash, node_hash, CompactRange, Hash};

use crate::api::{
    AppendBatch, AppendOutcome, CheckpointWrite, Cursor, CursorUpdate, IndexUpdates, LogRole,
    Storage, MAX_READ_ENTRIES,
};
use crate::error::{Result, StorageError};
use crate::planned_append::planned_entries;
use crate::planner::EntryPlanner;
use crate::sequencer::{BatchPlanner, PlanView};

/// How often an index write is re-planned after another log's write moved the status map.
const STATUS_RETRIES: usize = 8;

/// Where the mirror of `origin` stands. A never-seen origin is registered as a mirror and
/// starts empty.
pub fn mirror_state(store: &dyn Storage, origin: &str) -> Result<MirrorState> {
    store.register_log(origin, LogRole::Mirror)?;
    let size = store.log_size(origin)?;
    if size == 0 {
        return Ok(MirrorState::empty());
    }
    let root = store.root_at(origin, size)?;
    let frontier = frontier(store, origin, size)?;
    let last_checkpoint = store
        .latest_signed_checkpoint(origin)?
        .filter(|cp| cp.checkpoint().size == size && cp.checkpoint().root == root);
    Ok(MirrorState {
        size,
        root,
        frontier,
        last_checkpoint,
    })
}

/// The hashes of the perfect subtrees of `[0, size)`, left to right, read from stored
/// hashes through the engine-agnostic API.
///
/// The inclusion proof of the last leaf holds them: its first `k` hashes (`k` = trailing
/// zeros of `size`) are the left siblings inside the lowest perfect subtree, which fold
/// with the leaf into that subtree's hash; the remaining hashes are the higher subtrees,
/// lowest first.
pub fn frontier(store: &dyn Storage, origin: &str, size: u64) -> Result<Vec<Hash>> {
    if size == 0 {
        return Ok(Vec::new());
    }
    let last = size - 1;
    let proof = store.inclusion_proof(origin, last, size)?;
    let low = size.trailing_zeros() as usize;
    if proof.hashes.len() < low {
        return Err(StorageError::Corrupt {
            cf: "hashes",
            key: format!("{origin}/{size}"),
            reason: format!(
                "inclusion proof of the last leaf has {} hashes, fewer than {low}",
                proof.hashes.len()
            ),
        });
    }
    let mut lowest = store.leaf_hash(origin, last)?;
    for sibling in &proof.hashes[..low] {
        lowest = node_hash(sibling, &lowest);
    }
    let mut frontier: Vec<Hash> = proof.hashes[low..].iter().rev().copied().collect();
    frontier.push(lowest);
    // Self-check: the frontier must rebuild the stored root.
    let range =
        CompactRange::from_frontier(size, frontier.clone()).map_err(|e| StorageError::Corrupt {
            cf: "hashes",
            key: format!("{origin}/{size}"),
            reason: format!("frontier shape: {e}"),
        })?;
    let root = store.root_at(origin, size)?;
    if range.root() != root {
        return Err(StorageError::Corrupt {
            cf: "hashes",
            key: format!("{origin}/{size}"),
            reason: "frontier does not rebuild the stored root".to_owned(),
        });
    }
    Ok(frontier)
}

/// Makes `delta` (verified by the protocol's delta verifier) durable in the mirror of
/// `delta.origin`: `entries` are the exact bytes of `[delta.old_size, delta.new_size)`,
/// and `delta.leaf_hashes`, if it holds one hash per entry, the verifier's hashes of them
/// (the engine then does not hash the entries again).
///
/// One atomic write holds the entries, the tree hashes, the cursor for (`peer`, origin),
/// the signed checkpoint (verbatim, with the cosignatures it carries) and `cosignatures`
/// (this node's lines for it); the engine checks that the log still has size `old_size`
/// and that the new root is the checkpoint's. An empty delta (a new checkpoint of the size
/// already held) moves the cursor, then stores checkpoint and cosignatures in one write.
/// Indexes follow with [`index_mirror`].
pub fn write_verified_delta(
    store: &dyn Storage,
    peer: &str,
    session_id: &str,
    mut delta: VerifiedDelta,
    entries: Vec<Vec<u8>>,
    cosignatures: Vec<String>,
    now_ms: u64,
) -> Result<Option<AppendOutcome>> {
    let origin = delta.origin.as_str();
    let expected = delta.new_size.saturating_sub(delta.old_size);
    if entries.len() as u64 != expected {
        return Err(StorageError::InvalidBatch {
            origin: origin.to_owned(),
            reason: format!(
                "verified delta {}..{} needs {expected} entries, got {}",
                delta.old_size,
                delta.new_size,
                entries.len()
            ),
        });
    }
    let cursor = CursorUpdate {
        peer: peer.to_owned(),
        origin: origin.to_owned(),
        cursor: Cursor {
            size: delta.new_size,
            root: delta.new_root,
            session_id: session_id.to_owned(),
            updated_at_ms: now_ms,
        },
    };
    let note = delta.checkpoint.to_bytes();
    if entries.is_empty() {
        // Nothing new: the cursor moves and the checkpoint is stored if new.
        store.set_cursor(peer, origin, &cursor.cursor)?;
        store.store_cosigned_checkpoint(origin, &note, &cosignatures)?;
        return Ok(None);
    }
    // Indexes and the status map follow (`index_mirror`), so the child's delta is answered
    // as soon as the entries are durable.
    let outcome = store.append(
        origin,
        delta.old_size,
        AppendBatch {
            // The verifier's hashes of these very bytes, when the caller kept them.
            leaf_hashes: (delta.leaf_hashes.len() == entries.len())
                .then(|| std::mem::take(&mut delta.leaf_hashes)),
            entries,
            expected_root: Some(delta.new_root),
            index: IndexUpdates::default(),
            status: None,
            cursor: Some(cursor),
            checkpoint: Some(CheckpointWrite { note, cosignatures }),
        },
    )?;
    Ok(Some(outcome))
}

/// Indexes up to `max_entries` more entries of the mirror `origin` (index rows, feed rows,
/// status-map changes), in one atomic write with the new indexed size. Returns how many
/// entries were indexed (0: caught up). Re-planned when another log's write moved the
/// status map in between.
pub fn index_mirror(store: &dyn Storage, origin: &str, max_entries: u64) -> Result<u64> {
    let from = store.indexed_size(origin)?;
    let size = store.log_size(origin)?;
    let to = size.min(from.saturating_add(max_entries.clamp(1, MAX_READ_ENTRIES)));
    if to <= from {
        return Ok(0);
    }
    let entries = store.read_entries(origin, from, to - from)?;
    let to = from + entries.len() as u64;
    let planner = EntryPlanner::new(origin);
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let planned = planned_entries(&entries, &leaves);
    let mut attempt = 0;
    loop {
        let plan = planner
            .plan(&planned, from, &PlanView::new(store))
            .map_err(|reason| StorageError::Planner {
                origin: origin.to_owned(),
                reason,
            })?;
        let status = if plan.status.is_empty() {
            None
        } else {
            Some(store.plan_status_update(&plan.status)?)
        };
        match store.apply_index(origin, from, to, plan.index, status) {
            Err(StorageError::StatusRootMismatch { .. }) if attempt < STATUS_RETRIES => {
                attempt += 1;
            }
            Err(e) => return Err(e),
            Ok(()) => return Ok(to - from),
        }
    }
}
