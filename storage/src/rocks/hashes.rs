//! Stored tree hashes (Go `sumdb/tlog` layout) read from the `hashes` CF.
//!
//! [`CfHashReader`] answers each [`HashReader::read_hashes`] call — the protocol's Merkle code
//! makes exactly one per root or proof — with ONE `batched_multi_get_cf` (the indexes arrive
//! sorted, so RocksDB can walk each SST once). [`OverlayHashReader`] puts the hashes of a
//! batch that is being built (not yet written) on top, so record `n + 1` of a batch sees the
//! hashes record `n` created. [`CachedHashReader`] answers what it can from the log's
//! in-memory upper levels ([`super::upper_hashes`]) and reads only the rest from the CF.

use std::sync::RwLock;

use credx_protocol::merkle::{split_stored_hash_index, Hash, HashReader, MerkleError};
use rocksdb::{ColumnFamily, DB};

use super::keys::{origin_u64, OriginId};
use super::upper_hashes::UpperHashes;
use super::CF_HASHES;
use crate::error::hex_key;

/// Hashes of one log in the `hashes` CF.
pub struct CfHashReader<'a> {
    db: &'a DB,
    cf: &'a ColumnFamily,
    origin: OriginId,
}

impl std::fmt::Debug for CfHashReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfHashReader")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl<'a> CfHashReader<'a> {
    pub(crate) fn new(db: &'a DB, cf: &'a ColumnFamily, origin: OriginId) -> Self {
        CfHashReader { db, cf, origin }
    }
}

impl HashReader for CfHashReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        let keys: Vec<[u8; 12]> = indexes
            .iter()
            .map(|&i| origin_u64(self.origin, i))
            .collect();
        let sorted = indexes.windows(2).all(|w| w[0] < w[1]);
        let values = self.db.batched_multi_get_cf(self.cf, &keys, sorted);
        let mut hashes = Vec::with_capacity(indexes.len());
        for ((value, &index), key) in values.into_iter().zip(indexes).zip(&keys) {
            match value {
                Ok(Some(v)) => {
                    let bytes: [u8; 32] = v.as_ref().try_into().map_err(|_| {
                        MerkleError::Reader(format!(
                            "column family {CF_HASHES}: value at key {} has {} bytes, not 32",
                            hex_key(key),
                            v.len()
                        ))
                    })?;
                    hashes.push(Hash(bytes));
                }
                Ok(None) => return Err(MerkleError::MissingHash { index }),
                Err(e) => return Err(MerkleError::Reader(format!("{CF_HASHES}: {e}"))),
            }
        }
        Ok(hashes)
    }
}

/// A log's hashes: the cached upper levels first, then ONE `multi_get` for the rest.
///
/// Hashes read from the CF at cached levels are remembered, but only if the cache lock is free
/// at that moment (`try_write`): a proof never waits for another reader to fill the cache.
pub struct CachedHashReader<'a> {
    base: CfHashReader<'a>,
    upper: &'a RwLock<UpperHashes>,
}

impl std::fmt::Debug for CachedHashReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedHashReader")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl<'a> CachedHashReader<'a> {
    pub(crate) fn new(base: CfHashReader<'a>, upper: &'a RwLock<UpperHashes>) -> Self {
        CachedHashReader { base, upper }
    }
}

impl HashReader for CachedHashReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        let mut found: Vec<Option<Hash>> = vec![None; indexes.len()];
        let mut missing: Vec<u64> = Vec::with_capacity(indexes.len());
        let mut cacheable = false;
        match self.upper.read() {
            Ok(cache) => {
                let min_level = cache.min_level();
                for (slot, &index) in found.iter_mut().zip(indexes) {
                    let (level, n) = split_stored_hash_index(index);
                    *slot = cache.get(level, n);
                    if slot.is_none() {
                        missing.push(index);
                        cacheable |= level >= min_level;
                    }
                }
            }
            // A poisoned cache is only a lost accelerator: read everything from the CF.
            Err(_) => missing.extend_from_slice(indexes),
        }
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        // `missing` keeps the callers' (increasing) order, so the CF read stays sorted.
        let read = self.base.read_hashes(&missing)?;
        if read.len() != missing.len() {
            return Err(MerkleError::WrongHashCount {
                requested: missing.len(),
                returned: read.len(),
            });
        }
        if cacheable {
            if let Ok(mut cache) = self.upper.try_write() {
                for (&index, hash) in missing.iter().zip(&read) {
                    cache.set_index(index, *hash);
                }
            }
        }
        let mut read = read.into_iter();
        found
            .into_iter()
            .map(|slot| slot.or_else(|| read.next()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or(MerkleError::WrongHashCount {
                requested: indexes.len(),
                returned: 0,
            })
    }
}

/// `base` plus the pending hashes of a batch being built: stored-hash indexes
/// `start..start + pending.len()` come from `pending`, the rest from `base`.
#[derive(Debug)]
pub struct OverlayHashReader<'a, R: HashReader> {
    base: &'a R,
    start: u64,
    pending: &'a [Hash],
}

impl<'a, R: HashReader> OverlayHashReader<'a, R> {
    pub fn new(base: &'a R, start: u64, pending: &'a [Hash]) -> Self {
        OverlayHashReader {
            base,
            start,
            pending,
        }
    }
}

impl<R: HashReader> HashReader for OverlayHashReader<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        // Base indexes first (one batched read for all of them), then fill in the overlay,
        // preserving the caller's order.
        let from_base: Vec<u64> = indexes
            .iter()
            .copied()
            .filter(|&i| i < self.start)
            .collect();
        let base_hashes = if from_base.is_empty() {
            Vec::new()
        } else {
            self.base.read_hashes(&from_base)?
        };
        if base_hashes.len() != from_base.len() {
            return Err(MerkleError::WrongHashCount {
                requested: from_base.len(),
                returned: base_hashes.len(),
            });
        }
        let mut base_iter = base_hashes.into_iter();
        let mut out = Vec::with_capacity(indexes.len());
        for &index in indexes {
            if index < self.start {
                out.extend(base_iter.next());
            } else {
                let offset = usize::try_from(index - self.start)
                    .map_err(|_| MerkleError::MissingHash { index })?;
                out.push(
                    *self
                        .pending
                        .get(offset)
                        .ok_or(MerkleError::MissingHash { index })?,
                );
            }
        }
        Ok(out)
    }
}

/// The stored hashes created by appending `leaves` to a log of `size` records whose stored
/// hashes are readable through `base`. Returns the new hashes (indexes
/// `stored_hash_count(size)..`) — at most ~2 per leaf, never the whole tree.
pub fn hashes_for_leaves<R: HashReader>(
    base: &R,
    size: u64,
    leaves: &[Hash],
) -> Result<Vec<Hash>, MerkleError> {
    let start = credx_protocol::merkle::stored_hash_count(size);
    let mut pending: Vec<Hash> = Vec::with_capacity(leaves.len() * 2 + 64);
    for (offset, leaf) in leaves.iter().enumerate() {
        let n = size + offset as u64;
        let overlay = OverlayHashReader::new(base, start, &pending);
        let new = credx_protocol::merkle::stored_hashes_for_record(n, *leaf, &overlay)?;
        pending.extend_from_slice(&new);
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use credx_protocol::merkle::{leaf_hash, stored_hash_count, MemoryHashStore};

    #[test]
    fn overlay_hashes_match_memory_store() {
        // Base: the first 37 records; the overlay adds 100 more in one "batch".
        let mut mem = MemoryHashStore::new();
        let leaves: Vec<Hash> = (0..137u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for l in &leaves[..37] {
            mem.append_leaf(*l);
        }
        let new = hashes_for_leaves(&mem, 37, &leaves[37..]).unwrap();
        let mut full = MemoryHashStore::new();
        for l in &leaves {
            full.append_leaf(*l);
        }
        let lo = stored_hash_count(37) as usize;
        assert_eq!(&full.hashes()[lo..], &new[..]);
        let overlay = OverlayHashReader::new(&mem, stored_hash_count(37), &new);
        assert_eq!(
            credx_protocol::merkle::tree_hash(137, &overlay).unwrap(),
            full.root()
        );
    }
}
