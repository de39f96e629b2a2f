//! Reading and writing credential files: never half-written, private keys owner-only, and
//! an existing file is replaced only when the caller asked for it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::FederationError;

/// Whether a file holds a secret (created with mode 0600) or public material (0644).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Secrecy {
    Private,
    Public,
}

/// Whether an existing file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse with [`FederationError::Exists`]: the default, so a second `init` or `issue`
    /// cannot silently destroy a key that certificates and rosters already depend on.
    Refuse,
    /// Replace it (an explicit operator decision, `--force`).
    Replace,
}

impl Overwrite {
    /// `Replace` when `force` is set.
    pub fn from_force(force: bool) -> Overwrite {
        if force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        }
    }
}

/// Creates `dir` (and its parents) if missing.
pub(crate) fn create_dir(dir: &Path) -> Result<(), FederationError> {
    fs::create_dir_all(dir).map_err(|source| FederationError::Io {
        action: "create directory",
        path: dir.to_owned(),
        source,
    })
}

/// Refuses early when any of `paths` exists and overwriting is not allowed, so a command
/// that writes several files fails before writing the first one.
pub(crate) fn check_free(paths: &[PathBuf], overwrite: Overwrite) -> Result<(), FederationError> {
    if overwrite == Overwrite::Replace {
        return Ok(());
    }
    match paths.iter().find(|p| p.exists()) {
        Some(path) => Err(FederationError::Exists { path: path.clone() }),
        None => Ok(()),
    }
}

/// Writes `contents` to `path` through a temporary file. Without [`Overwrite::Replace`] the
/// final step is a hard link, which fails atomically if `path` appeared in the meantime;
/// with it, a rename. Either way a crash never leaves half a key under the final name.
pub(crate) fn write(
    path: &Path,
    contents: &str,
    secrecy: Secrecy,
    overwrite: Overwrite,
) -> Result<(), FederationError> {
    let io_err = |action: &'static str| {
        move |source| FederationError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    if overwrite == Overwrite::Refuse && path.exists() {
        return Err(FederationError::Exists {
            path: path.to_owned(),
        });
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match secrecy {
            Secrecy::Private => 0o600,
            Secrecy::Public => 0o644,
        });
    }
    #[cfg(not(unix))]
    let _ = secrecy;
    let result = options
        .open(&tmp)
        .map_err(io_err("create"))
        .and_then(|mut file| {
            file.write_all(contents.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_err("write"))
        })
        .and_then(|()| match overwrite {
            Overwrite::Replace => fs::rename(&tmp, path).map_err(io_err("replace")),
            Overwrite::Refuse => fs::hard_link(&tmp, path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    FederationError::Exists {
                        path: path.to_owned(),
                    }
                } else {
                    FederationError::Io {
                        action: "create",
                        path: path.to_owned(),
                        source,
                    }
                }
            }),
        });
    // Best effort: after a rename the temporary name is already gone.
    let _ = fs::remove_file(&tmp);
    result
}

/// Reads a UTF-8 text file, naming it in the error.
pub(crate) fn read(path: &Path) -> Result<String, FederationError> {
    fs::read_to_string(path).map_err(|source| FederationError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })
}

/// The first line of a one-line file (a key or vkey), without the newline.
pub(crate) fn read_line(path: &Path) -> Result<String, FederationError> {
    let text = read(path)?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
