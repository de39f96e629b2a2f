//! The RocksDB engine: opening the database, column families and their tuning, and the
//! in-memory registry of logs.
//!
//! # Column families
//!
//! | CF | key | value | tuning |
//! |---|---|---|---|
//! | `entries` | origin id (u32 BE) ‖ index (u64 BE) | exact entry bytes | LZ4, bloom |
//! | `hashes` | origin id ‖ stored-hash index (u64 BE) | 32 B | no compression, 4 KiB page-aligned blocks, partitioned index, hash data-block index, no last-level filter |
//! | `logs` | `o`‖name → id; `i`‖id → role‖size‖name; `status_root` | meta | bloom |
//! | `subject_index` | len‖subject ‖ origin id ‖ index | empty | LZ4 (prefix scans) |
//! | `business_index` | business key | origin id ‖ index | bloom |
//! | `list_index` | len‖kind ‖ member | origin id ‖ index | LZ4 (prefix scans) |
//! | `status_nodes` | protocol `NodeKey` bytes | encoded node | no compression, bloom |
//! | `status_values` | subject key (32 B) | encoded `SubjectStatus` | bloom |
//! | `checkpoints` | origin id ‖ size | signed note | history, newest = last key |
//! | `cosignatures` | origin id ‖ size ‖ key name | signature line | |
//! | `cursors` | len‖peer ‖ origin | size‖root‖time‖session | |
//! | `evidence` | len‖origin ‖ id (u64 BE) | fork evidence | |
//!
//! # Durability
//!
//! Every append is one `WriteBatch` written with `sync = true`: RocksDB appends the batch to
//! the WAL and fsyncs it before returning, so on `Ok` the entries, hashes, index rows,
//! status-map nodes and the new size are on disk together, and WAL replay after a crash
//! restores either all of the batch or none of it (a WAL record is atomic across column
//! families). Group commit comes from batching: the sequencer collects up to thousands of
//! entries per write, so one fsync (~155 µs here) covers them all. Because the WAL is on,
//! `atomic_flush` is not needed: cross-CF atomicity is guaranteed by WAL recovery.
//!
//! # Memory
//!
//! With the default options RSS is bounded whatever the log size (`mmap_reads` and
//! `hashes_block_cache_bytes` trade that bound for proof latency, see their docs): one
//! shared LRU block cache (default 64 MiB) that also holds index and filter blocks
//! (`cache_index_and_filter_blocks`), a global memtable budget (`db_write_buffer_size`,
//! default 128 MiB), a bounded number of open files, and the proof cache of upper tree
//! levels (default 96 MiB for all logs together, see [`upper_hashes`]). No code path
//! materialises a tree: roots and proofs read O(log n) stored hashes.

mod checkpoints;
mod cursors;
mod derived;
mod evidence;
mod feed;
mod hashes;
mod indexes;
pub(crate) mod keys;
mod log;
mod proof_cache;
mod residency;
mod statusmap;
mod upper_hashes;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use credx_protocol::merkle::Hash;
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, BottommostLevelCompaction, Cache, ColumnFamily,
    ColumnFamilyDescriptor, CompactOptions, DBCompressionType, DataBlockIndexType, IteratorMode,
    Options, WriteBatch, WriteOptions, DB,
};

use crate::api::{LogInfo, LogRole};
use crate::error::{Result, StorageError};
use keys::{OriginId, ValueReader};

pub use hashes::{CachedHashReader, CfHashReader, OverlayHashReader};
pub use proof_cache::ProofCacheInfo;
pub use residency::ResidencyPass;
use upper_hashes::{UpperHashBudget, UpperHashes};

pub(crate) const CF_ENTRIES: &str = "entries";
pub(crate) const CF_HASHES: &str = "hashes";
pub(crate) const CF_LOGS: &str = "logs";
pub(crate) const CF_SUBJECT_INDEX: &str = "subject_index";
pub(crate) const CF_BUSINESS_INDEX: &str = "business_index";
pub(crate) const CF_LIST_INDEX: &str = "list_index";
pub(crate) const CF_STATUS_NODES: &str = "status_nodes";
pub(crate) const CF_STATUS_VALUES: &str = "status_values";
pub(crate) const CF_CHECKPOINTS: &str = "checkpoints";
pub(crate) const CF_COSIGNATURES: &str = "cosignatures";
pub(crate) const CF_CURSORS: &str = "cursors";
pub(crate) const CF_EVIDENCE: &str = "evidence";
/// The list feed: this node's numbered feed items and the items received from the parent.
pub(crate) const CF_FEED: &str = "feed";

const ALL_CFS: [&str; 13] = [
    CF_ENTRIES,
    CF_HASHES,
    CF_LOGS,
    CF_SUBJECT_INDEX,
    CF_BUSINESS_INDEX,
    CF_LIST_INDEX,
    CF_STATUS_NODES,
    CF_STATUS_VALUES,
    CF_CHECKPOINTS,
    CF_COSIGNATURES,
    CF_CURSORS,
    CF_EVIDENCE,
    CF_FEED,
];

/// `logs` CF: the status-map root.
const KEY_STATUS_ROOT: &[u8] = b"status_root";
/// `logs` CF: `o` ‖ origin name → origin id.
const PREFIX_ORIGIN_NAME: u8 = b'o';
/// `logs` CF: `i` ‖ origin id → role ‖ size ‖ name.
const PREFIX_ORIGIN_ID: u8 = b'i';

/// Engine options. The defaults are the production settings.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// Shared LRU block cache for all CFs, including index and filter blocks (bounds RSS).
    pub block_cache_bytes: usize,
    /// Memtable budget across all CFs (RocksDB's write buffer manager flushes beyond it).
    pub total_write_buffer_bytes: usize,
    /// Memtable size for the two big CFs (`entries`, `hashes`); the others use 1/4 of it.
    pub write_buffer_bytes: usize,
    /// Flush + compaction threads. The machine has 2 cores: one for the sequencer, one
    /// for RocksDB's background work.
    pub max_background_jobs: i32,
    /// Bounded so that file descriptors (and table readers' memory) stay bounded.
    pub max_open_files: i32,
    /// `fsync` the WAL on every append. Turn off ONLY for bulk loading fixtures
    /// (benchmarks): a crash can then lose acknowledged appends.
    pub sync_writes: bool,
    /// Memory for the upper levels of all logs' hash trees (proof cache), in bytes. Every
    /// hash at level `>= L` is kept, with `L` the lowest level that fits all logs in this
    /// budget. Default 96 MiB: a log of up to ~1.3 M entries is held whole (`L` = 0, a proof
    /// makes no RocksDB read at all); at 10^7 entries `L` = 3 (~79 MiB) and an inclusion
    /// proof reads its 3 lowest siblings (one 4 KiB block, rarely two) in one `multi_get`
    /// instead of ~24 scattered hashes. 0 turns the cache off.
    pub proof_cache_bytes: usize,
    /// Read SST files through memory mappings (RocksDB `allow_mmap_reads`, database-wide)
    /// instead of `pread` into the block cache's buffers: a block that is not in the block
    /// cache is then read from the mapping (a page-table hit, or a minor fault the first
    /// time) rather than by a syscall and a copy. The mapped pages count as file-backed
    /// RSS (`RssFile`, reclaimable page cache), up to the size of every SST file read, so
    /// the default is off; see docs/performance.md, "Inclusion-proof tail at 10^7".
    pub mmap_reads: bool,
    /// A block cache of its own for the `hashes` CF, in bytes; 0 (the default) shares the
    /// `block_cache_bytes` cache with every other CF. Sized to the whole CF (~1 GB at 10^7
    /// entries) it keeps every proof's reads in process memory, at that RSS cost.
    pub hashes_block_cache_bytes: usize,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            block_cache_bytes: 64 << 20,
            total_write_buffer_bytes: 128 << 20,
            write_buffer_bytes: 32 << 20,
            max_background_jobs: 2,
            max_open_files: 512,
            sync_writes: true,
            proof_cache_bytes: 96 << 20,
            mmap_reads: false,
            hashes_block_cache_bytes: 0,
        }
    }
}

/// One registered log, as the engine keeps it in memory.
#[derive(Debug)]
pub(crate) struct LogState {
    pub id: OriginId,
    pub origin: String,
    pub role: LogRole,
    /// The committed size: set after the write that made it durable.
    pub size: AtomicU64,
    /// Serialises appends to this log (the single-writer rule; the CAS on the size makes
    /// a second writer fail instead of forking).
    pub append_lock: Mutex<()>,
    /// The cached upper levels of this log's hash tree (never stale; see [`upper_hashes`]).
    pub upper: RwLock<UpperHashes>,
}

#[derive(Debug, Default)]
struct Registry {
    by_name: HashMap<String, Arc<LogState>>,
    by_id: HashMap<OriginId, Arc<LogState>>,
}

/// The RocksDB storage engine. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct RocksStorage {
    db: DB,
    options: StorageOptions,
    registry: RwLock<Registry>,
    /// The committed status-map root. The lock is held across the CAS check and the write
    /// of any append that changes the map, so concurrent logs cannot interleave updates.
    status_root: Mutex<Hash>,
    /// Serialises checkpoint CAS (check latest, then write).
    checkpoint_lock: Mutex<()>,
    /// Origins with uncleared fork evidence (mirrors the `evidence` CF).
    frozen: RwLock<HashSet<String>>,
    /// Serialises evidence updates.
    evidence_lock: Mutex<()>,
    /// The number of feed items. Held across the write of any append that adds feed
    /// items, so positions are dense and in commit order (taken before `status_root`).
    feed_size: Mutex<u64>,
    /// Serialises writes of items received from the parent's feed.
    feed_received: Mutex<()>,
    /// Serialises mirror index writes (the indexed-size compare-and-swap).
    index_lock: Mutex<()>,
    /// The byte budget of all logs' cached upper tree levels.
    upper_budget: UpperHashBudget,
}

impl std::fmt::Debug for RocksStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStorage")
            .field("path", &self.db.path())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RocksStorage {
    /// Opens (creating if needed) the store at `path`. Runs WAL recovery, then loads the log
    /// registry, the status root and the set of frozen origins.
    pub fn open(path: impl AsRef<Path>, options: &StorageOptions) -> Result<RocksStorage> {
        let cache = Cache::new_lru_cache(options.block_cache_bytes);
        let hashes_cache = (options.hashes_block_cache_bytes > 0)
            .then(|| Cache::new_lru_cache(options.hashes_block_cache_bytes));
        let db_opts = db_options(options);
        let cfs = ALL_CFS
            .iter()
            .map(|name| {
                let cache = match &hashes_cache {
                    Some(own) if *name == CF_HASHES => own,
                    _ => &cache,
                };
                Ok(ColumnFamilyDescriptor::new(
                    *name,
                    cf_options(name, options, cache)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let db = DB::open_cf_descriptors(&db_opts, path.as_ref(), cfs)
            .map_err(|e| StorageError::engine("open", e))?;
        let store = RocksStorage {
            db,
            options: options.clone(),
            registry: RwLock::new(Registry::default()),
            status_root: Mutex::new(credx_protocol::statusmap::EMPTY_SUBTREE),
            checkpoint_lock: Mutex::new(()),
            frozen: RwLock::new(HashSet::new()),
            evidence_lock: Mutex::new(()),
            feed_size: Mutex::new(0),
            feed_received: Mutex::new(()),
            index_lock: Mutex::new(()),
            upper_budget: UpperHashBudget::new(options.proof_cache_bytes),
        };
        store.load_registry()?;
        store.load_status_root()?;
        let feed_size = store.load_feed_size()?;
        *store.feed_lock()? = feed_size;
        store.load_frozen()?;
        Ok(store)
    }

    pub fn options(&self) -> &StorageOptions {
        &self.options
    }

    /// Forces memtables to SST files (tests, benchmarks, shutdown). Not needed for
    /// durability: the WAL already holds every acknowledged write.
    pub fn flush(&self) -> Result<()> {
        for name in ALL_CFS {
            self.db
                .flush_cf(self.cf(name)?)
                .map_err(|e| StorageError::engine("flush", e))?;
        }
        Ok(())
    }

    /// Full compaction (benchmarks measure reads after it as well as before). The `hashes`
    /// CF is rewritten even where its files already sit on the last level, so that a change
    /// of its table format (block size, alignment, index) reaches every file; the other CFs
    /// are only compacted where levels overlap.
    pub fn compact(&self) {
        for name in ALL_CFS {
            if let Some(cf) = self.db.cf_handle(name) {
                let mut co = CompactOptions::default();
                if name == CF_HASHES {
                    co.set_bottommost_level_compaction(BottommostLevelCompaction::ForceOptimized);
                }
                self.db
                    .compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &co);
            }
        }
    }

    pub(crate) fn db(&self) -> &DB {
        &self.db
    }

    pub(crate) fn cf(&self, name: &'static str) -> Result<&ColumnFamily> {
        self.db.cf_handle(name).ok_or(StorageError::Engine {
            op: "cf_handle",
            message: format!("column family {name} is missing"),
        })
    }

    pub(crate) fn write_options(&self) -> WriteOptions {
        let mut w = WriteOptions::default();
        w.set_sync(self.options.sync_writes);
        w
    }

    /// Writes `batch` durably (WAL fsync unless `sync_writes` is off).
    pub(crate) fn write(&self, op: &'static str, batch: WriteBatch) -> Result<()> {
        self.db
            .write_opt(batch, &self.write_options())
            .map_err(|e| StorageError::engine(op, e))
    }

    pub(crate) fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db
            .get_cf(self.cf(cf)?, key)
            .map_err(|e| StorageError::engine("get", e))
    }

    // ---- log registry ------------------------------------------------------------------

    pub(crate) fn log_state(&self, origin: &str) -> Result<Arc<LogState>> {
        self.registry
            .read()
            .map_err(|_| poisoned("registry"))?
            .by_name
            .get(origin)
            .cloned()
            .ok_or_else(|| StorageError::UnknownLog {
                origin: origin.to_string(),
            })
    }

    pub(crate) fn log_state_by_id(&self, id: OriginId) -> Result<Arc<LogState>> {
        self.registry
            .read()
            .map_err(|_| poisoned("registry"))?
            .by_id
            .get(&id)
            .cloned()
            .ok_or_else(|| StorageError::Corrupt {
                cf: CF_LOGS,
                key: format!("origin id {id}"),
                reason: "an index refers to an origin id that is not registered".into(),
            })
    }

    pub(crate) fn all_logs(&self) -> Result<Vec<LogInfo>> {
        let reg = self.registry.read().map_err(|_| poisoned("registry"))?;
        let mut logs: Vec<LogInfo> = reg
            .by_id
            .values()
            .map(|s| LogInfo {
                origin: s.origin.clone(),
                role: s.role,
                size: s.size.load(Ordering::Acquire),
            })
            .collect();
        logs.sort_by(|a, b| a.origin.cmp(&b.origin));
        Ok(logs)
    }

    /// Registers `origin` (idempotent for the same role). The registration is one synced
    /// write of both directions of the name ↔ id mapping.
    pub(crate) fn register(&self, origin: &str, role: LogRole) -> Result<LogInfo> {
        if origin.is_empty() || origin.contains('\n') || origin.len() > 255 {
            return Err(StorageError::InvalidBatch {
                origin: origin.to_string(),
                reason: "origin names are 1..=255 bytes without newlines".into(),
            });
        }
        let mut reg = self.registry.write().map_err(|_| poisoned("registry"))?;
        if let Some(existing) = reg.by_name.get(origin) {
            if existing.role != role {
                return Err(StorageError::RoleConflict {
                    origin: origin.to_string(),
                    existing: existing.role.as_str(),
                    requested: role.as_str(),
                });
            }
            return Ok(LogInfo {
                origin: origin.to_string(),
                role,
                size: existing.size.load(Ordering::Acquire),
            });
        }
        let id = reg
            .by_id
            .keys()
            .max()
            .map_or(Some(0), |m| m.checked_add(1))
            .ok_or_else(|| StorageError::InvalidBatch {
                origin: origin.to_string(),
                reason: "origin ids exhausted".into(),
            })?;
        let mut batch = WriteBatch::default();
        let logs = self.cf(CF_LOGS)?;
        batch.put_cf(logs, name_key(origin), id.to_be_bytes());
        batch.put_cf(logs, id_key(id), encode_log_meta(role, 0, origin));
        self.write("register_log", batch)?;
        let state = Arc::new(LogState {
            id,
            origin: origin.to_string(),
            role,
            size: AtomicU64::new(0),
            append_lock: Mutex::new(()),
            upper: RwLock::new(UpperHashes::new(self.upper_budget.min_level())),
        });
        reg.by_name.insert(origin.to_string(), state.clone());
        reg.by_id.insert(id, state);
        Ok(LogInfo {
            origin: origin.to_string(),
            role,
            size: 0,
        })
    }

    /// The `logs` CF row recording a log's size, written in the same batch as its entries.
    pub(crate) fn put_log_size(
        &self,
        batch: &mut WriteBatch,
        state: &LogState,
        size: u64,
    ) -> Result<()> {
        batch.put_cf(
            self.cf(CF_LOGS)?,
            id_key(state.id),
            encode_log_meta(state.role, size, &state.origin),
        );
        Ok(())
    }

    fn load_registry(&self) -> Result<()> {
        let mut reg = self.registry.write().map_err(|_| poisoned("registry"))?;
        let cf = self.cf(CF_LOGS)?;
        let iter = self.db.iterator_cf(
            cf,
            IteratorMode::From(&[PREFIX_ORIGIN_ID], rocksdb::Direction::Forward),
        );
        for item in iter {
            let (key, value) = item.map_err(|e| StorageError::engine("load_registry", e))?;
            if key.first() != Some(&PREFIX_ORIGIN_ID) {
                break;
            }
            let mut k = ValueReader::new(CF_LOGS, &key, &key[1..]);
            let id = k.u32()?;
            k.finish()?;
            let mut r = ValueReader::new(CF_LOGS, &key, &value);
            let role = match r.u8()? {
                0 => LogRole::Own,
                1 => LogRole::Mirror,
                other => {
                    return Err(StorageError::corrupt(
                        CF_LOGS,
                        &key,
                        format!("unknown role {other}"),
                    ))
                }
            };
            let size = r.u64()?;
            let origin = r.rest_str()?.to_string();
            let state = Arc::new(LogState {
                id,
                origin: origin.clone(),
                role,
                size: AtomicU64::new(size),
                append_lock: Mutex::new(()),
                upper: RwLock::new(UpperHashes::new(self.upper_budget.min_level())),
            });
            reg.by_name.insert(origin, state.clone());
            reg.by_id.insert(id, state);
        }
        let states: Vec<Arc<LogState>> = reg.by_id.values().cloned().collect();
        drop(reg);
        // Slots for every committed hash at the cached levels; filled lazily by proofs, or
        // at once by `warm_proof_cache`.
        for state in &states {
            self.grow_upper_hashes(state, state.size.load(Ordering::Acquire));
        }
        Ok(())
    }

    pub(crate) fn upper_budget_bytes(&self) -> usize {
        self.upper_budget.allocated_bytes()
    }

    /// Allocates `state`'s cache slots up to the committed `size`, within the budget.
    pub(crate) fn grow_upper_hashes(&self, state: &LogState, size: u64) {
        self.upper_budget.grow(&state.upper, size, || {
            self.registry
                .read()
                .map(|reg| reg.by_id.values().cloned().collect())
                .unwrap_or_default()
        });
    }

    // ---- status root -------------------------------------------------------------------

    pub(crate) fn feed_lock(&self) -> Result<MutexGuard<'_, u64>> {
        self.feed_size.lock().map_err(|_| poisoned("feed size"))
    }

    pub(crate) fn index_lock(&self) -> Result<MutexGuard<'_, ()>> {
        self.index_lock.lock().map_err(|_| poisoned("mirror index"))
    }

    pub(crate) fn feed_received_lock(&self) -> Result<MutexGuard<'_, ()>> {
        self.feed_received
            .lock()
            .map_err(|_| poisoned("feed received"))
    }

    pub(crate) fn lock_status_root(&self) -> Result<MutexGuard<'_, Hash>> {
        self.status_root.lock().map_err(|_| poisoned("status root"))
    }

    pub(crate) fn put_status_root(&self, batch: &mut WriteBatch, root: &Hash) -> Result<()> {
        batch.put_cf(self.cf(CF_LOGS)?, KEY_STATUS_ROOT, root.0);
        Ok(())
    }

    fn load_status_root(&self) -> Result<()> {
        if let Some(v) = self.get(CF_LOGS, KEY_STATUS_ROOT)? {
            let root = keys::decode_hash(CF_LOGS, KEY_STATUS_ROOT, &v)?;
            *self.lock_status_root()? = root;
        }
        Ok(())
    }

    // ---- frozen origins ----------------------------------------------------------------

    pub(crate) fn frozen_set(&self) -> Result<std::sync::RwLockWriteGuard<'_, HashSet<String>>> {
        self.frozen.write().map_err(|_| poisoned("frozen set"))
    }

    pub(crate) fn origin_is_frozen(&self, origin: &str) -> Result<bool> {
        Ok(self
            .frozen
            .read()
            .map_err(|_| poisoned("frozen set"))?
            .contains(origin))
    }

    pub(crate) fn lock_checkpoints(&self) -> Result<MutexGuard<'_, ()>> {
        self.checkpoint_lock
            .lock()
            .map_err(|_| poisoned("checkpoints"))
    }

    pub(crate) fn lock_evidence(&self) -> Result<MutexGuard<'_, ()>> {
        self.evidence_lock.lock().map_err(|_| poisoned("evidence"))
    }
}

pub(crate) fn poisoned(what: &str) -> StorageError {
    StorageError::Engine {
        op: "lock",
        message: format!("{what} lock poisoned by a panicked thread"),
    }
}

fn name_key(origin: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + origin.len());
    k.push(PREFIX_ORIGIN_NAME);
    k.extend_from_slice(origin.as_bytes());
    k
}

fn id_key(id: OriginId) -> [u8; 5] {
    let mut k = [PREFIX_ORIGIN_ID; 5];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

fn encode_log_meta(role: LogRole, size: u64, origin: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(9 + origin.len());
    v.push(match role {
        LogRole::Own => 0,
        LogRole::Mirror => 1,
    });
    v.extend_from_slice(&size.to_be_bytes());
    v.extend_from_slice(origin.as_bytes());
    v
}

/// Database-wide options.
fn db_options(o: &StorageOptions) -> Options {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    // 2 cores: one background thread pool of 2 shared by flushes and compactions.
    opts.set_max_background_jobs(o.max_background_jobs);
    opts.set_max_open_files(o.max_open_files);
    // Memtables across all 12 CFs share one budget, so adding CFs does not add memory.
    opts.set_db_write_buffer_size(o.total_write_buffer_bytes);
    // With many CFs a rarely written CF would keep old WAL files alive; capping the WAL
    // forces such memtables to flush so recovery time and disk use stay bounded.
    opts.set_max_total_wal_size(256 << 20);
    // Smooth out write-back: sync SST and WAL data incrementally (1 MiB) instead of one
    // large fsync at the end of a flush/compaction, which would stall the WAL fsync of
    // appends behind it on the same disk.
    opts.set_bytes_per_sync(1 << 20);
    opts.set_wal_bytes_per_sync(1 << 20);
    // Detect corruption early (checksums on every read of a block are the default).
    opts.set_paranoid_checks(true);
    opts.set_allow_mmap_reads(o.mmap_reads);
    opts
}

/// Per-CF options; all CFs share `cache`.
fn cf_options(name: &str, o: &StorageOptions, cache: &Cache) -> Result<Options> {
    let mut opts = Options::default();
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    // Index and filter blocks live in (and are evicted from) the shared cache, so memory
    // does not grow with the number of SST files; L0 ones are pinned because every read
    // consults them.
    table.set_cache_index_and_filter_blocks(true);
    table.set_cache_index_and_filter_blocks_with_high_priority(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_pin_top_level_index_and_filter(true);
    table.set_format_version(5);
    opts.set_level_compaction_dynamic_level_bytes(true);
    let small_buffer = (o.write_buffer_bytes / 4).max(1 << 20);
    match name {
        CF_ENTRIES => {
            // Entries are read by point lookups (proof files, sync) and short range scans;
            // LZ4 is cheap enough not to slow appends and halves typical encoded records.
            table.set_bloom_filter(10.0, false);
            opts.set_compression_type(DBCompressionType::Lz4);
            opts.set_write_buffer_size(o.write_buffer_bytes);
        }
        CF_HASHES => {
            // Only point lookups (multi_get of O(log n) keys per proof). SHA-256 output does
            // not compress: no compression. What `optimize_for_point_lookup` would set,
            // but with the shared, bounded cache instead of a private one: bloom filter,
            // hash index inside data blocks, memtable bloom.
            table.set_bloom_filter(10.0, false);
            table.set_data_block_index_type(DataBlockIndexType::BinaryAndHash);
            table.set_data_block_hash_ratio(0.75);
            opts.set_memtable_prefix_bloom_ratio(0.02);
            opts.set_memtable_whole_key_filtering(true);
            // Every read of this CF is for a hash that exists (a miss means a damaged
            // store), and keys are appended in order so SSTs never overlap: a bloom filter
            // on the last level would only cost cache space.
            opts.set_optimize_filters_for_hits(true);
            // 4 KiB blocks: the upper tree levels come from the proof cache
            // (`upper_hashes`), so what a proof still reads here is the neighbourhood of its
            // leaf (the ~2^L records around it, a few KiB of consecutive keys): one or two
            // 4 KiB blocks. Partitioned index: a 64 MiB SST has one index block of ~300 KiB
            // otherwise, and a proof that misses it in the cache pays for reading all of it;
            // partitions are 4 KiB, and only the small top level is pinned.
            table.set_block_size(4096);
            table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
            table.set_partition_filters(true);
            table.set_metadata_block_size(4096);
            opts.set_compression_type(DBCompressionType::None);
            opts.set_write_buffer_size(o.write_buffer_bytes);
        }
        CF_STATUS_NODES | CF_STATUS_VALUES | CF_BUSINESS_INDEX | CF_LOGS => {
            // Point lookups, including misses (absent subjects, new business keys):
            // bloom filters make those cheap.
            table.set_bloom_filter(10.0, false);
            opts.set_compression_type(if name == CF_STATUS_NODES {
                DBCompressionType::None
            } else {
                DBCompressionType::Lz4
            });
            opts.set_write_buffer_size(small_buffer);
        }
        _ => {
            // Prefix scans and rare writes.
            opts.set_compression_type(DBCompressionType::Lz4);
            opts.set_write_buffer_size(small_buffer);
        }
    }
    opts.set_block_based_table_factory(&table);
    if name == CF_HASHES {
        // Page-aligned data blocks: a block (4 KiB with its trailer, padded) then lies in
        // exactly one OS page instead of straddling two, so a block-cache miss touches one
        // page-cache page. On this VM a 4 KiB page-cache read that straddles two pages stalls
        // for > 100 µs about 1.4–2× as often as one that does not (docs/performance.md),
        // and those stalls are the inclusion-proof tail. RocksDB requires no compression
        // (set above) and a power-of-two block size. The Rust binding has no setter for it:
        // the option string reconfigures the table factory set just above (same cache).
        opts = opts
            .get_options_from_string("block_based_table_factory={block_align=true}")
            .map_err(|e| StorageError::engine("cf_options", e))?;
    }
    Ok(opts)
}
