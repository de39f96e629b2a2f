//! Derived state written after the entries: index rows, feed rows and status-map changes
//! of a mirror range, with the mirror's indexed size, in one atomic write.
//!
//! `logs` CF: `x` ‖ origin id → indexed size (u64 BE). Own logs are indexed in the same
//! write as their entries (the sequencer plans them), so their indexed size is their size.

use rocksdb::WriteBatch;

use super::keys::ValueReader;
use super::{RocksStorage, CF_LOGS};
use crate::api::{EntryLocation, IndexUpdates, LogRole, StatusWrite};
use crate::error::{Result, StorageError};

const PREFIX_INDEXED: u8 = b'x';

fn indexed_key(id: super::keys::OriginId) -> Vec<u8> {
    let mut key = vec![PREFIX_INDEXED];
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// About how many bytes the write batch of a derived range takes (rows of ~100 bytes for
/// the index, exact sizes for the status map).
fn derived_bytes(index: &IndexUpdates, status: Option<&StatusWrite>) -> usize {
    const ROW: usize = 100;
    let rows = index.subjects.len()
        + index.business_keys.len()
        + index.lists.len()
        + index.cases.len()
        + index.feed.len();
    let status_bytes = status.map_or(0, |s| {
        let nodes: usize = s
            .node_writes
            .iter()
            .map(|(k, v)| k.len() + v.len() + 8)
            .sum();
        let values: usize = s
            .values
            .iter()
            .map(|(_, v)| 40 + v.as_ref().map_or(0, Vec::len))
            .sum();
        nodes + values + s.node_deletes.len() * 40
    });
    (rows + 4) * ROW + status_bytes
}

impl RocksStorage {
    pub(crate) fn indexed_size_of(&self, origin: &str) -> Result<u64> {
        let state = self.log_state(origin)?;
        if state.role == LogRole::Own {
            return Ok(state.size.load(std::sync::atomic::Ordering::Acquire));
        }
        let key = indexed_key(state.id);
        match self.get(CF_LOGS, &key)? {
            None => Ok(0),
            Some(value) => {
                let mut reader = ValueReader::new(CF_LOGS, &key, &value);
                let size = reader.u64()?;
                reader.finish()?;
                Ok(size)
            }
        }
    }

    pub(crate) fn apply_derived(
        &self,
        origin: &str,
        from: u64,
        to: u64,
        index: &IndexUpdates,
        status: Option<&StatusWrite>,
    ) -> Result<()> {
        let state = self.log_state(origin)?;
        if state.role == LogRole::Own {
            return Err(StorageError::InvalidBatch {
                origin: origin.to_owned(),
                reason: "own logs are indexed with their entries".to_owned(),
            });
        }
        let _indexer = self.index_lock()?;
        let current = self.indexed_size_of(origin)?;
        let size = state.size.load(std::sync::atomic::Ordering::Acquire);
        if current != from || to < from || to > size {
            return Err(StorageError::InvalidBatch {
                origin: origin.to_owned(),
                reason: format!(
                    "derived state for {from}..{to}, but {current} of {size} entries are indexed"
                ),
            });
        }
        // Sized up front: a batch of thousands of rows otherwise grows by repeated copies.
        let mut wb = WriteBatch::with_capacity_bytes(derived_bytes(index, status));
        self.put_index_updates(&mut wb, index)?;
        wb.put_cf(self.cf(CF_LOGS)?, indexed_key(state.id), to.to_be_bytes());
        self.commit_with_feed_and_status("index mirror range", wb, &index.feed, status)
    }

    /// The commit point of every write that may add feed items or change the status map
    /// (appends, mirror index ranges, received feed items). Feed positions are taken under
    /// the feed lock and the status root is compared-and-swapped under its lock, both held
    /// until the write is durable, so positions are dense and in commit order and two logs
    /// cannot both build on the same old root. The feed lock is always taken first.
    pub(crate) fn commit_with_feed_and_status(
        &self,
        op: &'static str,
        mut wb: WriteBatch,
        feed: &[EntryLocation],
        status: Option<&StatusWrite>,
    ) -> Result<()> {
        let mut feed_size = if feed.is_empty() {
            None
        } else {
            Some(self.feed_lock()?)
        };
        if let Some(first) = feed_size.as_deref() {
            self.put_feed_rows(&mut wb, *first, feed)?;
        }
        match status {
            Some(status) => {
                let mut current = self.lock_status_root()?;
                if *current != status.expected_root {
                    return Err(StorageError::StatusRootMismatch {
                        expected: status.expected_root,
                        actual: *current,
                    });
                }
                self.put_status_write(&mut wb, status)?;
                self.write(op, wb)?;
                *current = status.new_root;
            }
            None => self.write(op, wb)?,
        }
        if let Some(size) = feed_size.as_deref_mut() {
            *size += feed.len() as u64;
        }
        Ok(())
    }
}
