//! SIGKILL crash safety of the RocksDB engine + sequencer + signing guard.
//!
//! The parent test re-invokes this test binary as a writer child (`crash_child_writer`,
//! enabled by `CREDX_CRASH_CHILD`), which appends through the sequencer from 4 threads and
//! prints `ACK <index> <leaf hash hex>` (flushed) after each acknowledgement. The parent
//! SIGKILLs it at a random moment (including during start-up and WAL recovery), reopens the
//! store and checks:
//! * every acknowledged entry is present at its index with the same leaf hash;
//! * no entry is duplicated (each submission id appears once; indexes are contiguous);
//! * the tree hashes match a recomputation from the entries (`MemoryHashStore`);
//! * every persisted checkpoint verifies with the log key and is consistent with the next;
//! * the store opens in the signing-allowed state (a crash is not a restore).
//!
//! `CREDX_CRASH_ROUNDS` overrides the number of rounds (default 50).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credx_protocol::merkle::{leaf_hash, tree_hash, verify_consistency, Hash, MemoryHashStore};
use credx_protocol::note::NoteSigner;
use credx_storage::signing_guard::GuardState;
use credx_storage::{
    CheckpointStore, LogStore, NoopPlanner, RocksStorage, Sequencer, SequencerConfig, SigningGuard,
    StorageOptions,
};
use rand::Rng;

const ORIGIN: &str = "420281.credx";
const ENV_CHILD: &str = "CREDX_CRASH_CHILD";
const ENV_KEY: &str = "CREDX_CRASH_KEY";
const ENV_ROUND: &str = "CREDX_CRASH_ROUND";
const ENTRY_LEN: usize = 200;

/// The writer child. A no-op unless started by the parent with `CREDX_CRASH_CHILD=<dir>`.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(ENV_CHILD) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let key = NoteSigner::from_private_key_str(&std::env::var(ENV_KEY).unwrap()).unwrap();
    let round: u64 = std::env::var(ENV_ROUND).unwrap().parse().unwrap();
    let store = Arc::new(RocksStorage::open(dir.join("db"), &StorageOptions::default()).unwrap());
    let mut config = SequencerConfig::new(dir.join("checkpoints"));
    config.max_batch_entries = 256;
    config.max_batch_delay = Duration::from_millis(2);
    let seq = Sequencer::start(store, key, NoopPlanner, config).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let seq = &seq;
            s.spawn(move || {
                let mut i = 0u64;
                loop {
                    let mut tickets = Vec::new();
                    for _ in 0..64 {
                        let mut e = format!("crash/r{round}/t{t}/i{i}/").into_bytes();
                        e.resize(ENTRY_LEN, b'x');
                        i += 1;
                        let h = leaf_hash(&e);
                        tickets.push((h, seq.submit(e).unwrap()));
                    }
                    for (h, ticket) in tickets {
                        let ack = ticket.wait().unwrap();
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ACK {} {}", ack.index, h.to_hex()).unwrap();
                        out.flush().unwrap();
                    }
                }
            });
        }
    });
}

/// Submission id of an entry: `crash/r../t../i../`.
fn entry_id(entry: &[u8]) -> String {
    let text = String::from_utf8_lossy(entry);
    text.split('/').take(4).collect::<Vec<_>>().join("/")
}

/// What the parent has verified so far.
struct Verified {
    mem: MemoryHashStore,
    ids: HashSet<String>,
    checkpoint_size: u64,
    checkpoint_root: Hash,
    checkpoints: usize,
    acks: usize,
}

#[test]
fn crash_safety_sigkill_rounds() {
    if std::env::var(ENV_CHILD).is_ok() {
        return;
    }
    let rounds: u64 = std::env::var("CREDX_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let key = NoteSigner::generate(
        credx_protocol::note::KeyName::new(ORIGIN).unwrap(),
        &mut rand::rngs::OsRng,
    );
    let vkey = key.verifier_key();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::thread_rng();
    let mut v = Verified {
        mem: MemoryHashStore::new(),
        ids: HashSet::new(),
        checkpoint_size: 0,
        checkpoint_root: credx_protocol::merkle::EMPTY_ROOT,
        checkpoints: 0,
        acks: 0,
    };
    let started = Instant::now();
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV_CHILD, dir.path())
            .env(ENV_KEY, key.to_private_key_str())
            .env(ENV_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                // A line cut by the kill has no newline: it was not fully acknowledged output.
                if let (true, Some(rest)) = (line.ends_with('\n'), line.strip_prefix("ACK ")) {
                    let mut parts = rest.split_whitespace();
                    let index: u64 = parts.next().unwrap().parse().unwrap();
                    let hash = parts.next().unwrap().to_string();
                    acks.push((index, hash));
                }
                line.clear();
            }
            acks
        });
        let kill_after = Duration::from_millis(rng.gen_range(20..300));
        std::thread::sleep(kill_after);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        verify_round(dir.path(), &vkey, &mut v, &acks, round);
    }
    eprintln!(
        "crash test: {rounds} rounds in {:.1} s, {} entries, {} acknowledged, {} checkpoints verified",
        started.elapsed().as_secs_f64(),
        v.mem.size(),
        v.acks,
        v.checkpoints
    );
    assert!(v.acks > 0, "the child never acknowledged anything");
}

fn verify_round(
    dir: &std::path::Path,
    vkey: &credx_protocol::note::VerifierKey,
    v: &mut Verified,
    acks: &[(u64, String)],
    round: u64,
) {
    let store = RocksStorage::open(dir.join("db"), &StorageOptions::default()).unwrap();
    let size = match store.log_size(ORIGIN) {
        Ok(s) => s,
        // Killed before the log was ever registered.
        Err(_) => {
            assert!(acks.is_empty());
            return;
        }
    };
    assert!(size >= v.mem.size(), "round {round}: log shrank");
    // Already verified prefix is unchanged.
    let old = v.mem.size();
    assert_eq!(
        store.root_at(ORIGIN, old).unwrap(),
        v.mem.root(),
        "round {round}"
    );
    // New entries: unique submissions, hashes recomputed independently.
    let mut next = old;
    while next < size {
        let chunk = store.read_entries(ORIGIN, next, 4096).unwrap();
        assert!(!chunk.is_empty());
        for e in &chunk {
            assert_eq!(e.len(), ENTRY_LEN);
            assert!(
                v.ids.insert(entry_id(e)),
                "entry {} duplicated",
                entry_id(e)
            );
            v.mem.append(e);
        }
        next += chunk.len() as u64;
    }
    assert_eq!(v.mem.size(), size);
    assert_eq!(
        store.root_at(ORIGIN, size).unwrap(),
        v.mem.root(),
        "round {round}"
    );
    // Every acknowledged entry is there, with the same bytes (leaf hash).
    for (index, hash) in acks {
        assert!(
            *index < size,
            "round {round}: acknowledged index {index} lost (size {size})"
        );
        assert_eq!(
            &v.mem.hashes()[credx_protocol::merkle::stored_hash_index(0, *index) as usize].to_hex(),
            hash,
            "round {round}: index {index}"
        );
    }
    v.acks += acks.len();
    // Every new checkpoint verifies and is consistent with the previous one and with the
    // independently recomputed tree.
    let mut from = v.checkpoint_size + 1;
    loop {
        let cps = store.signed_checkpoints(ORIGIN, from, 1000).unwrap();
        if cps.is_empty() {
            break;
        }
        for cp in &cps {
            cp.verify(vkey).unwrap();
            let c = cp.checkpoint();
            assert_eq!(tree_hash(c.size, &v.mem).unwrap(), c.root);
            let proof = store
                .consistency_proof(ORIGIN, v.checkpoint_size, c.size)
                .unwrap();
            verify_consistency(
                v.checkpoint_size,
                &v.checkpoint_root,
                c.size,
                &c.root,
                &proof.hashes,
            )
            .unwrap();
            v.checkpoint_size = c.size;
            v.checkpoint_root = c.root;
            v.checkpoints += 1;
            from = c.size + 1;
        }
    }
    // A crash is not a restore.
    let guard = SigningGuard::open(&store, ORIGIN, &dir.join("checkpoints"), vkey).unwrap();
    assert_eq!(guard.state(), &GuardState::Allowed, "round {round}");
}
