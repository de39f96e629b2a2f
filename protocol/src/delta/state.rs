//! What delta verification starts from and what it hands to storage.

use crate::entry::Entry;
use crate::merkle::{Hash, EMPTY_ROOT};
use crate::note::SignedCheckpoint;

/// The parent's current, already verified view of one origin's log: the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorState {
    /// Entries mirrored so far.
    pub size: u64,
    /// Root over those entries.
    pub root: Hash,
    /// The [`CompactRange`](crate::merkle::CompactRange) frontier at `size`: the hashes of
    /// the perfect subtrees of `[0, size)`, left to right. Enough to extend the tree
    /// without reading any stored hash.
    pub frontier: Vec<Hash>,
    /// The signed checkpoint for (`size`, `root`) verified last, kept as fork evidence.
    pub last_checkpoint: Option<SignedCheckpoint>,
}

impl MirrorState {
    /// A mirror that holds nothing yet.
    pub fn empty() -> MirrorState {
        MirrorState {
            size: 0,
            root: EMPTY_ROOT,
            frontier: Vec::new(),
            last_checkpoint: None,
        }
    }

    /// The state after `delta` has been stored.
    pub fn after(delta: &VerifiedDelta) -> MirrorState {
        MirrorState {
            size: delta.new_size,
            root: delta.new_root,
            frontier: delta.new_frontier.clone(),
            last_checkpoint: Some(delta.checkpoint.clone()),
        }
    }
}

/// A verified delta: everything the storage write needs to advance the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDelta {
    pub origin: String,
    /// The cursor before (the first new entry's index).
    pub old_size: u64,
    /// The cursor after.
    pub new_size: u64,
    /// The root at `new_size`, recomputed here and equal to the checkpoint's.
    pub new_root: Hash,
    /// Leaf hashes of entries `[old_size, new_size)` in order, when the delta was verified
    /// in one call ([`verify_delta`](super::verify_delta)). Empty from
    /// [`DeltaVerifier::finish`](super::DeltaVerifier::finish): each
    /// [`VerifiedBatch`] already carried its own, and a caller that keeps the entries
    /// (to write them) may keep those hashes with them and put them here.
    pub leaf_hashes: Vec<Hash>,
    /// The frontier at `new_size`, the next delta's starting point.
    pub new_frontier: Vec<Hash>,
    /// The child's signed checkpoint for `new_size`: the parent stores it and cosigns it.
    pub checkpoint: SignedCheckpoint,
}

/// One batch that passed every per-entry rule. Provisional: the range is only proven once
/// [`DeltaVerifier::finish`](super::DeltaVerifier::finish) has matched the root, so storage
/// must not advance the cursor (or serve these entries) before then.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedBatch {
    /// Index of the first entry.
    pub start: u64,
    /// Leaf hashes of the batch's entries, in order.
    pub leaf_hashes: Vec<Hash>,
    /// The decoded entries, in order (for indexing without decoding twice).
    pub entries: Vec<Entry>,
}
