//! Limits every message must respect, checked by [`Message::decode`](super::Message::decode)
//! on what a peer sends and by [`Message::encode`](super::Message::encode) on what we send,
//! so a node never emits something its peers refuse.
//!
//! The whole frame is additionally capped at [`codec::MAX_FRAME_BYTES`](crate::codec::MAX_FRAME_BYTES).

/// Most entries in one `PushEntries`. Big enough to amortise per-batch costs (one fsync,
/// one cosignature), small enough that a batch's leaf hashes and decoded entries stay a few
/// MiB (CouchDB batches 500 documents, Hypercore keeps ≤ 512 blocks in flight).
pub const MAX_PUSH_ENTRIES: usize = 4096;

/// Most items in one `FeedPage`, and the largest `FeedRequest.max`.
pub const MAX_FEED_ITEMS: usize = 4096;

/// Most distinct checkpoints one `FeedPage` carries (items refer to them by position).
pub const MAX_FEED_CHECKPOINTS: usize = 1024;

/// Longest human-readable `detail` in `Rejected` and `Goodbye`.
pub const MAX_DETAIL_BYTES: usize = 1024;

/// Longest cosignature line in `Accepted`: `— <name ≤ 255> <base64 of 76 bytes>\n` is at
/// most 365 bytes.
pub const MAX_COSIGNATURE_LINE_BYTES: usize = 512;

/// Longest checkpoint (a signed note, with cosignatures).
pub const MAX_CHECKPOINT_BYTES: usize = crate::note::limits::MAX_NOTE_SIZE;

/// Most hashes in a consistency or inclusion proof.
pub const MAX_PROOF_HASHES: usize = crate::merkle::MAX_PROOF_HASHES;

/// Longest signed roster.
pub const MAX_ROSTER_BYTES: usize = crate::roster::MAX_ROSTER_BYTES;

/// Longest entry.
pub const MAX_ENTRY_BYTES: usize = crate::codec::MAX_ENTRY_BYTES;

const _: () = assert!(MAX_ROSTER_BYTES < crate::codec::MAX_FRAME_BYTES);

/// Most signed health reports in one `HealthReports`.
pub const MAX_HEALTH_REPORTS: usize = crate::health::MAX_HEALTH_REPORTS_PER_MESSAGE;

/// Longest signed health report.
pub const MAX_HEALTH_REPORT_BYTES: usize = crate::health::MAX_SIGNED_HEALTH_REPORT_BYTES;
