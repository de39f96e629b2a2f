//! Status query with proofs (issue 5 target: p99 < 5 ms on a node with 10^7 entries): what
//! `GET /v1/subjects/{code}/bundle` computes, through the handler's own code path
//! ([`credx_node::api::bundle::bundle_for`] + the JSON it sends), without HTTP.
//!
//! `source scripts/env.sh && cargo bench --workspace --bench status_query` (10^6 entries)
//! `CREDX_BENCH_1E7=1 CREDX_BENCH_FIXTURES=~/.cache/credx/bench cargo bench --workspace --bench status_query`
//!
//! Fixture (built once, like `storage/benches/proofs.rs`: into a temp dir, or into
//! `$CREDX_BENCH_FIXTURES/status_query/<n>` and reused by later runs): the own log of the
//! province `440000.credx` with `n` entries of 512 B appended in batches of 4096
//! (`sync_writes = false`: durability is not measured and it saves minutes), one subject
//! per 10 entries (`CREDX_BENCH_ENTRIES_PER_SUBJECT`) whose status refers to its entry, so
//! 10^5 subjects at 10^6 entries and 10^6 at 10^7, then one full compaction
//! (`CREDX_BENCH_COMPACT=1` compacts a reused fixture again). Keys come from fixed seeds,
//! so the checkpoints in a reused fixture stay valid.
//!
//! Per size: the node's real sequencer and `ApiState` with a roster (national → province);
//! one request anchors the status root, the national node's cosignature is added to the
//! checkpoint covering it (what the next upload would bring), then 10,000 queries for random
//! subjects, half of them listed and half unknown (absence proofs), each timed on its own:
//! subject status + status proof under the anchored root + tlog-proof of the anchor against
//! the latest cosigned checkpoint + the bundle's JSON. Every 500th bundle is verified
//! offline (not timed). Baselines, interleaved with the queries (one of each per round):
//! the raw inclusion proof from the store (`LogStore::inclusion_proof` at a random index),
//! and the status proof alone. Last, the cost a national-scale roster (~1 MB, embedded in
//! every bundle) would add. The load average is printed before and after, because the
//! machine is shared.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use credx_node::api::bundle::{bundle_for, BundleBuildError};
use credx_node::api::{ApiState, TokenStore};
use credx_node::sync::SharedRoster;
use credx_protocol::bundle::verify_bundle;
use credx_protocol::entry::{EntryRef, SubjectId};
use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::merkle::leaf_hash;
use credx_protocol::note::{CosignerKey, KeyName, NoteSigner};
use credx_protocol::roster::{JurisdictionSpec, NodeLevel, Roster, RosterNode, SignedRoster};
use credx_protocol::statusmap::SubjectStatus;
use credx_storage::{
    AnchorPolicy, AppendBatch, CheckpointStore, EntryPlanner, LogRole, LogStore, RocksStorage,
    Sequencer, SequencerConfig, StatusStore, StorageOptions,
};
use rand::{Rng, RngCore, SeedableRng};

const ORIGIN: &str = "440000.credx";
const NATIONAL: &str = "cn.credx";
const ENTRY: usize = 512;
const BATCH: u64 = 4096;
const SAMPLES: usize = 10_000;

fn subject(n: u64) -> SubjectId {
    SubjectId::Organisation(format!("91440000MA{n:08}"))
}

fn seeded(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

fn name(origin: &str) -> KeyName {
    KeyName::new(origin).unwrap()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

fn entries_per_subject() -> u64 {
    std::env::var("CREDX_BENCH_ENTRIES_PER_SUBJECT")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(10)
}

/// The province's and the national node's keys (fixed seeds) and a roster of the two.
struct Federation {
    root: NoteSigner,
    province_log: NoteSigner,
    national_cosigner: CosignerKey,
    roster: SignedRoster,
}

fn federation() -> Federation {
    let root = NoteSigner::generate(name("credx-root"), &mut seeded(1));
    let province_log = NoteSigner::generate(name(ORIGIN), &mut seeded(2));
    let province_cosigner = CosignerKey::generate(name(ORIGIN), &mut seeded(3));
    let national_log = NoteSigner::generate(name(NATIONAL), &mut seeded(4));
    let national_cosigner = CosignerKey::generate(name(NATIONAL), &mut seeded(5));
    let node =
        |origin: &str, level, parent: Option<&str>, j, log: &NoteSigner, co: &CosignerKey| {
            RosterNode {
                origin: origin.to_owned(),
                level,
                parent: parent.map(str::to_owned),
                jurisdiction: vec![JurisdictionSpec::Division(j)],
                checkpoint_key: log.verifier_key().to_string(),
                cosigner_key: co.verifier_key().to_string(),
                tls_fingerprint: None,
            }
        };
    let now = unix_now();
    let roster = Roster {
        version: 1,
        issued_at: now - 60,
        expires_at: now + 86_400,
        federation: "credx-bench".into(),
        nodes: vec![
            node(
                NATIONAL,
                NodeLevel::National,
                None,
                Jurisdiction::National,
                &national_log,
                &national_cosigner,
            ),
            node(
                ORIGIN,
                NodeLevel::Province,
                Some(NATIONAL),
                Jurisdiction::of(DivisionCode::parse("440000").unwrap()),
                &province_log,
                &province_cosigner,
            ),
        ],
    };
    let roster = SignedRoster::sign(&roster, &root).unwrap();
    Federation {
        root,
        province_log,
        national_cosigner,
        roster,
    }
}

/// Opens (building if needed) the province's log of `n` entries with its status map.
fn fixture(dir: &Path, n: u64) -> Arc<RocksStorage> {
    let opts = StorageOptions {
        sync_writes: false,
        ..StorageOptions::default()
    };
    let store = RocksStorage::open(dir.join("db"), &opts).unwrap();
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    let mut size = store.log_size(ORIGIN).unwrap();
    if size >= n {
        println!("fixture {n}: reusing {} (size {size})", dir.display());
        if std::env::var("CREDX_BENCH_COMPACT").is_ok_and(|v| v == "1") {
            compact(&store, n);
        }
        return Arc::new(store);
    }
    let every = entries_per_subject();
    let start = Instant::now();
    let mut rng = seeded(size);
    while size < n {
        let count = BATCH.min(n - size);
        let mut entries = Vec::with_capacity(count as usize);
        let mut updates = Vec::new();
        for index in size..size + count {
            let mut e = vec![0u8; ENTRY];
            rng.fill_bytes(&mut e);
            e[..8].copy_from_slice(&index.to_be_bytes());
            if index % every == 0 {
                let s = subject(index / every);
                let mut status = SubjectStatus::new(s.clone());
                status.add_record(EntryRef {
                    origin: ORIGIN.into(),
                    index,
                    leaf_hash: leaf_hash(&e),
                });
                updates.push((s.map_key(), Some(status.encode().unwrap())));
            }
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
        "fixture {n}: built in {secs:.1} s ({:.0} entries/s, {} subjects, unsynced)",
        n as f64 / secs,
        n.div_ceil(every)
    );
    compact(&store, n);
    Arc::new(store)
}

/// A full compaction, as a node that has run for a while has had: the measures are then not
/// about the level layout the bulk load happened to leave.
fn compact(store: &RocksStorage, n: u64) {
    let t = Instant::now();
    store.compact();
    println!(
        "fixture {n}: full compaction in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{label}: n={} mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        samples.len(),
        us(mean),
        us(at(0.50)),
        us(at(0.99)),
        us(at(0.999)),
        us(samples[samples.len() - 1])
    );
}

fn run(n: u64, fixtures: Option<&Path>) {
    let temp = tempfile::tempdir().unwrap();
    let dir = match fixtures {
        Some(base) => base.join("status_query").join(n.to_string()),
        None => temp.path().to_owned(),
    };
    std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
    let fed = federation();
    let store = fixture(&dir, n);
    let subjects = store
        .log_size(ORIGIN)
        .unwrap()
        .min(n)
        .div_ceil(entries_per_subject());
    let signer = NoteSigner::from_private_key_str(&fed.province_log.to_private_key_str()).unwrap();
    let mut config = SequencerConfig::new(dir.join("checkpoints"));
    config.max_batch_delay = Duration::from_millis(2);
    // No periodic anchors: the queries must find the log exactly as the first one left it.
    config.anchor = AnchorPolicy {
        every_entries: None,
        every: None,
    };
    let sequencer = Sequencer::start(
        Arc::clone(&store),
        signer,
        EntryPlanner::new(ORIGIN),
        config,
    )
    .unwrap();
    let verified = fed
        .roster
        .verify(&fed.root.verifier_key(), unix_now())
        .unwrap();
    let state = ApiState::new(
        ORIGIN.to_owned(),
        store.clone(),
        Arc::new(sequencer),
        Arc::new(TokenStore::new()),
    )
    .with_roster(Arc::new(SharedRoster::new(verified, None)));

    // Anchor the root (the first request), then cosign as the national node would.
    match bundle_for(&state, &subject(0)) {
        Err(BundleBuildError::AwaitingCosignature { .. }) | Ok(_) => {}
        Err(e) => panic!("first request: {e}"),
    }
    let cp = store.latest_signed_checkpoint(ORIGIN).unwrap().unwrap();
    let cosignature = fed
        .national_cosigner
        .cosign(cp.checkpoint(), unix_now())
        .unwrap();
    store
        .add_cosignature(
            ORIGIN,
            cp.checkpoint().size,
            &cosignature.to_note_signature().to_line(),
        )
        .unwrap();
    let root_key = fed.root.verifier_key();
    let size = cp.checkpoint().size;
    println!(
        "size {n}: log {size} entries, {subjects} subjects, load average before {}",
        load_average()
    );

    // The three measures interleaved, one of each per round, so that page-cache warmth and
    // the machine's load fall on all of them alike.
    let mut rng = rand::thread_rng();
    let mut query = Vec::with_capacity(SAMPLES);
    let mut inclusion = Vec::with_capacity(SAMPLES);
    let mut status_proof = Vec::with_capacity(SAMPLES);
    let mut bytes = 0usize;
    for k in 0..SAMPLES {
        let listed = k.is_multiple_of(2);
        let s = if listed {
            subject(rng.gen_range(0..subjects))
        } else {
            subject(subjects + rng.gen_range(0..subjects))
        };
        let t = Instant::now();
        let bundle = bundle_for(&state, &s).unwrap();
        let json = bundle.to_json().unwrap();
        query.push(t.elapsed());
        bytes += json.len();
        if k % 500 == 0 {
            let proven = verify_bundle(&bundle, &root_key, None, unix_now()).unwrap();
            assert_eq!(proven.status.is_some(), listed);
        }

        let index = rng.gen_range(0..size);
        let t = Instant::now();
        let proof = store.inclusion_proof(ORIGIN, index, size).unwrap();
        inclusion.push(t.elapsed());
        assert!(!proof.hashes.is_empty());

        let key = subject(rng.gen_range(0..2 * subjects)).map_key();
        let t = Instant::now();
        let proof = store.status_proof(&key).unwrap();
        status_proof.push(t.elapsed());
        assert!(proof.encoded_len() > 0);
    }
    assert_eq!(
        store.log_size(ORIGIN).unwrap(),
        size,
        "queries must not append"
    );
    println!(
        "size {n}: bundle JSON mean {} B; load average after {}",
        bytes / SAMPLES,
        load_average()
    );
    percentiles(&format!("status query with proofs ({n} entries)"), query);
    percentiles(
        &format!("baseline: raw inclusion proof ({n} entries)"),
        inclusion,
    );
    percentiles(
        &format!("status proof alone ({subjects} subjects)"),
        status_proof,
    );
    national_roster_cost(&bundle_for(&state, &subject(0)).unwrap());
}

/// What a national-scale roster would add to every answer: the same bundle with a roster
/// text of 3,300 node lines of the real line length plus a 64-hex TLS pin (~1 MB), built
/// and encoded the way `assemble` and the handler do (copy of the signed note's bytes,
/// UTF-8 check and copy, pretty JSON). Not a valid roster: only its size matters here.
fn national_roster_cost(bundle: &credx_protocol::bundle::Bundle) {
    let line = bundle
        .roster
        .lines()
        .find(|l| l.starts_with("node "))
        .unwrap_or("node")
        .replace("tls=-", &format!("tls={}", "ab".repeat(32)));
    let note = format!("{line}\n").repeat(3_300).into_bytes();
    let mut samples = Vec::with_capacity(200);
    let mut size = 0;
    for _ in 0..200 {
        let t = Instant::now();
        let mut b = bundle.clone();
        b.roster = String::from_utf8_lossy(&note.clone()).into_owned();
        size = b.to_json().unwrap().len();
        samples.push(t.elapsed());
    }
    percentiles(
        &format!("bundle JSON with a national-scale roster ({size} B)"),
        samples,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no other arguments.
    let fixtures = std::env::var_os("CREDX_BENCH_FIXTURES").map(std::path::PathBuf::from);
    run(1_000_000, fixtures.as_deref());
    if std::env::var("CREDX_BENCH_1E7").is_ok_and(|v| v == "1") {
        run(10_000_000, fixtures.as_deref());
    }
}
