//! Operator actions on a stopped node's store: list and clear fork evidence, and accept a
//! restored store when its lost entries cannot be re-fetched.
//!
//! They run offline (RocksDB's lock file keeps a second process out while the daemon runs),
//! so they never race a sync session or the sequencer. Each action leaves a trace: clearing
//! keeps the evidence and stores the operator's note beside it; acknowledging a restore keeps
//! the refused checkpoint file and the note (see `SigningGuard::acknowledge_restore`).

use credx_protocol::note::SignedCheckpoint;
use credx_storage::{
    EvidenceStore, ForkRecord, GuardState, LogRole, LogStore, RocksStorage, SigningGuard,
    StorageError, StorageOptions,
};

use crate::config::{Config, ConfigError};
use crate::sync::context::now_ms;

/// Why an operator action failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the store at {path}: {source}. Stop the node first (the store is locked while it runs)")]
    Open {
        path: std::path::PathBuf,
        source: StorageError,
    },
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error(
        "an operator note is required: say who decided and why (it is kept with the evidence)"
    )]
    EmptyNote,
    #[error("log {origin:?} has no uncleared fork evidence; nothing to clear")]
    NothingToClear { origin: String },
    #[error("the own log {origin:?} is not refusing to sign; nothing to acknowledge")]
    NotRefused { origin: String },
}

/// Fork evidence of one log, as stored.
#[derive(Debug)]
pub struct LogForks {
    pub origin: String,
    pub records: Vec<ForkRecord>,
}

fn open_store(config: &Config) -> Result<RocksStorage, AdminError> {
    let path = config.database_dir();
    RocksStorage::open(&path, &StorageOptions::default())
        .map_err(|source| AdminError::Open { path, source })
}

fn require_note(note: &str) -> Result<(), AdminError> {
    if note.trim().is_empty() {
        return Err(AdminError::EmptyNote);
    }
    Ok(())
}

/// Fork evidence of every log of the node (or only `origin`), cleared records included.
pub fn list_forks(config: &Config, origin: Option<&str>) -> Result<Vec<LogForks>, AdminError> {
    let store = open_store(config)?;
    let origins: Vec<String> = match origin {
        Some(origin) => vec![origin.to_owned()],
        None => store.logs()?.into_iter().map(|log| log.origin).collect(),
    };
    let mut out = Vec::new();
    for origin in origins {
        let records = store.forks(&origin)?;
        if !records.is_empty() {
            out.push(LogForks { origin, records });
        }
    }
    Ok(out)
}

/// Marks the uncleared fork evidence of `origin` cleared with `note`, which unfreezes the
/// origin: the next session with the peer resumes from the cursor. Returns how many records
/// were cleared.
pub fn clear_fork(config: &Config, origin: &str, note: &str) -> Result<usize, AdminError> {
    require_note(note)?;
    let store = open_store(config)?;
    if !store.is_frozen(origin)? {
        return Err(AdminError::NothingToClear {
            origin: origin.to_owned(),
        });
    }
    Ok(store.clear_fork(origin, note)?)
}

/// Accepts that the own log was restored from an older backup and its lost entries cannot
/// be re-fetched: signing resumes from the store's own latest checkpoint. Every node that
/// saw a later checkpoint will record a fork of this log; that is the visible, audited cost.
/// Returns why the log was refused.
pub fn acknowledge_restore(config: &Config, note: &str) -> Result<String, AdminError> {
    require_note(note)?;
    let identity = config.load_identity()?;
    let store = open_store(config)?;
    // As at daemon start: the own log is known to the store even if it is still empty.
    store.register_log(&config.origin, LogRole::Own)?;
    let verifier = identity.credentials.checkpoint_signer().verifier_key();
    let mut guard = SigningGuard::open(&store, &config.origin, &config.signing_dir, &verifier)?;
    let reason = match guard.state() {
        GuardState::Refused { reason } => reason.clone(),
        GuardState::Allowed => {
            return Err(AdminError::NotRefused {
                origin: config.origin.clone(),
            })
        }
    };
    guard.acknowledge_restore(&store, note, now_ms())?;
    Ok(reason)
}

/// One line per checkpoint of a fork record, for printing.
pub fn describe_checkpoint(bytes: &[u8]) -> String {
    match SignedCheckpoint::parse(bytes) {
        Ok(cp) => format!(
            "size {} root {}",
            cp.checkpoint().size,
            cp.checkpoint().root
        ),
        Err(e) => format!("unparsable checkpoint ({e})"),
    }
}
