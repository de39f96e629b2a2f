//! The one error type of the storage crate.
//!
//! Every variant names what it is about (origin, index, size, column family, key) so an
//! operator reading a log line knows where to look. Engine errors (RocksDB) are carried as
//! text: no engine type crosses the [`crate::api`] boundary, so a distributed engine can
//! implement the same traits later.

use credx_protocol::merkle::{Hash, MerkleError};

/// Result alias used throughout the crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The origin has never been registered in this store.
    #[error("log {origin:?} is not known to this store")]
    UnknownLog { origin: String },
    /// `register_log` for an origin that already exists with another role.
    #[error("log {origin:?} is already registered as {existing}, not {requested}")]
    RoleConflict {
        origin: String,
        existing: &'static str,
        requested: &'static str,
    },
    /// Compare-and-swap on the log size failed: another append moved the log first.
    /// Nothing of the rejected batch was written.
    #[error("log {origin:?}: append expected size {expected} but the log has size {actual}")]
    SizeMismatch {
        origin: String,
        expected: u64,
        actual: u64,
    },
    /// The caller asserted the root the batch must produce (mirrors: the peer's checkpoint
    /// root) and the recomputed root differs. Nothing was written.
    #[error("log {origin:?}: batch would give root {computed} at size {size}, caller expected {expected}")]
    RootMismatch {
        origin: String,
        size: u64,
        expected: Hash,
        computed: Hash,
    },
    /// Compare-and-swap on the status-map root failed. Nothing was written.
    #[error("status map root is {actual}, the update was computed from {expected}")]
    StatusRootMismatch { expected: Hash, actual: Hash },
    /// An append with no entries, or other malformed request.
    #[error("log {origin:?}: invalid batch: {reason}")]
    InvalidBatch { origin: String, reason: String },
    /// An entry larger than [`crate::api::MAX_ENTRY_SIZE`].
    #[error("log {origin:?}: entry {index} is {len} bytes, more than the limit {max}")]
    EntryTooLarge {
        origin: String,
        index: u64,
        len: usize,
        max: usize,
    },
    /// A read or proof beyond the current size of the log.
    #[error("log {origin:?}: {what} {requested} is beyond the log size {size}")]
    BeyondLogSize {
        origin: String,
        what: &'static str,
        requested: u64,
        size: u64,
    },
    /// Something that must exist (it is below the log size) is not in the store: the store
    /// is damaged.
    #[error("column family {cf}: key {key} is missing (log {origin:?})")]
    Missing {
        cf: &'static str,
        key: String,
        origin: String,
    },
    /// A stored value that does not decode: the store is damaged.
    #[error("column family {cf}: value at key {key} is corrupt: {reason}")]
    Corrupt {
        cf: &'static str,
        key: String,
        reason: String,
    },
    /// Proof or root computation over stored hashes failed.
    #[error("log {origin:?}: merkle: {source}")]
    Merkle { origin: String, source: MerkleError },
    /// Checkpoint bytes that do not parse, name another origin, or are not consistent
    /// with this store's log.
    #[error("log {origin:?}: checkpoint rejected: {reason}")]
    CheckpointRejected { origin: String, reason: String },
    /// A checkpoint smaller than (or conflicting with) the latest one stored: checkpoints
    /// never go backwards.
    #[error("log {origin:?}: checkpoint at size {offered} would replace the stored checkpoint at size {latest}")]
    CheckpointRegression {
        origin: String,
        latest: u64,
        offered: u64,
    },
    /// The origin has uncleared fork evidence: appends are refused until an operator clears it.
    #[error("log {origin:?} is frozen by fork evidence; an operator must inspect and clear it (clear_fork) before it accepts entries")]
    OriginFrozen { origin: String },
    /// The signing guard refuses to sign or append for this log (see `signing_guard`).
    #[error("log {origin:?}: signing refused: {reason}")]
    SigningRefused { origin: String, reason: String },
    /// Signing a checkpoint failed (key name does not match the origin, ...).
    #[error("log {origin:?}: signing failed: {reason}")]
    Signing { origin: String, reason: String },
    /// Status-map computation or proof failed.
    #[error("status map: {0}")]
    StatusMap(String),
    /// The caller-supplied batch planner failed; nothing of the batch was written.
    #[error("log {origin:?}: batch planner failed: {reason}")]
    Planner { origin: String, reason: String },
    /// The sequencer thread is gone (shut down or panicked).
    #[error("log {origin:?}: sequencer stopped")]
    SequencerStopped { origin: String },
    /// The entries are durable (indexes assigned) but no checkpoint covers them yet; the
    /// next batch's checkpoint will.
    #[error("log {origin:?}: entries {first_index}..{end_index} are durable but the checkpoint failed: {reason}")]
    CheckpointAfterAppend {
        origin: String,
        first_index: u64,
        end_index: u64,
        reason: String,
    },
    /// File-system error (checkpoint files, directories).
    #[error("{path}: {op}: {message}")]
    Io {
        path: String,
        op: &'static str,
        message: String,
    },
    /// An error reported by the engine (RocksDB), as text.
    #[error("engine: {op}: {message}")]
    Engine { op: &'static str, message: String },
}

impl StorageError {
    /// Wraps an engine error as text, naming the operation.
    pub(crate) fn engine(op: &'static str, err: impl std::fmt::Display) -> StorageError {
        StorageError::Engine {
            op,
            message: err.to_string(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, op: &'static str, err: std::io::Error) -> Self {
        StorageError::Io {
            path: path.display().to_string(),
            op,
            message: err.to_string(),
        }
    }

    pub(crate) fn corrupt(cf: &'static str, key: &[u8], reason: impl Into<String>) -> Self {
        StorageError::Corrupt {
            cf,
            key: hex_key(key),
            reason: reason.into(),
        }
    }

    pub(crate) fn merkle(origin: &str, source: MerkleError) -> Self {
        StorageError::Merkle {
            origin: origin.to_string(),
            source,
        }
    }
}

/// Keys are shown in hex in error messages (they are binary).
pub(crate) fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}
