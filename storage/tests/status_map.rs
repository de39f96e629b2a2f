//! Status-map persistence on real RocksDB, through the engine and through the sequencer
//! with a planner.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use credx_protocol::entry::{EntryRef, SubjectId};
use credx_protocol::merkle::Hash;
use credx_protocol::statusmap::{
    apply_updates, verify_absence, verify_status, MemoryNodeStore, SubjectStatus, EMPTY_SUBTREE,
};
use credx_storage::{
    AnchorPolicy, AppendBatch, BatchPlanner, EntryLocation, IndexStore, IndexUpdates, LogRole,
    LogStore, Plan, PlanView, PlannedEntry, Sequencer, SequencerConfig, StatusStore, StorageError,
    SubjectIndexUpdate,
};

fn subject(n: u64) -> SubjectId {
    SubjectId::Organisation(format!("91420281MA{n:08}"))
}

/// Test planner: entry bytes `subject/<n>/...` add a record to subject n's status;
/// `remove/<n>` removes subject n from the map. Anchors are `anchor/<root hex>`.
struct TestPlanner {
    origin: String,
}

impl BatchPlanner for TestPlanner {
    fn plan(
        &self,
        entries: &[PlannedEntry<'_>],
        start_index: u64,
        view: &PlanView<'_>,
    ) -> Result<Plan, String> {
        let mut plan = Plan::default();
        // Fold within the batch: later entries see earlier ones' effects.
        let mut local: HashMap<Hash, Option<SubjectStatus>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let text = String::from_utf8_lossy(e.bytes).to_string();
            let mut parts = text.split('/');
            let (kind, n) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let Ok(n) = n.parse::<u64>() else { continue };
            let subj = subject(n);
            let key = subj.map_key();
            let index = start_index + i as u64;
            match kind {
                "subject" => {
                    let current = match local.get(&key) {
                        Some(s) => s.clone(),
                        None => view
                            .subject_status(&key)
                            .map_err(|e| e.to_string())?
                            .map(|b| SubjectStatus::decode(&b))
                            .transpose()
                            .map_err(|e| e.to_string())?,
                    };
                    let mut status = current.unwrap_or_else(|| SubjectStatus::new(subj.clone()));
                    status.add_record(EntryRef {
                        origin: self.origin.clone(),
                        index,
                        leaf_hash: e.leaf_hash,
                    });
                    plan.status
                        .push((key, Some(status.encode().map_err(|e| e.to_string())?)));
                    local.insert(key, Some(status));
                    plan.index.subjects.push(SubjectIndexUpdate {
                        subject_key: subj.index_key(),
                        location: EntryLocation {
                            origin: self.origin.clone(),
                            index,
                        },
                    });
                }
                "remove" => {
                    plan.status.push((key, None));
                    local.insert(key, None);
                }
                _ => {}
            }
        }
        Ok(plan)
    }

    fn anchor_entry(&self, status_root: Hash, log_size: u64) -> Result<Option<Vec<u8>>, String> {
        Ok(Some(
            format!("anchor/{log_size}/{}", status_root.to_hex()).into_bytes(),
        ))
    }
}

fn status_of(store: &impl StatusStore, n: u64) -> Option<SubjectStatus> {
    store
        .subject_status(&subject(n).map_key())
        .unwrap()
        .map(|b| SubjectStatus::decode(&b).unwrap())
}

#[test]
fn sequencer_planner_maintains_a_provable_status_map() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    assert_eq!(store.status_root().unwrap(), EMPTY_SUBTREE);
    let key = signer(ORIGIN);
    let mut config = SequencerConfig::new(cps.path());
    config.max_batch_entries = 16;
    config.max_batch_delay = Duration::from_millis(2);
    let seq = Sequencer::start(
        store.clone(),
        key,
        TestPlanner {
            origin: ORIGIN.into(),
        },
        config,
    )
    .unwrap();
    // 3 entries each for subjects 0..20, plus a removal of subject 7.
    let mut tickets = Vec::new();
    for round in 0..3 {
        for n in 0..20u64 {
            tickets.push(
                seq.submit(format!("subject/{n}/{round}").into_bytes())
                    .unwrap(),
            );
        }
    }
    for t in tickets {
        t.wait().unwrap();
    }
    seq.submit(b"remove/7".to_vec()).unwrap().wait().unwrap();
    seq.shutdown();

    let root = store.status_root().unwrap();
    assert_ne!(root, EMPTY_SUBTREE);
    for n in 0..20u64 {
        let key = subject(n).map_key();
        let proof = store.status_proof(&key).unwrap();
        if n == 7 {
            assert_eq!(status_of(store.as_ref(), n), None);
            verify_absence(&root, &key, &proof).unwrap();
            continue;
        }
        let status = status_of(store.as_ref(), n).unwrap();
        assert_eq!(status.total_records, 3);
        verify_status(&root, &status, &proof).unwrap();
        assert!(proof.encode().unwrap().len() <= 1536);
        // The subject index was written with the same batches.
        assert_eq!(
            store
                .entries_for_subject(&subject(n), None, 10)
                .unwrap()
                .len(),
            3
        );
    }
    let absent = subject(999).map_key();
    verify_absence(&root, &absent, &store.status_proof(&absent).unwrap()).unwrap();

    // The map is a deterministic function of the values: replaying the final values into
    // an in-memory tree gives the same root.
    let mut mem = MemoryNodeStore::new();
    let updates: Vec<(Hash, Option<Hash>)> = (0..20u64)
        .filter(|n| *n != 7)
        .map(|n| {
            let s = status_of(store.as_ref(), n).unwrap();
            (subject(n).map_key(), Some(s.value_hash().unwrap()))
        })
        .collect();
    let update = apply_updates(&EMPTY_SUBTREE, &updates, &mem).unwrap();
    mem.apply(&update);
    assert_eq!(update.new_root, root);

    // Reopen keeps root, values and nodes.
    drop(store);
    let store = open(db.path());
    assert_eq!(store.status_root().unwrap(), root);
    let status = status_of(store.as_ref(), 3).unwrap();
    verify_status(
        &root,
        &status,
        &store.status_proof(&subject(3).map_key()).unwrap(),
    )
    .unwrap();
}

#[test]
fn status_root_cas_mismatch_writes_nothing() {
    let db = tempfile::tempdir().unwrap();
    let store = open(db.path());
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    store.register_log(MIRROR, LogRole::Mirror).unwrap();
    let status = |n: u64| {
        let mut s = SubjectStatus::new(subject(n));
        s.total_records = 0;
        s.encode().unwrap()
    };
    // Two writers plan against the same root; the second loses the CAS.
    let w1 = store
        .plan_status_update(&[(subject(1).map_key(), Some(status(1)))])
        .unwrap();
    let w2 = store
        .plan_status_update(&[(subject(2).map_key(), Some(status(2)))])
        .unwrap();
    store
        .append(
            ORIGIN,
            0,
            AppendBatch {
                entries: entries(ORIGIN, 0..1),
                status: Some(w1.clone()),
                ..AppendBatch::default()
            },
        )
        .unwrap();
    assert_eq!(store.status_root().unwrap(), w1.new_root);
    let err = store
        .append(
            MIRROR,
            0,
            AppendBatch {
                entries: entries(MIRROR, 0..1),
                status: Some(w2),
                index: IndexUpdates {
                    subjects: vec![SubjectIndexUpdate {
                        subject_key: subject(2).index_key(),
                        location: EntryLocation {
                            origin: MIRROR.into(),
                            index: 0,
                        },
                    }],
                    ..IndexUpdates::default()
                },
                ..AppendBatch::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, StorageError::StatusRootMismatch { .. }));
    assert_eq!(store.log_size(MIRROR).unwrap(), 0);
    assert_eq!(store.status_root().unwrap(), w1.new_root);
    assert_eq!(status_of(store.as_ref(), 2), None);
    assert!(store
        .entries_for_subject(&subject(2), None, 10)
        .unwrap()
        .is_empty());
    // Corrupt input is refused before anything is planned.
    assert!(matches!(
        store.plan_status_update(&[(subject(3).map_key(), Some(b"garbage".to_vec()))]),
        Err(StorageError::StatusMap(_))
    ));
}

#[test]
fn anchor_policy_puts_status_roots_into_the_log() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let mut config = SequencerConfig::new(cps.path());
    config.max_batch_entries = 8;
    config.max_batch_delay = Duration::from_millis(1);
    config.anchor = AnchorPolicy {
        every_entries: Some(10),
        every: None,
    };
    let seq = Sequencer::start(
        store.clone(),
        signer(ORIGIN),
        TestPlanner {
            origin: ORIGIN.into(),
        },
        config,
    )
    .unwrap();
    for n in 0..40u64 {
        seq.submit(format!("subject/{n}/0").into_bytes())
            .unwrap()
            .wait()
            .unwrap();
    }
    seq.shutdown();
    let size = store.log_size(ORIGIN).unwrap();
    let all = store.read_entries(ORIGIN, 0, size).unwrap();
    let anchors: Vec<String> = all
        .iter()
        .map(|e| String::from_utf8_lossy(e).to_string())
        .filter(|e| e.starts_with("anchor/"))
        .collect();
    assert!(anchors.len() >= 3, "{anchors:?}");
    assert_eq!(size, 40 + anchors.len() as u64);
}
