//! Fork evidence: `len‖origin ‖ id (u64 BE)` → `cleared ‖ observed_at_ms ‖ peer ‖ first ‖ second [‖ note]`.
//!
//! Evidence is never deleted: clearing records the operator's note beside it. An origin
//! with any uncleared record is frozen, and the engine refuses appends to it (the sync
//! layer must stop syncing a forked origin until an operator acts).

use rocksdb::WriteBatch;

use super::keys::{prefix_successor, push_blob, str_prefix, ValueReader};
use super::{RocksStorage, CF_EVIDENCE};
use crate::api::{EvidenceStore, ForkEvidence, ForkRecord};
use crate::error::{Result, StorageError};

fn encode_record(evidence: &ForkEvidence, cleared: Option<&str>) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.push(u8::from(cleared.is_some()));
    v.extend_from_slice(&evidence.observed_at_ms.to_be_bytes());
    push_blob(&mut v, evidence.peer.as_bytes())?;
    push_blob(&mut v, &evidence.first)?;
    push_blob(&mut v, &evidence.second)?;
    if let Some(note) = cleared {
        push_blob(&mut v, note.as_bytes())?;
    }
    Ok(v)
}

fn decode_record(key: &[u8], prefix_len: usize, value: &[u8]) -> Result<ForkRecord> {
    let mut k = ValueReader::new(CF_EVIDENCE, key, key.get(prefix_len..).unwrap_or_default());
    let id = k.u64()?;
    k.finish()?;
    let mut r = ValueReader::new(CF_EVIDENCE, key, value);
    let cleared_flag = r.u8()?;
    let observed_at_ms = r.u64()?;
    let peer = String::from_utf8(r.blob()?.to_vec())
        .map_err(|e| StorageError::corrupt(CF_EVIDENCE, key, format!("peer: {e}")))?;
    let first = r.blob()?.to_vec();
    let second = r.blob()?.to_vec();
    let cleared = match cleared_flag {
        0 => None,
        1 => Some(
            String::from_utf8(r.blob()?.to_vec())
                .map_err(|e| StorageError::corrupt(CF_EVIDENCE, key, format!("note: {e}")))?,
        ),
        other => {
            return Err(StorageError::corrupt(
                CF_EVIDENCE,
                key,
                format!("cleared flag {other}"),
            ))
        }
    };
    r.finish()?;
    Ok(ForkRecord {
        id,
        evidence: ForkEvidence {
            first,
            second,
            peer,
            observed_at_ms,
        },
        cleared,
    })
}

impl RocksStorage {
    /// All evidence rows of `origin` (few: evidence is rare), as (key, record).
    fn evidence_rows(&self, origin: &str) -> Result<Vec<(Vec<u8>, ForkRecord)>> {
        let prefix = str_prefix(origin)?;
        let mut ro = rocksdb::ReadOptions::default();
        if let Some(bound) = prefix_successor(&prefix) {
            ro.set_iterate_upper_bound(bound);
        }
        let iter = self.db().iterator_cf_opt(
            self.cf(CF_EVIDENCE)?,
            ro,
            rocksdb::IteratorMode::From(&prefix, rocksdb::Direction::Forward),
        );
        let mut rows = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(|e| StorageError::engine("evidence scan", e))?;
            if !k.starts_with(&prefix) {
                break;
            }
            rows.push((k.to_vec(), decode_record(&k, prefix.len(), &v)?));
        }
        Ok(rows)
    }

    /// Loads the frozen set at open: every origin with an uncleared record.
    pub(crate) fn load_frozen(&self) -> Result<()> {
        let iter = self
            .db()
            .iterator_cf(self.cf(CF_EVIDENCE)?, rocksdb::IteratorMode::Start);
        let mut frozen = self.frozen_set()?;
        for item in iter {
            let (k, v) = item.map_err(|e| StorageError::engine("load evidence", e))?;
            let mut kr = ValueReader::new(CF_EVIDENCE, &k, &k);
            let origin = kr.str16()?.to_string();
            let record = decode_record(&k, 2 + origin.len(), &v)?;
            if record.cleared.is_none() {
                frozen.insert(origin);
            }
        }
        Ok(())
    }
}

impl EvidenceStore for RocksStorage {
    fn record_fork(&self, origin: &str, evidence: ForkEvidence) -> Result<u64> {
        let _guard = self.lock_evidence()?;
        let id = self
            .evidence_rows(origin)?
            .last()
            .map_or(0, |(_, r)| r.id.saturating_add(1));
        let mut key = str_prefix(origin)?;
        key.extend_from_slice(&id.to_be_bytes());
        let mut wb = WriteBatch::default();
        wb.put_cf(self.cf(CF_EVIDENCE)?, key, encode_record(&evidence, None)?);
        // Freeze before the write becomes visible to appends' frozen check? Both orders are
        // safe for durability; freezing after the synced write means a failed write does
        // not leave a phantom freeze.
        self.write("record_fork", wb)?;
        self.frozen_set()?.insert(origin.to_string());
        tracing::warn!(origin, id, peer = %evidence.peer, "fork evidence recorded; origin frozen");
        Ok(id)
    }

    fn forks(&self, origin: &str) -> Result<Vec<ForkRecord>> {
        Ok(self
            .evidence_rows(origin)?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    fn clear_fork(&self, origin: &str, operator_note: &str) -> Result<usize> {
        let _guard = self.lock_evidence()?;
        let cf = self.cf(CF_EVIDENCE)?;
        let mut wb = WriteBatch::default();
        let mut cleared = 0;
        for (key, record) in self.evidence_rows(origin)? {
            if record.cleared.is_none() {
                wb.put_cf(
                    cf,
                    key,
                    encode_record(&record.evidence, Some(operator_note))?,
                );
                cleared += 1;
            }
        }
        self.write("clear_fork", wb)?;
        self.frozen_set()?.remove(origin);
        tracing::warn!(
            origin,
            cleared,
            operator_note,
            "fork evidence cleared by operator"
        );
        Ok(cleared)
    }

    fn is_frozen(&self, origin: &str) -> Result<bool> {
        self.origin_is_frozen(origin)
    }
}
