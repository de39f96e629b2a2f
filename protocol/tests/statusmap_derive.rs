//! The status fold: what list entries, objections and repairs do to a subject's status, and
//! that replaying the same entries gives the same map root.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use credx_protocol::entry::{
    Entry, EntryRef, Event, ObjectionOutcome, SubjectId, ENVELOPE_VERSION,
};
use credx_protocol::merkle::Hash;
use credx_protocol::record::enums::{CreditSeverity, SubjectCategory};
use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure, Unit};
use credx_protocol::record::{ListEntry, Record, RecordDate};
use credx_protocol::statusmap::{
    apply_entry, apply_updates, MemoryNodeStore, SubjectStatus, EMPTY_SUBTREE,
};

const SUBJECT: &str = "91420281PDY00001X0";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(index: u64) -> EntryRef {
    EntryRef {
        origin: "420281.credx".into(),
        index,
        leaf_hash: Hash([index as u8; 32]),
    }
}

fn envelope(event: Event) -> Entry {
    Entry {
        version: ENVELOPE_VERSION,
        origin: "420281.credx".into(),
        authority: Some("11420281PDY000052Q".into()),
        submitted_by: "dept".into(),
        subject: Some(SubjectId::Organisation(SUBJECT.into())),
        business_key: None,
        accepted_at_ms: 0,
        event,
    }
}

fn listing_entry() -> Entry {
    let unit = Unit {
        name: "大冶市示例局".into(),
        uscc: "11420281PDY000052Q".into(),
    };
    let list = ListEntry {
        kind: ListKind::SeriouslyDishonest,
        subject: ListSubject {
            name: "大冶市示例建材有限公司".into(),
            category: SubjectCategory::Organisation,
            code: SUBJECT.into(),
        },
        determining_unit: unit.clone(),
        basis: "示例依据".into(),
        document_no: "冶示认〔2026〕1号".into(),
        reason: "示例事由".into(),
        listed_on: RecordDate(date(2026, 6, 1)),
        valid_until: Some(RecordDate(date(2029, 6, 1))),
        severity: Some(CreditSeverity::Serious),
        status: ListStatus::Active,
        removed_on: None,
        removal_reason: None,
        measures: vec![Measure {
            code: "M02".into(),
            text: "限制".into(),
            legal_basis: "示例".into(),
        }],
        remedy: "示例".into(),
        source_unit: unit,
    };
    envelope(Event::RecordPublished {
        record: Record::ListEntry(list),
    })
}

fn fold(entries: &[(Entry, EntryRef)]) -> Option<SubjectStatus> {
    entries
        .iter()
        .fold(None, |status, (entry, at)| apply_entry(status, entry, at))
}

#[test]
fn listing_objection_and_repair() {
    let listed = (listing_entry(), at(0));
    let status = fold(std::slice::from_ref(&listed)).unwrap();
    assert_eq!(status.listings.len(), 1);
    assert_eq!(status.listings[0].list_kind, "seriously-dishonest");
    assert_eq!(status.active_listings_on(date(2027, 1, 1)).count(), 1);
    assert_eq!(status.active_listings_on(date(2029, 6, 2)).count(), 0);

    let objection = (
        envelope(Event::ObjectionOpened {
            objection_id: "O1".into(),
            target: at(0),
            grounds: "示例".into(),
            suspends_measures: true,
        }),
        at(1),
    );
    let status = fold(&[listed.clone(), objection.clone()]).unwrap();
    assert!(status.listings[0].suspended);
    assert_eq!(status.open_objections, vec![at(0)]);

    let dismissed = (
        envelope(Event::ObjectionResolved {
            objection_id: "O1".into(),
            target: at(0),
            outcome: ObjectionOutcome::Dismissed,
            reason: "不成立".into(),
        }),
        at(2),
    );
    let status = fold(&[listed.clone(), objection.clone(), dismissed.clone()]).unwrap();
    assert!(!status.listings[0].suspended);
    assert!(status.open_objections.is_empty());

    let repaired = (
        envelope(Event::RepairApproved {
            repair_id: "R1".into(),
            target: at(0),
            approved_on: date(2027, 7, 1),
            basis: "示例".into(),
        }),
        at(3),
    );
    let status = fold(&[listed, objection, dismissed, repaired]).unwrap();
    assert!(status.listings.is_empty());
    assert_eq!(status.total_records, 4);
}

#[test]
fn upheld_objection_lifts_the_listing() {
    let status = fold(&[
        (listing_entry(), at(0)),
        (
            envelope(Event::ObjectionResolved {
                objection_id: "O1".into(),
                target: at(0),
                outcome: ObjectionOutcome::Upheld,
                reason: "成立".into(),
            }),
            at(1),
        ),
    ])
    .unwrap();
    assert!(status.listings.is_empty());
}

#[test]
fn entries_without_subject_leave_the_map_alone() {
    let mut anchor = envelope(Event::StatusMapRoot {
        root: Hash::default(),
        covers: vec![],
    });
    anchor.subject = None;
    assert!(apply_entry(None, &anchor, &at(9)).is_none());
}

#[test]
fn replay_gives_the_same_root() {
    let entries = [(listing_entry(), at(0))];
    let root_of = || {
        let status = fold(&entries).unwrap();
        let key = status.subject.map_key();
        let store = MemoryNodeStore::new();
        apply_updates(
            &EMPTY_SUBTREE,
            &[(key, Some(status.value_hash().unwrap()))],
            &store,
        )
        .unwrap()
        .new_root
    };
    assert_eq!(root_of(), root_of());
    assert_ne!(root_of(), EMPTY_SUBTREE);
}
