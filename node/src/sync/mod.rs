//! Verified delta sync between a node and its parent (design brief §6).
//!
//! quinn-proto style: the protocol logic is two state machines that take a message and
//! return messages — [`UploaderSession`] (the child pushing its logs) and
//! [`ReceiverSession`] (the parent verifying, storing and cosigning) — and [`driver`] runs
//! them over QUIC streams. The wire format, limits and state machines are specified in
//! docs/protocol.md.
//!
//! The guarantees, in one place:
//! * the parent recomputes every root from the bytes it stores (never trusts the child's),
//!   verifies every signature, entry and jurisdiction, and writes a delta in one atomic
//!   write with its cursor before it cosigns;
//! * the child always starts from the parent's cursor, so an interrupted session resumes
//!   without resending anything the parent verified;
//! * a fork is kept as evidence and freezes the origin; other refusals end the session
//!   with a precise code and leave the store unchanged.

pub mod checkpoints;
pub mod context;
pub mod delta_write;
pub mod driver;
pub mod error;
pub mod feed;
pub mod indexer;
pub mod limits;
pub mod metrics;
pub mod receiver;
pub mod roster;
pub mod uploader;

pub use context::SyncContext;
pub use delta_write::{DeltaWrite, ReceiverOutput};
pub use driver::{serve, serve_connection, upload_on, upload_once, SyncFailure};
pub use error::SessionEnd;
pub use indexer::MirrorIndexer;
pub use limits::SyncLimits;
pub use metrics::SyncMetrics;
pub use receiver::ReceiverSession;
pub use roster::{RosterAuthorizer, RosterUpdateError, SharedRoster};
pub use uploader::{Unacknowledged, UploadReport, UploaderSession};
