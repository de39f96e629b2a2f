//! The signing guard: a log never signs a checkpoint inconsistent with the last one it
//! signed, and a store restored from an old backup refuses to sign.
//!
//! The last signed checkpoint is persisted twice: in the store's `checkpoints` history, and
//! in a checkpoint file `<dir>/<origin>.checkpoint`, written temp-file → fsync → rename →
//! fsync(dir), in a directory the caller chooses *outside* the database directory. Restoring
//! a backup of the database does not roll the file back, so on open:
//!
//! * the last signed checkpoint is the larger of (file, store history);
//! * if its size exceeds the log's size, or the log's root at that size differs, the store
//!   lost signed entries: the guard opens in the **refused** state and neither signs nor lets
//!   the sequencer append until an operator resolves it (see [`SigningGuard::refusal_help`]);
//! * a crash is not a restore: the sequencer makes entries durable *before* signing, and
//!   writes the file before the history row, so after any crash the file is at most as new as
//!   the log, and the history at most as new as the file (a missing history row is repaired
//!   from the file on open).
//!
//! Before every signature, the guard re-reads the store's root at the last signed size and
//! at the new size: what it signs is what is stored, and extends what it signed before.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use credx_protocol::merkle::Hash;
use credx_protocol::note::{Checkpoint, NoteSigner, SignedCheckpoint, VerifierKey};

use crate::api::{CheckpointStore, LogStore};
use crate::error::{Result, StorageError};

/// Whether the guard lets its log sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardState {
    Allowed,
    Refused { reason: String },
}

/// Per-log signing guard (owned by the log's sequencer).
#[derive(Debug)]
pub struct SigningGuard {
    origin: String,
    file: PathBuf,
    verifier: VerifierKey,
    last: Option<SignedCheckpoint>,
    state: GuardState,
}

/// The checkpoint file of `origin` in `dir`. Characters outside `[A-Za-z0-9._-]` are
/// replaced so that any origin name gives one plain file name.
pub fn checkpoint_file(dir: &Path, origin: &str) -> PathBuf {
    let safe: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.checkpoint"))
}

impl SigningGuard {
    /// Opens the guard for `origin`, comparing the persisted last signed checkpoint (file
    /// and store) with the store's log. Errors only on I/O or engine failures; an
    /// inconsistent store yields a guard in the [`GuardState::Refused`] state.
    pub fn open<S: LogStore + CheckpointStore + ?Sized>(
        store: &S,
        origin: &str,
        checkpoint_dir: &Path,
        verifier: &VerifierKey,
    ) -> Result<SigningGuard> {
        fs::create_dir_all(checkpoint_dir)
            .map_err(|e| StorageError::io(checkpoint_dir, "create checkpoint directory", e))?;
        let file = checkpoint_file(checkpoint_dir, origin);
        let mut guard = SigningGuard {
            origin: origin.to_string(),
            file,
            verifier: verifier.clone(),
            last: None,
            state: GuardState::Allowed,
        };
        let from_file = match guard.read_file()? {
            Ok(cp) => cp,
            Err(reason) => {
                guard.state = GuardState::Refused { reason };
                return Ok(guard);
            }
        };
        let from_store = store.latest_signed_checkpoint(origin)?;
        let size_of = |c: &Option<SignedCheckpoint>| c.as_ref().map(|c| c.checkpoint().size);
        let (file_size, store_size) = (size_of(&from_file), size_of(&from_store));
        let last = match (from_file, from_store) {
            (Some(f), Some(s)) if f.checkpoint().size == s.checkpoint().size => {
                if f.checkpoint().root != s.checkpoint().root {
                    guard.state = GuardState::Refused {
                        reason: format!(
                            "the checkpoint file {} and the store's history disagree at size {} (roots {} and {})",
                            guard.file.display(),
                            f.checkpoint().size,
                            f.checkpoint().root,
                            s.checkpoint().root
                        ),
                    };
                    return Ok(guard);
                }
                Some(s)
            }
            (f, s) if size_of(&f) > size_of(&s) => f,
            (_, s) => s,
        };
        if let Some(last) = &last {
            if let Some(reason) = Self::inconsistency(store, last)? {
                guard.state = GuardState::Refused { reason };
                return Ok(guard);
            }
            // Repair whichever copy is behind (a crash between file and history writes, or
            // a lost file): both now agree with the store.
            if store_size < Some(last.checkpoint().size) {
                store.store_signed_checkpoint(origin, &last.to_bytes())?;
            }
            if file_size < Some(last.checkpoint().size) {
                guard.write_file(last)?;
            }
        }
        guard.last = last;
        Ok(guard)
    }

    pub fn state(&self) -> &GuardState {
        &self.state
    }

    pub fn last_signed(&self) -> Option<&SignedCheckpoint> {
        self.last.as_ref()
    }

    /// `Ok` if this log may append and sign; otherwise the `SigningRefused` error.
    pub fn check_allowed(&self) -> Result<()> {
        match &self.state {
            GuardState::Allowed => Ok(()),
            GuardState::Refused { reason } => Err(StorageError::SigningRefused {
                origin: self.origin.clone(),
                reason: format!("{reason}. {}", Self::refusal_help(&self.origin)),
            }),
        }
    }

    /// What the operator should do about a refused log.
    pub fn refusal_help(origin: &str) -> String {
        format!(
            "This store looks restored from an older backup: signing now would fork log {origin:?}. \
             Preferably re-fetch the missing entries of {origin:?} from the parent node's mirror \
             (append them with the parent's checkpoint root as expected_root) and restart; \
             only if that is impossible, call acknowledge_restore with an operator note, which \
             accepts a visible fork of the log"
        )
    }

    /// Signs the checkpoint (origin, `size`, `root`) after checking that the store holds
    /// exactly that root at `size` and still holds the last signed root at the last signed
    /// size; then persists it (file, then store history). Returns the signed checkpoint.
    pub fn sign<S: LogStore + CheckpointStore + ?Sized>(
        &mut self,
        store: &S,
        signer: &NoteSigner,
        size: u64,
        root: Hash,
    ) -> Result<SignedCheckpoint> {
        self.check_allowed()?;
        if let Some(last) = &self.last {
            if let Some(reason) = Self::inconsistency(store, last)? {
                self.state = GuardState::Refused { reason };
                self.check_allowed()?;
            }
            if size < last.checkpoint().size {
                return Err(StorageError::CheckpointRegression {
                    origin: self.origin.clone(),
                    latest: last.checkpoint().size,
                    offered: size,
                });
            }
        }
        let stored_root = store.root_at(&self.origin, size)?;
        if stored_root != root {
            return Err(StorageError::Signing {
                origin: self.origin.clone(),
                reason: format!(
                    "asked to sign root {root} at size {size} but the store holds {stored_root}"
                ),
            });
        }
        if let Some(last) = &self.last {
            if last.checkpoint().size == size {
                return Ok(last.clone());
            }
        }
        let signed =
            SignedCheckpoint::sign(Checkpoint::new(self.origin.clone(), size, root), signer)
                .map_err(|e| StorageError::Signing {
                    origin: self.origin.clone(),
                    reason: e.to_string(),
                })?;
        // File first (it survives a backup restore), then the history row.
        self.write_file(&signed)?;
        store.store_signed_checkpoint(&self.origin, &signed.to_bytes())?;
        self.last = Some(signed.clone());
        Ok(signed)
    }

    /// Operator resolution of a refused log when the lost entries cannot be recovered:
    /// the refused checkpoint file is kept as `<file>.refused-<unix ms>` with the note
    /// beside it, and the guard continues from the store's own latest checkpoint.
    pub fn acknowledge_restore<S: LogStore + CheckpointStore + ?Sized>(
        &mut self,
        store: &S,
        operator_note: &str,
        now_ms: u64,
    ) -> Result<()> {
        if self.state == GuardState::Allowed {
            return Ok(());
        }
        let kept = self
            .file
            .with_extension(format!("checkpoint.refused-{now_ms}"));
        if self.file.exists() {
            fs::rename(&self.file, &kept).map_err(|e| StorageError::io(&self.file, "rename", e))?;
        }
        let note_file = kept.with_extension(format!("refused-{now_ms}.note"));
        let reason = match &self.state {
            GuardState::Refused { reason } => reason.clone(),
            GuardState::Allowed => String::new(),
        };
        write_atomically(
            &note_file,
            format!("{reason}\noperator: {operator_note}\n").as_bytes(),
        )?;
        let last = store.latest_signed_checkpoint(&self.origin)?;
        if let Some(last) = &last {
            if let Some(reason) = Self::inconsistency(store, last)? {
                return Err(StorageError::SigningRefused {
                    origin: self.origin.clone(),
                    reason: format!("the store's own checkpoint history is inconsistent: {reason}"),
                });
            }
            self.write_file(last)?;
        }
        tracing::warn!(origin = %self.origin, operator_note, "restored store acknowledged by operator; signing resumes");
        self.last = last;
        self.state = GuardState::Allowed;
        Ok(())
    }

    /// Why the store disagrees with `last`, or `None` if it holds `last`'s root at its size.
    fn inconsistency<S: LogStore + ?Sized>(
        store: &S,
        last: &SignedCheckpoint,
    ) -> Result<Option<String>> {
        let cp = last.checkpoint();
        let size = store.log_size(&cp.origin)?;
        if cp.size > size {
            return Ok(Some(format!(
                "the last signed checkpoint has size {} but the store holds only {size} entries",
                cp.size
            )));
        }
        let root = store.root_at(&cp.origin, cp.size)?;
        if root != cp.root {
            return Ok(Some(format!(
                "the last signed checkpoint has root {} at size {} but the store's root there is {root}",
                cp.root, cp.size
            )));
        }
        Ok(None)
    }

    /// Reads and verifies the checkpoint file. `Ok(Err(reason))` when the file exists but
    /// cannot be trusted.
    fn read_file(&self) -> Result<std::result::Result<Option<SignedCheckpoint>, String>> {
        let bytes = match fs::read(&self.file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(None)),
            Err(e) => return Err(StorageError::io(&self.file, "read", e)),
        };
        let file = self.file.display();
        let cp = match SignedCheckpoint::parse(&bytes) {
            Ok(cp) => cp,
            Err(e) => return Ok(Err(format!("checkpoint file {file} does not parse: {e}"))),
        };
        if let Err(e) = cp.verify(&self.verifier) {
            return Ok(Err(format!(
                "checkpoint file {file} does not verify with the log key: {e}"
            )));
        }
        Ok(Ok(Some(cp)))
    }

    fn write_file(&self, cp: &SignedCheckpoint) -> Result<()> {
        write_atomically(&self.file, &cp.to_bytes())
    }
}

/// temp file → write → fsync → rename over `path` → fsync the directory: after a crash the
/// file holds either the old or the new content, never a mix, and the rename is durable.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, "create", e))?;
    f.write_all(bytes)
        .map_err(|e| StorageError::io(&tmp, "write", e))?;
    f.sync_all()
        .map_err(|e| StorageError::io(&tmp, "fsync", e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| StorageError::io(path, "rename", e))?;
    if let Some(dir) = path.parent() {
        let d = fs::File::open(dir).map_err(|e| StorageError::io(dir, "open directory", e))?;
        d.sync_all()
            .map_err(|e| StorageError::io(dir, "fsync directory", e))?;
    }
    Ok(())
}
