//! Inclusion-proof latency from RocksDB at 10^6 (and, with `CREDX_BENCH_1E7=1`, 10^7)
//! entries of 512 B, and peak RSS while building the fixture.
//!
//! `CARGO_TARGET_DIR=/root/.cache/credx/target cargo bench -p credx-storage --bench proofs`
//! `CREDX_BENCH_1E7=1 CREDX_BENCH_FIXTURES=/root/.cache/credx/bench cargo bench ... --bench proofs`
//!
//! The fixture is built once per process through the engine's append path (batches of 4096;
//! `sync_writes = false` because durability is not what is measured here and it saves
//! minutes) into a temp dir, or into `$CREDX_BENCH_FIXTURES/<n>` where it is reused by later
//! runs. Besides criterion's mean it prints p50/p99/p99.9 of 10,000 random proofs, measured
//! one by one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use credx_protocol::merkle::leaf_hash;
use credx_storage::{AppendBatch, LogRole, LogStore, RocksStorage, StorageOptions};
use criterion::Criterion;
use rand::{Rng, RngCore, SeedableRng};

const ENTRY: usize = 512;
const BATCH: u64 = 4096;
const ORIGIN: &str = "420281.credx";
const SAMPLES: usize = 10_000;

/// Peak resident set size of this process so far (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn open(path: &Path, sync: bool) -> RocksStorage {
    // `CREDX_BENCH_CACHE_MIB` overrides the block cache (default: the production 64 MiB).
    let block_cache_bytes = std::env::var("CREDX_BENCH_CACHE_MIB")
        .ok()
        .and_then(|m| m.parse::<usize>().ok())
        .map_or(StorageOptions::default().block_cache_bytes, |m| m << 20);
    let opts = StorageOptions {
        sync_writes: sync,
        block_cache_bytes,
        ..StorageOptions::default()
    };
    RocksStorage::open(path, &opts).unwrap()
}

/// Opens (building if needed) a log of `n` entries at `path`.
fn fixture(path: &Path, n: u64) -> RocksStorage {
    let store = open(path, false);
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    let mut size = store.log_size(ORIGIN).unwrap();
    if size >= n {
        println!("fixture {n}: reusing {}", path.display());
        return store;
    }
    let start = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(size);
    while size < n {
        let count = BATCH.min(n - size);
        let entries: Vec<Vec<u8>> = (0..count)
            .map(|i| {
                let mut e = vec![0u8; ENTRY];
                rng.fill_bytes(&mut e);
                e[..8].copy_from_slice(&(size + i).to_be_bytes());
                e
            })
            .collect();
        size = store
            .append(
                ORIGIN,
                size,
                AppendBatch {
                    entries,
                    ..AppendBatch::default()
                },
            )
            .unwrap()
            .new_size;
    }
    store.flush().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fixture {n}: built in {secs:.1} s ({:.0} entries/s, unsynced), peak RSS so far (VmHWM) {:.1} MiB",
        n as f64 / secs,
        peak_rss_mib()
    );
    store
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{label}: n={} mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        samples.len(),
        mean.as_secs_f64() * 1e6,
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        at(0.999).as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6
    );
}

fn sample_proofs(store: &RocksStorage, n: u64, label: &str) {
    let mut rng = rand::thread_rng();
    let mut incl = Vec::with_capacity(SAMPLES);
    let mut cons = Vec::with_capacity(SAMPLES);
    let root = store.root_at(ORIGIN, n).unwrap();
    for k in 0..SAMPLES {
        let index = rng.gen_range(0..n);
        let t = Instant::now();
        let proof = store.inclusion_proof(ORIGIN, index, n).unwrap();
        incl.push(t.elapsed());
        if k % 1000 == 0 {
            // Spot-check correctness (outside the timed section).
            let e = store.read_entries(ORIGIN, index, 1).unwrap();
            proof.verify(&leaf_hash(&e[0]), &root).unwrap();
        }
        let old = rng.gen_range(1..=n);
        let t = Instant::now();
        let _ = store.consistency_proof(ORIGIN, old, n).unwrap();
        cons.push(t.elapsed());
    }
    percentiles(&format!("inclusion proof at {n} ({label})"), incl);
    percentiles(&format!("consistency proof to {n} ({label})"), cons);
}

fn run(c: &mut Criterion, n: u64, name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var("CREDX_BENCH_FIXTURES") {
        Ok(base) => Path::new(&base).join(n.to_string()),
        Err(_) => tmp.path().to_path_buf(),
    };
    let store = fixture(&dir, n);
    sample_proofs(&store, n, "after build");
    let mut rng = rand::thread_rng();
    c.bench_function(&format!("inclusion_proof/{name}"), |b| {
        b.iter(|| {
            store
                .inclusion_proof(ORIGIN, rng.gen_range(0..n), n)
                .unwrap()
        })
    });
    let t = Instant::now();
    store.compact();
    println!("full compaction: {:.1} s", t.elapsed().as_secs_f64());
    sample_proofs(&store, n, "after full compaction");
    let disk: u64 = walk_size(&dir);
    println!(
        "fixture {n}: {:.2} GB on disk ({:.1} B/entry), peak RSS (VmHWM) {:.1} MiB",
        disk as f64 / 1e9,
        disk as f64 / n as f64,
        peak_rss_mib()
    );
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    run(&mut c, 1_000_000, "1e6");
    if std::env::var("CREDX_BENCH_1E7").is_ok() {
        run(&mut c, 10_000_000, "1e7");
    }
    c.final_summary();
}
