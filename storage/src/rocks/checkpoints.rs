//! Signed checkpoints (history per origin) and cosignatures.
//!
//! `checkpoints`: `origin id ‖ size (u64 BE)` → signed note bytes. The history is kept (it
//! serves consistency checks for late witnesses, and the crash test checks each checkpoint
//! against the next); the latest is simply the last key of the origin's range, so "latest"
//! and "history" can never disagree. Storing is a compare-and-swap under a lock: a
//! checkpoint is accepted only if it agrees with the stored log (size ≤ log size, same root)
//! and is not older than the latest stored one.
//!
//! `cosignatures`: `origin id ‖ size ‖ key name` → signature line (one per cosigner).
//!
//! Readers see checkpoints only up to the log's committed size: a mirror's checkpoint is
//! written in the same batch as the entries it covers (see [`crate::api::CheckpointWrite`]),
//! and the engine publishes the new size just after that batch is durable.

use credx_protocol::note::{NoteSignature, SignedCheckpoint};
use rocksdb::{Direction, IteratorMode, ReadOptions, WriteBatch};

use std::sync::atomic::Ordering;

use credx_protocol::merkle::Hash;

use super::keys::{origin_u64, prefix_successor, OriginId};
use super::{LogState, RocksStorage, CF_CHECKPOINTS, CF_COSIGNATURES};
use crate::api::{CheckpointStore, CheckpointWrite, LogStore};
use crate::error::{Result, StorageError};

fn parse_stored(key: &[u8], value: &[u8]) -> Result<SignedCheckpoint> {
    SignedCheckpoint::parse(value)
        .map_err(|e| StorageError::corrupt(CF_CHECKPOINTS, key, e.to_string()))
}

impl RocksStorage {
    /// Checkpoints of sizes `from_size..=` the committed log size, oldest first.
    fn checkpoint_range(
        &self,
        state: &LogState,
        from_size: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>> {
        let size = state.size.load(Ordering::Acquire);
        if from_size > size {
            return Ok(Vec::new());
        }
        let mut ro = ReadOptions::default();
        match size.checked_add(1) {
            Some(end) => ro.set_iterate_upper_bound(origin_u64(state.id, end).to_vec()),
            None => {
                if let Some(bound) = prefix_successor(&state.id.to_be_bytes()) {
                    ro.set_iterate_upper_bound(bound);
                }
            }
        }
        let from = origin_u64(state.id, from_size);
        let iter = self.db().iterator_cf_opt(
            self.cf(CF_CHECKPOINTS)?,
            ro,
            IteratorMode::From(&from, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter.take(limit) {
            let (k, v) = item.map_err(|e| StorageError::engine("checkpoint scan", e))?;
            out.push(parse_stored(&k, &v)?);
        }
        Ok(out)
    }

    /// The checkpoint of the largest size not beyond the committed log size.
    fn latest_checkpoint_of(&self, state: &LogState) -> Result<Option<SignedCheckpoint>> {
        let size = state.size.load(Ordering::Acquire);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(origin_u64(state.id, 0).to_vec());
        let last = origin_u64(state.id, size);
        let mut iter = self.db().iterator_cf_opt(
            self.cf(CF_CHECKPOINTS)?,
            ro,
            IteratorMode::From(&last, Direction::Reverse),
        );
        match iter.next() {
            Some(item) => {
                let (k, v) = item.map_err(|e| StorageError::engine("latest checkpoint", e))?;
                Ok(Some(parse_stored(&k, &v)?))
            }
            None => Ok(None),
        }
    }

    /// Puts a checkpoint row and its cosignature rows into `wb` (checks are the caller's).
    fn put_checkpoint_rows(
        &self,
        wb: &mut WriteBatch,
        origin: &str,
        origin_id: OriginId,
        size: u64,
        note: &[u8],
        cosignatures: &[String],
    ) -> Result<()> {
        wb.put_cf(self.cf(CF_CHECKPOINTS)?, origin_u64(origin_id, size), note);
        self.put_cosignature_rows(wb, origin, origin_id, size, cosignatures)
    }

    /// Puts one row per cosignature line, keyed by its signer's name.
    fn put_cosignature_rows(
        &self,
        wb: &mut WriteBatch,
        origin: &str,
        origin_id: OriginId,
        size: u64,
        lines: &[String],
    ) -> Result<()> {
        let cf = self.cf(CF_COSIGNATURES)?;
        for line in lines {
            let sig =
                NoteSignature::parse_line(line).map_err(|e| StorageError::CheckpointRejected {
                    origin: origin.to_string(),
                    reason: format!("cosignature line: {e}"),
                })?;
            let mut key = origin_u64(origin_id, size).to_vec();
            key.extend_from_slice(sig.name.as_str().as_bytes());
            wb.put_cf(cf, key, line.as_bytes());
        }
        Ok(())
    }

    /// For an append: puts `checkpoint` into `wb` after checking that it is a checkpoint
    /// of `origin` at exactly `size` with `root`, the log's state once `wb` is written.
    pub(crate) fn put_checkpoint_with_append(
        &self,
        wb: &mut WriteBatch,
        origin: &str,
        origin_id: OriginId,
        size: u64,
        root: &Hash,
        checkpoint: &CheckpointWrite,
    ) -> Result<()> {
        let rejected = |reason: String| StorageError::CheckpointRejected {
            origin: origin.to_string(),
            reason,
        };
        let signed =
            SignedCheckpoint::parse(&checkpoint.note).map_err(|e| rejected(e.to_string()))?;
        let cp = signed.checkpoint();
        if cp.origin != origin {
            return Err(rejected(format!("checkpoint names origin {:?}", cp.origin)));
        }
        if cp.size != size || cp.root != *root {
            return Err(rejected(format!(
                "checkpoint of size {} and root {} written with the entries up to size {size}, root {root}",
                cp.size, cp.root
            )));
        }
        self.put_checkpoint_rows(
            wb,
            origin,
            origin_id,
            size,
            &checkpoint.note,
            &checkpoint.cosignatures,
        )
    }
}

impl CheckpointStore for RocksStorage {
    fn latest_signed_checkpoint(&self, origin: &str) -> Result<Option<SignedCheckpoint>> {
        self.latest_checkpoint_of(&*self.log_state(origin)?)
    }

    fn store_cosigned_checkpoint(
        &self,
        origin: &str,
        bytes: &[u8],
        cosignatures: &[String],
    ) -> Result<SignedCheckpoint> {
        let rejected = |reason: String| StorageError::CheckpointRejected {
            origin: origin.to_string(),
            reason,
        };
        let signed = SignedCheckpoint::parse(bytes).map_err(|e| rejected(e.to_string()))?;
        let cp = signed.checkpoint();
        if cp.origin != origin {
            return Err(rejected(format!("checkpoint names origin {:?}", cp.origin)));
        }
        let state = self.log_state(origin)?;
        let _cas = self.lock_checkpoints()?;
        // Only checkpoints that agree with our own copy of the log are kept here; a
        // disagreeing one is fork evidence and belongs in the evidence store.
        let root = self.root_at(origin, cp.size)?;
        if root != cp.root {
            return Err(rejected(format!(
                "root {} at size {} differs from the stored log's root {root}",
                cp.root, cp.size
            )));
        }
        if let Some(latest) = self.latest_checkpoint_of(&state)? {
            if latest.checkpoint().size > cp.size {
                return Err(StorageError::CheckpointRegression {
                    origin: origin.to_string(),
                    latest: latest.checkpoint().size,
                    offered: cp.size,
                });
            }
        }
        let mut wb = WriteBatch::default();
        self.put_checkpoint_rows(&mut wb, origin, state.id, cp.size, bytes, cosignatures)?;
        self.write("store_signed_checkpoint", wb)?;
        Ok(signed)
    }

    fn signed_checkpoints(
        &self,
        origin: &str,
        from_size: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>> {
        self.checkpoint_range(&*self.log_state(origin)?, from_size, limit)
    }

    fn add_cosignature(&self, origin: &str, size: u64, line: &str) -> Result<()> {
        let state = self.log_state(origin)?;
        let mut wb = WriteBatch::default();
        self.put_cosignature_rows(&mut wb, origin, state.id, size, &[line.to_owned()])?;
        self.write("add_cosignature", wb)
    }

    fn cosignatures(&self, origin: &str, size: u64) -> Result<Vec<String>> {
        let prefix = origin_u64(self.log_state(origin)?.id, size);
        let mut ro = ReadOptions::default();
        if let Some(bound) = prefix_successor(&prefix) {
            ro.set_iterate_upper_bound(bound);
        }
        let iter = self.db().iterator_cf_opt(
            self.cf(CF_COSIGNATURES)?,
            ro,
            IteratorMode::From(&prefix, Direction::Forward),
        );
        let mut lines = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(|e| StorageError::engine("cosignature scan", e))?;
            let line = String::from_utf8(v.to_vec())
                .map_err(|e| StorageError::corrupt(CF_COSIGNATURES, &k, e.to_string()))?;
            lines.push(line);
        }
        Ok(lines)
    }
}
