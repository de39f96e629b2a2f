//! The list feed in the `feed` column family.
//!
//! * `f` ‖ position (u64 BE) → origin (len-prefixed) ‖ index (u64 BE): this node's feed,
//!   numbered in commit order across all its logs AND the items it received from its
//!   parent (so lists flow on down the tree). Rows are written inside the write that makes
//!   their entries durable, under the feed lock, so positions are dense and never
//!   reordered.
//! * `p` ‖ parent name → position (u64 BE): how much of the parent's feed was taken in.
//! * `r` ‖ origin (len-prefixed) ‖ index (u64 BE) → a received item: entry, checkpoint,
//!   inclusion proof. Written with the position in one batch.
//! * `c…` / `t…`: the case index (see `indexes.rs`); received case and lifecycle entries
//!   get their rows in the same batch as the item itself.

use rocksdb::{Direction, IteratorMode, WriteBatch};

use super::keys::{push_blob, push_str, ValueReader};
use super::{RocksStorage, CF_FEED};
use crate::api::{EntryLocation, FeedStore, ReceivedListEntry, MAX_FEED_PAGE};
use crate::error::{Result, StorageError};
use crate::planner::case_index_rows_of;

const FEED_ITEM: u8 = b'f';
const FEED_POSITION: u8 = b'p';
const FEED_RECEIVED: u8 = b'r';

fn item_key(position: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = FEED_ITEM;
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn position_key(parent: &str) -> Result<Vec<u8>> {
    let mut key = vec![FEED_POSITION];
    push_str(&mut key, parent)?;
    Ok(key)
}

fn received_key(origin: &str, index: u64) -> Result<Vec<u8>> {
    let mut key = vec![FEED_RECEIVED];
    push_str(&mut key, origin)?;
    key.extend_from_slice(&index.to_be_bytes());
    Ok(key)
}

impl RocksStorage {
    /// The number of feed items, read from the last `f` row (on open).
    pub(crate) fn load_feed_size(&self) -> Result<u64> {
        let cf = self.cf(CF_FEED)?;
        let upper = [FEED_ITEM + 1];
        let mut iter = self
            .db()
            .iterator_cf(cf, IteratorMode::From(&upper, Direction::Reverse));
        match iter.next() {
            Some(Ok((key, _))) if key.first() == Some(&FEED_ITEM) && key.len() == 9 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&key[1..]);
                Ok(u64::from_be_bytes(n) + 1)
            }
            Some(Err(e)) => Err(StorageError::engine("feed size", e)),
            _ => Ok(0),
        }
    }

    /// Adds feed rows for `items` starting at `first` to an append's write batch.
    pub(crate) fn put_feed_rows(
        &self,
        wb: &mut WriteBatch,
        first: u64,
        items: &[EntryLocation],
    ) -> Result<()> {
        let cf = self.cf(CF_FEED)?;
        for (i, loc) in items.iter().enumerate() {
            let mut value = Vec::with_capacity(loc.origin.len() + 10);
            push_str(&mut value, &loc.origin)?;
            value.extend_from_slice(&loc.index.to_be_bytes());
            wb.put_cf(cf, item_key(first + i as u64), value);
        }
        Ok(())
    }
}

impl RocksStorage {
    /// Calls `visit` with the location and entry bytes of every received item, in key
    /// order (for re-deriving what the items imply, e.g. the case index).
    pub(crate) fn for_each_received(
        &self,
        mut visit: impl FnMut(EntryLocation, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let cf = self.cf(CF_FEED)?;
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_upper_bound(vec![FEED_RECEIVED + 1]);
        let start = [FEED_RECEIVED];
        let iter =
            self.db()
                .iterator_cf_opt(cf, ro, IteratorMode::From(&start, Direction::Forward));
        for item in iter {
            let (key, value) = item.map_err(|e| StorageError::engine("received items", e))?;
            let mut reader = ValueReader::new(CF_FEED, &key, &key[1..]);
            let origin = reader.str16()?.to_owned();
            let index = reader.u64()?;
            reader.finish()?;
            let item = decode_received(&key, &origin, index, &value)?;
            visit(EntryLocation { origin, index }, &item.entry)?;
        }
        Ok(())
    }
}

fn decode_location(key: &[u8], value: &[u8]) -> Result<EntryLocation> {
    let mut reader = ValueReader::new(CF_FEED, key, value);
    let origin = reader.str16()?.to_owned();
    let index = reader.u64()?;
    reader.finish()?;
    Ok(EntryLocation { origin, index })
}

fn encode_received(item: &ReceivedListEntry) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(item.entry.len() + item.checkpoint.len() + 64);
    push_blob(&mut out, &item.entry)?;
    push_blob(&mut out, &item.checkpoint)?;
    out.extend_from_slice(&(item.inclusion.len() as u32).to_be_bytes());
    for hash in &item.inclusion {
        out.extend_from_slice(&hash.0);
    }
    Ok(out)
}

fn decode_received(
    key: &[u8],
    origin: &str,
    index: u64,
    value: &[u8],
) -> Result<ReceivedListEntry> {
    let mut reader = ValueReader::new(CF_FEED, key, value);
    let entry = reader.blob()?.to_vec();
    let checkpoint = reader.blob()?.to_vec();
    let count = reader.u32()?;
    let mut inclusion = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        inclusion.push(reader.hash()?);
    }
    reader.finish()?;
    Ok(ReceivedListEntry {
        origin: origin.to_owned(),
        index,
        entry,
        checkpoint,
        inclusion,
    })
}

impl FeedStore for RocksStorage {
    fn feed_size(&self) -> Result<u64> {
        Ok(*self.feed_lock()?)
    }

    fn feed_page(&self, start: u64, limit: usize) -> Result<Vec<EntryLocation>> {
        let size = self.feed_size()?;
        let end = start
            .saturating_add(limit.min(MAX_FEED_PAGE) as u64)
            .min(size);
        let cf = self.cf(CF_FEED)?;
        let mut out = Vec::new();
        for position in start..end {
            let key = item_key(position);
            let value = self
                .db()
                .get_cf(cf, key)
                .map_err(|e| StorageError::engine("feed page", e))?
                .ok_or_else(|| StorageError::Missing {
                    cf: CF_FEED,
                    key: format!("f{position}"),
                    origin: String::new(),
                })?;
            out.push(decode_location(&key, &value)?);
        }
        Ok(out)
    }

    fn received_position(&self, parent: &str) -> Result<u64> {
        let key = position_key(parent)?;
        match self.get(CF_FEED, &key)? {
            None => Ok(0),
            Some(value) => {
                let mut reader = ValueReader::new(CF_FEED, &key, &value);
                let position = reader.u64()?;
                reader.finish()?;
                Ok(position)
            }
        }
    }

    fn store_received(
        &self,
        parent: &str,
        from: u64,
        to: u64,
        items: &[ReceivedListEntry],
    ) -> Result<()> {
        let _guard = self.feed_received_lock()?;
        let current = self.received_position(parent)?;
        if current != from {
            return Err(StorageError::InvalidBatch {
                origin: parent.to_owned(),
                reason: format!("feed items from {from}, but {current} are already taken in"),
            });
        }
        if to < from {
            return Err(StorageError::InvalidBatch {
                origin: parent.to_owned(),
                reason: format!("feed position would go back from {from} to {to}"),
            });
        }
        let cf = self.cf(CF_FEED)?;
        let mut wb = WriteBatch::default();
        // Received items join this node's own feed, so they flow on to its children; an
        // item already held (received before, or in a log of this node) is not repeated.
        let mut locations: Vec<EntryLocation> = Vec::with_capacity(items.len());
        for item in items {
            let key = received_key(&item.origin, item.index)?;
            if self.get(CF_FEED, &key)?.is_some() {
                continue;
            }
            wb.put_cf(cf, key, encode_received(item)?);
            let location = EntryLocation {
                origin: item.origin.clone(),
                index: item.index,
            };
            // The received item is the only copy this node has of the entry, so the case
            // index is derived here from the entry itself, as the planner does for logs.
            self.put_case_rows(&mut wb, &case_index_rows_of(&item.entry, &location))?;
            locations.push(location);
        }
        wb.put_cf(cf, position_key(parent)?, to.to_be_bytes());
        self.commit_with_feed_and_status("store received feed items", wb, &locations, None)
    }

    fn received_entry(&self, origin: &str, index: u64) -> Result<Option<ReceivedListEntry>> {
        let key = received_key(origin, index)?;
        match self.get(CF_FEED, &key)? {
            None => Ok(None),
            Some(value) => decode_received(&key, origin, index, &value).map(Some),
        }
    }
}
