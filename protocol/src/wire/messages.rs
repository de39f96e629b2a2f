//! The messages of the sync protocol, and their one encoding.
//!
//! A session (design brief §6, federation.md §2.4 and §5):
//!
//! ```text
//! child                                   parent
//! Hello{version, node, roster, session}  →
//!                                        ← HelloAck{version, node, roster, session}
//!                                        ← RosterOffer            (if the child's is older)
//! OfferLog{origin, checkpoint}           →
//!                                        ← CursorIs{origin, size, root}   (parent's cursor)
//! ConsistencyProof{origin, cursor→new}   →
//! PushEntries{origin, start, entries}    →   (repeated, bounded batches)
//!                                        ← Accepted{origin, size, cosignature}
//!                                          | Rejected{origin, code, detail}
//! FeedRequest{after, max}                →
//!                                        ← FeedPage{…}
//! HealthReports{reports}                 →   (every few seconds; repeated for big subtrees)
//!                                        ← HealthAck{accepted, refused}
//! Goodbye{code, detail}                 ↔
//! ```
//!
//! Every frame payload is one [`Message`] encoded by [`codec::encode_frame`] (bincode 2,
//! canonical, bounded); [`Message::decode`] adds the protocol's own limits on counts and
//! sizes. Checkpoints, cosignatures, rosters and entries travel as their exact bytes, never
//! re-encoded, because those bytes are what is signed and hashed.

use serde::{Deserialize, Serialize};

use super::codes::ErrorCode;
use super::error::WireError;
use super::limits::{
    MAX_CHECKPOINT_BYTES, MAX_COSIGNATURE_LINE_BYTES, MAX_DETAIL_BYTES, MAX_ENTRY_BYTES,
    MAX_FEED_CHECKPOINTS, MAX_FEED_ITEMS, MAX_HEALTH_REPORTS, MAX_HEALTH_REPORT_BYTES,
    MAX_PROOF_HASHES, MAX_PUSH_ENTRIES, MAX_ROSTER_BYTES,
};
use super::{bounded, bytes};
use crate::codec;
use crate::merkle::Hash;
use crate::note::KeyName;

/// The protocol version this build speaks. `Hello` carries it; a peer that speaks no
/// common version answers `Goodbye{ProtocolVersion}`.
pub const PROTOCOL_VERSION: u16 = 1;

/// The TLS ALPN protocol id for QUIC connections carrying this protocol. Versioned with
/// [`PROTOCOL_VERSION`] so that incompatible peers fail at the handshake.
pub const ALPN: &str = "credx/1";

/// A sync protocol message.
///
/// bincode tags enum variants by position, so variants are only ever **appended** and a
/// released variant's fields never change: a changed shape is a new variant (and usually a
/// new [`PROTOCOL_VERSION`]). The same holds for [`FeedItem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// First message of a session, child → parent.
    Hello {
        protocol_version: u16,
        /// The sender's origin name; must match its TLS identity in the roster.
        node: String,
        /// The roster version the sender holds, so the parent can offer a newer one.
        roster_version: u64,
        /// Random per session; both ends record it next to their cursors (CouchDB's
        /// replication log) to recognise a resumed session.
        session_id: [u8; 16],
    },
    /// The parent's answer to `Hello`: the version it will speak (the child's), its own
    /// origin and roster version, and the session id echoed.
    HelloAck {
        protocol_version: u16,
        node: String,
        roster_version: u64,
        session_id: [u8; 16],
    },
    /// The child offers a log: its latest signed checkpoint for `origin`, verbatim.
    OfferLog { origin: String, checkpoint: Vec<u8> },
    /// Where the parent's mirror of `origin` stands: the answer to `OfferLog`, and to a push
    /// from the wrong position (tlog-witness answers 409 with its size). A parent that has
    /// nothing yet says size 0 with the empty-tree root.
    CursorIs {
        origin: String,
        size: u64,
        root: Hash,
    },
    /// Entries `[start, start + entries.len())` of `origin`'s log, as their exact bytes.
    PushEntries {
        origin: String,
        start: u64,
        #[serde(
            serialize_with = "bytes::serialize_seq",
            deserialize_with = "bounded::push_entries"
        )]
        entries: Vec<Vec<u8>>,
        /// Optionally a signed checkpoint at the end of this batch, so a long catch-up can
        /// be acknowledged (and cosigned) batch by batch.
        end_of_batch_checkpoint: Option<Vec<u8>>,
    },
    /// Consistency proof for `origin` from the parent's cursor (`old_size`) to the offered
    /// checkpoint (`new_size`), RFC 9162 §2.1.4 order.
    ConsistencyProof {
        origin: String,
        old_size: u64,
        new_size: u64,
        #[serde(deserialize_with = "bounded::proof")]
        hashes: Vec<Hash>,
    },
    /// The parent verified and durably stored `origin` up to `size` and cosigns it: the
    /// cosignature/v1 note signature line (`— <name> <base64>\n`), for the child to keep
    /// next to its checkpoint.
    Accepted {
        origin: String,
        size: u64,
        cosignature: Vec<u8>,
    },
    /// The parent refuses what the child sent for `origin`.
    Rejected {
        origin: String,
        code: ErrorCode,
        detail: String,
    },
    /// The child asks for the parent's list feed from position `after` (the number of feed
    /// items it already holds), at most `max` items.
    FeedRequest { after: u64, max: u32 },
    /// Items `[start, start + items.len())` of the parent's list feed, which has
    /// `feed_size` items in all. Items name the checkpoint they are proven against by
    /// position in `checkpoints`, so a page with many items of one log carries its
    /// checkpoint once.
    FeedPage {
        start: u64,
        feed_size: u64,
        #[serde(
            serialize_with = "bytes::serialize_seq",
            deserialize_with = "bounded::feed_checkpoints"
        )]
        checkpoints: Vec<Vec<u8>>,
        #[serde(deserialize_with = "bounded::feed_items")]
        items: Vec<FeedItem>,
    },
    /// A signed roster, verbatim, passed down the tree.
    RosterOffer { signed_roster: Vec<u8> },
    /// Ends the session: `None` for a normal close, else why.
    Goodbye {
        code: Option<ErrorCode>,
        detail: String,
    },
    /// Child → parent, after the list feed: signed health reports (each the canonical bytes
    /// of a [`SignedHealthReport`](crate::health::SignedHealthReport)) of the child and of
    /// nodes of its subtree, forwarded verbatim. A large subtree is sent in several messages.
    HealthReports {
        #[serde(
            serialize_with = "bytes::serialize_seq",
            deserialize_with = "bounded::health_reports"
        )]
        reports: Vec<Vec<u8>>,
    },
    /// Parent → child: how many reports of the last `HealthReports` it kept and refused
    /// (a refused report does not end the session; it is counted and logged).
    HealthAck { accepted: u32, refused: u32 },
}

/// One list-feed item: an entry of some origin's log with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    pub origin: String,
    /// The entry's index in `origin`'s log.
    pub index: u64,
    /// The entry's exact bytes.
    #[serde(with = "bytes")]
    pub entry: Vec<u8>,
    /// Inclusion proof of `entry` at `index` in the checkpoint below.
    #[serde(deserialize_with = "bounded::proof")]
    pub inclusion: Vec<Hash>,
    /// Position in the page's `checkpoints` of the (cosigned) checkpoint of `origin` the
    /// proof is against.
    pub checkpoint: u32,
}

impl Message {
    /// The variant's name, for logs, metrics and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "Hello",
            Message::HelloAck { .. } => "HelloAck",
            Message::OfferLog { .. } => "OfferLog",
            Message::CursorIs { .. } => "CursorIs",
            Message::PushEntries { .. } => "PushEntries",
            Message::ConsistencyProof { .. } => "ConsistencyProof",
            Message::Accepted { .. } => "Accepted",
            Message::Rejected { .. } => "Rejected",
            Message::FeedRequest { .. } => "FeedRequest",
            Message::FeedPage { .. } => "FeedPage",
            Message::RosterOffer { .. } => "RosterOffer",
            Message::Goodbye { .. } => "Goodbye",
            Message::HealthReports { .. } => "HealthReports",
            Message::HealthAck { .. } => "HealthAck",
        }
    }

    /// The origin the message is about, if it is about one log.
    pub fn origin(&self) -> Option<&str> {
        match self {
            Message::OfferLog { origin, .. }
            | Message::CursorIs { origin, .. }
            | Message::PushEntries { origin, .. }
            | Message::ConsistencyProof { origin, .. }
            | Message::Accepted { origin, .. }
            | Message::Rejected { origin, .. } => Some(origin),
            _ => None,
        }
    }

    /// Checks the limits, then encodes with the frame codec.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        self.check()?;
        Ok(codec::encode_frame(self)?)
    }

    /// Decodes one frame (bounded, canonical) and checks the protocol's limits.
    pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
        let message: Message = codec::decode_frame(bytes)?;
        message.check()?;
        Ok(message)
    }

    /// The semantic limits of every field (see [`super::limits`]).
    pub fn check(&self) -> Result<(), WireError> {
        let m = self.name();
        match self {
            Message::Hello { node, .. } | Message::HelloAck { node, .. } => {
                check_origin(m, "node", node)
            }
            Message::OfferLog { origin, checkpoint } => {
                check_origin(m, "origin", origin)?;
                check_len(m, "checkpoint", checkpoint.len(), MAX_CHECKPOINT_BYTES)?;
                check_nonempty(m, "checkpoint", checkpoint)
            }
            Message::CursorIs { origin, .. } => check_origin(m, "origin", origin),
            Message::PushEntries {
                origin,
                start,
                entries,
                end_of_batch_checkpoint,
            } => {
                check_origin(m, "origin", origin)?;
                check_len(m, "entries", entries.len(), MAX_PUSH_ENTRIES)?;
                for entry in entries {
                    check_len(m, "entries[]", entry.len(), MAX_ENTRY_BYTES)?;
                    check_nonempty(m, "entries[]", entry)?;
                }
                if start.checked_add(entries.len() as u64).is_none() {
                    return Err(invalid(m, "start", "start + count overflows"));
                }
                if let Some(cp) = end_of_batch_checkpoint {
                    check_len(m, "end_of_batch_checkpoint", cp.len(), MAX_CHECKPOINT_BYTES)?;
                    check_nonempty(m, "end_of_batch_checkpoint", cp)?;
                }
                Ok(())
            }
            Message::ConsistencyProof {
                origin,
                old_size,
                new_size,
                hashes,
            } => {
                check_origin(m, "origin", origin)?;
                check_len(m, "hashes", hashes.len(), MAX_PROOF_HASHES)?;
                if old_size > new_size {
                    return Err(invalid(m, "old_size", "old_size exceeds new_size"));
                }
                Ok(())
            }
            Message::Accepted {
                origin,
                cosignature,
                ..
            } => {
                check_origin(m, "origin", origin)?;
                check_len(
                    m,
                    "cosignature",
                    cosignature.len(),
                    MAX_COSIGNATURE_LINE_BYTES,
                )?;
                check_nonempty(m, "cosignature", cosignature)
            }
            Message::Rejected { origin, detail, .. } => {
                check_origin(m, "origin", origin)?;
                check_len(m, "detail", detail.len(), MAX_DETAIL_BYTES)
            }
            Message::FeedRequest { max, .. } => {
                check_len(m, "max", *max as usize, MAX_FEED_ITEMS)?;
                if *max == 0 {
                    return Err(invalid(m, "max", "must ask for at least one item"));
                }
                Ok(())
            }
            Message::FeedPage {
                start,
                feed_size,
                checkpoints,
                items,
            } => {
                check_len(m, "checkpoints", checkpoints.len(), MAX_FEED_CHECKPOINTS)?;
                check_len(m, "items", items.len(), MAX_FEED_ITEMS)?;
                for cp in checkpoints {
                    check_len(m, "checkpoints[]", cp.len(), MAX_CHECKPOINT_BYTES)?;
                    check_nonempty(m, "checkpoints[]", cp)?;
                }
                for item in items {
                    check_origin(m, "items[].origin", &item.origin)?;
                    check_len(m, "items[].entry", item.entry.len(), MAX_ENTRY_BYTES)?;
                    check_nonempty(m, "items[].entry", &item.entry)?;
                    check_len(
                        m,
                        "items[].inclusion",
                        item.inclusion.len(),
                        MAX_PROOF_HASHES,
                    )?;
                    if item.checkpoint as usize >= checkpoints.len() {
                        return Err(invalid(
                            m,
                            "items[].checkpoint",
                            "refers past the page's checkpoints",
                        ));
                    }
                }
                let end = start.checked_add(items.len() as u64);
                if end.is_none_or(|end| end > *feed_size) {
                    return Err(invalid(m, "feed_size", "items extend past feed_size"));
                }
                Ok(())
            }
            Message::RosterOffer { signed_roster } => {
                check_len(m, "signed_roster", signed_roster.len(), MAX_ROSTER_BYTES)?;
                check_nonempty(m, "signed_roster", signed_roster)
            }
            Message::Goodbye { detail, .. } => {
                check_len(m, "detail", detail.len(), MAX_DETAIL_BYTES)
            }
            Message::HealthReports { reports } => {
                check_len(m, "reports", reports.len(), MAX_HEALTH_REPORTS)?;
                for report in reports {
                    check_len(m, "reports[]", report.len(), MAX_HEALTH_REPORT_BYTES)?;
                    check_nonempty(m, "reports[]", report)?;
                }
                Ok(())
            }
            Message::HealthAck { accepted, refused } => {
                let total = u64::from(*accepted) + u64::from(*refused);
                check_len(m, "accepted + refused", total as usize, MAX_HEALTH_REPORTS)
            }
        }
    }
}

fn invalid(message: &'static str, field: &'static str, reason: &'static str) -> WireError {
    WireError::Invalid {
        message,
        field,
        reason,
    }
}

fn check_len(
    message: &'static str,
    field: &'static str,
    found: usize,
    max: usize,
) -> Result<(), WireError> {
    if found > max {
        return Err(WireError::Limit {
            message,
            field,
            found,
            max,
        });
    }
    Ok(())
}

fn check_nonempty(
    message: &'static str,
    field: &'static str,
    bytes: &[u8],
) -> Result<(), WireError> {
    if bytes.is_empty() {
        return Err(invalid(message, field, "must not be empty"));
    }
    Ok(())
}

/// Origins are C2SP key names (they name the log key): bounded, no spaces, no `+`, no
/// control characters.
fn check_origin(message: &'static str, field: &'static str, origin: &str) -> Result<(), WireError> {
    KeyName::new(origin)
        .map(|_| ())
        .map_err(|_| invalid(message, field, "not a valid origin (key name)"))
}

#[cfg(test)]
mod health_message_tests {
    use super::*;

    #[test]
    fn health_messages_are_appended_with_the_next_tags() {
        let reports = Message::HealthReports {
            reports: vec![vec![7; 100], vec![8; 200]],
        };
        let ack = Message::HealthAck {
            accepted: 1,
            refused: 1,
        };
        for (message, tag) in [(reports, 12u8), (ack, 13u8)] {
            let bytes = message.encode().unwrap();
            assert_eq!(bytes[0], tag);
            assert_eq!(Message::decode(&bytes).unwrap(), message);
        }
    }

    #[test]
    fn health_reports_are_bounded_in_count_and_size() {
        let too_many = Message::HealthReports {
            reports: vec![vec![1]; MAX_HEALTH_REPORTS + 1],
        };
        assert!(matches!(too_many.encode(), Err(WireError::Limit { .. })));
        let bytes = codec::encode_frame(&too_many).unwrap();
        assert!(Message::decode(&bytes).is_err(), "refused while decoding");
        let too_big = Message::HealthReports {
            reports: vec![vec![1; MAX_HEALTH_REPORT_BYTES + 1]],
        };
        assert!(matches!(too_big.encode(), Err(WireError::Limit { .. })));
        let empty = Message::HealthReports {
            reports: vec![Vec::new()],
        };
        assert!(empty.encode().is_err());
    }
}
