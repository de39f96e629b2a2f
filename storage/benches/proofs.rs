//! Inclusion-proof latency from RocksDB at 10^6 (and, with `CREDX_BENCH_1E7=1`, 10^7)
//! entries of 512 B, and peak RSS while building the fixture.
//!
//! `source scripts/env.sh && cargo bench --workspace --bench proofs`
//! `CREDX_BENCH_1E7=1 CREDX_BENCH_FIXTURES=~/.cache/credx/bench cargo bench --workspace --bench proofs`
//!
//! The fixture is built once per process through the engine's append path (batches of 4096;
//! `sync_writes = false` because durability is not what is measured here and it saves
//! minutes) into a temp dir, or into `$CREDX_BENCH_FIXTURES/<n>` where it is reused by later
//! runs. Besides criterion's mean it prints p50/p99/p99.9 of 10,000 random proofs, measured
//! one by one: with the proof cache as the build (or a fresh open) left it, after
//! `warm_proof_cache`, and after a full compaction.
//!
//! Overrides: `CREDX_BENCH_CACHE_MIB` (block cache, default the production 64 MiB),
//! `CREDX_BENCH_PROOF_CACHE_MIB` (proof cache of upper tree levels, default the production
//! 64 MiB; 0 turns it off, the engine as it was before the cache).
//!
//! The VM is shared: every percentile line is followed by the same percentiles over the
//! samples that were neither preempted nor reading the device, and a control (a fixed
//! in-memory computation of a few µs) shows the noise floor of the machine in the same run.

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
    let mib = |var: &str, default: usize| {
        std::env::var(var)
            .ok()
            .and_then(|m| m.parse::<usize>().ok())
            .map_or(default, |m| m << 20)
    };
    let defaults = StorageOptions::default();
    let opts = StorageOptions {
        sync_writes: sync,
        block_cache_bytes: mib("CREDX_BENCH_CACHE_MIB", defaults.block_cache_bytes),
        proof_cache_bytes: mib("CREDX_BENCH_PROOF_CACHE_MIB", defaults.proof_cache_bytes),
        ..defaults
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

/// What else happened to this thread while a sample ran: nanoseconds spent runnable but
/// waiting for a CPU (`/proc/thread-self/schedstat`, 2nd field: another process preempted
/// it; the machine is shared with compilers) and bytes read from the storage device
/// (`/proc/thread-self/io`, `read_bytes`: a page-cache miss). Read outside the timed section.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Disturbance {
    run_queue_wait_ns: u64,
    device_read_bytes: u64,
    minor_faults: u64,
}

impl Disturbance {
    fn now() -> Disturbance {
        let field = |path: &str, pick: &dyn Fn(&str) -> Option<u64>| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|s| pick(&s))
                .unwrap_or(0)
        };
        Disturbance {
            run_queue_wait_ns: field("/proc/thread-self/schedstat", &|s| {
                s.split_whitespace().nth(1)?.parse().ok()
            }),
            device_read_bytes: field("/proc/thread-self/io", &|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("read_bytes:"))?
                    .trim()
                    .parse()
                    .ok()
            }),
            minor_faults: field("/proc/thread-self/stat", &|s| {
                s.rsplit(')')
                    .next()?
                    .split_whitespace()
                    .nth(7)?
                    .parse()
                    .ok()
            }),
        }
    }
}

/// Percentiles of all samples, then of the undisturbed ones (neither preempted, nor reading
/// the device, nor page-faulting), closer to what the engine itself costs on an idle machine.
fn percentiles_split(label: &str, samples: &[(Duration, Disturbance, Disturbance)]) {
    type Sample = (Duration, Disturbance, Disturbance);
    let count = |f: &dyn Fn(&Sample) -> bool| samples.iter().filter(|s| f(s)).count();
    let preempted = count(&|(_, a, b)| a.run_queue_wait_ns != b.run_queue_wait_ns);
    let device = count(&|(_, a, b)| a.device_read_bytes != b.device_read_bytes);
    let faulted = count(&|(_, a, b)| a.minor_faults != b.minor_faults);
    let slow = count(&|(d, _, _)| d.as_micros() > 100);
    println!("{label}: {slow} samples took > 100 µs; {faulted} page-faulted");
    percentiles(label, samples.iter().map(|s| s.0).collect());
    let clean: Vec<Duration> = samples
        .iter()
        .filter(|(_, a, b)| a == b)
        .map(|s| s.0)
        .collect();
    if !clean.is_empty() {
        percentiles(
            &format!(
                "{label}, undisturbed {} (preempted {preempted}, read the device {device})",
                clean.len()
            ),
            clean,
        );
    }
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

/// The machine's own noise floor, measured the same way as the proofs: 10,000 samples of a
/// fixed in-memory computation (24 SHA-256 leaf hashes, a few µs, no I/O, no locks). Its p99
/// is what the shared VM adds to any operation of that length.
fn control_samples() {
    let data = [7u8; 64];
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let before = Disturbance::now();
        let t = Instant::now();
        let mut h = leaf_hash(&data);
        for _ in 0..23 {
            h = leaf_hash(&h.0);
        }
        std::hint::black_box(h);
        let elapsed = t.elapsed();
        samples.push((elapsed, before, Disturbance::now()));
    }
    percentiles_split("control: 24 SHA-256 in memory", &samples);
}

fn sample_proofs(store: &RocksStorage, n: u64, label: &str) {
    let mut rng = rand::thread_rng();
    let mut incl = Vec::with_capacity(SAMPLES);
    let mut cons = Vec::with_capacity(SAMPLES);
    let root = store.root_at(ORIGIN, n).unwrap();
    for k in 0..SAMPLES {
        let index = rng.gen_range(0..n);
        let before = Disturbance::now();
        let t = Instant::now();
        let proof = store.inclusion_proof(ORIGIN, index, n).unwrap();
        let elapsed = t.elapsed();
        incl.push((elapsed, before, Disturbance::now()));
        if k % 1000 == 0 {
            // Spot-check correctness (outside the timed section).
            let e = store.read_entries(ORIGIN, index, 1).unwrap();
            proof.verify(&leaf_hash(&e[0]), &root).unwrap();
        }
        let old = rng.gen_range(1..=n);
        let before = Disturbance::now();
        let t = Instant::now();
        let _ = store.consistency_proof(ORIGIN, old, n).unwrap();
        let elapsed = t.elapsed();
        cons.push((elapsed, before, Disturbance::now()));
    }
    percentiles_split(&format!("inclusion proof at {n} ({label})"), &incl);
    percentiles_split(&format!("consistency proof to {n} ({label})"), &cons);
}

fn run(c: &mut Criterion, n: u64, name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var("CREDX_BENCH_FIXTURES") {
        Ok(base) => Path::new(&base).join(n.to_string()),
        Err(_) => tmp.path().to_path_buf(),
    };
    let store = fixture(&dir, n);
    control_samples();
    sample_proofs(&store, n, "proof cache as left by build/open");
    let t = Instant::now();
    let loaded = store.warm_proof_cache(ORIGIN).unwrap();
    let info = store.proof_cache_info(ORIGIN).unwrap();
    println!(
        "proof cache: warmed {loaded} hashes in {:.2} s; levels >= {}, {} hashes, {:.1} MiB allocated",
        t.elapsed().as_secs_f64(),
        info.min_level,
        info.filled,
        info.allocated_bytes_all_logs as f64 / (1 << 20) as f64
    );
    sample_proofs(&store, n, "warm proof cache");
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
    control_samples();
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
