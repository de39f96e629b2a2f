//! The sequencer, the signing guard (restored backups), and the checkpoint store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use credx_protocol::merkle::{leaf_hash, root_of_leaves, verify_consistency, verify_inclusion};
use credx_protocol::note::{Checkpoint, CosignerKey, KeyName, SignedCheckpoint};
use credx_storage::signing_guard::checkpoint_file;
use credx_storage::{
    AppendBatch, CheckpointStore, CheckpointWrite, LogStore, NoopPlanner, Sequencer,
    SequencerConfig, SignedHook, StorageError,
};

fn config(dir: &std::path::Path) -> SequencerConfig {
    let mut c = SequencerConfig::new(dir);
    c.max_batch_entries = 64;
    c.max_batch_delay = Duration::from_millis(5);
    c
}

#[test]
fn sequencer_acknowledges_durable_signed_entries() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let key = signer(ORIGIN);
    let seq =
        Sequencer::start(store.clone(), key.clone(), NoopPlanner, config(cps.path())).unwrap();
    seq.signing_state().unwrap();

    // 4 submitters × 100 entries, some submitted as groups.
    let acks: Vec<(Vec<u8>, credx_storage::Ack)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let seq = &seq;
                s.spawn(move || {
                    let mut tickets = Vec::new();
                    for i in 0..100u64 {
                        let e = entry(&format!("t{t}"), i);
                        tickets.push((e.clone(), seq.submit(e).unwrap()));
                    }
                    tickets
                        .into_iter()
                        .map(|(e, t)| (e, t.wait().unwrap()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let group = seq
        .submit_many(entries("group", 0..10))
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(group.count, 10);
    assert_eq!(store.log_size(ORIGIN).unwrap(), 410);

    let vkey = key.verifier_key();
    let mut seen = HashSet::new();
    for (bytes, ack) in &acks {
        assert!(
            seen.insert(ack.index),
            "index {} acknowledged twice",
            ack.index
        );
        assert!(ack.checkpoint_size > ack.index);
        assert_eq!(&store.read_entries(ORIGIN, ack.index, 1).unwrap()[0], bytes);
        // The acknowledged checkpoint is stored, verifies, and proves the entry.
        let cps = store
            .signed_checkpoints(ORIGIN, ack.checkpoint_size, 1)
            .unwrap();
        let cp = &cps[0];
        assert_eq!(cp.checkpoint().size, ack.checkpoint_size);
        cp.verify(&vkey).unwrap();
        let proof = store.tlog_proof(ORIGIN, ack.index, cp).unwrap();
        verify_inclusion(
            &leaf_hash(bytes),
            ack.index,
            cp.checkpoint().size,
            &proof.inclusion,
            &cp.checkpoint().root,
        )
        .unwrap();
        assert!(proof.to_bytes().starts_with(b"c2sp.org/tlog-proof@v1\n"));
    }

    // The history is a chain of consistent, verifying checkpoints.
    let history = store.signed_checkpoints(ORIGIN, 0, 10_000).unwrap();
    assert!(history.len() >= 2);
    for pair in history.windows(2) {
        let (a, b) = (pair[0].checkpoint(), pair[1].checkpoint());
        assert!(a.size < b.size);
        let p = store.consistency_proof(ORIGIN, a.size, b.size).unwrap();
        verify_consistency(a.size, &a.root, b.size, &b.root, &p.hashes).unwrap();
    }
    let latest = seq.last_signed().unwrap().unwrap();
    assert_eq!(latest.checkpoint().size, 410);
    let file = std::fs::read(checkpoint_file(cps.path(), ORIGIN)).unwrap();
    assert_eq!(SignedCheckpoint::parse(&file).unwrap(), latest);
    seq.shutdown();
}

#[test]
fn restart_signs_entries_left_unsigned_by_a_crash() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let key = signer(ORIGIN);
    let seq =
        Sequencer::start(store.clone(), key.clone(), NoopPlanner, config(cps.path())).unwrap();
    seq.submit_many(entries(ORIGIN, 0..5))
        .unwrap()
        .wait()
        .unwrap();
    seq.shutdown();
    // A crash between the durable append and the signature: entries without a checkpoint.
    store
        .append(ORIGIN, 5, batch(entries(ORIGIN, 5..9)))
        .unwrap();
    let seq = Sequencer::start(store.clone(), key, NoopPlanner, config(cps.path())).unwrap();
    seq.signing_state().unwrap();
    assert_eq!(seq.last_signed().unwrap().unwrap().checkpoint().size, 9);
    assert_eq!(
        store
            .latest_signed_checkpoint(ORIGIN)
            .unwrap()
            .unwrap()
            .checkpoint()
            .size,
        9
    );
}

/// Builds a store at size 10 (signed), backs it up, grows it to 20 (signed), restores the
/// backup. Returns (db dir, checkpoint dir, signer, the 20 entries).
fn restored_store() -> (
    tempfile::TempDir,
    tempfile::TempDir,
    credx_protocol::note::NoteSigner,
    Vec<Vec<u8>>,
) {
    let db = tempfile::tempdir().unwrap();
    let backup = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let key = signer(ORIGIN);
    let all = entries(ORIGIN, 0..20);
    {
        let store = open(db.path());
        let seq =
            Sequencer::start(store.clone(), key.clone(), NoopPlanner, config(cps.path())).unwrap();
        seq.submit_many(all[..10].to_vec()).unwrap().wait().unwrap();
        seq.shutdown();
    }
    copy_dir(db.path(), backup.path());
    {
        let store = open(db.path());
        let seq =
            Sequencer::start(store.clone(), key.clone(), NoopPlanner, config(cps.path())).unwrap();
        let ack = seq.submit_many(all[10..].to_vec()).unwrap().wait().unwrap();
        assert_eq!(ack.checkpoint_size, 20);
        seq.shutdown();
    }
    std::fs::remove_dir_all(db.path()).unwrap();
    copy_dir(backup.path(), db.path());
    (db, cps, key, all)
}

#[test]
fn restored_backup_refuses_to_sign_until_entries_are_recovered() {
    let (db, cps, key, all) = restored_store();
    let store = open(db.path());
    assert_eq!(store.log_size(ORIGIN).unwrap(), 10);
    let seq =
        Sequencer::start(store.clone(), key.clone(), NoopPlanner, config(cps.path())).unwrap();
    let err = seq.signing_state().unwrap_err();
    let StorageError::SigningRefused { reason, .. } = &err else {
        panic!("{err}")
    };
    assert!(reason.contains("size 20"), "{reason}");
    assert!(reason.contains("restored"), "{reason}");
    // Submissions are refused, and nothing is appended.
    let e = seq.submit(entry("new", 0)).unwrap().wait().unwrap_err();
    assert!(matches!(e, StorageError::SigningRefused { .. }));
    assert_eq!(store.log_size(ORIGIN).unwrap(), 10);
    seq.shutdown();

    // Recovery: re-fetch the lost entries (e.g. from the parent's mirror), pinned to the
    // last signed root; the next start signs again.
    let file = std::fs::read(checkpoint_file(cps.path(), ORIGIN)).unwrap();
    let last = SignedCheckpoint::parse(&file).unwrap();
    store
        .append(
            ORIGIN,
            10,
            AppendBatch {
                entries: all[10..].to_vec(),
                expected_root: Some(last.checkpoint().root),
                ..AppendBatch::default()
            },
        )
        .unwrap();
    let seq = Sequencer::start(store.clone(), key, NoopPlanner, config(cps.path())).unwrap();
    seq.signing_state().unwrap();
    let ack = seq.submit(entry("new", 0)).unwrap().wait().unwrap();
    assert_eq!(ack.index, 20);
}

#[test]
fn restored_backup_with_divergent_entries_is_refused_and_can_be_acknowledged() {
    let (db, cps, key, _) = restored_store();
    let store = open(db.path());
    // Someone appended different entries after the restore: the log is now longer than the
    // signed checkpoint but has another root at size 20.
    store
        .append(ORIGIN, 10, batch(entries("divergent", 10..25)))
        .unwrap();
    let seq = Sequencer::start(store.clone(), key, NoopPlanner, config(cps.path())).unwrap();
    let err = seq.signing_state().unwrap_err();
    assert!(err.to_string().contains("root"), "{err}");
    assert!(err.to_string().contains("acknowledge_restore"), "{err}");

    seq.acknowledge_restore(
        store.as_ref(),
        "restore after disk failure, ticket 42",
        1_000,
    )
    .unwrap();
    seq.signing_state().unwrap();
    let ack = seq.submit(entry("after", 0)).unwrap().wait().unwrap();
    assert_eq!(ack.index, 25);
    assert_eq!(ack.checkpoint_size, 26);
    // The refused checkpoint file is kept for the record.
    let kept: Vec<_> = std::fs::read_dir(cps.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("refused"))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
}

#[test]
fn checkpoint_store_only_moves_forward_and_agrees_with_the_log() {
    let db = tempfile::tempdir().unwrap();
    let store = open(db.path());
    filled(&store, ORIGIN, 30, 10);
    let key = signer(ORIGIN);
    let sign = |size: u64| {
        let root = store.root_at(ORIGIN, size).unwrap();
        SignedCheckpoint::sign(Checkpoint::new(ORIGIN, size, root), &key).unwrap()
    };
    store
        .store_signed_checkpoint(ORIGIN, &sign(20).to_bytes())
        .unwrap();
    assert!(matches!(
        store.store_signed_checkpoint(ORIGIN, &sign(10).to_bytes()),
        Err(StorageError::CheckpointRegression {
            latest: 20,
            offered: 10,
            ..
        })
    ));
    // Same size again is fine (idempotent).
    store
        .store_signed_checkpoint(ORIGIN, &sign(20).to_bytes())
        .unwrap();
    // A root that is not the log's.
    let wrong = SignedCheckpoint::sign(
        Checkpoint::new(ORIGIN, 25, store.root_at(ORIGIN, 24).unwrap()),
        &key,
    )
    .unwrap();
    assert!(matches!(
        store.store_signed_checkpoint(ORIGIN, &wrong.to_bytes()),
        Err(StorageError::CheckpointRejected { .. })
    ));
    // Beyond the log.
    assert!(matches!(
        store.store_signed_checkpoint(
            ORIGIN,
            &SignedCheckpoint::sign(
                Checkpoint::new(ORIGIN, 31, store.root_at(ORIGIN, 30).unwrap()),
                &key
            )
            .unwrap()
            .to_bytes()
        ),
        Err(StorageError::BeyondLogSize { .. })
    ));
    // Garbage and other origins.
    assert!(matches!(
        store.store_signed_checkpoint(ORIGIN, b"not a note"),
        Err(StorageError::CheckpointRejected { .. })
    ));
    store
        .store_signed_checkpoint(ORIGIN, &sign(30).to_bytes())
        .unwrap();
    let latest = store.latest_signed_checkpoint(ORIGIN).unwrap().unwrap();
    assert_eq!(latest.checkpoint().size, 30);
    let history = store.signed_checkpoints(ORIGIN, 0, 10).unwrap();
    let sizes: Vec<u64> = history.iter().map(|c| c.checkpoint().size).collect();
    assert_eq!(sizes, [20, 30]);
}

#[test]
fn cosignatures_round_trip() {
    let db = tempfile::tempdir().unwrap();
    let store = open(db.path());
    filled(&store, ORIGIN, 5, 5);
    let cp = Checkpoint::new(ORIGIN, 5, store.root_at(ORIGIN, 5).unwrap());
    let mut lines = Vec::new();
    for name in ["420200.credx", "420000.credx"] {
        let cosigner = CosignerKey::generate(KeyName::new(name).unwrap(), &mut rand::rngs::OsRng);
        let cosig = cosigner.cosign(&cp, 1_700_000_000).unwrap();
        let line = cosig.to_note_signature().to_line();
        store.add_cosignature(ORIGIN, 5, &line).unwrap();
        lines.push(line);
    }
    let mut stored = store.cosignatures(ORIGIN, 5).unwrap();
    stored.sort();
    lines.sort();
    assert_eq!(stored, lines);
    assert!(store.cosignatures(ORIGIN, 4).unwrap().is_empty());
    assert!(store.add_cosignature(ORIGIN, 5, "garbage").is_err());
}

#[test]
fn a_checkpoint_written_with_its_entries_appears_with_them_and_its_cosignatures() {
    let db = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let mut all = filled(&store, ORIGIN, 5, 5);
    let more = entries("more", 5..8);
    all.extend(more.clone());
    let root8 = root_of_leaves(&leaves(&all));
    let key = signer(ORIGIN);
    let note = |size: u64, root| {
        SignedCheckpoint::sign(Checkpoint::new(ORIGIN, size, root), &key)
            .unwrap()
            .to_bytes()
    };
    let cosigner = CosignerKey::generate(
        KeyName::new("420200.credx").unwrap(),
        &mut rand::rngs::OsRng,
    );
    let line = cosigner
        .cosign(&Checkpoint::new(ORIGIN, 8, root8), 1_700_000_000)
        .unwrap()
        .to_note_signature()
        .to_line();
    let with = |checkpoint: CheckpointWrite| AppendBatch {
        entries: more.clone(),
        checkpoint: Some(checkpoint),
        ..AppendBatch::default()
    };

    // A checkpoint of another size or root than the log's after the write, or a bad
    // cosignature line: refused, and nothing of the batch is written.
    for (bad, what) in [
        (
            CheckpointWrite {
                note: note(7, root8),
                cosignatures: vec![line.clone()],
            },
            "size",
        ),
        (
            CheckpointWrite {
                note: note(8, store.root_at(ORIGIN, 5).unwrap()),
                cosignatures: vec![line.clone()],
            },
            "root",
        ),
        (
            CheckpointWrite {
                note: note(8, root8),
                cosignatures: vec!["garbage".to_owned()],
            },
            "cosignature",
        ),
    ] {
        let refused = store.append(ORIGIN, 5, with(bad));
        assert!(
            matches!(refused, Err(StorageError::CheckpointRejected { .. })),
            "{what}: {refused:?}"
        );
        assert_eq!(store.log_size(ORIGIN).unwrap(), 5, "{what}");
        assert!(store.latest_signed_checkpoint(ORIGIN).unwrap().is_none());
        assert!(store.cosignatures(ORIGIN, 8).unwrap().is_empty());
    }

    store
        .append(
            ORIGIN,
            5,
            with(CheckpointWrite {
                note: note(8, root8),
                cosignatures: vec![line.clone()],
            }),
        )
        .unwrap();
    let latest = store.latest_signed_checkpoint(ORIGIN).unwrap().unwrap();
    assert_eq!(
        (latest.checkpoint().size, latest.checkpoint().root),
        (8, root8)
    );
    assert_eq!(
        store.cosignatures(ORIGIN, 8).unwrap(),
        std::slice::from_ref(&line)
    );

    // Reopened: all of it is there, together.
    drop(store);
    let store = open(db.path());
    assert_eq!(store.log_size(ORIGIN).unwrap(), 8);
    let latest = store.latest_signed_checkpoint(ORIGIN).unwrap().unwrap();
    assert_eq!(latest.checkpoint().size, 8);
    assert_eq!(store.cosignatures(ORIGIN, 8).unwrap(), [line]);
}

#[test]
fn the_signed_hook_hears_of_every_checkpoint_before_its_submitters() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut config = config(cps.path());
    let record = std::sync::Arc::clone(&heard);
    config.on_signed = Some(SignedHook::new(move |size| {
        record.lock().unwrap().push(size);
    }));
    let seq = Sequencer::start(store.clone(), signer(ORIGIN), NoopPlanner, config).unwrap();
    for round in 0..3u64 {
        let ack = seq
            .submit_many(entries("hook", round * 5..round * 5 + 5))
            .unwrap()
            .wait()
            .unwrap();
        // By the time the submitter hears back, the hook has heard of the checkpoint.
        let sizes = heard.lock().unwrap().clone();
        assert_eq!(sizes.last(), Some(&ack.checkpoint_size), "{sizes:?}");
    }
    let sizes = heard.lock().unwrap().clone();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
    assert_eq!(sizes.last(), Some(&store.log_size(ORIGIN).unwrap()));
    seq.shutdown();
}
