//! LogStore on real RocksDB: append / read / roots / proofs, CAS, reopen.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use credx_protocol::merkle::{
    root_of_leaves, tree_hash, verify_consistency, verify_inclusion, MemoryHashStore, EMPTY_ROOT,
};
use credx_storage::{AppendBatch, LogRole, LogStore, RocksStorage, StorageError, StorageOptions};

#[test]
fn append_read_and_roots_match_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    assert_eq!(store.root_at(ORIGIN, 0).unwrap(), EMPTY_ROOT);

    let mut mem = MemoryHashStore::new();
    let mut all = Vec::new();
    let mut size = 0;
    // Uneven batch sizes cross many perfect-subtree boundaries.
    for (b, n) in [1u64, 2, 5, 64, 127, 300, 1, 1000].iter().enumerate() {
        let new = entries(ORIGIN, size..size + n);
        for e in &new {
            mem.append(e);
        }
        all.extend(new.clone());
        let out = store.append(ORIGIN, size, batch(new)).unwrap();
        assert_eq!(out.first_index, size, "batch {b}");
        size += n;
        assert_eq!(out.new_size, size);
        assert_eq!(out.root, mem.root());
        assert_eq!(out.root, root_of_leaves(&leaves(&all)));
    }
    assert_eq!(store.log_size(ORIGIN).unwrap(), size);

    // Every past root, and the exact bytes back.
    let all_leaves = leaves(&all);
    for s in (0..=size).step_by(37) {
        assert_eq!(
            store.root_at(ORIGIN, s).unwrap(),
            root_of_leaves(&all_leaves[..s as usize])
        );
    }
    let read = store.read_entries(ORIGIN, 0, size).unwrap();
    assert_eq!(read, all);
    assert_eq!(store.read_entries(ORIGIN, 100, 7).unwrap(), all[100..107]);
    assert!(store.read_entries(ORIGIN, size, 10).unwrap().is_empty());
    assert_eq!(store.leaf_hash(ORIGIN, 42).unwrap(), all_leaves[42]);
}

#[test]
fn inclusion_and_consistency_proofs_verify_at_every_past_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let all = filled(&store, ORIGIN, 300, 17);
    let all_leaves = leaves(&all);
    for size in [1u64, 2, 3, 7, 8, 9, 64, 100, 255, 256, 257, 300] {
        let root = store.root_at(ORIGIN, size).unwrap();
        for index in (0..size).step_by(7).chain([size - 1]) {
            let p = store.inclusion_proof(ORIGIN, index, size).unwrap();
            verify_inclusion(&all_leaves[index as usize], index, size, &p.hashes, &root).unwrap();
        }
        for old in (0..=size).step_by(11).chain([size]) {
            let p = store.consistency_proof(ORIGIN, old, size).unwrap();
            let old_root = store.root_at(ORIGIN, old).unwrap();
            verify_consistency(old, &old_root, size, &root, &p.hashes).unwrap();
        }
    }
    // Wrong leaf fails.
    let p = store.inclusion_proof(ORIGIN, 5, 300).unwrap();
    let root = store.root_at(ORIGIN, 300).unwrap();
    assert!(verify_inclusion(&all_leaves[6], 5, 300, &p.hashes, &root).is_err());
}

#[test]
fn requests_beyond_the_log_are_precise_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    filled(&store, ORIGIN, 10, 10);
    assert!(matches!(
        store.root_at(ORIGIN, 11),
        Err(StorageError::BeyondLogSize {
            requested: 11,
            size: 10,
            ..
        })
    ));
    assert!(matches!(
        store.inclusion_proof(ORIGIN, 3, 11),
        Err(StorageError::BeyondLogSize { .. })
    ));
    assert!(matches!(
        store.inclusion_proof(ORIGIN, 10, 10),
        Err(StorageError::Merkle { .. })
    ));
    assert!(matches!(
        store.read_entries(ORIGIN, 11, 1),
        Err(StorageError::BeyondLogSize { .. })
    ));
    assert!(matches!(
        store.leaf_hash(ORIGIN, 10),
        Err(StorageError::BeyondLogSize { .. })
    ));
    assert!(matches!(
        store.log_size("nobody.credx"),
        Err(StorageError::UnknownLog { .. })
    ));
}

#[test]
fn size_cas_mismatch_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let all = filled(&store, ORIGIN, 20, 20);
    let root = store.root_at(ORIGIN, 20).unwrap();
    let err = store
        .append(ORIGIN, 19, batch(entries("other", 0..5)))
        .unwrap_err();
    assert_eq!(
        err,
        StorageError::SizeMismatch {
            origin: ORIGIN.into(),
            expected: 19,
            actual: 20
        }
    );
    assert_eq!(store.log_size(ORIGIN).unwrap(), 20);
    assert_eq!(store.root_at(ORIGIN, 20).unwrap(), root);
    assert_eq!(store.read_entries(ORIGIN, 0, 100).unwrap(), all);
    // Nothing was written behind the size either: the next append lands at 20 with the
    // right root.
    let more = entries(ORIGIN, 20..25);
    let out = store.append(ORIGIN, 20, batch(more.clone())).unwrap();
    let mut expect = all.clone();
    expect.extend(more);
    assert_eq!(out.root, root_of_leaves(&leaves(&expect)));
}

#[test]
fn expected_root_mismatch_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(MIRROR, LogRole::Mirror).unwrap();
    let good = entries(MIRROR, 0..10);
    let good_root = root_of_leaves(&leaves(&good));
    let err = store
        .append(
            MIRROR,
            0,
            AppendBatch {
                entries: entries("tampered", 0..10),
                expected_root: Some(good_root),
                ..AppendBatch::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, StorageError::RootMismatch { size: 10, .. }));
    assert_eq!(store.log_size(MIRROR).unwrap(), 0);
    let out = store
        .append(
            MIRROR,
            0,
            AppendBatch {
                entries: good,
                expected_root: Some(good_root),
                ..AppendBatch::default()
            },
        )
        .unwrap();
    assert_eq!(out.root, good_root);
}

#[test]
fn leaf_hashes_given_with_a_batch_are_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(MIRROR, LogRole::Mirror).unwrap();
    let good = entries(MIRROR, 0..300);
    let good_leaves = leaves(&good);
    let good_root = root_of_leaves(&good_leaves);
    let with = |leaf_hashes: Vec<_>| AppendBatch {
        entries: good.clone(),
        leaf_hashes: Some(leaf_hashes),
        expected_root: Some(good_root),
        ..AppendBatch::default()
    };
    // One hash short: refused before anything is read or written.
    let err = store
        .append(MIRROR, 0, with(good_leaves[1..].to_vec()))
        .unwrap_err();
    assert!(
        matches!(&err, StorageError::InvalidBatch { reason, .. } if reason.contains("299 leaf hashes for 300 entries")),
        "{err}"
    );
    // Hashes that do not build the expected root: refused, nothing written.
    let mut wrong = good_leaves.clone();
    wrong.swap(0, 1);
    let err = store.append(MIRROR, 0, with(wrong)).unwrap_err();
    assert!(matches!(err, StorageError::RootMismatch { size: 300, .. }));
    assert_eq!(store.log_size(MIRROR).unwrap(), 0);
    // The right ones: the same log as if the engine had hashed the entries itself.
    let out = store.append(MIRROR, 0, with(good_leaves.clone())).unwrap();
    assert_eq!(out.root, good_root);
    assert_eq!(store.read_entries(MIRROR, 0, 300).unwrap(), good);
    for (i, leaf) in good_leaves.iter().enumerate() {
        assert_eq!(store.leaf_hash(MIRROR, i as u64).unwrap(), *leaf);
    }
    let proof = store.inclusion_proof(MIRROR, 123, 300).unwrap();
    verify_inclusion(&good_leaves[123], 123, 300, &proof.hashes, &good_root).unwrap();
}

#[test]
fn invalid_batches_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    assert!(matches!(
        store.append(ORIGIN, 0, batch(vec![])),
        Err(StorageError::InvalidBatch { .. })
    ));
    assert!(matches!(
        store.append(ORIGIN, 0, batch(vec![vec![0u8; 64 * 1024 + 1]])),
        Err(StorageError::EntryTooLarge { index: 0, .. })
    ));
    assert!(matches!(
        store.register_log(ORIGIN, LogRole::Mirror),
        Err(StorageError::RoleConflict { .. })
    ));
    assert_eq!(store.log_size(ORIGIN).unwrap(), 0);
}

#[test]
fn reopen_keeps_logs_entries_and_roots() {
    let dir = tempfile::tempdir().unwrap();
    let (all, root, mirror_root) = {
        let store = open(dir.path());
        let all = filled(&store, ORIGIN, 500, 64);
        store.register_log(MIRROR, LogRole::Mirror).unwrap();
        let m = store
            .append(MIRROR, 0, batch(entries(MIRROR, 0..3)))
            .unwrap();
        (all, store.root_at(ORIGIN, 500).unwrap(), m.root)
    };
    let store = open(dir.path());
    let logs = store.logs().unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].origin, ORIGIN);
    assert_eq!(logs[0].role, LogRole::Own);
    assert_eq!(logs[0].size, 500);
    assert_eq!(logs[1].role, LogRole::Mirror);
    assert_eq!(store.root_at(ORIGIN, 500).unwrap(), root);
    assert_eq!(store.root_at(MIRROR, 3).unwrap(), mirror_root);
    let mut read = Vec::new();
    while (read.len() as u64) < 500 {
        read.extend(store.read_entries(ORIGIN, read.len() as u64, 128).unwrap());
    }
    assert_eq!(read, all);
    // And it keeps appending where it left off.
    let out = store
        .append(ORIGIN, 500, batch(entries(ORIGIN, 500..501)))
        .unwrap();
    assert_eq!(out.new_size, 501);
}

#[test]
fn concurrent_writers_never_fork_the_log() {
    // Several threads race to append at the size they last saw; the CAS lets exactly one
    // win each position, so the log is the same as a sequential one.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let store = store.clone();
            s.spawn(move || {
                let mut done = 0;
                while done < 50 {
                    let size = store.log_size(ORIGIN).unwrap();
                    let e = entry(&format!("t{t}"), done);
                    match store.append(ORIGIN, size, batch(vec![e])) {
                        Ok(_) => done += 1,
                        Err(StorageError::SizeMismatch { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    let all = store.read_entries(ORIGIN, 0, 1000).unwrap();
    assert_eq!(all.len(), 200);
    assert_eq!(
        store.root_at(ORIGIN, 200).unwrap(),
        root_of_leaves(&leaves(&all))
    );
}

/// Proofs, roots and leaf hashes answered through the proof cache of upper tree levels are
/// the ones the stored hashes give: with the cache off, with a budget so small that the
/// cached level is raised many times while two logs grow, after a reopen (empty cache,
/// filled lazily) and after warming it.
#[test]
fn proof_cache_never_changes_an_answer() {
    let with_budget = |path: &std::path::Path, bytes: usize| {
        let opts = StorageOptions {
            proof_cache_bytes: bytes,
            ..StorageOptions::default()
        };
        RocksStorage::open(path, &opts).unwrap()
    };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let (n, budget) = (1500u64, 2048);
    let plain = with_budget(dirs[0].path(), 0);
    let small = with_budget(dirs[1].path(), budget);
    let mut mem = MemoryHashStore::new();
    for store in [&plain, &small] {
        store.register_log(MIRROR, LogRole::Mirror).unwrap();
        filled(store, ORIGIN, n, 37);
        store
            .append(MIRROR, 0, batch(entries(MIRROR, 0..700)))
            .unwrap();
    }
    for e in entries(ORIGIN, 0..n) {
        mem.append(&e);
    }
    let info = small.proof_cache_info(ORIGIN).unwrap();
    assert!(
        info.min_level > 0,
        "a 2 KiB budget must have raised the level"
    );
    assert!(info.allocated_bytes_all_logs <= budget, "{info:?}");
    assert_eq!(plain.proof_cache_info(ORIGIN).unwrap().filled, 0);

    let check = |store: &RocksStorage| {
        for size in [1u64, 2, 63, 64, 65, 1000, 1024, 1499, n] {
            let root = store.root_at(ORIGIN, size).unwrap();
            assert_eq!(root, plain.root_at(ORIGIN, size).unwrap());
            assert_eq!(root, tree_hash(size, &mem).unwrap());
            for index in (0..size).step_by(13).chain([size - 1]) {
                let p = store.inclusion_proof(ORIGIN, index, size).unwrap();
                assert_eq!(p, plain.inclusion_proof(ORIGIN, index, size).unwrap());
                let leaf = store.leaf_hash(ORIGIN, index).unwrap();
                verify_inclusion(&leaf, index, size, &p.hashes, &root).unwrap();
            }
            for old in (1..=size).step_by(97) {
                let p = store.consistency_proof(ORIGIN, old, size).unwrap();
                assert_eq!(p, plain.consistency_proof(ORIGIN, old, size).unwrap());
            }
        }
    };
    check(&small);
    for index in (0..700).step_by(7) {
        assert_eq!(
            small.inclusion_proof(MIRROR, index, 700).unwrap(),
            plain.inclusion_proof(MIRROR, index, 700).unwrap()
        );
    }
    // Default budget: everything cached from level 0 on (small logs fit).
    let dir = tempfile::tempdir().unwrap();
    let full = with_budget(dir.path(), StorageOptions::default().proof_cache_bytes);
    filled(&full, ORIGIN, n, 100);
    assert_eq!(full.proof_cache_info(ORIGIN).unwrap().min_level, 0);
    check(&full);
    drop(full);
    // Reopened: slots allocated, nothing filled until proofs or warming fill them.
    let full = with_budget(dir.path(), StorageOptions::default().proof_cache_bytes);
    assert_eq!(full.proof_cache_info(ORIGIN).unwrap().filled, 0);
    check(&full);
    let warmed = full.warm_proof_cache(ORIGIN).unwrap();
    let info = full.proof_cache_info(ORIGIN).unwrap();
    assert!(warmed > 0 && info.filled >= warmed, "{warmed} {info:?}");
    assert_eq!(full.warm_proof_cache(ORIGIN).unwrap(), 0);
    check(&full);
    // Appends after warming keep the cache consistent.
    full.append(ORIGIN, n, batch(entries(ORIGIN, n..n + 77)))
        .unwrap();
    mem_extend_and_compare(&full, &mut mem, n, 77);
}

fn mem_extend_and_compare(store: &RocksStorage, mem: &mut MemoryHashStore, from: u64, count: u64) {
    for e in entries(ORIGIN, from..from + count) {
        mem.append(&e);
    }
    let size = from + count;
    let root = store.root_at(ORIGIN, size).unwrap();
    assert_eq!(root, tree_hash(size, &*mem).unwrap());
    for index in (0..size).step_by(11) {
        let p = store.inclusion_proof(ORIGIN, index, size).unwrap();
        let leaf = store.leaf_hash(ORIGIN, index).unwrap();
        verify_inclusion(&leaf, index, size, &p.hashes, &root).unwrap();
    }
}

#[test]
fn compaction_rewriting_the_hashes_never_changes_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    // No proof cache: every hash is read from RocksDB, before and after the rewrite.
    let options = StorageOptions {
        proof_cache_bytes: 0,
        ..StorageOptions::default()
    };
    let answers = |store: &RocksStorage| {
        let mut out = Vec::new();
        for size in [1u64, 255, 256, 1000, 2047, 3000] {
            out.push(store.root_at(ORIGIN, size).unwrap().0.to_vec());
            for index in (0..size).step_by(97).chain([size - 1]) {
                let p = store.inclusion_proof(ORIGIN, index, size).unwrap();
                out.extend(p.hashes.iter().map(|h| h.0.to_vec()));
            }
            for old in [1, size / 2, size] {
                let p = store.consistency_proof(ORIGIN, old, size).unwrap();
                out.extend(p.hashes.iter().map(|h| h.0.to_vec()));
            }
        }
        out
    };
    let before = {
        let store = RocksStorage::open(dir.path(), &options).unwrap();
        let all = filled(&store, ORIGIN, 3000, 250);
        let before = answers(&store);
        // The answers are the RFC 6962 ones, not merely stable.
        let leaves = leaves(&all);
        let p = store.inclusion_proof(ORIGIN, 1234, 3000).unwrap();
        let root = store.root_at(ORIGIN, 3000).unwrap();
        verify_inclusion(&leaves[1234], 1234, 3000, &p.hashes, &root).unwrap();
        store.compact();
        assert_eq!(
            answers(&store),
            before,
            "after compact() rewrote the hashes CF"
        );
        before
    };
    let store = RocksStorage::open(dir.path(), &options).unwrap();
    assert_eq!(
        answers(&store),
        before,
        "after reopening the compacted store"
    );
}

#[test]
fn touching_the_proof_cache_spans_every_cached_level_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = RocksStorage::open(dir.path(), &StorageOptions::default()).unwrap();
    assert_eq!(store.touch_proof_cache().unwrap(), 0, "nothing cached yet");
    filled(&store, ORIGIN, 3000, 250);
    let root = store.root_at(ORIGIN, 3000).unwrap();
    let info = store.proof_cache_info(ORIGIN).unwrap();
    let spanned = store.touch_proof_cache().unwrap();
    // The default budget holds a 3,000-entry log whole: every level, at least one slot
    // per subtree.
    assert_eq!(info.min_level, 0, "{info:?}");
    let subtrees: usize = (0..12).map(|level| 3000usize >> level).sum();
    let slot = std::mem::size_of::<Option<credx_protocol::merkle::Hash>>();
    assert!(spanned >= subtrees * slot, "{spanned} < {subtrees} slots");
    assert!(
        spanned <= info.allocated_bytes_all_logs,
        "{spanned} > {info:?}"
    );
    assert_eq!(store.root_at(ORIGIN, 3000).unwrap(), root);
    let proof = store.inclusion_proof(ORIGIN, 1234, 3000).unwrap();
    assert!(!proof.hashes.is_empty());
}

#[test]
fn a_residency_pass_reads_every_live_hashes_table_file_within_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = RocksStorage::open(dir.path(), &StorageOptions::default()).unwrap();
    filled(&store, ORIGIN, 3000, 250);
    // compact() flushes and rewrites the hashes CF into table files.
    store.compact();
    let go = std::sync::atomic::AtomicBool::new(false);
    let root = store.root_at(ORIGIN, 3000).unwrap();

    let pass = store.touch_proof_files(u64::MAX, &go).unwrap();
    assert!(pass.files >= 1, "{pass:?}");
    assert!(
        pass.live_bytes > 3000 * 32,
        "stored hashes are on disk: {pass:?}"
    );
    assert_eq!(pass.bytes, pass.live_bytes, "every live byte read once");
    assert!(!pass.over_budget && !pass.stopped);

    let over = store.touch_proof_files(pass.live_bytes - 1, &go).unwrap();
    assert!(over.over_budget, "{over:?}");
    assert_eq!(over.bytes, 0, "nothing read over budget");

    let stop = std::sync::atomic::AtomicBool::new(true);
    let stopped = store.touch_proof_files(u64::MAX, &stop).unwrap();
    assert!(stopped.stopped && stopped.bytes == 0, "{stopped:?}");
    // Reading the files changed nothing.
    assert_eq!(store.log_size(ORIGIN).unwrap(), 3000);
    assert_eq!(store.root_at(ORIGIN, 3000).unwrap(), root);
}
