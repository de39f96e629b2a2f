//! Status-map proofs from RocksDB: size and latency at 100,000 subjects (and 1,000,000 with
//! `CREDX_BENCH_1E6_SUBJECTS=1`), plus the cost of building the map through appends.
//!
//! `source scripts/env.sh && CREDX_BENCH_1E6_SUBJECTS=1 cargo bench --workspace --bench status`
//!
//! A proof reads the nodes on the subject's path 32 depths per `multi_get`
//! (`credx_protocol::statusmap::PROOF_READ_DEPTHS`): one call for almost every proof.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use credx_protocol::entry::{EntryRef, SubjectId};
use credx_protocol::merkle::leaf_hash;
use credx_protocol::statusmap::{verify_absence, verify_status, SubjectStatus};
use credx_storage::{AppendBatch, LogRole, LogStore, RocksStorage, StatusStore, StorageOptions};
use criterion::Criterion;
use rand::Rng;

const ORIGIN: &str = "420281.credx";
const BATCH: u64 = 4096;
const SAMPLES: usize = 10_000;

fn subject(n: u64) -> SubjectId {
    SubjectId::Organisation(format!("91420281MA{n:08}"))
}

/// One entry per subject; each entry gives its subject a status referring to it.
fn build(store: &RocksStorage, subjects: u64) {
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    let start = Instant::now();
    let mut size = 0;
    while size < subjects {
        let count = BATCH.min(subjects - size);
        let mut entries = Vec::with_capacity(count as usize);
        let mut updates = Vec::with_capacity(count as usize);
        for n in size..size + count {
            let mut e = format!("subject/{n}/").into_bytes();
            e.resize(512, b'x');
            let mut status = SubjectStatus::new(subject(n));
            status.add_record(EntryRef {
                origin: ORIGIN.into(),
                index: n,
                leaf_hash: leaf_hash(&e),
            });
            updates.push((subject(n).map_key(), Some(status.encode().unwrap())));
            entries.push(e);
        }
        let status = store.plan_status_update(&updates).unwrap();
        size = store
            .append(
                ORIGIN,
                size,
                AppendBatch {
                    entries,
                    status: Some(status),
                    ..AppendBatch::default()
                },
            )
            .unwrap()
            .new_size;
    }
    store.flush().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "status map of {subjects} subjects built in {secs:.1} s ({:.0} subjects/s incl. entries, unsynced)",
        subjects as f64 / secs
    );
}

fn run(c: &mut Criterion, subjects: u64) {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions {
        sync_writes: false,
        ..StorageOptions::default()
    };
    let store = RocksStorage::open(dir.path(), &opts).unwrap();
    build(&store, subjects);
    let root = store.status_root().unwrap();
    let mut rng = rand::thread_rng();
    let mut lat = Vec::with_capacity(SAMPLES);
    let mut sizes = Vec::with_capacity(SAMPLES);
    for k in 0..SAMPLES {
        // Half present, half absent subjects.
        let n = if k % 2 == 0 {
            rng.gen_range(0..subjects)
        } else {
            subjects + rng.gen_range(0..subjects)
        };
        let key = subject(n).map_key();
        let t = Instant::now();
        let proof = store.status_proof(&key).unwrap();
        lat.push(t.elapsed());
        sizes.push(proof.encoded_len());
        if k % 1000 == 0 {
            if n < subjects {
                let status =
                    SubjectStatus::decode(&store.subject_status(&key).unwrap().unwrap()).unwrap();
                verify_status(&root, &status, &proof).unwrap();
            } else {
                verify_absence(&root, &key, &proof).unwrap();
            }
        }
    }
    lat.sort();
    sizes.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e6;
    let mean_size = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    println!(
        "status proof at {subjects} subjects: latency p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs; encoded size mean {mean_size:.0} B, max {} B",
        p(0.5),
        p(0.99),
        p(0.999),
        sizes[sizes.len() - 1]
    );
    c.bench_function(&format!("status_proof/{subjects}"), |b| {
        b.iter(|| {
            store
                .status_proof(&subject(rng.gen_range(0..2 * subjects)).map_key())
                .unwrap()
        })
    });
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    run(&mut c, 100_000);
    if std::env::var("CREDX_BENCH_1E6_SUBJECTS").is_ok() {
        run(&mut c, 1_000_000);
    }
    c.final_summary();
}
