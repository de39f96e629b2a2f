//! [`LogStore`] on RocksDB: the atomic append, entry reads, roots and proofs.
//!
//! Append order of events (why a crash is always safe):
//! 1. under the log's append lock, check the size CAS and that the origin is not frozen;
//! 2. compute leaf hashes and the stored hashes they create (reads only);
//! 3. compute the new root; check it against `expected_root` if the caller gave one;
//! 4. build ONE `WriteBatch`: entries, hashes, new size, index rows, cursor, and (under the
//!    status-root lock, after its CAS) status-map nodes, values and root;
//! 5. write it with `sync = true` (WAL fsync) — the commit point;
//! 6. remember the new upper-level hashes in the proof cache, then publish the new size in
//!    memory.
//!
//! A crash before 5 leaves nothing; after 5, WAL replay restores the whole batch. Readers
//! only see sizes published in 6, and everything below a published size is immutable, so
//! proofs need no snapshot.

use std::sync::atomic::Ordering;

use credx_protocol::merkle::{
    leaf_hash, prove_consistency, prove_inclusion, stored_hash_count, stored_hash_index, tree_hash,
    ConsistencyProof, Hash, HashReader, InclusionProof,
};
use rocksdb::{ReadOptions, WriteBatch};

use super::hashes::{hashes_for_leaves, CachedHashReader, CfHashReader, OverlayHashReader};
use super::keys::origin_u64;
use super::{poisoned, LogState, RocksStorage, CF_ENTRIES, CF_HASHES};
use crate::api::{
    AppendBatch, AppendOutcome, LogInfo, LogRole, LogStore, MAX_APPEND_ENTRIES, MAX_ENTRY_SIZE,
    MAX_READ_ENTRIES,
};
use crate::error::{Result, StorageError};

/// Reads of at most this many entries go through the block cache (single records looked
/// up by the API and proofs); larger ones are bulk reads.
const CACHED_READ_ENTRIES: u64 = 16;

impl RocksStorage {
    /// The hashes of `state`'s log: cached upper levels, the rest from the CF.
    pub(crate) fn hash_reader<'a>(&'a self, state: &'a LogState) -> Result<CachedHashReader<'a>> {
        Ok(CachedHashReader::new(
            CfHashReader::new(self.db(), self.cf(CF_HASHES)?, state.id),
            &state.upper,
        ))
    }

    fn committed_size(&self, origin: &str) -> Result<(std::sync::Arc<LogState>, u64)> {
        let state = self.log_state(origin)?;
        let size = state.size.load(Ordering::Acquire);
        Ok((state, size))
    }

    fn check_within(origin: &str, what: &'static str, requested: u64, size: u64) -> Result<()> {
        if requested > size {
            return Err(StorageError::BeyondLogSize {
                origin: origin.to_string(),
                what,
                requested,
                size,
            });
        }
        Ok(())
    }

    fn validate_batch(origin: &str, size: u64, batch: &AppendBatch) -> Result<()> {
        if batch.entries.is_empty() {
            return Err(StorageError::InvalidBatch {
                origin: origin.to_string(),
                reason: "a batch must carry at least one entry".into(),
            });
        }
        if batch.entries.len() > MAX_APPEND_ENTRIES {
            return Err(StorageError::InvalidBatch {
                origin: origin.to_string(),
                reason: format!(
                    "{} entries, more than the limit {MAX_APPEND_ENTRIES}",
                    batch.entries.len()
                ),
            });
        }
        if let Some(leaves) = &batch.leaf_hashes {
            if leaves.len() != batch.entries.len() {
                return Err(StorageError::InvalidBatch {
                    origin: origin.to_string(),
                    reason: format!(
                        "{} leaf hashes for {} entries",
                        leaves.len(),
                        batch.entries.len()
                    ),
                });
            }
        }
        for (i, e) in batch.entries.iter().enumerate() {
            if e.len() > MAX_ENTRY_SIZE {
                return Err(StorageError::EntryTooLarge {
                    origin: origin.to_string(),
                    index: size + i as u64,
                    len: e.len(),
                    max: MAX_ENTRY_SIZE,
                });
            }
        }
        Ok(())
    }
}

impl LogStore for RocksStorage {
    fn register_log(&self, origin: &str, role: LogRole) -> Result<LogInfo> {
        self.register(origin, role)
    }

    fn logs(&self) -> Result<Vec<LogInfo>> {
        self.all_logs()
    }

    fn log_size(&self, origin: &str) -> Result<u64> {
        Ok(self.committed_size(origin)?.1)
    }

    fn append(
        &self,
        origin: &str,
        expected_size: u64,
        mut batch: AppendBatch,
    ) -> Result<AppendOutcome> {
        let state = self.log_state(origin)?;
        let _writer = state.append_lock.lock().map_err(|_| poisoned("append"))?;
        if self.origin_is_frozen(origin)? {
            return Err(StorageError::OriginFrozen {
                origin: origin.to_string(),
            });
        }
        let size = state.size.load(Ordering::Acquire);
        if size != expected_size {
            return Err(StorageError::SizeMismatch {
                origin: origin.to_string(),
                expected: expected_size,
                actual: size,
            });
        }
        Self::validate_batch(origin, size, &batch)?;

        // Reads only: the stored hashes this batch creates, and the new root.
        let leaves: Vec<Hash> = match batch.leaf_hashes.take() {
            Some(leaves) => leaves,
            None => batch.entries.iter().map(|e| leaf_hash(e)).collect(),
        };
        let base = self.hash_reader(&state)?;
        let new_hashes =
            hashes_for_leaves(&base, size, &leaves).map_err(|e| StorageError::merkle(origin, e))?;
        let new_size = size + leaves.len() as u64;
        let first_hash = stored_hash_count(size);
        let overlay = OverlayHashReader::new(&base, first_hash, &new_hashes);
        let root = tree_hash(new_size, &overlay).map_err(|e| StorageError::merkle(origin, e))?;
        if let Some(expected) = batch.expected_root {
            if expected != root {
                return Err(StorageError::RootMismatch {
                    origin: origin.to_string(),
                    size: new_size,
                    expected,
                    computed: root,
                });
            }
        }

        // Sized up front: grown by doubling, a batch of a 16,384-entry delta (~9 MB) was
        // copied several times over into freshly faulted pages.
        let mut wb = WriteBatch::with_capacity_bytes(batch_bytes(&batch.entries, new_hashes.len()));
        let entries_cf = self.cf(CF_ENTRIES)?;
        for (i, entry) in batch.entries.iter().enumerate() {
            wb.put_cf(entries_cf, origin_u64(state.id, size + i as u64), entry);
        }
        let hashes_cf = self.cf(CF_HASHES)?;
        for (i, h) in new_hashes.iter().enumerate() {
            wb.put_cf(hashes_cf, origin_u64(state.id, first_hash + i as u64), h.0);
        }
        self.put_log_size(&mut wb, &state, new_size)?;
        self.put_index_updates(&mut wb, &batch.index)?;
        if let Some(c) = &batch.cursor {
            self.put_cursor(&mut wb, &c.peer, &c.origin, &c.cursor)?;
        }
        if let Some(checkpoint) = &batch.checkpoint {
            self.put_checkpoint_with_append(
                &mut wb, origin, state.id, new_size, &root, checkpoint,
            )?;
        }
        self.commit_with_feed_and_status("append", wb, &batch.index.feed, batch.status.as_ref())?;
        // Durable now: the new hashes may enter the cache (before readers can ask for them).
        self.remember_appended_hashes(&state, size, new_size, &new_hashes);
        state.size.store(new_size, Ordering::Release);
        Ok(AppendOutcome {
            first_index: size,
            new_size,
            root,
        })
    }

    fn read_entries(&self, origin: &str, start: u64, max_count: u64) -> Result<Vec<Vec<u8>>> {
        let (state, size) = self.committed_size(origin)?;
        Self::check_within(origin, "start index", start, size)?;
        let end = start + max_count.min(MAX_READ_ENTRIES).min(size - start);
        if end == start {
            return Ok(Vec::new());
        }
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(origin_u64(state.id, end).to_vec());
        // A bulk read (a delta being uploaded, a range being indexed) touches each block
        // once: kept out of the block cache, it neither pays for cache inserts nor evicts
        // the blocks that proofs and queries reuse.
        ro.fill_cache(end - start <= CACHED_READ_ENTRIES);
        let mut iter = self.db().raw_iterator_cf_opt(self.cf(CF_ENTRIES)?, ro);
        iter.seek(origin_u64(state.id, start));
        let mut out = Vec::with_capacity((end - start) as usize);
        let mut expected = start;
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            if key != origin_u64(state.id, expected) {
                break;
            }
            out.push(value.to_vec());
            expected += 1;
            iter.next();
        }
        iter.status()
            .map_err(|e| StorageError::engine("read_entries", e))?;
        if expected != end {
            return Err(StorageError::Missing {
                cf: CF_ENTRIES,
                key: format!("index {expected}"),
                origin: origin.to_string(),
            });
        }
        Ok(out)
    }

    fn leaf_hash(&self, origin: &str, index: u64) -> Result<Hash> {
        let (state, size) = self.committed_size(origin)?;
        if index >= size {
            return Err(StorageError::BeyondLogSize {
                origin: origin.to_string(),
                what: "index",
                requested: index,
                size,
            });
        }
        let hashes = self
            .hash_reader(&state)?
            .read_hashes(&[stored_hash_index(0, index)])
            .map_err(|e| StorageError::merkle(origin, e))?;
        hashes
            .first()
            .copied()
            .ok_or_else(|| StorageError::Missing {
                cf: CF_HASHES,
                key: format!("leaf {index}"),
                origin: origin.to_string(),
            })
    }

    fn root_at(&self, origin: &str, size: u64) -> Result<Hash> {
        let (state, log_size) = self.committed_size(origin)?;
        Self::check_within(origin, "tree size", size, log_size)?;
        tree_hash(size, &self.hash_reader(&state)?).map_err(|e| StorageError::merkle(origin, e))
    }

    fn inclusion_proof(&self, origin: &str, index: u64, size: u64) -> Result<InclusionProof> {
        let (state, log_size) = self.committed_size(origin)?;
        Self::check_within(origin, "tree size", size, log_size)?;
        prove_inclusion(size, index, &self.hash_reader(&state)?)
            .map_err(|e| StorageError::merkle(origin, e))
    }

    fn consistency_proof(&self, origin: &str, old: u64, new: u64) -> Result<ConsistencyProof> {
        let (state, log_size) = self.committed_size(origin)?;
        Self::check_within(origin, "tree size", new, log_size)?;
        prove_consistency(old, new, &self.hash_reader(&state)?)
            .map_err(|e| StorageError::merkle(origin, e))
    }
}

/// Bytes of the write-batch records for `entries` and `hashes` new stored hashes: per
/// record a tag, a column family id, key and value with their lengths (a generous
/// bound; the log size, cursor and checkpoint rows fit in the slack).
fn batch_bytes(entries: &[Vec<u8>], hashes: usize) -> usize {
    const RECORD_OVERHEAD: usize = 1 + 5 + 5 + 16 + 5;
    let entry_bytes: usize = entries.iter().map(|e| e.len() + RECORD_OVERHEAD).sum();
    entry_bytes + hashes * (RECORD_OVERHEAD + 32) + 4096
}
