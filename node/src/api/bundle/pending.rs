//! Proofs waiting for their checkpoint to be cosigned, per subject.
//!
//! On a node whose status root moves with every batch (a province indexing its counties'
//! mirrors), a proof made now is against a root that is gone by the time the parent has
//! cosigned a checkpoint covering its anchor. Keeping the proof lets the retry answer with
//! it: the anchor stays in the log and any later checkpoint covers it. It is answered (and
//! kept for later requests) only while the subject's current status is still the proven
//! one, so the bundle never shows a status the node no longer holds; otherwise it is dropped
//! and the status proven again.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use credx_protocol::merkle::Hash;

use super::anchor::lock;
use super::ProvenStatus;

/// Most subjects waiting at once; beyond it the oldest wait is forgotten (that subject's
/// next request simply anchors again).
pub const MAX_PENDING: usize = 10_000;

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    by_key: HashMap<Hash, (u64, ProvenStatus)>,
}

#[derive(Debug, Default)]
pub struct PendingProofs(Mutex<Inner>);

impl PendingProofs {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.0)
    }

    /// The waiting proof of subject `key`, if any.
    pub fn get(&self, key: &Hash) -> Option<ProvenStatus> {
        self.lock().by_key.get(key).map(|(_, p)| p.clone())
    }

    pub fn remove(&self, key: &Hash) {
        self.lock().by_key.remove(key);
    }

    /// Keeps `proven` for subject `key` until its checkpoint is cosigned.
    pub fn keep(&self, key: Hash, proven: ProvenStatus) {
        let mut inner = self.lock();
        if inner.by_key.len() >= MAX_PENDING && !inner.by_key.contains_key(&key) {
            let oldest = inner
                .by_key
                .iter()
                .min_by_key(|(_, (seq, _))| *seq)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                inner.by_key.remove(&oldest);
            }
        }
        let seq = inner.next;
        inner.next = seq.wrapping_add(1);
        inner.by_key.insert(key, (seq, proven));
    }

    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
