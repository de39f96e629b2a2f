//! The import state file: which rows of which file the node has already judged, so that a
//! re-run after a crash, Ctrl-C or a refused batch sends only what is left.
//!
//! A file is identified by the SHA-256 of its bytes (renaming it changes nothing; editing
//! it makes it a new file). After every batch the node answered, the rows it carried and
//! the node's findings for them are added and the state is written again atomically
//! (temporary file, fsync, rename), so the state never claims a batch the node did not
//! answer. The reverse can happen: a batch the node stored just before the crash is sent
//! again, and the node treats each known business key as an amendment (a new version of
//! the same record, with a W2 warning), so nothing is duplicated.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::report::ReportLine;

/// Version of the state file format.
const STATE_VERSION: u32 = 1;

/// The state of one import (one report path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportState {
    pub version: u32,
    /// The node the rows were sent to.
    pub node: String,
    /// File digest (hex SHA-256) → what was done with it.
    pub files: BTreeMap<String, FileState>,
}

/// What was sent of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// The path the file had when last imported (for people reading the state file).
    pub name: String,
    pub batches: Vec<DoneBatch>,
}

/// One batch the node answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneBatch {
    /// The rows sent, as inclusive runs of row numbers.
    pub rows: Vec<(u64, u64)>,
    pub accepted: usize,
    /// Accepted rows that amended a record already in the log.
    pub amended: usize,
    pub rejected: usize,
    /// The signed checkpoint covering the accepted rows.
    pub checkpoint_size: Option<u64>,
    /// The node's findings for these rows (rejections and warnings).
    pub findings: Vec<ReportLine>,
}

/// Why the state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the import state {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the import state {path} is damaged ({reason}); delete it to send every row again (the node records re-sent rows as amendments)")]
    Damaged { path: PathBuf, reason: String },
    #[error("the import state {path} belongs to an import to {recorded}, not {requested}; give another --report (or --state) path for this node")]
    OtherNode {
        path: PathBuf,
        recorded: String,
        requested: String,
    },
    #[error("cannot write the import state {path}: {source}; free space or fix permissions, then re-run (rows the node stored meanwhile are re-sent as amendments)")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ImportState {
    /// Loads the state at `path`, or a fresh one when there is none.
    pub fn load_or_new(path: &Path, node: &str) -> Result<ImportState, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ImportState {
                    version: STATE_VERSION,
                    node: node.to_owned(),
                    files: BTreeMap::new(),
                })
            }
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let state: ImportState =
            serde_json::from_slice(&bytes).map_err(|e| StateError::Damaged {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        if state.version != STATE_VERSION {
            return Err(StateError::Damaged {
                path: path.to_owned(),
                reason: format!("format version {}, expected {STATE_VERSION}", state.version),
            });
        }
        if state.node != node {
            return Err(StateError::OtherNode {
                path: path.to_owned(),
                recorded: state.node,
                requested: node.to_owned(),
            });
        }
        Ok(state)
    }

    /// Whether row `row` of the file with digest `digest` was already sent and answered.
    pub fn is_done(&self, digest: &str, row: u64) -> bool {
        self.files.get(digest).is_some_and(|f| {
            f.batches
                .iter()
                .flat_map(|b| b.rows.iter())
                .any(|(from, to)| (*from..=*to).contains(&row))
        })
    }

    /// The batches already answered for a file.
    pub fn batches(&self, digest: &str) -> &[DoneBatch] {
        self.files.get(digest).map_or(&[], |f| f.batches.as_slice())
    }

    /// Records an answered batch.
    pub fn add(&mut self, digest: &str, name: &str, batch: DoneBatch) {
        let file = self.files.entry(digest.to_owned()).or_default();
        name.clone_into(&mut file.name);
        file.batches.push(batch);
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let write_error = |source| StateError::Write {
            path: path.to_owned(),
            source,
        };
        let bytes =
            serde_json::to_vec_pretty(self).map_err(|e| write_error(std::io::Error::other(e)))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = std::fs::File::create(&tmp).map_err(write_error)?;
        file.write_all(&bytes).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(write_error)
    }
}

/// Inclusive runs of consecutive row numbers (`rows` ascending).
pub fn runs(rows: impl IntoIterator<Item = u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some((_, to)) if to.checked_add(1) == Some(row) => *to = row,
            _ => out.push((row, row)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_done_once_their_batch_is_recorded() {
        let mut state = ImportState {
            version: STATE_VERSION,
            node: "http://n".to_owned(),
            files: BTreeMap::new(),
        };
        assert_eq!(runs([2, 3, 4, 7, 9, 10]), vec![(2, 4), (7, 7), (9, 10)]);
        state.add(
            "ab",
            "x.csv",
            DoneBatch {
                rows: runs([2, 3, 5]),
                accepted: 3,
                amended: 0,
                rejected: 0,
                checkpoint_size: Some(3),
                findings: Vec::new(),
            },
        );
        assert!(state.is_done("ab", 3));
        assert!(!state.is_done("ab", 4));
        assert!(state.is_done("ab", 5));
        assert!(!state.is_done("cd", 2));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        state.save(&path).unwrap();
        assert_eq!(ImportState::load_or_new(&path, "http://n").unwrap(), state);
        assert!(matches!(
            ImportState::load_or_new(&path, "http://other"),
            Err(StateError::OtherNode { .. })
        ));
    }
}
