//! The domain planner wired into the sequencer: real 双公示 entries produce subject and
//! business-key index rows and a provable status for their subject.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use chrono::NaiveDate;
use common::*;
use credx_protocol::entry::Event;
use credx_protocol::entry::{Entry, SubjectId};
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::statusmap::{verify_absence, verify_status, SubjectStatus};
use credx_protocol::validate::{validate_raw, ValidationContext};
use credx_storage::{
    index_mirror, AnchorPolicy, AppendBatch, EntryPlanner, IndexStore, LogRole, LogStore,
    Sequencer, SequencerConfig, StatusStore,
};

const ORIGIN: &str = "420281.credx";

fn sample_entries() -> Vec<Vec<u8>> {
    sample_entries_of(ORIGIN)
}

fn sample_entries_of(origin: &str) -> Vec<Vec<u8>> {
    let bytes = include_bytes!("../../protocol/tests/fixtures/records/samples.json").to_vec();
    let ctx = ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    parse_json_records(&bytes)
        .unwrap()
        .into_iter()
        .map(|raw| {
            let record = validate_raw(&raw.unwrap(), &ctx).record.unwrap();
            Entry::for_record(origin, "dept", 1, record, None)
                .encode()
                .unwrap()
                .into_bytes()
        })
        .collect()
}

#[test]
fn record_entries_are_indexed_and_provable() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let mut config = SequencerConfig::new(cps.path());
    config.max_batch_delay = Duration::from_millis(2);
    let seq = Sequencer::start(
        store.clone(),
        signer(ORIGIN),
        EntryPlanner::new(ORIGIN),
        config,
    )
    .unwrap();
    let entries = sample_entries();
    let decoded: Vec<Entry> = entries.iter().map(|b| Entry::decode(b).unwrap()).collect();
    seq.submit_many(entries).unwrap().wait().unwrap();
    seq.shutdown();

    let root = store.status_root().unwrap();
    for (index, entry) in decoded.iter().enumerate() {
        let key = entry.business_key.as_ref().unwrap().to_string();
        let latest = store.latest_for_business_key(&key).unwrap().unwrap();
        assert_eq!(
            (latest.origin.as_str(), latest.index),
            (ORIGIN, index as u64)
        );

        let subject = entry.subject.clone().unwrap();
        let rows = store.entries_for_subject(&subject, None, 10).unwrap();
        assert_eq!(rows.len(), 1);

        let bytes = store.subject_status(&subject.map_key()).unwrap().unwrap();
        let status = SubjectStatus::decode(&bytes).unwrap();
        assert_eq!(status.total_records, 1);
        let proof = store.status_proof(&subject.map_key()).unwrap();
        verify_status(&root, &status, &proof).unwrap();
    }

    let stranger = SubjectId::Organisation("91420200PDY000044B".into());
    let proof = store.status_proof(&stranger.map_key()).unwrap();
    verify_absence(&root, &stranger.map_key(), &proof).unwrap();
}

#[test]
fn an_idle_node_anchors_status_changes_made_by_its_mirrors() {
    let db = tempfile::tempdir().unwrap();
    let cps = tempfile::tempdir().unwrap();
    let store = open(db.path());
    let mut config = SequencerConfig::new(cps.path());
    config.anchor = AnchorPolicy {
        every_entries: None,
        every: Some(Duration::from_millis(100)),
    };
    let seq = Sequencer::start(
        store.clone(),
        signer(ORIGIN),
        EntryPlanner::new(ORIGIN),
        config,
    )
    .unwrap();

    // A mirror's entries are stored and indexed: the status map changes, but nobody
    // submits anything to the own log.
    let mirror = "420200.credx";
    store.register_log(mirror, LogRole::Mirror).unwrap();
    let entries = sample_entries_of(mirror);
    store
        .append(
            mirror,
            0,
            AppendBatch {
                entries,
                ..AppendBatch::default()
            },
        )
        .unwrap();
    while index_mirror(store.as_ref(), mirror, 100).unwrap() > 0 {}
    let root = store.status_root().unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let anchored = loop {
        let size = store.log_size(ORIGIN).unwrap();
        if size > 0 {
            let last = store.read_entries(ORIGIN, size - 1, 1).unwrap();
            if let Event::StatusMapRoot { root: r, .. } = Entry::decode(&last[0]).unwrap().event {
                if r == root {
                    break true;
                }
            }
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        anchored,
        "the idle sequencer anchors the changed status root"
    );
    // Nothing changed since: no second anchor.
    let size = store.log_size(ORIGIN).unwrap();
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(store.log_size(ORIGIN).unwrap(), size);
    seq.shutdown();
}
