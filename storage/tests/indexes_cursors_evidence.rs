//! Indexes, cursors and fork evidence on real RocksDB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use credx_protocol::entry::SubjectId;
use credx_storage::{
    AppendBatch, BusinessKeyUpdate, Cursor, CursorStore, CursorUpdate, EntryLocation,
    EvidenceStore, ForkEvidence, IndexStore, IndexUpdates, ListUpdate, LogRole, LogStore,
    StorageError, SubjectIndexUpdate,
};

fn loc(origin: &str, index: u64) -> EntryLocation {
    EntryLocation {
        origin: origin.into(),
        index,
    }
}

#[test]
fn indexes_are_written_with_the_batch_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(ORIGIN, LogRole::Own).unwrap();
    store.register_log(MIRROR, LogRole::Mirror).unwrap();
    let org = SubjectId::Organisation("91420281MA4F000001".into());
    let other = SubjectId::Organisation("91420281MA4F000002".into());
    let mut index = IndexUpdates::default();
    for i in 0..5 {
        index.subjects.push(SubjectIndexUpdate {
            subject_key: org.index_key(),
            location: loc(ORIGIN, i),
        });
    }
    index.subjects.push(SubjectIndexUpdate {
        subject_key: other.index_key(),
        location: loc(ORIGIN, 5),
    });
    index.business_keys.push(BusinessKeyUpdate {
        business_key: "11420281MB0000000X/鄂大冶罚〔2026〕1号".into(),
        location: loc(ORIGIN, 2),
    });
    for m in ["b", "a", "c"] {
        index.lists.push(ListUpdate {
            list_kind: "serious".into(),
            member: m.into(),
            entry: Some(loc(ORIGIN, 3)),
        });
    }
    store
        .append(
            ORIGIN,
            0,
            AppendBatch {
                entries: entries(ORIGIN, 0..6),
                index,
                ..AppendBatch::default()
            },
        )
        .unwrap();
    // The mirror's entries about the same subject come after (higher origin id).
    let mut index = IndexUpdates::default();
    index.subjects.push(SubjectIndexUpdate {
        subject_key: org.index_key(),
        location: loc(MIRROR, 0),
    });
    index.business_keys.push(BusinessKeyUpdate {
        business_key: "11420281MB0000000X/鄂大冶罚〔2026〕1号".into(),
        location: loc(MIRROR, 0),
    });
    index.lists.push(ListUpdate {
        list_kind: "serious".into(),
        member: "b".into(),
        entry: None,
    });
    store
        .append(
            MIRROR,
            0,
            AppendBatch {
                entries: entries(MIRROR, 0..1),
                index,
                ..AppendBatch::default()
            },
        )
        .unwrap();

    let all = store.entries_for_subject(&org, None, 100).unwrap();
    assert_eq!(
        all,
        vec![
            loc(ORIGIN, 0),
            loc(ORIGIN, 1),
            loc(ORIGIN, 2),
            loc(ORIGIN, 3),
            loc(ORIGIN, 4),
            loc(MIRROR, 0)
        ]
    );
    let page1 = store.entries_for_subject(&org, None, 2).unwrap();
    let page2 = store.entries_for_subject(&org, page1.last(), 3).unwrap();
    assert_eq!(page2, all[2..5]);
    assert_eq!(
        store.entries_for_subject(&other, None, 10).unwrap(),
        [loc(ORIGIN, 5)]
    );
    assert!(store
        .entries_for_subject(&SubjectId::Organisation("X".into()), None, 10)
        .unwrap()
        .is_empty());

    assert_eq!(
        store
            .latest_for_business_key("11420281MB0000000X/鄂大冶罚〔2026〕1号")
            .unwrap(),
        Some(loc(MIRROR, 0))
    );
    assert_eq!(store.latest_for_business_key("nope").unwrap(), None);

    let members = store.list_members("serious", None, 10).unwrap();
    let names: Vec<_> = members.iter().map(|m| m.member.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(members[0].entry, loc(ORIGIN, 3));
    let after_a = store.list_members("serious", Some("a"), 10).unwrap();
    assert_eq!(after_a.len(), 1);
    assert!(store
        .list_members("serious-other", None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn cursors_round_trip_and_move_with_mirror_appends() {
    let dir = tempfile::tempdir().unwrap();
    let cursor = Cursor {
        size: 7,
        root: credx_protocol::merkle::leaf_hash(b"r"),
        session_id: "session-1".into(),
        updated_at_ms: 1_700_000_000_000,
    };
    {
        let store = open(dir.path());
        assert_eq!(store.cursor("parent", ORIGIN).unwrap(), None);
        store.set_cursor("parent", ORIGIN, &cursor).unwrap();
        store.register_log(MIRROR, LogRole::Mirror).unwrap();
        let e = entries(MIRROR, 0..3);
        let root = credx_protocol::merkle::root_of_leaves(&leaves(&e));
        store
            .append(
                MIRROR,
                0,
                AppendBatch {
                    entries: e,
                    expected_root: Some(root),
                    cursor: Some(CursorUpdate {
                        peer: "child-a".into(),
                        origin: MIRROR.into(),
                        cursor: Cursor {
                            size: 3,
                            root,
                            session_id: "s2".into(),
                            updated_at_ms: 5,
                        },
                    }),
                    ..AppendBatch::default()
                },
            )
            .unwrap();
    }
    let store = open(dir.path());
    assert_eq!(store.cursor("parent", ORIGIN).unwrap(), Some(cursor));
    let c = store.cursor("child-a", MIRROR).unwrap().unwrap();
    assert_eq!(c.size, 3);
    assert_eq!(c.root, store.root_at(MIRROR, 3).unwrap());
    // Peer/origin pairs do not collide ("a"+"bc" vs "ab"+"c").
    assert_eq!(store.cursor("parent", "x").unwrap(), None);
}

#[test]
fn fork_evidence_freezes_the_origin_until_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = ForkEvidence {
        first: b"checkpoint one".to_vec(),
        second: b"checkpoint two".to_vec(),
        peer: "420200.credx".into(),
        observed_at_ms: 42,
    };
    {
        let store = open(dir.path());
        store.register_log(MIRROR, LogRole::Mirror).unwrap();
        store
            .append(MIRROR, 0, batch(entries(MIRROR, 0..2)))
            .unwrap();
        assert!(!store.is_frozen(MIRROR).unwrap());
        assert_eq!(store.record_fork(MIRROR, evidence.clone()).unwrap(), 0);
        assert!(store.is_frozen(MIRROR).unwrap());
        assert!(!store.is_frozen(ORIGIN).unwrap());
        assert_eq!(
            store.append(MIRROR, 2, batch(entries(MIRROR, 2..3))),
            Err(StorageError::OriginFrozen {
                origin: MIRROR.into()
            })
        );
    }
    // Frozen survives a restart.
    let store = open(dir.path());
    assert!(store.is_frozen(MIRROR).unwrap());
    assert_eq!(store.record_fork(MIRROR, evidence.clone()).unwrap(), 1);
    let forks = store.forks(MIRROR).unwrap();
    assert_eq!(forks.len(), 2);
    assert_eq!(forks[0].evidence, evidence);
    assert_eq!(forks[0].cleared, None);

    assert_eq!(
        store
            .clear_fork(MIRROR, "verified with province, peer fixed")
            .unwrap(),
        2
    );
    assert!(!store.is_frozen(MIRROR).unwrap());
    let forks = store.forks(MIRROR).unwrap();
    assert_eq!(
        forks[1].cleared.as_deref(),
        Some("verified with province, peer fixed")
    );
    store
        .append(MIRROR, 2, batch(entries(MIRROR, 2..3)))
        .unwrap();
    drop(store);
    let store = open(dir.path());
    assert!(!store.is_frozen(MIRROR).unwrap());
    assert_eq!(store.forks(MIRROR).unwrap().len(), 2);
}
