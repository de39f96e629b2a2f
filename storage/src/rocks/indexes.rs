//! Secondary indexes: subject → entries, business key → latest entry, list → members.
//!
//! Rows are only ever written inside an append's `WriteBatch` (see `log.rs`), so an index
//! never points at an entry that is not durable, and an entry never lacks its index rows.
//! Locations are stored as `origin id ‖ index` (12 bytes) and mapped back to names through
//! the log registry.

use credx_protocol::entry::SubjectId;
use rocksdb::{Direction, IteratorMode, ReadOptions, WriteBatch};

use super::keys::{
    decode_origin_u64, origin_u64, prefix_successor, push_str, str_prefix, ValueReader,
};
use super::{RocksStorage, CF_BUSINESS_INDEX, CF_LIST_INDEX, CF_SUBJECT_INDEX};
use crate::api::{EntryLocation, IndexStore, IndexUpdates, ListMember, MAX_INDEX_PAGE};
use crate::error::{Result, StorageError};

impl RocksStorage {
    fn location_bytes(&self, loc: &EntryLocation) -> Result<[u8; 12]> {
        Ok(origin_u64(self.log_state(&loc.origin)?.id, loc.index))
    }

    fn location_from(&self, cf: &'static str, key: &[u8], value: &[u8]) -> Result<EntryLocation> {
        let (id, index) = decode_origin_u64(cf, key, value)?;
        Ok(EntryLocation {
            origin: self.log_state_by_id(id)?.origin.clone(),
            index,
        })
    }

    /// Adds the index rows of an append to its write batch.
    pub(crate) fn put_index_updates(
        &self,
        wb: &mut WriteBatch,
        updates: &IndexUpdates,
    ) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let subjects = self.cf(CF_SUBJECT_INDEX)?;
        for u in &updates.subjects {
            let mut key = str_prefix(&u.subject_key)?;
            key.extend_from_slice(&self.location_bytes(&u.location)?);
            wb.put_cf(subjects, key, b"");
        }
        let business = self.cf(CF_BUSINESS_INDEX)?;
        for u in &updates.business_keys {
            wb.put_cf(
                business,
                u.business_key.as_bytes(),
                self.location_bytes(&u.location)?,
            );
        }
        let lists = self.cf(CF_LIST_INDEX)?;
        for u in &updates.lists {
            let mut key = str_prefix(&u.list_kind)?;
            key.extend_from_slice(u.member.as_bytes());
            match &u.entry {
                Some(loc) => wb.put_cf(lists, key, self.location_bytes(loc)?),
                None => wb.delete_cf(lists, key),
            }
        }
        Ok(())
    }

    /// Keys of `cf` starting with `prefix`, from `from` (inclusive) on, at most `limit`.
    fn scan_prefix(
        &self,
        cf: &'static str,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>> {
        let mut ro = ReadOptions::default();
        if let Some(bound) = prefix_successor(prefix) {
            ro.set_iterate_upper_bound(bound);
        }
        let iter = self.db().iterator_cf_opt(
            self.cf(cf)?,
            ro,
            IteratorMode::From(from, Direction::Forward),
        );
        let mut rows = Vec::new();
        for item in iter.take(limit) {
            let (k, v) = item.map_err(|e| StorageError::engine("index scan", e))?;
            if !k.starts_with(prefix) {
                break;
            }
            rows.push((k, v));
        }
        Ok(rows)
    }
}

/// One row of a scan.
type KeyValue = (Box<[u8]>, Box<[u8]>);

/// The first key strictly after `key` in bytewise order.
fn after_key(mut key: Vec<u8>) -> Vec<u8> {
    key.push(0);
    key
}

impl IndexStore for RocksStorage {
    fn indexed_size(&self, origin: &str) -> Result<u64> {
        self.indexed_size_of(origin)
    }

    fn apply_index(
        &self,
        origin: &str,
        from: u64,
        to: u64,
        index: IndexUpdates,
        status: Option<crate::api::StatusWrite>,
    ) -> Result<()> {
        self.apply_derived(origin, from, to, &index, status.as_ref())
    }

    fn entries_for_subject(
        &self,
        subject: &SubjectId,
        after: Option<&EntryLocation>,
        limit: usize,
    ) -> Result<Vec<EntryLocation>> {
        let prefix = str_prefix(&subject.index_key())?;
        let from = match after {
            Some(loc) => {
                let mut k = prefix.clone();
                k.extend_from_slice(&self.location_bytes(loc)?);
                after_key(k)
            }
            None => prefix.clone(),
        };
        let rows = self.scan_prefix(CF_SUBJECT_INDEX, &prefix, &from, limit.min(MAX_INDEX_PAGE))?;
        rows.iter()
            .map(|(k, _)| self.location_from(CF_SUBJECT_INDEX, k, &k[prefix.len()..]))
            .collect()
    }

    fn latest_for_business_key(&self, business_key: &str) -> Result<Option<EntryLocation>> {
        match self.get(CF_BUSINESS_INDEX, business_key.as_bytes())? {
            Some(v) => Ok(Some(self.location_from(
                CF_BUSINESS_INDEX,
                business_key.as_bytes(),
                &v,
            )?)),
            None => Ok(None),
        }
    }

    fn list_members(
        &self,
        list_kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ListMember>> {
        let prefix = str_prefix(list_kind)?;
        let from = match after {
            Some(member) => {
                let mut k = Vec::new();
                push_str(&mut k, list_kind)?;
                k.extend_from_slice(member.as_bytes());
                after_key(k)
            }
            None => prefix.clone(),
        };
        let rows = self.scan_prefix(CF_LIST_INDEX, &prefix, &from, limit.min(MAX_INDEX_PAGE))?;
        rows.iter()
            .map(|(k, v)| {
                let mut r = ValueReader::new(CF_LIST_INDEX, k, &k[prefix.len()..]);
                let member = r.rest_str()?.to_string();
                Ok(ListMember {
                    member,
                    entry: self.location_from(CF_LIST_INDEX, k, v)?,
                })
            })
            .collect()
    }
}
