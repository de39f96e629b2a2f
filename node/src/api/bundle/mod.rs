//! Verification bundles (decision 0014): a subject's status proof tied to an anchor entry in
//! this node's log, proven against a checkpoint cosigned by every ancestor up to the national
//! node, with the signed roster — what `credx verify` checks offline.
//!
//! * [`anchor`]: the status and its proof under a root committed in the log (the last
//!   anchor is reused while the root stands still; otherwise one is appended).
//! * [`cosigned`]: the checkpoint covering the anchor that meets the all-ancestors quorum,
//!   or why there is none yet.
//! * [`pending`]: proofs that had to wait for that quorum, kept per subject so the retry
//!   after the next upload (and later requests) answer with them while the subject's status
//!   has not changed.
//! * [`entries`]: the entries behind the status with their tlog-proofs (shared view only).
//! * [`route`]: `GET /v1/subjects/{code}/bundle`.
//!
//! [`bundle_for`] is the whole request without HTTP (benchmarks call it).

pub mod anchor;
pub mod cosigned;
pub mod entries;
pub mod pending;
pub mod route;

use credx_protocol::bundle::model::b64;
use credx_protocol::bundle::{AnchorPart, Bundle, BUNDLE_VERSION};
use credx_protocol::entry::SubjectId;
use credx_protocol::note::SignedCheckpoint;
use credx_protocol::roster::{RosterStatus, VerifiedRoster};
use credx_storage::{Storage, StorageError};

pub use anchor::{prove_status, Anchor, LastAnchor, ProvenStatus, MAX_ANCHOR_TRIES};
pub use cosigned::{cosigned_checkpoint, CosignedCache};
pub use pending::{PendingProofs, MAX_PENDING};

use super::state::ApiState;

/// Why no bundle could be built.
#[derive(Debug, thiserror::Error)]
pub enum BundleBuildError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("the node's log did not take the anchor entry: {0}")]
    Sequencer(StorageError),
    /// The status names an entry this node does not hold as named (a store inconsistent
    /// with its own status map): an internal error, never the caller's.
    #[error("the status names entry {index} of {origin}, which this node does not hold with that leaf hash")]
    EntryMissing { origin: String, index: u64 },
    /// Every try saw the status root change between reading the proof and anchoring it.
    #[error("the status map changed during each of {tries} anchoring attempts; the log is busy, retry later")]
    RootKeptMoving { tries: usize },
    #[error("encoding the {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    #[error("no signed checkpoint of {origin} covers the anchor at index {index} yet; retry in a moment")]
    NoCheckpoint { origin: String, index: u64 },
    #[error("reading checkpoint cosignatures: {0}")]
    Cosignatures(String),
    #[error("this node was started without a roster, so it cannot say whose cosignatures a verifier requires")]
    NoRoster,
    #[error("roster v{version} expired at {expires_at} (Unix seconds): a verifier would refuse the bundle; wait until the parent offers a newer roster")]
    RosterExpired { version: u64, expires_at: u64 },
    #[error("{origin} is not usable in roster v{version}: {reason}")]
    NotInRoster {
        origin: String,
        version: u64,
        reason: String,
    },
    /// The anchor is durable and signed, but the parent has not cosigned a checkpoint
    /// covering it yet: it will after this node's next upload.
    #[error("the status is anchored at index {anchor_index} of {origin} (checkpoint size {checkpoint_size}), but no checkpoint covering it is cosigned by {parent} yet; {origin} gets that cosignature at its next upload to {parent}: retry after it")]
    AwaitingCosignature {
        origin: String,
        anchor_index: u64,
        checkpoint_size: u64,
        parent: String,
    },
    /// Ancestors above the parent cosign this node's log only as a mirror and never send
    /// that cosignature back down, so waiting does not help here.
    #[error("a verifier requires cosignatures of {missing:?} on {origin}'s checkpoints, and sync never brings those to {origin}; ask {} for the bundle (it holds {origin}'s log and status)", ask.as_deref().unwrap_or("the national node"))]
    QuorumOutOfReach {
        origin: String,
        missing: Vec<String>,
        ask: Option<String>,
    },
}

impl BundleBuildError {
    pub(crate) fn encode(what: &'static str, e: impl std::fmt::Display) -> BundleBuildError {
        BundleBuildError::Encode {
            what,
            reason: e.to_string(),
        }
    }
}

/// Builds the bundle for `subject` the way `GET /v1/subjects/{code}/bundle` does: a proof
/// still waiting for cosignatures is answered once they are there (if the subject's status
/// has not changed meanwhile); otherwise the status is proven under an anchored root and
/// tied to a checkpoint meeting the all-ancestors quorum. When none does yet, the proof is
/// kept for the retry and the error says what to wait for. Blocking: call it from a
/// blocking task.
pub fn bundle_for(state: &ApiState, subject: &SubjectId) -> Result<Bundle, BundleBuildError> {
    let shared = state.roster.as_ref().ok_or(BundleBuildError::NoRoster)?;
    let roster = shared.current();
    let now = state.now_ms() / 1000;
    if roster.status(now) == RosterStatus::Expired {
        return Err(BundleBuildError::RosterExpired {
            version: roster.version(),
            expires_at: roster.expires_at(),
        });
    }
    let store: &dyn Storage = state.store.as_ref();
    let origin = state.origin();
    if let Some(refusal) = cosigned::out_of_reach(&roster, origin) {
        return Err(refusal);
    }
    let cache = &state.bundles;
    let key = subject.map_key();

    if let Some(waiting) = cache.pending.get(&key) {
        if store.subject_status(&key)? == waiting.status {
            let index = waiting.anchor.index;
            // Kept after answering: while the status stands, later requests get the same
            // cosigned proof instead of a new anchor that would have to wait again.
            let checkpoint = cosigned_checkpoint(store, &roster, origin, index, &cache.cosigned)?;
            return assemble(store, origin, subject, &waiting, &checkpoint, &roster);
        }
        cache.pending.remove(&key);
    }

    let proven = prove_status(store, &state.sequencer, origin, &key, &cache.last_anchor)?;
    let index = proven.anchor.index;
    match cosigned_checkpoint(store, &roster, origin, index, &cache.cosigned) {
        Ok(checkpoint) => assemble(store, origin, subject, &proven, &checkpoint, &roster),
        Err(e @ BundleBuildError::AwaitingCosignature { .. }) => {
            cache.pending.keep(key, proven);
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Adds the entries behind `bundle`'s status with their tlog-proofs ([`entries`]); for the
/// shared view only. An absence bundle has none.
pub fn add_entries(state: &ApiState, bundle: &mut Bundle) -> Result<(), BundleBuildError> {
    let Some(text) = &bundle.status else {
        return Ok(());
    };
    let shared = state.roster.as_ref().ok_or(BundleBuildError::NoRoster)?;
    let roster = shared.current();
    let bytes = credx_protocol::bundle::model::unb64("status", text)
        .map_err(|e| BundleBuildError::encode("status", e))?;
    let status = credx_protocol::statusmap::SubjectStatus::decode(&bytes)
        .map_err(|e| BundleBuildError::encode("status", e))?;
    bundle.entries = entries::prove_entries(state.store.as_ref(), &roster, &status)?;
    Ok(())
}

/// The bundle document from a proven status and a checkpoint covering its anchor.
pub fn assemble(
    store: &dyn Storage,
    origin: &str,
    subject: &SubjectId,
    proven: &ProvenStatus,
    checkpoint: &SignedCheckpoint,
    roster: &VerifiedRoster,
) -> Result<Bundle, BundleBuildError> {
    let tlog_proof = store.tlog_proof(origin, proven.anchor.index, checkpoint)?;
    let status_proof = proven
        .proof
        .encode()
        .map_err(|e| BundleBuildError::encode("status proof", e))?;
    Ok(Bundle {
        version: BUNDLE_VERSION,
        subject: subject.clone(),
        status: proven.status.as_deref().map(b64),
        status_proof: b64(&status_proof),
        anchor: AnchorPart {
            origin: origin.to_owned(),
            index: proven.anchor.index,
            entry: b64(&proven.anchor.entry),
            tlog_proof: String::from_utf8_lossy(&tlog_proof.to_bytes()).into_owned(),
        },
        // Left out here: a record's bytes carry every column, personal ID numbers included
        // (legal representatives, natural persons), and cannot be masked without breaking
        // their hash. The shared view adds them ([`add_entries`]).
        entries: Vec::new(),
        roster: String::from_utf8_lossy(&roster.signed().to_bytes()).into_owned(),
    })
}

/// What the bundle endpoint keeps between requests (one per node).
#[derive(Debug, Default)]
pub struct BundleCache {
    pub last_anchor: LastAnchor,
    pub cosigned: CosignedCache,
    pub pending: PendingProofs,
}
