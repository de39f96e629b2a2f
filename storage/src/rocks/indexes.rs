//! Secondary indexes: subject → entries, business key → latest entry, list → members, and
//! the case index (case id → entries, targeted entry → lifecycle entries).
//!
//! Rows are only ever written inside an append's `WriteBatch` (see `log.rs`), so an index
//! never points at an entry that is not durable, and an entry never lacks its index rows.
//! Locations are stored as `origin id ‖ index` (12 bytes) and mapped back to names through
//! the log registry.
//!
//! The case index lives in the `feed` CF beside the feed it follows (every case entry is a
//! feed item), with the origin NAME in the key: its rows also point at items received from
//! the parent's feed, whose logs this node does not hold and has no id for.
//!
//! * `c` ‖ case id (len-prefixed) ‖ origin (len-prefixed) ‖ index (u64 BE) → empty
//! * `t` ‖ target origin (len-prefixed) ‖ target index ‖ origin (len-prefixed) ‖ index → empty

use credx_protocol::entry::SubjectId;
use rocksdb::{Direction, IteratorMode, ReadOptions, WriteBatch};

use super::keys::{
    decode_origin_u64, origin_u64, prefix_successor, push_str, str_prefix, ValueReader,
};
use super::{RocksStorage, CF_BUSINESS_INDEX, CF_FEED, CF_LIST_INDEX, CF_SUBJECT_INDEX};
use crate::api::LogStore;
use crate::api::{
    CaseIndexKey, CaseIndexUpdate, EntryLocation, IndexStore, IndexUpdates, ListMember,
    MAX_INDEX_PAGE,
};
use crate::error::{Result, StorageError};
use crate::planner::case_index_rows_of;

/// Rows written per batch when rebuilding the case index.
const REBUILD_BATCH_ROWS: usize = 4_096;

/// First byte of case-id rows in the `feed` CF.
const CASE_ROW: u8 = b'c';
/// First byte of targeted-entry rows in the `feed` CF.
const TARGET_ROW: u8 = b't';

/// `origin (len-prefixed) ‖ index (u64 BE)`: a location by name.
fn push_location(out: &mut Vec<u8>, location: &EntryLocation) -> Result<()> {
    push_str(out, &location.origin)?;
    out.extend_from_slice(&location.index.to_be_bytes());
    Ok(())
}

/// The key prefix of every row filed under `key`.
fn case_prefix(key: &CaseIndexKey) -> Result<Vec<u8>> {
    match key {
        CaseIndexKey::Case(case_id) => {
            let mut out = vec![CASE_ROW];
            push_str(&mut out, case_id)?;
            Ok(out)
        }
        CaseIndexKey::Target(target) => {
            let mut out = vec![TARGET_ROW];
            push_location(&mut out, target)?;
            Ok(out)
        }
    }
}

impl RocksStorage {
    /// Adds case-index rows to a write batch (appends, mirror index ranges, received feed
    /// items). Writing a row twice is harmless: the key is the whole row.
    pub(crate) fn put_case_rows(
        &self,
        wb: &mut WriteBatch,
        rows: &[CaseIndexUpdate],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let cf = self.cf(CF_FEED)?;
        for row in rows {
            let mut key = case_prefix(&row.key)?;
            push_location(&mut key, &row.location)?;
            wb.put_cf(cf, key, b"");
        }
        Ok(())
    }

    /// Re-derives every case-index row from the entries: own logs, the indexed part of
    /// mirrors, and the received feed items. Rows are whole-key puts, so running it on a
    /// store that has them changes nothing; it serves stores written before the case index
    /// existed. Returns how many rows were written.
    pub fn rebuild_case_index(&self) -> Result<u64> {
        let mut written = 0u64;
        for log in self.logs()? {
            let end = self.indexed_size_of(&log.origin)?;
            let mut start = 0;
            while start < end {
                let entries = self.read_entries(&log.origin, start, end - start)?;
                if entries.is_empty() {
                    break;
                }
                let mut rows = Vec::new();
                for (offset, bytes) in entries.iter().enumerate() {
                    let location = EntryLocation {
                        origin: log.origin.clone(),
                        index: start + offset as u64,
                    };
                    rows.extend(case_index_rows_of(bytes, &location));
                }
                written += self.write_case_rows(&rows)?;
                start += entries.len() as u64;
            }
        }
        let mut rows = Vec::new();
        self.for_each_received(|location, bytes| {
            rows.extend(case_index_rows_of(bytes, &location));
            if rows.len() >= REBUILD_BATCH_ROWS {
                written += self.write_case_rows(&std::mem::take(&mut rows))?;
            }
            Ok(())
        })?;
        written += self.write_case_rows(&rows)?;
        Ok(written)
    }

    fn write_case_rows(&self, rows: &[CaseIndexUpdate]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut wb = WriteBatch::default();
        self.put_case_rows(&mut wb, rows)?;
        self.write("rebuild case index", wb)?;
        Ok(rows.len() as u64)
    }

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
        // Rows of one batch almost always name one log: resolve its id once, not per row.
        let mut ids = OriginIds::default();
        let subjects = self.cf(CF_SUBJECT_INDEX)?;
        let mut key = Vec::new();
        for u in &updates.subjects {
            key.clear();
            push_str(&mut key, &u.subject_key)?;
            key.extend_from_slice(&ids.location_bytes(self, &u.location)?);
            wb.put_cf(subjects, &key, b"");
        }
        let business = self.cf(CF_BUSINESS_INDEX)?;
        for u in &updates.business_keys {
            wb.put_cf(
                business,
                u.business_key.as_bytes(),
                ids.location_bytes(self, &u.location)?,
            );
        }
        let lists = self.cf(CF_LIST_INDEX)?;
        for u in &updates.lists {
            key.clear();
            push_str(&mut key, &u.list_kind)?;
            key.extend_from_slice(u.member.as_bytes());
            match &u.entry {
                Some(loc) => wb.put_cf(lists, &key, ids.location_bytes(self, loc)?),
                None => wb.delete_cf(lists, &key),
            }
        }
        self.put_case_rows(wb, &updates.cases)
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

/// The last origin resolved to its id while writing index rows.
#[derive(Default)]
struct OriginIds {
    last: Option<(String, super::keys::OriginId)>,
}

impl OriginIds {
    fn location_bytes(&mut self, store: &RocksStorage, loc: &EntryLocation) -> Result<[u8; 12]> {
        let id = match &self.last {
            Some((origin, id)) if *origin == loc.origin => *id,
            _ => {
                let id = store.log_state(&loc.origin)?.id;
                self.last = Some((loc.origin.clone(), id));
                id
            }
        };
        Ok(origin_u64(id, loc.index))
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

    fn case_entries(
        &self,
        key: &CaseIndexKey,
        after: Option<&EntryLocation>,
        limit: usize,
    ) -> Result<Vec<EntryLocation>> {
        let prefix = case_prefix(key)?;
        let from = match after {
            Some(loc) => {
                let mut k = prefix.clone();
                push_location(&mut k, loc)?;
                after_key(k)
            }
            None => prefix.clone(),
        };
        let rows = self.scan_prefix(CF_FEED, &prefix, &from, limit.min(MAX_INDEX_PAGE))?;
        rows.iter()
            .map(|(k, _)| {
                let mut r = ValueReader::new(CF_FEED, k, &k[prefix.len()..]);
                let origin = r.str16()?.to_owned();
                let index = r.u64()?;
                r.finish()?;
                Ok(EntryLocation { origin, index })
            })
            .collect()
    }

    fn case_ids(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let limit = limit.min(MAX_INDEX_PAGE);
        let mut ids = Vec::new();
        let mut from = match after {
            Some(id) => match prefix_successor(&case_prefix(&CaseIndexKey::Case(id.to_owned()))?) {
                Some(from) => from,
                None => return Ok(ids),
            },
            None => vec![CASE_ROW],
        };
        // One seek per case: after reading a case's first row, jump past all its rows.
        while ids.len() < limit {
            let rows = self.scan_prefix(CF_FEED, &[CASE_ROW], &from, 1)?;
            let Some((key, _)) = rows.first() else {
                break;
            };
            let mut r = ValueReader::new(CF_FEED, key, &key[1..]);
            let id = r.str16()?.to_owned();
            let next = prefix_successor(&case_prefix(&CaseIndexKey::Case(id.clone()))?);
            ids.push(id);
            match next {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok(ids)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use credx_protocol::entry::{
        CaseKey, CaseStep, CaseStepKind, Entry, Event, TargetUnit, ENVELOPE_VERSION,
    };

    use super::*;
    use crate::api::{AppendBatch, FeedStore, LogRole, LogStore, ReceivedListEntry};
    use crate::rocks::StorageOptions;

    fn at(origin: &str, index: u64) -> EntryLocation {
        EntryLocation {
            origin: origin.to_owned(),
            index,
        }
    }

    fn case_step(origin: &str, case_id: &str) -> Vec<u8> {
        Entry {
            version: ENVELOPE_VERSION,
            origin: origin.to_owned(),
            authority: Some("11460200PDY0004130".to_owned()),
            submitted_by: "test".to_owned(),
            subject: None,
            business_key: None,
            accepted_at_ms: 1,
            event: Event::CaseStep(CaseStep {
                case: CaseKey {
                    case_id: case_id.to_owned(),
                    version: 1,
                },
                responder: TargetUnit {
                    node: origin.to_owned(),
                    department: None,
                },
                step: CaseStepKind::Closed,
            }),
        }
        .encode()
        .unwrap()
        .into_bytes()
    }

    #[test]
    fn case_rows_of_logs_and_received_items_are_found_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStorage::open(dir.path(), &StorageOptions::default()).unwrap();
        let own = "420281.credx";
        store.register_log(own, LogRole::Own).unwrap();
        let rows = |key: CaseIndexKey, index| CaseIndexUpdate {
            key,
            location: at(own, index),
        };
        let mut batch = AppendBatch {
            entries: vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
            ..AppendBatch::default()
        };
        batch.index.cases = vec![
            rows(CaseIndexKey::Case("C2".into()), 0),
            rows(CaseIndexKey::Case("C10".into()), 1),
            rows(CaseIndexKey::Case("C2".into()), 2),
            rows(CaseIndexKey::Target(at(own, 0)), 2),
        ];
        store.append(own, 0, batch).unwrap();
        // A step of C2 received from the parent's feed, of a log this node does not hold.
        let item = ReceivedListEntry {
            origin: "460200.credx".into(),
            index: 5,
            entry: case_step("460200.credx", "C2"),
            checkpoint: b"checkpoint".to_vec(),
            inclusion: Vec::new(),
        };
        store.store_received("parent.credx", 0, 1, &[item]).unwrap();

        let c2 = store
            .case_entries(&CaseIndexKey::Case("C2".into()), None, 10)
            .unwrap();
        assert_eq!(c2, vec![at(own, 0), at(own, 2), at("460200.credx", 5)]);
        let page = store
            .case_entries(&CaseIndexKey::Case("C2".into()), Some(&at(own, 0)), 1)
            .unwrap();
        assert_eq!(page, vec![at(own, 2)]);
        assert_eq!(
            store
                .case_entries(&CaseIndexKey::Target(at(own, 0)), None, 10)
                .unwrap(),
            vec![at(own, 2)]
        );
        assert!(store
            .case_entries(&CaseIndexKey::Case("C".into()), None, 10)
            .unwrap()
            .is_empty());
        assert_eq!(store.case_ids(None, 10).unwrap(), vec!["C2", "C10"]);
        assert_eq!(store.case_ids(Some("C2"), 10).unwrap(), vec!["C10"]);
        assert_eq!(store.case_ids(None, 1).unwrap(), vec!["C2"]);
        assert_eq!(
            store.feed_size().unwrap(),
            1,
            "the received item joined the feed"
        );
    }

    #[test]
    fn the_case_index_is_rebuilt_from_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStorage::open(dir.path(), &StorageOptions::default()).unwrap();
        let own = "460200.credx";
        store.register_log(own, LogRole::Own).unwrap();
        // Written without case rows, as by a node from before the case index.
        let batch = AppendBatch {
            entries: vec![
                case_step(own, "C1"),
                b"not an entry".to_vec(),
                case_step(own, "C1"),
            ],
            ..AppendBatch::default()
        };
        store.append(own, 0, batch).unwrap();
        let key = CaseIndexKey::Case("C1".into());
        assert!(store.case_entries(&key, None, 10).unwrap().is_empty());
        assert_eq!(store.rebuild_case_index().unwrap(), 2);
        assert_eq!(
            store.case_entries(&key, None, 10).unwrap(),
            vec![at(own, 0), at(own, 2)]
        );
        assert_eq!(store.rebuild_case_index().unwrap(), 2, "idempotent");
        assert_eq!(store.case_entries(&key, None, 10).unwrap().len(), 2);
    }
}
