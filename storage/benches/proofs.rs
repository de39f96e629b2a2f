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
//! `warm_proof_cache`, and after a full compaction (which rewrites the `hashes` CF, so a
//! reused fixture gets the current table format).
//!
//! After the warm and the compacted phases it also prints RocksDB's perf context per proof
//! (store calls, hashes read, block-cache hits, block reads, index and filter blocks,
//! checksum and seek time), split into proofs ≤ 100 µs and > 100 µs; a second control that
//! reads 4 KiB at random offsets of the `hashes` CF's files (what one block-cache miss costs
//! on this machine); and the `hashes` CF's size and block-cache use.
//!
//! Overrides: `CREDX_BENCH_CACHE_MIB` (block cache, default the production 64 MiB),
//! `CREDX_BENCH_PROOF_CACHE_MIB` (proof cache of upper tree levels, default the production
//! 96 MiB; 0 turns it off, the engine as it was before the cache),
//! `CREDX_BENCH_HASHES_CACHE_MIB` (a block cache of its own for the `hashes` CF, default 0 =
//! shared), `CREDX_BENCH_MMAP_READS=1` (`StorageOptions::mmap_reads`; with no fixture dir it
//! shows the peak RSS of building with mmap reads).
//!
//! `CREDX_BENCH_VARIANTS=1` adds, after those phases, an A/B comparison on the same fixture
//! (rounds of baseline, mmap reads, a `hashes` block cache holding the whole CF: each
//! reopened, warmed, and its RSS split into `RssAnon` / `RssFile`), preceded by the page-cache
//! control on files that were just read whole; `CREDX_BENCH_VARIANTS=only` runs only that.
//! `CREDX_BENCH_RESIDENCY=only` runs only an A/B of residency passes (`touch_proof_files`,
//! what the node does every 30 s): proofs after 75 s without any, then after 75 s with a
//! pass every 30 s, each after a warm-up pass.
//! `CREDX_BENCH_VARIANT_ROUNDS` sets the rounds (default 3); `CREDX_BENCH_IDLE_SECS=75`
//! adds, per variant, 2,000 proofs after sitting idle that long.
//!
//! The VM is shared: every percentile line is followed by the same percentiles over the
//! samples that were neither preempted nor reading the device, and a control (a fixed
//! in-memory computation of a few µs) shows the noise floor of the machine in the same run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use credx_protocol::merkle::leaf_hash;
use credx_storage::{AppendBatch, LogRole, LogStore, RocksStorage, StorageOptions};
use criterion::Criterion;
use rand::{Rng, RngCore, SeedableRng};
use rocksdb::perf::{set_perf_stats, PerfContext, PerfStatsLevel};

const ENTRY: usize = 512;
const BATCH: u64 = 4096;
const ORIGIN: &str = "420281.credx";
const SAMPLES: usize = 10_000;

/// A `/proc/self/status` field given in kB (`VmHWM`, `RssAnon`, `RssFile`), in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Peak resident set size of this process so far (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    status_mib("VmHWM")
}

/// Current RSS split into anonymous (heap: caches, memtables) and file-backed (mapped SST
/// pages, reclaimable) memory, plus the peak so far.
fn rss_line() -> String {
    format!(
        "RssAnon {:.1} MiB, RssFile {:.1} MiB, VmHWM {:.1} MiB",
        status_mib("RssAnon"),
        status_mib("RssFile"),
        peak_rss_mib()
    )
}

/// The machine's load average (`/proc/loadavg`: 1, 5, 15 minutes).
fn load() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
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
        hashes_block_cache_bytes: mib(
            "CREDX_BENCH_HASHES_CACHE_MIB",
            defaults.hashes_block_cache_bytes,
        ),
        mmap_reads: std::env::var_os("CREDX_BENCH_MMAP_READS").is_some(),
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

/// Sums of RocksDB perf-context counters over a group of proofs.
#[derive(Default)]
struct PerfGroup {
    proofs: u64,
    with_store_call: u64,
    elapsed_ns: u64,
    counters: BTreeMap<String, u64>,
}

impl PerfGroup {
    fn add(&mut self, elapsed: Duration, report: &str) {
        self.proofs += 1;
        self.elapsed_ns += elapsed.as_nanos() as u64;
        let mut read = false;
        // `name = value, name = value, ...` (zero counters left out).
        for pair in report.split(',') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let (name, Ok(value)) = (name.trim(), value.trim().parse::<u64>()) else {
                continue;
            };
            read |= name == "multiget_read_bytes" && value > 0;
            *self.counters.entry(name.to_string()).or_default() += value;
        }
        self.with_store_call += u64::from(read);
    }

    fn print(&self, label: &str) {
        if self.proofs == 0 {
            println!("{label}: no proofs");
            return;
        }
        let per = |v: u64| v as f64 / self.proofs as f64;
        let line: Vec<String> = self
            .counters
            .iter()
            .map(|(k, &v)| format!("{k} {:.2}", per(v)))
            .collect();
        println!(
            "{label}: {} proofs, mean {:.1} µs, {:.1} % made a store call (one batched multi_get), \
             {:.2} hashes read from RocksDB per proof; per proof: {}",
            self.proofs,
            per(self.elapsed_ns) / 1e3,
            100.0 * self.with_store_call as f64 / self.proofs as f64,
            per(self.counters.get("multiget_read_bytes").copied().unwrap_or(0)) / 32.0,
            line.join(", ")
        );
    }
}

/// 10,000 random inclusion proofs with RocksDB's perf context on (counts and timers, no
/// mutex timing): the per-proof counters (block-cache hits, block reads and bytes, index and
/// filter blocks, time reading and checksumming blocks, ...) averaged separately over the
/// proofs that took ≤ 100 µs and those that took longer. Only undisturbed samples (not
/// preempted, no device read, no page fault) are counted, so the split does not depend on the
/// load of the machine. The timers make each proof slightly slower than in the untraced runs.
fn trace_proofs(store: &RocksStorage, n: u64, label: &str) {
    let mut rng = rand::thread_rng();
    let (mut fast, mut slow) = (PerfGroup::default(), PerfGroup::default());
    let mut disturbed = 0;
    // The crate's enum predates RocksDB's `kEnableWait` (3): its
    // `EnableTimeAndCPUTimeExceptForMutex` (4) is RocksDB's `kEnableTimeExceptForMutex`
    // (counts and wall-clock timers, no CPU-time or mutex timers).
    set_perf_stats(PerfStatsLevel::EnableTimeAndCPUTimeExceptForMutex);
    let mut ctx = PerfContext::default();
    for _ in 0..SAMPLES {
        let index = rng.gen_range(0..n);
        ctx.reset();
        let before = Disturbance::now();
        let t = Instant::now();
        std::hint::black_box(store.inclusion_proof(ORIGIN, index, n).unwrap());
        let elapsed = t.elapsed();
        if before != Disturbance::now() {
            disturbed += 1;
            continue;
        }
        let group = if elapsed.as_micros() > 100 {
            &mut slow
        } else {
            &mut fast
        };
        group.add(elapsed, &ctx.report(true));
    }
    set_perf_stats(PerfStatsLevel::Disable);
    println!("perf context at {n} ({label}): {disturbed} disturbed samples left out");
    fast.print(&format!("perf context at {n} ({label}), proofs <= 100 µs"));
    slow.print(&format!("perf context at {n} ({label}), proofs > 100 µs"));
}

/// The machine's floor for a proof that misses the block cache: 10,000 reads of 4 KiB at
/// random offsets of the `hashes` CF's SST files (the bytes proofs read, normally in the OS
/// page cache), one page-aligned (one page) and one straddling two pages, alternately.
/// Samples that read the device, were preempted or faulted are left out of "undisturbed".
fn page_cache_control(store: &RocksStorage) {
    use std::os::unix::fs::FileExt;
    let files: Vec<(std::fs::File, u64)> = store
        .hashes_cf_files()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let f = std::fs::File::open(p).ok()?;
            let len = f.metadata().ok()?.len();
            (len > 3 * 4096).then_some((f, len))
        })
        .collect();
    if files.is_empty() {
        return;
    }
    let total: u64 = files.iter().map(|f| f.1).sum();
    let mut rng = rand::thread_rng();
    let mut buf = vec![0u8; 4096];
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for k in 0..2 * SAMPLES {
        let mut at = rng.gen_range(0..total);
        let (file, len) = files
            .iter()
            .find(|(_, len)| {
                let here = at < *len;
                if !here {
                    at -= len;
                }
                here
            })
            .unwrap();
        let page = (at.min(len - 2 * 4096)) / 4096 * 4096;
        let offset = if k % 2 == 0 { page } else { page + 2048 };
        let before = Disturbance::now();
        let t = Instant::now();
        file.read_exact_at(&mut buf, offset).unwrap();
        let elapsed = t.elapsed();
        let sample = (elapsed, before, Disturbance::now());
        if k % 2 == 0 {
            one.push(sample);
        } else {
            two.push(sample);
        }
    }
    percentiles_split(
        "control: 4 KiB page-cache read of the hashes CF, 1 page",
        &one,
    );
    percentiles_split(
        "control: 4 KiB page-cache read of the hashes CF, 2 pages",
        &two,
    );
}

/// Reads every `hashes` CF file once from start to end (so its pages are in the OS page
/// cache and were touched recently), then runs [`page_cache_control`]. Also prints the
/// files, for `scripts/pread_stalls.py`.
fn warm_page_cache_control(store: &RocksStorage) {
    let files = store.hashes_cf_files().unwrap();
    let t = Instant::now();
    let bytes: usize = files
        .iter()
        .map(|p| std::fs::read(p).map_or(0, |b| b.len()))
        .sum();
    println!(
        "hashes CF files ({} files, {:.0} MB read once in {:.1} s): {}",
        files.len(),
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    page_cache_control(store);
}

/// One engine configuration compared by [`variants`].
struct Variant {
    name: &'static str,
    mmap_reads: bool,
    /// A block cache of its own for the `hashes` CF large enough for all of it.
    whole_hashes_cache: bool,
}

/// Rounds of the A/B comparison in [`variants`] (`CREDX_BENCH_VARIANT_ROUNDS` overrides).
const VARIANT_ROUNDS: usize = 3;

/// Proofs measured after each idle period of [`variants`].
const AFTER_IDLE_SAMPLES: usize = 2_000;

/// A whole-number environment variable, or `default`.
fn env_usize(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `count` random inclusion proofs, each timed with what disturbed it.
fn time_proofs(
    store: &RocksStorage,
    n: u64,
    count: usize,
) -> Vec<(Duration, Disturbance, Disturbance)> {
    let mut rng = rand::thread_rng();
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let index = rng.gen_range(0..n);
        let before = Disturbance::now();
        let t = Instant::now();
        std::hint::black_box(store.inclusion_proof(ORIGIN, index, n).unwrap());
        let elapsed = t.elapsed();
        samples.push((elapsed, before, Disturbance::now()));
    }
    samples
}

/// A/B comparison of engine configurations on the same fixture, one after the other in one
/// process, in [`VARIANT_ROUNDS`] rounds of baseline / mmap / whole-CF cache (so a change of
/// the machine's load shows as a change between rounds, not as a difference of variants):
/// each variant reopens the store, warms the proof cache, reads the whole `hashes` CF once
/// (fills its own block cache, or maps every page), then measures 2 × `SAMPLES` inclusion
/// proofs (and, in the first round, the perf context) and prints RSS split into anonymous
/// and file-backed memory. With `CREDX_BENCH_IDLE_SECS` set, each variant then sits idle
/// that long and measures [`AFTER_IDLE_SAMPLES`] more proofs: what a proof costs when the
/// memory it touches has not been used for a while (sporadic proofs in production; on a
/// host that reclaims idle page cache, the share of proofs reading the device).
fn variants(dir: &Path, n: u64) {
    let probe = open(dir, false);
    let cf_bytes: usize = probe
        .hashes_cf_property("rocksdb.total-sst-files-size")
        .unwrap()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    println!("variants at {n}: load {}, {}", load(), rss_line());
    warm_page_cache_control(&probe);
    drop(probe);
    // The LRU cache charges each block's memory plus its handle, and its shards fill
    // unevenly: 1.25× the CF plus 64 MiB holds all of it.
    let whole = cf_bytes + cf_bytes / 4 + (64 << 20);
    let list = [
        Variant {
            name: "baseline (defaults)",
            mmap_reads: false,
            whole_hashes_cache: false,
        },
        Variant {
            name: "mmap reads",
            mmap_reads: true,
            whole_hashes_cache: false,
        },
        Variant {
            name: "hashes CF block cache for the whole CF",
            mmap_reads: false,
            whole_hashes_cache: true,
        },
    ];
    let rounds = env_usize("CREDX_BENCH_VARIANT_ROUNDS", VARIANT_ROUNDS);
    let idle = env_usize("CREDX_BENCH_IDLE_SECS", 0);
    for (round, v) in (0..rounds).flat_map(|r| list.iter().map(move |v| (r, v))) {
        let opts = StorageOptions {
            sync_writes: false,
            mmap_reads: v.mmap_reads,
            hashes_block_cache_bytes: if v.whole_hashes_cache { whole } else { 0 },
            ..StorageOptions::default()
        };
        let label = format!("{}, round {}, at {n}", v.name, round + 1);
        println!("{label}: load before {}, {}", load(), rss_line());
        let store = RocksStorage::open(dir, &opts).unwrap();
        let t = Instant::now();
        store.warm_proof_cache(ORIGIN).unwrap();
        let warm = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (keys, bytes) = store.read_whole_hashes_cf().unwrap();
        println!(
            "{label}: proof cache warmed in {warm:.1} s; whole hashes CF read once ({keys} keys, \
             {:.0} MB) in {:.1} s; hashes block cache {} MiB; {}",
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64(),
            opts.hashes_block_cache_bytes >> 20,
            rss_line()
        );
        let incl = time_proofs(&store, n, 2 * SAMPLES);
        percentiles_split(&format!("inclusion proof, {label}"), &incl);
        if round == 0 {
            trace_proofs(&store, n, &label);
        }
        for property in ["rocksdb.block-cache-usage", "rocksdb.block-cache-capacity"] {
            let value = store
                .hashes_cf_property(property)
                .unwrap()
                .unwrap_or_default();
            println!("{label}: hashes CF {property}: {}", value.trim_end());
        }
        if idle > 0 {
            std::thread::sleep(Duration::from_secs(idle as u64));
            let after = time_proofs(&store, n, AFTER_IDLE_SAMPLES);
            percentiles_split(
                &format!("inclusion proof after {idle} s idle, {label}"),
                &after,
            );
        }
        println!("{label}: load after {}, {}", load(), rss_line());
    }
    control_samples();
}

/// The `hashes` CF as RocksDB sees it: levels, size, block-cache use.
fn print_hashes_cf(store: &RocksStorage) {
    for property in [
        "rocksdb.total-sst-files-size",
        "rocksdb.block-cache-capacity",
        "rocksdb.block-cache-usage",
        "rocksdb.block-cache-pinned-usage",
        "rocksdb.estimate-table-readers-mem",
        "rocksdb.levelstats",
    ] {
        let value = store
            .hashes_cf_property(property)
            .unwrap()
            .unwrap_or_default();
        println!("hashes CF {property}: {}", value.trim_end());
    }
}

fn run(c: &mut Criterion, n: u64, name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var("CREDX_BENCH_FIXTURES") {
        Ok(base) => Path::new(&base).join(n.to_string()),
        Err(_) => tmp.path().to_path_buf(),
    };
    let store = fixture(&dir, n);
    if std::env::var("CREDX_BENCH_RESIDENCY").is_ok_and(|v| v == "only") {
        residency_ab(&store, n);
        return;
    }
    let only_variants = std::env::var("CREDX_BENCH_VARIANTS").is_ok_and(|v| v == "only");
    if only_variants {
        drop(store);
        variants(&dir, n);
        return;
    }
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
    trace_proofs(&store, n, "warm proof cache");
    page_cache_control(&store);
    print_hashes_cf(&store);
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
    trace_proofs(&store, n, "after full compaction");
    page_cache_control(&store);
    print_hashes_cf(&store);
    control_samples();
    let disk: u64 = walk_size(&dir);
    println!(
        "fixture {n}: {:.2} GB on disk ({:.1} B/entry), peak RSS (VmHWM) {:.1} MiB",
        disk as f64 / 1e9,
        disk as f64 / n as f64,
        peak_rss_mib()
    );
    if std::env::var_os("CREDX_BENCH_VARIANTS").is_some() {
        drop(store);
        variants(&dir, n);
    }
}

/// Idle time before each measurement of [`residency_ab`]: longer than the 60 s after which
/// this VM's reclaim pages out idle page cache (docs/performance.md).
const RESIDENCY_IDLE: Duration = Duration::from_secs(75);
/// The node's interval between residency passes (`credx_node::warm::RESIDENCY_INTERVAL`).
const RESIDENCY_INTERVAL: Duration = Duration::from_secs(30);

/// Proofs after sitting idle, without and then with residency passes meanwhile.
fn residency_ab(store: &RocksStorage, n: u64) {
    use std::sync::atomic::{AtomicBool, Ordering};
    store.warm_proof_cache(ORIGIN).unwrap();
    let never = AtomicBool::new(false);
    let pass = store.touch_proof_files(u64::MAX, &never).unwrap();
    println!(
        "residency pass: {} files, {:.1} MB ({})",
        pass.files,
        pass.bytes as f64 / 1e6,
        load()
    );
    std::thread::sleep(RESIDENCY_IDLE);
    sample_proofs(store, n, "after 75 s idle, no residency pass");
    println!("  ({})", load());

    store.touch_proof_files(u64::MAX, &never).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let started = Instant::now();
            let mut next = RESIDENCY_INTERVAL;
            while !stop.load(Ordering::Relaxed) {
                if started.elapsed() >= next {
                    store.touch_proof_files(u64::MAX, &stop).unwrap();
                    next += RESIDENCY_INTERVAL;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        std::thread::sleep(RESIDENCY_IDLE);
        sample_proofs(store, n, "after 75 s idle, a residency pass every 30 s");
        stop.store(true, Ordering::Relaxed);
    });
    println!("  ({})", load());

    // The same, with the proof cache's pages touched every second as well.
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let started = Instant::now();
            let mut next = RESIDENCY_INTERVAL;
            let mut spanned = 0;
            let mut took = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                spanned = store.touch_proof_cache().unwrap();
                took = took.max(t.elapsed());
                if started.elapsed() >= next {
                    store.touch_proof_files(u64::MAX, &stop).unwrap();
                    next += RESIDENCY_INTERVAL;
                }
                std::thread::sleep(CACHE_TOUCH_INTERVAL);
            }
            println!(
                "  proof cache touch: {:.1} MiB spanned, slowest pass {:.1} ms",
                spanned as f64 / (1 << 20) as f64,
                took.as_secs_f64() * 1e3
            );
        });
        std::thread::sleep(RESIDENCY_IDLE);
        sample_proofs(
            store,
            n,
            "after 75 s idle, residency every 30 s and the proof cache touched every 1 s",
        );
        stop.store(true, Ordering::Relaxed);
    });
    println!("  ({})", load());
}

/// How often the third phase of [`residency_ab`] touches the proof cache's pages.
const CACHE_TOUCH_INTERVAL: Duration = Duration::from_secs(1);

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
