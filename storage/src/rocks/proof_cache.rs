//! The engine side of the proof cache ([`super::upper_hashes`]): filling it after appends,
//! warming it in bulk, and reporting what it holds.

use credx_protocol::merkle::Hash;
use rocksdb::ReadOptions;

use super::keys::origin_u64;
use super::{poisoned, LogState, RocksStorage, CF_HASHES};
use crate::error::{hex_key, Result, StorageError};

/// Keys per `multi_get` while warming: large enough to amortise the call, small enough that
/// the cache lock is never held for long.
const WARM_CHUNK: usize = 4096;

/// What the proof cache holds for one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofCacheInfo {
    /// Lowest cached level (shared by all logs); hashes below it are read from RocksDB.
    pub min_level: u8,
    /// Slots filled for this log.
    pub filled: usize,
    /// Bytes allocated by all logs together (at most `StorageOptions::proof_cache_bytes`).
    pub allocated_bytes_all_logs: usize,
}

impl RocksStorage {
    /// After the append that grew the log from `size` to `new_size` and wrote `hashes` (the
    /// stored hashes of those records) became durable, and before `new_size` is published:
    /// allocate slots up to `new_size` and fill those at cached levels.
    pub(crate) fn remember_appended_hashes(
        &self,
        state: &LogState,
        size: u64,
        new_size: u64,
        hashes: &[Hash],
    ) {
        self.grow_upper_hashes(state, new_size);
        if let Ok(mut cache) = state.upper.write() {
            let min_level = cache.min_level();
            // Record r wrote its leaf, then one hash per trailing 1-bit of r, lowest first.
            let mut hashes = hashes.iter();
            for record in size..new_size {
                for level in 0..=record.trailing_ones() as u8 {
                    let Some(hash) = hashes.next() else {
                        return;
                    };
                    if level >= min_level {
                        cache.set(level, record >> level, *hash);
                    }
                }
            }
        }
    }

    /// Touches every page of every log's proof cache (one read per 4 KiB); returns the bytes
    /// spanned. On hosts that stall the first touch of memory left idle for seconds, a pass
    /// every second or so keeps proofs from paying for it.
    pub fn touch_proof_cache(&self) -> Result<usize> {
        let logs: Vec<std::sync::Arc<LogState>> = self
            .registry
            .read()
            .map_err(|_| poisoned("registry"))?
            .by_id
            .values()
            .cloned()
            .collect();
        let mut spanned = 0;
        for log in logs {
            spanned += log
                .upper
                .read()
                .map_err(|_| poisoned("proof cache"))?
                .touch();
        }
        Ok(spanned)
    }

    /// Reads every hash at the cached levels of `origin`'s log that the cache does not hold
    /// yet (sorted `multi_get`s of 4096 keys that bypass the block cache). Returns how many
    /// were loaded. Proofs fill the cache lazily anyway; this makes the first ones fast too,
    /// at the cost of reading about `size / 2^(L-1)` hashes.
    pub fn warm_proof_cache(&self, origin: &str) -> Result<usize> {
        let state = self.log_state(origin)?;
        let wanted = state
            .upper
            .read()
            .map_err(|_| poisoned("proof cache"))?
            .empty_slots();
        let cf = self.cf(CF_HASHES)?;
        let mut ro = ReadOptions::default();
        ro.fill_cache(false);
        let mut loaded = 0;
        for chunk in wanted.chunks(WARM_CHUNK) {
            let keys: Vec<[u8; 12]> = chunk.iter().map(|&i| origin_u64(state.id, i)).collect();
            let values = self.db().batched_multi_get_cf_opt(cf, &keys, true, &ro);
            let mut read = Vec::with_capacity(chunk.len());
            for ((value, &index), key) in values.into_iter().zip(chunk).zip(&keys) {
                let value = value
                    .map_err(|e| StorageError::engine("warm_proof_cache", e))?
                    .ok_or_else(|| StorageError::Missing {
                        cf: CF_HASHES,
                        key: format!("stored hash {index}"),
                        origin: origin.to_string(),
                    })?;
                let hash = Hash::from_slice(&value).map_err(|_| StorageError::Corrupt {
                    cf: CF_HASHES,
                    key: hex_key(key),
                    reason: format!("{} bytes, not 32", value.len()),
                })?;
                read.push((index, hash));
            }
            let mut cache = state.upper.write().map_err(|_| poisoned("proof cache"))?;
            for (index, hash) in read {
                cache.set_index(index, hash);
            }
            loaded += chunk.len();
        }
        Ok(loaded)
    }

    /// Reads the whole `hashes` CF once, in key order, through the block cache (benchmarks:
    /// the warm-up pass that puts every block in a `hashes_block_cache_bytes` cache large
    /// enough for the CF, or maps every page with `mmap_reads`). Returns the keys and the
    /// key and value bytes read. Costs one sequential pass over ~1 GB at 10^7 entries.
    pub fn read_whole_hashes_cf(&self) -> Result<(u64, u64)> {
        let mut ro = ReadOptions::default();
        ro.fill_cache(true);
        let mut iter = self.db().raw_iterator_cf_opt(self.cf(CF_HASHES)?, ro);
        iter.seek_to_first();
        let (mut keys, mut bytes) = (0u64, 0u64);
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            keys += 1;
            bytes += (key.len() + value.len()) as u64;
            iter.next();
        }
        iter.status()
            .map_err(|e| StorageError::engine("read_whole_hashes_cf", e))?;
        Ok((keys, bytes))
    }

    /// A RocksDB property of the `hashes` CF (`rocksdb.levelstats`, `rocksdb.block-cache-usage`,
    /// `rocksdb.total-sst-files-size`, ...), for benchmarks and diagnostics. `None` when
    /// RocksDB does not know the property.
    pub fn hashes_cf_property(&self, name: &str) -> Result<Option<String>> {
        self.db()
            .property_value_cf(self.cf(CF_HASHES)?, name)
            .map_err(|e| StorageError::engine("property_value_cf", e))
    }

    /// Paths of the `hashes` CF's SST files: benchmarks read them directly to measure what
    /// one read from the OS page cache costs on this machine, on the bytes proofs read.
    pub fn hashes_cf_files(&self) -> Result<Vec<std::path::PathBuf>> {
        let files = self
            .db()
            .live_files()
            .map_err(|e| StorageError::engine("live_files", e))?;
        Ok(files
            .into_iter()
            .filter(|f| f.column_family_name == CF_HASHES)
            .map(|f| self.db().path().join(f.name.trim_start_matches('/')))
            .collect())
    }

    /// What the proof cache holds for `origin`'s log.
    pub fn proof_cache_info(&self, origin: &str) -> Result<ProofCacheInfo> {
        let state = self.log_state(origin)?;
        let cache = state.upper.read().map_err(|_| poisoned("proof cache"))?;
        Ok(ProofCacheInfo {
            min_level: cache.min_level(),
            filled: cache.filled(),
            allocated_bytes_all_logs: self.upper_budget_bytes(),
        })
    }
}
