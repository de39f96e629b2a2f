//! The roster a node works with: verified once, swapped atomically when a newer one
//! arrives from the parent, persisted so a restart does not fall back to an older one.
//!
//! "Degrade, don't stop": an offered roster that is expired, badly signed, of another
//! federation or older than ours is refused with a precise error, and the node keeps
//! working on the one it has.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use credx_protocol::roster::{RosterError, SignedRoster, VerifiedRoster};

use crate::transport::{PeerAuthorizer, PeerIdentity};

/// Why an offered roster was not adopted.
#[derive(Debug, thiserror::Error)]
pub enum RosterUpdateError {
    #[error("offered roster refused: {0}")]
    Refused(#[from] RosterError),
    #[error("roster v{version} adopted but not saved to {path}: {source}")]
    Persist {
        version: u64,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The node's current roster, shared by the sync sessions and the transport's authorizer.
#[derive(Debug)]
pub struct SharedRoster {
    current: RwLock<Arc<VerifiedRoster>>,
    /// Where adopted rosters are written (atomically: temp file + rename), if anywhere.
    file: Option<PathBuf>,
}

impl SharedRoster {
    pub fn new(roster: VerifiedRoster, file: Option<PathBuf>) -> SharedRoster {
        SharedRoster {
            current: RwLock::new(Arc::new(roster)),
            file,
        }
    }

    /// The roster in force now.
    pub fn current(&self) -> Arc<VerifiedRoster> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            // A writer panicked mid-swap; the Arc inside is still a whole roster.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Considers a roster offered by the parent. `Ok(true)`: adopted (newer); `Ok(false)`:
    /// the same version we hold. Errors leave the current roster in force.
    pub fn offer(&self, bytes: &[u8], now_unix: u64) -> Result<bool, RosterUpdateError> {
        let signed = SignedRoster::parse(bytes)?;
        let current = self.current();
        let next = current.accept_update(signed, now_unix)?;
        if next.version() == current.version() {
            return Ok(false);
        }
        if let Some(path) = &self.file {
            write_atomically(path, &next.signed().to_bytes()).map_err(|source| {
                RosterUpdateError::Persist {
                    version: next.version(),
                    path: path.clone(),
                    source,
                }
            })?;
        }
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(next);
        Ok(true)
    }
}

fn write_atomically(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Admits exactly the peers the roster says this node talks to: its parent and its
/// children, by origin, and by certificate fingerprint where the roster pins one.
#[derive(Debug)]
pub struct RosterAuthorizer {
    own_origin: String,
    roster: Arc<SharedRoster>,
}

impl RosterAuthorizer {
    pub fn new(own_origin: impl Into<String>, roster: Arc<SharedRoster>) -> RosterAuthorizer {
        RosterAuthorizer {
            own_origin: own_origin.into(),
            roster,
        }
    }
}

impl PeerAuthorizer for RosterAuthorizer {
    fn authorize(&self, peer: &PeerIdentity) -> Result<(), String> {
        let roster = self.roster.current();
        let now = super::context::now_secs();
        if roster.status(now) == credx_protocol::roster::RosterStatus::Expired {
            return Err(format!(
                "roster v{} expired at {}; this node admits no peer until a newer roster is installed",
                roster.version(),
                roster.expires_at()
            ));
        }
        let Some(node) = roster.node(&peer.origin) else {
            return Err(format!(
                "{} is not in roster v{}",
                peer.origin,
                roster.version()
            ));
        };
        let is_child = node.parent.as_deref() == Some(self.own_origin.as_str());
        let is_parent = roster
            .parent(&self.own_origin)
            .is_some_and(|p| p.origin == peer.origin);
        if !is_child && !is_parent {
            return Err(format!(
                "{} is neither the parent nor a child of {} in roster v{}",
                peer.origin,
                self.own_origin,
                roster.version()
            ));
        }
        if let Some(pinned) = node.tls_fingerprint {
            if pinned != peer.cert_fingerprint {
                return Err(format!(
                    "{}: certificate {} is not the one pinned in roster v{}",
                    peer.origin,
                    peer.fingerprint_hex(),
                    roster.version()
                ));
            }
        }
        Ok(())
    }
}
