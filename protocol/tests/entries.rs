//! The log entry envelope: canonical bytes, leaf hashes over stored bytes, bounds, and
//! decoding that never panics on hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use credx_protocol::entry::{
    EncodedEntry, Entry, EntryError, EntryRef, Event, LogPosition, SubjectId, WithdrawalKind,
    ENVELOPE_VERSION,
};
use credx_protocol::merkle::{leaf_hash, Hash};
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::record::Record;
use credx_protocol::validate::{validate_raw, ValidationContext};
use proptest::prelude::*;

fn sample_records() -> Vec<Record> {
    let bytes = include_bytes!("fixtures/records/samples.json").to_vec();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let ctx = ValidationContext::new(today);
    parse_json_records(&bytes)
        .unwrap()
        .into_iter()
        .map(|raw| {
            let validated = validate_raw(&raw.unwrap(), &ctx);
            validated.record.expect("sample records validate")
        })
        .collect()
}

fn penalty_entry() -> Entry {
    let record = sample_records()
        .into_iter()
        .find(|r| matches!(r, Record::Penalty(_)))
        .unwrap();
    Entry::for_record(
        "420222.credx",
        "dept-yx-market",
        1_780_000_000_000,
        record,
        None,
    )
}

#[test]
fn record_entry_carries_subject_authority_and_business_key() {
    let entry = penalty_entry();
    assert_eq!(entry.version, ENVELOPE_VERSION);
    assert_eq!(
        entry.subject,
        Some(SubjectId::Organisation("93420222PDY0000366".into()))
    );
    assert_eq!(entry.authority.as_deref(), Some("11420222PDY000132X"));
    let key = entry.business_key.as_ref().unwrap();
    assert_eq!(key.document_no, "阳示罚〔2026〕45号");
    assert!(matches!(entry.event, Event::RecordPublished { .. }));
}

#[test]
fn encode_decode_round_trips_and_hashes_the_stored_bytes() {
    for record in sample_records() {
        let entry = Entry::for_record("420281.credx", "dept", 1, record, None);
        let encoded = entry.encode().unwrap();
        assert_eq!(encoded.leaf_hash(), leaf_hash(encoded.bytes()));
        let (again, decoded) = EncodedEntry::from_bytes(encoded.bytes().to_vec()).unwrap();
        assert_eq!(decoded, entry);
        assert_eq!(again.bytes(), encoded.bytes());
        assert_eq!(again.leaf_hash(), encoded.leaf_hash());
    }
}

#[test]
fn amendment_points_at_the_previous_entry() {
    let record = sample_records().remove(0);
    let previous = EntryRef {
        origin: "420281.credx".into(),
        index: 7,
        leaf_hash: Hash([7; 32]),
    };
    let entry = Entry::for_record("420281.credx", "dept", 2, record, Some(previous.clone()));
    match &entry.event {
        Event::RecordAmended { previous: p, .. } => assert_eq!(p, &previous),
        other => panic!("expected an amendment, got {}", other.kind_name()),
    }
    Entry::decode(entry.encode().unwrap().bytes()).unwrap();
}

#[test]
fn unknown_envelope_version_is_refused() {
    let mut entry = penalty_entry();
    entry.version = 2;
    assert!(matches!(
        entry.encode(),
        Err(EntryError::UnsupportedVersion { found: 2, .. })
    ));
}

#[test]
fn bounds_are_enforced_with_the_field_named() {
    let mut entry = penalty_entry();
    entry.origin = "420281 credx".into();
    let err = entry.encode().unwrap_err();
    assert!(err.to_string().contains("origin"), "{err}");

    let mut entry = penalty_entry();
    entry.event = Event::RecordWithdrawn {
        target: EntryRef {
            origin: "420222.credx".into(),
            index: 0,
            leaf_hash: Hash::default(),
        },
        kind: WithdrawalKind::Revoked,
        reason: "  ".into(),
    };
    let err = entry.encode().unwrap_err();
    assert!(err.to_string().contains("event.reason"), "{err}");

    let mut entry = penalty_entry();
    entry.event = Event::StatusMapRoot {
        root: Hash::default(),
        covers: vec![
            LogPosition {
                origin: "b.credx".into(),
                size: 1,
            },
            LogPosition {
                origin: "a.credx".into(),
                size: 1,
            },
        ],
    };
    assert!(entry.encode().is_err());
}

#[test]
fn trailing_or_changed_bytes_do_not_decode_to_the_same_entry() {
    let encoded = penalty_entry().encode().unwrap();
    let mut longer = encoded.bytes().to_vec();
    longer.push(0);
    assert!(Entry::decode(&longer).is_err());
}

#[test]
fn subject_keys_separate_organisations_from_persons() {
    let org = SubjectId::Organisation("420281199603151237".into());
    let person = SubjectId::Person {
        id_type: "01".into(),
        number: "420281199603151237".into(),
    };
    assert_ne!(org.map_key(), person.map_key());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Entry::decode(&bytes);
    }

    #[test]
    fn decoding_mutated_entries_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = penalty_entry().encode().unwrap().into_bytes();
        for (at, value) in flips {
            let len = bytes.len();
            if let Some(b) = bytes.get_mut(at % len) {
                *b = value;
            }
        }
        if let Ok(entry) = Entry::decode(&bytes) {
            // Whatever decodes must be canonical: re-encoding gives the same bytes.
            let again = entry.encode().unwrap();
            prop_assert_eq!(again.bytes(), &bytes[..]);
        }
    }
}
