//! Proving a subject's status under a root committed in this node's log.
//!
//! The status map keeps only its current tree, so a proof exists only against the current
//! root. [`prove_status`] reads the root, the subject's status and its proof without a lock
//! (kept only if the proof verifies under that root), then makes sure a `StatusMapRoot`
//! entry commits that root: the last anchor this node made is reused while the root has not
//! moved (a quiet node answers without writing), otherwise a new anchor goes through the
//! sequencer and is kept only if the root still is the proven one when it is durable.

use std::sync::{Arc, Mutex, MutexGuard};

use credx_protocol::merkle::Hash;
use credx_protocol::statusmap::{StatusProof, SubjectStatus};
use credx_storage::{BatchPlanner, EntryPlanner, Sequencer, Storage};

use super::BundleBuildError;

/// Anchoring attempts before giving up on a busy log.
pub const MAX_ANCHOR_TRIES: usize = 5;

/// A `StatusMapRoot` entry of this node's log: the root it commits and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub root: Hash,
    pub index: u64,
    /// The entry's exact bytes.
    pub entry: Vec<u8>,
}

/// A subject's status (encoded, `None` = absent) and its proof under an anchored root.
#[derive(Debug, Clone)]
pub struct ProvenStatus {
    pub anchor: Arc<Anchor>,
    pub status: Option<Vec<u8>>,
    pub proof: StatusProof,
}

/// The last anchor this node made, so that requests while the root stands still share it.
#[derive(Debug, Default)]
pub struct LastAnchor(Mutex<Option<Arc<Anchor>>>);

impl LastAnchor {
    fn get(&self, root: &Hash) -> Option<Arc<Anchor>> {
        lock(&self.0).as_ref().filter(|a| a.root == *root).cloned()
    }

    fn set(&self, anchor: Arc<Anchor>) {
        *lock(&self.0) = Some(anchor);
    }
}

/// Locks `mutex`. The values guarded here are caches whose every update is one map or
/// slot operation, so a panic elsewhere while the lock was held leaves a usable value: a
/// poisoned lock is used as is.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The status of `key` proven under a root anchored in `origin`'s log. Blocks on the
/// sequencer when the root has moved since the last anchor: call it from a blocking task.
pub fn prove_status(
    store: &dyn Storage,
    sequencer: &Sequencer,
    origin: &str,
    key: &Hash,
    last: &LastAnchor,
) -> Result<ProvenStatus, BundleBuildError> {
    for _ in 0..MAX_ANCHOR_TRIES {
        let Some((root, status, proof)) = snapshot(store, key)? else {
            continue;
        };
        let anchor = match last.get(&root) {
            Some(anchor) => anchor,
            None => {
                let entry = anchor_entry(origin, root, store.log_size(origin)?)?;
                let ack = sequencer
                    .submit(entry.clone())
                    .and_then(|ticket| ticket.wait())
                    .map_err(BundleBuildError::Sequencer)?;
                if store.status_root()? != root {
                    continue;
                }
                let anchor = Arc::new(Anchor {
                    root,
                    index: ack.index,
                    entry,
                });
                last.set(Arc::clone(&anchor));
                anchor
            }
        };
        return Ok(ProvenStatus {
            anchor,
            status,
            proof,
        });
    }
    Err(BundleBuildError::RootKeptMoving {
        tries: MAX_ANCHOR_TRIES,
    })
}

/// Root, status bytes and proof read without a lock; `None` when a batch landed between
/// the reads (the proof then does not verify under the root read first).
#[allow(clippy::type_complexity)]
fn snapshot(
    store: &dyn Storage,
    key: &Hash,
) -> Result<Option<(Hash, Option<Vec<u8>>, StatusProof)>, BundleBuildError> {
    let root = store.status_root()?;
    let status = store.subject_status(key)?;
    let proof = store.status_proof(key)?;
    let expected = match &status {
        Some(bytes) => Some(
            SubjectStatus::decode(bytes)
                .and_then(|s| s.value_hash())
                .map_err(|e| BundleBuildError::encode("stored status", e))?,
        ),
        None => None,
    };
    let consistent = proof.verify(&root, key).ok() == Some(expected);
    Ok(consistent.then_some((root, status, proof)))
}

/// The `StatusMapRoot` entry committing `root`: the sequencer's own planner builds it, so a
/// bundle's anchor has exactly the shape of the periodic ones.
fn anchor_entry(origin: &str, root: Hash, log_size: u64) -> Result<Vec<u8>, BundleBuildError> {
    EntryPlanner::new(origin)
        .anchor_entry(root, log_size)
        .map_err(|e| BundleBuildError::encode("anchor entry", e))?
        .ok_or_else(|| BundleBuildError::encode("anchor entry", "the planner made none"))
}
