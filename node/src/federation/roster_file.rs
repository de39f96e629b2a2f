//! Signing a roster with the trust root, and the roster file every node keeps: written
//! once by the root operator, verified against `root.vkey` wherever it is read.

use std::path::{Path, PathBuf};

use credx_protocol::note::VerifierKey;
use credx_protocol::roster::{Roster, RosterError, RosterNode, SignedRoster, VerifiedRoster};
use time::OffsetDateTime;

use super::error::FederationError;
use super::files::{self, Overwrite, Secrecy};
use super::trust_root::{read_vkey, TrustRoot};

/// Builds the roster and signs it with the trust root. The roster rules (one national node,
/// parents one level up, jurisdictions inside the parent's, keys named like the origin and
/// never shared...) are checked first, so nothing invalid is ever signed.
pub fn sign_roster(
    root: &TrustRoot,
    federation: &str,
    version: u64,
    issued_at: u64,
    expires_at: u64,
    nodes: Vec<RosterNode>,
) -> Result<SignedRoster, FederationError> {
    let roster = Roster {
        version,
        issued_at,
        expires_at,
        federation: federation.to_owned(),
        nodes,
    };
    SignedRoster::sign(&roster, root.signer())
        .map_err(|e| FederationError::RosterRules(Box::new(e)))
}

/// The current time in Unix seconds.
pub fn unix_now() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`, for error messages and command output.
pub fn format_unix(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(
            || format!("{seconds} (out of range)"),
            |t| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            },
        )
}

/// A signed roster file (conventionally `roster.note`): the signed note exactly as the
/// root signed it and as `RosterOffer` carries it down the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterFile {
    path: PathBuf,
}

impl RosterFile {
    /// The conventional file name.
    pub const FILE_NAME: &'static str = "roster.note";

    pub fn new(path: impl Into<PathBuf>) -> RosterFile {
        RosterFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the signed roster (public, 0644).
    pub fn save(&self, roster: &SignedRoster, overwrite: Overwrite) -> Result<(), FederationError> {
        let text = String::from_utf8_lossy(&roster.to_bytes()).into_owned();
        files::write(&self.path, &text, Secrecy::Public, overwrite)
    }

    /// Reads the file and checks the signed-note syntax; nothing is verified yet.
    pub fn load_unverified(&self) -> Result<SignedRoster, FederationError> {
        let bytes = std::fs::read(&self.path).map_err(|source| FederationError::Io {
            action: "read",
            path: self.path.clone(),
            source,
        })?;
        SignedRoster::parse(&bytes).map_err(|source| self.refused(source))
    }

    /// Reads and verifies the roster against `root` at `now` (Unix seconds): signature,
    /// federation rules, then the validity window. An expired or not-yet-valid roster is
    /// refused with its dates spelled out.
    pub fn load_verified(
        &self,
        root: &VerifierKey,
        now: u64,
    ) -> Result<VerifiedRoster, FederationError> {
        let signed = self.load_unverified()?;
        let verified = signed
            .verify_ignoring_time(root)
            .map_err(|source| self.refused(source))?;
        match signed.verify(root, now) {
            Ok(verified) => Ok(verified),
            Err(RosterError::Expired { expires_at, now }) => Err(FederationError::RosterExpired {
                path: self.path.clone(),
                version: verified.version(),
                expires_at,
                now,
            }),
            Err(RosterError::NotYetValid { issued_at, now }) => {
                Err(FederationError::RosterNotYetValid {
                    path: self.path.clone(),
                    version: verified.version(),
                    issued_at,
                    now,
                })
            }
            Err(source) => Err(self.refused(source)),
        }
    }

    /// Like [`RosterFile::load_verified`], with the root read from a `root.vkey` file.
    pub fn load_verified_with_vkey_file(
        &self,
        root_vkey_path: &Path,
        now: u64,
    ) -> Result<VerifiedRoster, FederationError> {
        let root = read_vkey(root_vkey_path, "trust root verifier key")?;
        self.load_verified(&root, now)
    }

    fn refused(&self, source: RosterError) -> FederationError {
        FederationError::Roster {
            path: self.path.clone(),
            source: Box::new(source),
        }
    }
}
