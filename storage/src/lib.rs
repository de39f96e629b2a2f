//! credx storage: the engine-agnostic storage contract and its RocksDB engine.
//!
//! Read top-down:
//! * [`api`] — the traits every engine implements ([`LogStore`], [`IndexStore`],
//!   [`StatusStore`], [`CheckpointStore`], [`CursorStore`], [`EvidenceStore`], combined as
//!   [`Storage`]) and their plain data types. No engine type appears there.
//! * [`error`] — [`StorageError`], naming origin / index / size / column family / key.
//! * [`rocks`] — [`RocksStorage`], the RocksDB engine: column families, options, the atomic
//!   append, stored-hash readers, indexes, status-map persistence, checkpoints, cursors,
//!   evidence.
//! * [`signing_guard`] — never sign a checkpoint inconsistent with the last one; refuse to
//!   sign after a backup restore.
//! * [`sequencer`] — one thread per own log: batch, plan, append durably, sign, acknowledge.
//! * [`mirror`] — logs of the nodes below: where a mirror stands, and the one durable write
//!   of a verified delta.
//!
//! Durability in one sentence: an append is one synced RocksDB `WriteBatch` (entries, tree
//! hashes, indexes, status map, cursor), a checkpoint is signed only after it, and a
//! submitter is acknowledged only after the checkpoint is persisted.

pub mod api;
pub mod error;
pub mod mirror;
pub(crate) mod planned_append;
pub mod planner;
pub mod rocks;
pub mod sequencer;
pub mod signing_guard;

pub use api::{
    AppendBatch, AppendOutcome, BusinessKeyUpdate, CheckpointStore, CheckpointWrite, Cursor,
    CursorStore, CursorUpdate, EntryLocation, EvidenceStore, FeedStore, ForkEvidence, ForkRecord,
    IndexStore, IndexUpdates, ListMember, ListUpdate, LogInfo, LogRole, LogStore,
    ReceivedListEntry, StatusStore, StatusWrite, Storage, SubjectIndexUpdate, MAX_FEED_PAGE,
    MAX_READ_ENTRIES,
};
pub use error::{Result, StorageError};
pub use mirror::{frontier, index_mirror, mirror_state, write_verified_delta};
pub use planner::EntryPlanner;
pub use rocks::{RocksStorage, StorageOptions};
pub use sequencer::{
    Ack, AnchorPolicy, BatchPlanner, NoopPlanner, Plan, PlanView, PlannedEntry, Sequencer,
    SequencerConfig, SignedHook, Ticket,
};
pub use signing_guard::{GuardState, SigningGuard};
