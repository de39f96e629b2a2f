//! Why creating, loading or using federation credentials failed. Every variant names the
//! file or origin concerned and the rule that was broken.

use std::path::PathBuf;

use credx_protocol::note::KeyError;
use credx_protocol::roster::RosterError;

use super::roster_file::format_unix;
use crate::transport::PkiError;

/// Creating, loading, saving or checking federation credentials and roster files.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// A federation name outside the roster's rule.
    #[error(
        "federation name {name:?} is not valid: use 1 to 64 lower-case letters, digits or '-' \
         (e.g. credx-federation)"
    )]
    InvalidFederationName { name: String },
    /// An origin the roster or a certificate cannot carry.
    #[error("origin {origin:?} is not valid: {reason}")]
    InvalidOrigin { origin: String, reason: String },
    /// The file exists and overwriting was not asked for.
    #[error(
        "{path} already exists; refusing to overwrite it (keys others depend on would be lost). \
         Move it away, choose another directory, or pass --force"
    )]
    Exists { path: PathBuf },
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A key or vkey file does not hold a usable key.
    #[error("{path} does not hold a usable {what}: {source}")]
    Key {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: KeyError,
    },
    /// Certificate material (the PKI error names the files). Boxed, like the roster errors,
    /// to keep every `Result` of this module small.
    #[error(transparent)]
    Pki(Box<PkiError>),
    /// Files of one credentials directory that do not belong together.
    #[error("{path}: {reason}")]
    Inconsistent { path: PathBuf, reason: String },
    /// A node certificate that this federation's CA did not issue (or that is not valid now).
    #[error("{path} is not a certificate of this federation's CA ({ca}): {reason}")]
    NotIssuedByCa {
        path: PathBuf,
        ca: String,
        reason: String,
    },
    /// The roster could not be signed: it breaks a federation rule.
    #[error("roster not signed: {0}")]
    RosterRules(#[source] Box<RosterError>),
    /// A roster file refused: bad syntax, bad signature or a broken rule.
    #[error("roster {path} refused: {source}")]
    Roster {
        path: PathBuf,
        #[source]
        source: Box<RosterError>,
    },
    /// A roster file whose validity has ended.
    #[error(
        "roster {path} (version {version}) expired at {} ({expires_at}); now is {} ({now}). \
         Ask the trust root for a newer roster (credx roster sign)",
        format_unix(*expires_at),
        format_unix(*now)
    )]
    RosterExpired {
        path: PathBuf,
        version: u64,
        expires_at: u64,
        now: u64,
    },
    /// A roster file whose validity has not started yet (clock skew beyond the allowance).
    #[error(
        "roster {path} (version {version}) is not valid before {} ({issued_at}); now is {} \
         ({now}). Check this machine's clock",
        format_unix(*issued_at),
        format_unix(*now)
    )]
    RosterNotYetValid {
        path: PathBuf,
        version: u64,
        issued_at: u64,
        now: u64,
    },
    /// A node spec or lookup that names an origin twice, or one that is not there.
    #[error("origin {origin:?}: {reason}")]
    Node { origin: String, reason: String },
}

impl FederationError {
    /// True for failures to read or write files (as opposed to material or rules that were
    /// refused): the command line exits 2 for these and 1 for the rest.
    pub fn is_io(&self) -> bool {
        match self {
            FederationError::Io { .. } => true,
            FederationError::Pki(e) => matches!(**e, PkiError::Io { .. }),
            _ => false,
        }
    }
}

impl From<PkiError> for FederationError {
    fn from(e: PkiError) -> FederationError {
        FederationError::Pki(Box::new(e))
    }
}
