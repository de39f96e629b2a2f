//! Sync protocol messages: round trips, limits enforced on decode, stable error codes, and
//! decoding that never panics on hostile frames.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credx_protocol::codec::{self, MAX_ENTRY_BYTES, MAX_FRAME_BYTES};
use credx_protocol::merkle::{Hash, EMPTY_ROOT};
use credx_protocol::wire::limits::{
    MAX_CHECKPOINT_BYTES, MAX_DETAIL_BYTES, MAX_FEED_ITEMS, MAX_PROOF_HASHES, MAX_PUSH_ENTRIES,
};
use credx_protocol::wire::{ErrorCode, FeedItem, Message, WireError, ALPN, PROTOCOL_VERSION};
use proptest::prelude::*;

fn checkpoint() -> Vec<u8> {
    b"420281.credx\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\xe2\x80\x94 420281.credx AAAAAAA=\n"
        .to_vec()
}

fn every_message() -> Vec<Message> {
    vec![
        Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            node: "420281.credx".into(),
            roster_version: 7,
            session_id: [1; 16],
        },
        Message::HelloAck {
            protocol_version: PROTOCOL_VERSION,
            node: "420200.credx".into(),
            roster_version: 8,
            session_id: [1; 16],
        },
        Message::OfferLog {
            origin: "420281.credx".into(),
            checkpoint: checkpoint(),
        },
        Message::CursorIs {
            origin: "420281.credx".into(),
            size: 0,
            root: EMPTY_ROOT,
        },
        Message::PushEntries {
            origin: "420281.credx".into(),
            start: 10,
            entries: vec![vec![1, 2, 3], vec![4; 300]],
            end_of_batch_checkpoint: Some(checkpoint()),
        },
        Message::PushEntries {
            origin: "420281.credx".into(),
            start: 12,
            entries: vec![],
            end_of_batch_checkpoint: None,
        },
        Message::ConsistencyProof {
            origin: "420281.credx".into(),
            old_size: 10,
            new_size: 12,
            hashes: vec![Hash([1; 32]), Hash([2; 32])],
        },
        Message::Accepted {
            origin: "420281.credx".into(),
            size: 12,
            cosignature: "\u{2014} 420200.credx AAAA\n".as_bytes().to_vec(),
        },
        Message::Rejected {
            origin: "420281.credx".into(),
            code: ErrorCode::OutOfJurisdiction,
            detail: "entry 11: authority 11420222PDY000132X outside 420281".into(),
        },
        Message::FeedRequest {
            after: 100,
            max: 500,
        },
        Message::FeedPage {
            start: 100,
            feed_size: 250,
            checkpoints: vec![checkpoint()],
            items: vec![FeedItem {
                origin: "420281.credx".into(),
                index: 2,
                entry: vec![9; 40],
                inclusion: vec![Hash([3; 32])],
                checkpoint: 0,
            }],
        },
        Message::RosterOffer {
            signed_roster: b"credx roster v1\n...".to_vec(),
        },
        Message::Goodbye {
            code: None,
            detail: String::new(),
        },
        Message::Goodbye {
            code: Some(ErrorCode::OriginFrozen),
            detail: "fork on 420281.credx".into(),
        },
    ]
}

#[test]
fn every_message_round_trips() {
    let mut names = std::collections::BTreeSet::new();
    for message in every_message() {
        let bytes = message.encode().unwrap();
        assert_eq!(Message::decode(&bytes).unwrap(), message);
        // The codec is the only encoder: same bytes either way.
        assert_eq!(codec::encode_frame(&message).unwrap(), bytes);
        names.insert(message.name());
    }
    assert_eq!(names.len(), 12, "one of each variant");
}

#[test]
fn variant_tags_are_positional_and_stable() {
    // bincode writes the variant index first: appending variants keeps these bytes valid.
    let tags: Vec<u8> = every_message()
        .iter()
        .map(|m| m.encode().unwrap()[0])
        .collect();
    assert_eq!(tags, [0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11, 11]);
}

#[test]
fn constants() {
    assert_eq!(PROTOCOL_VERSION, 1);
    assert_eq!(ALPN, "credx/1");
}

#[test]
fn error_codes_are_stable_numbers() {
    let expected = [
        (ErrorCode::UnknownOrigin, 1),
        (ErrorCode::NotInRoster, 2),
        (ErrorCode::BadSignature, 3),
        (ErrorCode::InconsistentCheckpoint, 4),
        (ErrorCode::BadConsistencyProof, 5),
        (ErrorCode::RootMismatch, 6),
        (ErrorCode::OutOfJurisdiction, 7),
        (ErrorCode::InvalidEntry, 8),
        (ErrorCode::CursorMismatch, 9),
        (ErrorCode::Oversized, 10),
        (ErrorCode::RateLimited, 11),
        (ErrorCode::OriginFrozen, 12),
        (ErrorCode::RosterExpired, 13),
        (ErrorCode::ProtocolVersion, 14),
        (ErrorCode::Internal, 15),
        (ErrorCode::Malformed, 16),
    ];
    assert_eq!(ErrorCode::ALL.len(), expected.len());
    for (code, n) in expected {
        assert_eq!(code.code(), n);
        assert_eq!(ErrorCode::from_code(n), code);
        // On the wire as the number itself (varint u16), not an enum position.
        let bytes = codec::encode_frame(&code).unwrap();
        assert_eq!(bytes, codec::encode_frame(&n).unwrap());
    }
    // A newer peer's code survives decoding instead of failing the message.
    let m = Message::Rejected {
        origin: "420281.credx".into(),
        code: ErrorCode::Unknown(999),
        detail: String::new(),
    };
    assert_eq!(Message::decode(&m.encode().unwrap()).unwrap(), m);
    assert!(ErrorCode::CursorMismatch.is_transient());
    assert!(!ErrorCode::InconsistentCheckpoint.is_transient());
}

/// Encodes without the sender-side limit check, as a hostile or buggy peer would.
fn raw(message: &Message) -> Vec<u8> {
    codec::encode_frame(message).unwrap()
}

fn limit_field(err: WireError) -> &'static str {
    match err {
        WireError::Limit { field, .. } => field,
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn over_limit_counts_are_refused_while_decoding() {
    let too_many = Message::PushEntries {
        origin: "420281.credx".into(),
        start: 0,
        entries: vec![vec![1]; MAX_PUSH_ENTRIES + 1],
        end_of_batch_checkpoint: None,
    };
    assert!(matches!(
        too_many.encode(),
        Err(WireError::Limit {
            field: "entries",
            ..
        })
    ));
    // The decoder stops at the length prefix, before building any element.
    let err = Message::decode(&raw(&too_many)).unwrap_err();
    assert!(matches!(err, WireError::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("at most 4096"), "{err}");

    let at_limit = Message::PushEntries {
        origin: "420281.credx".into(),
        start: 0,
        entries: vec![vec![1]; MAX_PUSH_ENTRIES],
        end_of_batch_checkpoint: None,
    };
    Message::decode(&at_limit.encode().unwrap()).unwrap();

    let long_proof = Message::ConsistencyProof {
        origin: "420281.credx".into(),
        old_size: 1,
        new_size: 2,
        hashes: vec![Hash::default(); MAX_PROOF_HASHES + 1],
    };
    assert!(matches!(
        Message::decode(&raw(&long_proof)),
        Err(WireError::Decode(_))
    ));

    let page = Message::FeedPage {
        start: 0,
        feed_size: u64::MAX,
        checkpoints: vec![checkpoint()],
        items: vec![
            FeedItem {
                origin: "a".into(),
                index: 0,
                entry: vec![1],
                inclusion: vec![],
                checkpoint: 0,
            };
            MAX_FEED_ITEMS + 1
        ],
    };
    assert!(matches!(
        Message::decode(&raw(&page)),
        Err(WireError::Decode(_))
    ));
}

#[test]
fn over_limit_sizes_are_refused_on_decode() {
    let big_entry = Message::PushEntries {
        origin: "420281.credx".into(),
        start: 0,
        entries: vec![vec![0; MAX_ENTRY_BYTES + 1]],
        end_of_batch_checkpoint: None,
    };
    assert_eq!(
        limit_field(Message::decode(&raw(&big_entry)).unwrap_err()),
        "entries[]"
    );

    let detail = Message::Rejected {
        origin: "420281.credx".into(),
        code: ErrorCode::Internal,
        detail: "x".repeat(MAX_DETAIL_BYTES + 1),
    };
    let err = Message::decode(&raw(&detail)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Oversized);
    assert_eq!(limit_field(err), "detail");

    let goodbye = Message::Goodbye {
        code: None,
        detail: "说".repeat(MAX_DETAIL_BYTES / 3 + 1),
    };
    assert_eq!(
        limit_field(Message::decode(&raw(&goodbye)).unwrap_err()),
        "detail"
    );

    let cp = Message::OfferLog {
        origin: "420281.credx".into(),
        checkpoint: vec![b'a'; MAX_CHECKPOINT_BYTES + 1],
    };
    assert_eq!(
        limit_field(Message::decode(&raw(&cp)).unwrap_err()),
        "checkpoint"
    );

    let feed = Message::FeedRequest {
        after: 0,
        max: MAX_FEED_ITEMS as u32 + 1,
    };
    assert_eq!(
        limit_field(Message::decode(&raw(&feed)).unwrap_err()),
        "max"
    );

    // The whole frame is capped by the codec (8 MiB).
    let huge = Message::RosterOffer {
        signed_roster: vec![b'a'; MAX_FRAME_BYTES],
    };
    assert!(matches!(huge.encode(), Err(WireError::Limit { .. })));
    let mut frame = vec![10u8];
    frame.resize(MAX_FRAME_BYTES + 1, 0);
    let err = Message::decode(&frame).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Oversized);
}

#[test]
fn semantic_rules_are_checked_on_decode() {
    let bad_origin = Message::CursorIs {
        origin: "420281 credx".into(),
        size: 0,
        root: EMPTY_ROOT,
    };
    assert!(matches!(
        Message::decode(&raw(&bad_origin)),
        Err(WireError::Invalid {
            field: "origin",
            ..
        })
    ));
    let backwards = Message::ConsistencyProof {
        origin: "a".into(),
        old_size: 5,
        new_size: 4,
        hashes: vec![],
    };
    assert!(matches!(
        Message::decode(&raw(&backwards)),
        Err(WireError::Invalid { .. })
    ));
    let overflow = Message::PushEntries {
        origin: "a".into(),
        start: u64::MAX,
        entries: vec![vec![1]],
        end_of_batch_checkpoint: None,
    };
    assert!(matches!(
        Message::decode(&raw(&overflow)),
        Err(WireError::Invalid { field: "start", .. })
    ));
    let dangling = Message::FeedPage {
        start: 0,
        feed_size: 1,
        checkpoints: vec![],
        items: vec![FeedItem {
            origin: "a".into(),
            index: 0,
            entry: vec![1],
            inclusion: vec![],
            checkpoint: 0,
        }],
    };
    assert!(matches!(
        Message::decode(&raw(&dangling)),
        Err(WireError::Invalid {
            field: "items[].checkpoint",
            ..
        })
    ));
    let past_end = Message::FeedPage {
        start: 5,
        feed_size: 5,
        checkpoints: vec![checkpoint()],
        items: vec![FeedItem {
            origin: "a".into(),
            index: 0,
            entry: vec![1],
            inclusion: vec![],
            checkpoint: 0,
        }],
    };
    assert!(matches!(
        Message::decode(&raw(&past_end)),
        Err(WireError::Invalid {
            field: "feed_size",
            ..
        })
    ));
}

#[test]
fn non_canonical_and_trailing_bytes_are_refused() {
    let mut bytes = every_message()[0].encode().unwrap();
    bytes.push(0);
    assert!(matches!(Message::decode(&bytes), Err(WireError::Decode(_))));
    // Unknown variant tag.
    assert!(matches!(Message::decode(&[200]), Err(WireError::Decode(_))));
    assert!(matches!(Message::decode(&[]), Err(WireError::Decode(_))));
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_messages(which in 0usize..14, pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = every_message()[which].encode().unwrap();
        let i = pos % bytes.len();
        bytes[i] = byte;
        if let Ok(m) = Message::decode(&bytes) {
            // Whatever decodes is canonical and within limits.
            prop_assert_eq!(m.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn valid_pushes_round_trip(start in 0u64..1 << 40, entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..64), 0..20)) {
        let m = Message::PushEntries { origin: "420281.credx".into(), start, entries, end_of_batch_checkpoint: None };
        prop_assert_eq!(Message::decode(&m.encode().unwrap()).unwrap(), m);
    }
}
