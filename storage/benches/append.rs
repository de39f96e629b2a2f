//! Append throughput: the engine's batch append path vs a raw RocksDB `WriteBatch` of the
//! same bytes (same key layout, same `sync = true`), in the same run.
//!
//! `CARGO_TARGET_DIR=/root/.cache/credx/target cargo bench -p credx-storage --bench append`
//!
//! Besides criterion's report it prints its own sustained rates (entries/s over
//! `ROUNDS` consecutive batches into one growing log) and the engine/raw ratio.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use credx_storage::{AppendBatch, LogRole, LogStore, RocksStorage, StorageOptions};
use criterion::{Criterion, Throughput};
use rand::RngCore;
use rocksdb::{ColumnFamilyDescriptor, Options, WriteBatch, WriteOptions, DB};

const ENTRY: usize = 512;
const BATCH: usize = 4096;
const ROUNDS: usize = 60;
const ORIGIN: &str = "420281.credx";

fn random_entries(rng: &mut impl RngCore, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let mut e = vec![0u8; ENTRY];
            rng.fill_bytes(&mut e);
            e
        })
        .collect()
}

/// The engine path: leaf hashes, stored hashes, root, one synced WriteBatch.
struct Engine {
    _dir: tempfile::TempDir,
    store: RocksStorage,
    size: u64,
}

impl Engine {
    fn new() -> Engine {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStorage::open(dir.path(), &StorageOptions::default()).unwrap();
        store.register_log(ORIGIN, LogRole::Own).unwrap();
        Engine {
            _dir: dir,
            store,
            size: 0,
        }
    }

    fn append(&mut self, entries: Vec<Vec<u8>>) {
        let out = self
            .store
            .append(
                ORIGIN,
                self.size,
                AppendBatch {
                    entries,
                    ..AppendBatch::default()
                },
            )
            .unwrap();
        self.size = out.new_size;
    }
}

/// Raw RocksDB: the same entry keys/values and as many 32-byte hash rows (≈ 2 per entry,
/// precomputed, no hashing), default options, `sync = true`.
struct Raw {
    _dir: tempfile::TempDir,
    db: DB,
    size: u64,
    hashes: u64,
}

impl Raw {
    fn new() -> Raw {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let cfs = ["entries", "hashes"]
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, Options::default()));
        let db = DB::open_cf_descriptors(&opts, dir.path(), cfs).unwrap();
        Raw {
            _dir: dir,
            db,
            size: 0,
            hashes: 0,
        }
    }

    fn append(&mut self, entries: &[Vec<u8>], hash_rows: &[[u8; 32]]) {
        let mut wb = WriteBatch::default();
        let e_cf = self.db.cf_handle("entries").unwrap();
        let h_cf = self.db.cf_handle("hashes").unwrap();
        for e in entries {
            wb.put_cf(e_cf, key(0, self.size), e);
            self.size += 1;
        }
        for h in hash_rows {
            wb.put_cf(h_cf, key(0, self.hashes), h);
            self.hashes += 1;
        }
        let mut w = WriteOptions::default();
        w.set_sync(true);
        self.db.write_opt(wb, &w).unwrap();
    }
}

fn key(origin: u32, n: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&origin.to_be_bytes());
    k[4..].copy_from_slice(&n.to_be_bytes());
    k
}

fn sustained(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    (ROUNDS * BATCH) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut rng = rand::thread_rng();
    let pool: Vec<Vec<Vec<u8>>> = (0..4).map(|_| random_entries(&mut rng, BATCH)).collect();
    let hash_rows: Vec<[u8; 32]> = (0..2 * BATCH)
        .map(|_| {
            let mut h = [0u8; 32];
            rng.fill_bytes(&mut h);
            h
        })
        .collect();

    // Own sustained measurement first (interleaved twice to even out disk/VM noise).
    let mut engine_rates = Vec::new();
    let mut raw_rates = Vec::new();
    for _ in 0..2 {
        let mut raw = Raw::new();
        let mut i = 0;
        raw_rates.push(sustained(|| {
            raw.append(&pool[i % pool.len()], &hash_rows);
            i += 1;
        }));
        let mut engine = Engine::new();
        let mut i = 0;
        engine_rates.push(sustained(|| {
            engine.append(pool[i % pool.len()].clone());
            i += 1;
        }));
    }
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let (e, r) = (best(&engine_rates), best(&raw_rates));
    println!(
        "append {BATCH}×{ENTRY} B synced, {ROUNDS} batches: engine {e:.0} entries/s ({:.1} MB/s), raw RocksDB {r:.0} entries/s ({:.1} MB/s), ratio {:.1} %  (runs: engine {engine_rates:.0?}, raw {raw_rates:.0?})",
        e * ENTRY as f64 / 1e6,
        r * ENTRY as f64 / 1e6,
        100.0 * e / r
    );

    let mut c = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    let mut group = c.benchmark_group("append_4096x512B_synced");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut engine = Engine::new();
    let mut i = 0;
    group.bench_function("engine", |b| {
        b.iter(|| {
            engine.append(pool[i % pool.len()].clone());
            i += 1;
        })
    });
    let mut raw = Raw::new();
    let mut i = 0;
    group.bench_function("raw_rocksdb", |b| {
        b.iter(|| {
            raw.append(&pool[i % pool.len()], &hash_rows);
            i += 1;
        })
    });
    group.finish();
    c.final_summary();
}
