//! County → city verified delta sync (issue 4, item 8), against its two baselines measured
//! in the same run: the raw quinn stream rate of the same entry bytes, and the receiver's
//! raw append rate of the same entries in deltas of the same size.
//!
//! Run: `cd /work/main && source scripts/env.sh && cargo bench --workspace --bench sync`
//! (`CREDX_BENCH_SYNC_ENTRIES` overrides the entry count, default 1,000,000;
//! `CREDX_BENCH_RUNS` the timed runs of each measure, default 3).
//!
//! Setup (not timed): synthetic licence entries of 天河区 (the county), generated once and
//! reused by every measure; the county's own log filled through its real sequencer in
//! batches of `max_delta_entries`, so it signs a checkpoint at every delta boundary.
//!
//! Measures, each on fresh RocksDB stores (production options, synced writes), median of
//! the runs (the syncs and quinn after one untimed warm-up run):
//! 1. sync: one `upload_once` from the county to an empty city over loopback QUIC with the
//!    federation's certificates, until the last cosignature is back;
//! 2. the same sessions' state machines pumped in-process (no QUIC), to separate the
//!    transport's share;
//! 3. quinn: the same entry bytes, one frame per entry, over one `FramedStream` between
//!    two transports with the same TLS setup; the receiver only reads (one warm-up run);
//! 4. raw append: `LogStore::append` of the same deltas to a fresh mirror log, no expected
//!    root, no index rows, no status changes;
//! 5. planned append: what `write_verified_delta` writes (leaf hashes, `EntryPlanner`
//!    index rows and status changes, expected root), per phase;
//! 6. CPU phases of the sync, without storage writes: the parent's delta verification
//!    (signature, proof, every entry, root), the child's reads + encoding, the parent's
//!    decoding, cosigning.
//!
//! Both sides share one 2-worker tokio runtime (the machine has two cores), as in the
//! integration tests; storage runs in `block_in_place` there, as in production.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

/// The daemon's allocator, so the figures are the daemon's (docs/decisions/0019).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{loopback, TestNode};
use credx_node::federation::test_federation::three_level::{CITY, COUNTY};
use credx_node::federation::TestFederation;
use credx_node::sync::{
    ReceiverSession, RosterAuthorizer, SharedRoster, SyncLimits, Unacknowledged, UploaderSession,
};
use credx_node::synthetic::SyntheticLicences;
use credx_node::transport::tls::{client_config, server_config};
use credx_node::transport::{Transport, TransportLimits};
use credx_protocol::delta::{DeltaVerifier, MirrorState, RosterJurisdiction};
use credx_protocol::entry::Entry;
use credx_protocol::merkle::{leaf_hash, Hash};
use credx_protocol::note::SignedCheckpoint;
use credx_protocol::record::Record;
use credx_protocol::wire::Message;
use credx_storage::{
    AppendBatch, BatchPlanner, EntryPlanner, IndexStore, LogRole, LogStore, PlanView, PlannedEntry,
    RocksStorage, Sequencer, SequencerConfig, StatusStore, Storage, StorageOptions,
};

/// 天河区's division: the county's own authorities.
const COUNTY_DIVISION: &str = "440106";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// The entry size of the benchmark.
const TARGET_ENTRY_BYTES: usize = 512;

/// Synthetic licence `i` of the county, padded to about [`TARGET_ENTRY_BYTES`] with ASCII in the
/// remarks field (备注 BZ, optional free text of up to 512 characters), so that the entries
/// are the size and still real, structurally valid licence entries.
fn padded_entry(licences: &SyntheticLicences, i: u64) -> Vec<u8> {
    let encode = |remarks: Option<String>| {
        let mut record = licences.record(i);
        if let Record::Licence(licence) = &mut record {
            licence.remarks = remarks;
        }
        Entry::for_record(
            COUNTY,
            "synthetic-load",
            1_780_000_000_000 + i,
            record,
            None,
        )
        .encode()
        .unwrap()
        .into_bytes()
    };
    let plain = encode(None);
    if plain.len() >= TARGET_ENTRY_BYTES {
        return plain;
    }
    // Pad by the shortfall, then correct once by the string's own framing overhead.
    let guess = TARGET_ENTRY_BYTES - plain.len();
    let first = encode(Some("x".repeat(guess)));
    let Some(text) = (guess + TARGET_ENTRY_BYTES).checked_sub(first.len()) else {
        return plain;
    };
    encode(Some("x".repeat(text)))
}

/// Entries `0..n` of the county, generated on both cores.
fn generate(n: u64) -> Vec<Vec<u8>> {
    let range = |from: u64, to: u64| {
        let licences = SyntheticLicences::new(COUNTY, COUNTY_DIVISION).unwrap();
        (from..to)
            .map(|i| padded_entry(&licences, i))
            .collect::<Vec<_>>()
    };
    let half = n / 2;
    std::thread::scope(|scope| {
        let low = scope.spawn(|| range(0, half));
        let high = range(half, n);
        let mut all = low.join().unwrap();
        all.extend(high);
        all
    })
}

/// Replaces the node's sequencer by one that closes a batch (and signs a checkpoint) every
/// `batch` entries, and appends `entries` through it.
fn fill_own_log(fed: &TestFederation, node: &mut TestNode, entries: &[Vec<u8>], batch: usize) {
    if let Some(default) = node.sequencer.take() {
        default.shutdown();
    }
    let mut config = SequencerConfig::new(node.dir.join("checkpoints"));
    config.max_batch_entries = batch;
    config.max_batch_delay = Duration::from_millis(5);
    let sequencer = Sequencer::start(
        Arc::clone(&node.store),
        fed.node(&node.origin).unwrap().checkpoint_signer().clone(),
        EntryPlanner::new(node.origin.as_str()),
        config,
    )
    .unwrap();
    for chunk in entries.chunks(batch) {
        sequencer
            .submit_many(chunk.to_vec())
            .unwrap()
            .wait()
            .unwrap();
    }
    node.sequencer = Some(sequencer);
}

/// Every signed checkpoint of `origin` in `store`, oldest first.
fn all_checkpoints(store: &dyn Storage, origin: &str) -> Vec<SignedCheckpoint> {
    let mut all = Vec::new();
    let mut from = 1;
    loop {
        let page = store.signed_checkpoints(origin, from, 256).unwrap();
        let Some(last) = page.last() else { break };
        from = last.checkpoint().size + 1;
        let full = page.len() == 256;
        all.extend(page);
        if !full {
            break;
        }
    }
    all
}

/// A transport of `origin` with the same TLS setup and admission rule as a sync node.
fn node_transport(fed: &TestFederation, origin: &str, listen: bool) -> Transport {
    let creds = fed.node(origin).unwrap();
    let roots = fed.roots().unwrap();
    let roster = Arc::new(SharedRoster::new(fed.roster().clone(), None));
    Transport::bind(
        loopback(),
        listen.then(|| server_config(creds.tls(), &roots).unwrap()),
        client_config(creds.tls(), &roots).unwrap(),
        Arc::new(RosterAuthorizer::new(origin, roster)),
        TransportLimits::default(),
    )
    .unwrap()
}

/// Quinn baseline: `entries` as one frame each on one stream, county → city; the city only
/// reads and acknowledges the count at the end. Returns one rate per timed run.
fn quinn_rates(
    rt: &tokio::runtime::Runtime,
    fed: &TestFederation,
    entries: &[Vec<u8>],
    runs: u64,
) -> Vec<f64> {
    rt.block_on(async {
        let server = node_transport(fed, CITY, true);
        let client = node_transport(fed, COUNTY, false);
        let addr = server.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let conn = server.accept().await.unwrap();
            while let Some(mut stream) = conn.accept_stream().await.unwrap() {
                let mut count = 0u64;
                let mut bytes = 0u64;
                while let Some(frame) = stream.recv.recv_frame().await.unwrap() {
                    count += 1;
                    bytes += frame.len() as u64;
                }
                let mut ack = count.to_be_bytes().to_vec();
                ack.extend_from_slice(&bytes.to_be_bytes());
                stream.send_frame(&ack).await.unwrap();
                stream.finish().await.unwrap();
            }
            server
        });
        let conn = client.connect(addr, CITY).await.unwrap();
        let total_bytes: u64 = entries.iter().map(|e| e.len() as u64).sum();
        let mut rates = Vec::new();
        for run in 0..=runs {
            // Run 0 is the warm-up, on the first eighth.
            let n = if run == 0 {
                entries.len() / 8
            } else {
                entries.len()
            }
            .max(1);
            let started = Instant::now();
            let mut stream = conn.open_stream().await.unwrap();
            for entry in &entries[..n] {
                stream.send_frame(entry).await.unwrap();
            }
            stream.finish().await.unwrap();
            let ack = stream.recv_frame().await.unwrap().unwrap();
            let elapsed = started.elapsed();
            let count = u64::from_be_bytes(ack[..8].try_into().unwrap());
            assert_eq!(count, n as u64);
            if run > 0 {
                let bytes = u64::from_be_bytes(ack[8..16].try_into().unwrap());
                assert_eq!(bytes, total_bytes);
                let r = rate(n as u64, elapsed);
                println!(
                    "  quinn run {run}: {n} frames in {:.3} s = {r:.0} entries/s",
                    elapsed.as_secs_f64()
                );
                rates.push(r);
            }
        }
        conn.close("bench done");
        client.wait_idle().await;
        let server = reader.await.unwrap();
        server.close("bench done");
        server.wait_idle().await;
        rates
    })
}

/// Time of each phase of one planned append run (what `write_verified_delta` does).
#[derive(Default, Debug, Clone, Copy)]
struct PlannedPhases {
    leaf_hashes: Duration,
    plan: Duration,
    status: Duration,
    write: Duration,
}

impl PlannedPhases {
    fn total(&self) -> Duration {
        self.leaf_hashes + self.plan + self.status + self.write
    }
}

/// Appends `entries` in deltas of `delta` to a fresh mirror log in `dir`. Raw: entries and
/// stored hashes only. Planned: plus index rows, status changes and the expected root
/// (`roots[i]` the root after delta `i`). Only the store calls (and planning) are timed.
fn append_run(
    dir: &Path,
    entries: &[Vec<u8>],
    delta: usize,
    roots: Option<&[Hash]>,
) -> PlannedPhases {
    let store = RocksStorage::open(dir, &StorageOptions::default()).unwrap();
    store.register_log(COUNTY, LogRole::Mirror).unwrap();
    let planner = EntryPlanner::new(COUNTY);
    let mut phases = PlannedPhases::default();
    let mut size = 0u64;
    for (i, chunk) in entries.chunks(delta).enumerate() {
        let batch = chunk.to_vec();
        let appended = match roots {
            None => {
                let t = Instant::now();
                let out = store
                    .append(
                        COUNTY,
                        size,
                        AppendBatch {
                            entries: batch,
                            ..AppendBatch::default()
                        },
                    )
                    .unwrap();
                phases.write += t.elapsed();
                out
            }
            Some(roots) => {
                let t0 = Instant::now();
                let leaves: Vec<Hash> = batch.iter().map(|e| leaf_hash(e)).collect();
                let t1 = Instant::now();
                let planned: Vec<PlannedEntry<'_>> = batch
                    .iter()
                    .zip(&leaves)
                    .map(|(bytes, leaf)| PlannedEntry {
                        bytes,
                        leaf_hash: *leaf,
                    })
                    .collect();
                let plan = planner
                    .plan(&planned, size, &PlanView::new(&store))
                    .unwrap();
                drop(planned);
                let t2 = Instant::now();
                let status = if plan.status.is_empty() {
                    None
                } else {
                    Some(store.plan_status_update(&plan.status).unwrap())
                };
                let t3 = Instant::now();
                let out = store
                    .append(
                        COUNTY,
                        size,
                        AppendBatch {
                            entries: batch,
                            leaf_hashes: Some(leaves),
                            expected_root: Some(roots[i]),
                            index: plan.index,
                            status,
                            cursor: None,
                            checkpoint: None,
                        },
                    )
                    .unwrap();
                let t4 = Instant::now();
                phases.leaf_hashes += t1 - t0;
                phases.plan += t2 - t1;
                phases.status += t3 - t2;
                phases.write += t4 - t3;
                out
            }
        };
        size = appended.new_size;
    }
    assert_eq!(size, entries.len() as u64);
    phases
}

/// The CPU of a sync without its storage writes, phase by phase, over the county's deltas.
#[derive(Default, Debug)]
struct CpuPhases {
    /// Child: `read_entries` from its store + encoding the `PushEntries` frames.
    read_encode: Duration,
    /// Parent: decoding the frames.
    decode: Duration,
    /// Parent: `DeltaVerifier` (checkpoint signature, consistency proof, every entry
    /// decoded and checked, root recomputed).
    verify: Duration,
    /// Parent: cosigning each checkpoint.
    cosign: Duration,
}

fn cpu_phases(fed: &TestFederation, county: &TestNode, batch: usize) -> CpuPhases {
    let store = county.store.as_ref();
    let key = fed.roster().checkpoint_key(COUNTY).unwrap().clone();
    let cosigner = fed.node(CITY).unwrap().cosigner().clone();
    let mut phases = CpuPhases::default();
    let mut state = MirrorState::empty();
    for checkpoint in all_checkpoints(store, COUNTY) {
        let (from, to) = (state.size, checkpoint.checkpoint().size);
        let proof = store.consistency_proof(COUNTY, from, to).unwrap().hashes;
        let mut frames = Vec::new();
        let t = Instant::now();
        let mut next = from;
        while next < to {
            let entries = store
                .read_entries(COUNTY, next, (to - next).min(batch as u64))
                .unwrap();
            let read = entries.len() as u64;
            let message = Message::PushEntries {
                origin: COUNTY.to_owned(),
                start: next,
                entries,
                end_of_batch_checkpoint: None,
            };
            frames.push(message.encode().unwrap());
            next += read;
        }
        phases.read_encode += t.elapsed();
        let t = Instant::now();
        let decoded: Vec<Message> = frames.iter().map(|f| Message::decode(f).unwrap()).collect();
        phases.decode += t.elapsed();
        let t = Instant::now();
        let check = RosterJurisdiction::new(fed.roster(), COUNTY);
        let mut verifier = DeltaVerifier::new(state, checkpoint, &proof, &key, check).unwrap();
        for message in &decoded {
            if let Message::PushEntries { start, entries, .. } = message {
                verifier.push_batch(*start, entries).unwrap();
            }
        }
        let delta = verifier.finish().unwrap();
        phases.verify += t.elapsed();
        let t = Instant::now();
        cosigner
            .cosign(delta.checkpoint.checkpoint(), 1_780_000_000)
            .unwrap();
        phases.cosign += t.elapsed();
        state = MirrorState::after(&delta);
    }
    assert_eq!(state.size, county.size(COUNTY));
    phases
}

/// The sync state machines of both ends driven in-process, message by message, from the
/// county's store into `city`'s: the sync without QUIC.
fn pump_session(county: &TestNode, city: &TestNode) {
    let unacked = Arc::new(Unacknowledged::default());
    let mut child = UploaderSession::new(Arc::clone(&county.ctx), CITY, [7; 16], unacked).unwrap();
    let mut parent = ReceiverSession::new(Arc::clone(&city.ctx), COUNTY);
    let mut to_parent = vec![child.start()];
    while !to_parent.is_empty() {
        let mut to_child = Vec::new();
        for message in std::mem::take(&mut to_parent) {
            to_child.extend(parent.handle(message).unwrap());
        }
        for message in to_child {
            to_parent.extend(child.handle(message).unwrap());
        }
    }
    assert!(child.is_done());
}

/// `runs` timed runs of `sync` into a fresh, empty city each; entries/s per run.
fn sync_runs(
    rt: &tokio::runtime::Runtime,
    fed: &TestFederation,
    work: &Path,
    name: &str,
    runs: u64,
    n: u64,
    sync: impl Fn(&TestNode),
) -> Vec<f64> {
    let mut rates = Vec::new();
    // Run 0 is the warm-up, as for quinn: the first session in a process ran 15-30 %
    // slower (its delta writes took ~40 % more CPU, measured per thread), a cost a node
    // that has been up for a while no longer pays. The raw appends run after the syncs, in
    // the same warm process.
    for run in 0..=runs {
        let dir = work.join(format!("city-{run}"));
        let city = rt.block_on(TestNode::start(fed, CITY, &dir, loopback()));
        let started = Instant::now();
        sync(&city);
        let elapsed = started.elapsed();
        assert_eq!(
            city.size(COUNTY),
            n,
            "the city mirrors the whole county log"
        );
        // How far the city's mirror indexer got while the session ran (it follows the
        // log and defers to sessions, docs/decisions/0013).
        let indexed = city.store.indexed_size(COUNTY).unwrap();
        let r = rate(n, elapsed);
        let label = if run == 0 {
            "warm-up".to_owned()
        } else {
            format!("run {run}")
        };
        println!(
            "  {name} {label}: {n} entries in {:.3} s = {r:.0} entries/s ({indexed} indexed by then)",
            elapsed.as_secs_f64()
        );
        if run > 0 {
            rates.push(r);
        }
        rt.block_on(city.stop());
        std::fs::remove_dir_all(&dir).unwrap();
    }
    rates
}

fn main() {
    let n = env_or("CREDX_BENCH_SYNC_ENTRIES", 1_000_000).max(2);
    let runs = env_or("CREDX_BENCH_RUNS", 3).max(1);
    let limits = SyncLimits::default();
    let delta = usize::try_from(limits.max_delta_entries).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let fed = TestFederation::three_level().unwrap();

    let t = Instant::now();
    let entries = generate(n);
    let bytes: u64 = entries.iter().map(|e| e.len() as u64).sum();
    let mean_size = bytes as f64 / n as f64;
    let (min, max) = entries.iter().fold((usize::MAX, 0), |(lo, hi), e| {
        (lo.min(e.len()), hi.max(e.len()))
    });
    println!(
        "generated {n} synthetic licence entries in {:.1} s: mean {mean_size:.0} B (min {min}, max {max}), {:.0} MB",
        t.elapsed().as_secs_f64(),
        bytes as f64 / 1e6
    );

    let mut county = rt.block_on(TestNode::start(
        &fed,
        COUNTY,
        &work.path().join("county"),
        loopback(),
    ));
    let t = Instant::now();
    fill_own_log(&fed, &mut county, &entries, delta);
    let total = county.size(COUNTY);
    assert_eq!(
        total, n,
        "the county log holds exactly the generated entries"
    );
    let checkpoints = all_checkpoints(county.store.as_ref(), COUNTY);
    println!(
        "county log filled through its sequencer in {:.1} s ({:.0} entries/s, batches of {delta}, {} checkpoints)",
        t.elapsed().as_secs_f64(),
        rate(n, t.elapsed()),
        checkpoints.len()
    );
    let roots: Vec<Hash> = checkpoints.iter().map(|c| c.checkpoint().root).collect();
    assert_eq!(checkpoints.len(), entries.chunks(delta).count());

    // 1. Sync over QUIC, each run into an empty city.
    let sync = sync_runs(&rt, &fed, work.path(), "sync over QUIC", runs, n, |city| {
        let report = rt.block_on(county.upload_to(city)).unwrap();
        assert_eq!(report.entries_sent, n);
    });
    // 2. The same sessions in-process.
    let in_process = sync_runs(&rt, &fed, work.path(), "sync in-process", runs, n, |city| {
        pump_session(&county, city);
    });

    // 3. Quinn.
    let quinn = quinn_rates(&rt, &fed, &entries, runs);

    // 4. and 5. Appends.
    let mut raw = Vec::new();
    let mut planned = Vec::new();
    let mut planned_phases = Vec::new();
    for run in 1..=runs {
        let dir = work.path().join(format!("raw-{run}"));
        let phases = append_run(&dir, &entries, delta, None);
        let r = rate(n, phases.total());
        println!(
            "  raw append run {run}: {:.3} s = {r:.0} entries/s",
            phases.total().as_secs_f64()
        );
        raw.push(r);
        std::fs::remove_dir_all(&dir).unwrap();
        let dir = work.path().join(format!("planned-{run}"));
        let phases = append_run(&dir, &entries, delta, Some(&roots));
        let r = rate(n, phases.total());
        println!(
            "  planned append run {run}: {:.3} s = {r:.0} entries/s {phases:?}",
            phases.total().as_secs_f64()
        );
        planned.push(r);
        planned_phases.push(phases);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // 6. CPU phases.
    let cpu = cpu_phases(&fed, &county, limits.push_batch_entries);

    let (sync, in_process, quinn, raw, planned) = (
        median(sync),
        median(in_process),
        median(quinn),
        median(raw),
        median(planned),
    );
    planned_phases.sort_by_key(PlannedPhases::total);
    let phases = planned_phases[planned_phases.len() / 2];
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!();
    println!(
        "sync bench: {n} entries, mean {mean_size:.0} B, deltas of {delta}, PushEntries of {}, median of {runs} runs",
        limits.push_batch_entries
    );
    println!("| measure | entries/s | MB/s | µs/entry |");
    println!("|---|---|---|---|");
    for (name, r) in [
        ("sync county → city over QUIC (upload_once)", sync),
        ("sync, same state machines in-process (no QUIC)", in_process),
        ("quinn stream, one frame per entry", quinn),
        ("raw append (LogStore::append, no index/status)", raw),
        ("planned append (index + status + expected root)", planned),
    ] {
        println!(
            "| {name} | {r:.0} | {:.1} | {:.2} |",
            r * mean_size / 1e6,
            1e6 / r
        );
    }
    println!();
    println!("planned append phases, µs/entry (median run): leaf hashes {:.2}, plan {:.2}, status {:.2}, write {:.2}",
        us(phases.leaf_hashes), us(phases.plan), us(phases.status), us(phases.write));
    println!(
        "sync CPU phases without writes, µs/entry: child read+encode {:.2}, parent decode {:.2}, verify {:.2}, cosign {:.3}",
        us(cpu.read_encode), us(cpu.decode), us(cpu.verify), us(cpu.cosign)
    );
    println!();
    println!("sync / quinn          = {:.1} %", 100.0 * sync / quinn);
    println!(
        "sync / raw append     = {:.1} %  (target ≥ 50 %)",
        100.0 * sync / raw
    );
    println!("sync / planned append = {:.1} %", 100.0 * sync / planned);
    println!("sync / in-process     = {:.1} %", 100.0 * sync / in_process);
    println!(
        "sync rate target ≥ 100,000 entries/s: {}",
        if sync >= 100_000.0 { "met" } else { "missed" }
    );

    rt.block_on(county.stop());
}
