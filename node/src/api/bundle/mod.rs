//! Verification bundles (decision 0014): a subject's status proof tied to an anchor entry in
//! this node's log, proven against a checkpoint with the cosignatures this node holds.
//!
//! The status map's current root changes with every batch and proofs exist only against the
//! current root, so [`build_bundle`] reads the root and the subject's proof without a lock,
//! commits that root as a `StatusMapRoot` entry through the sequencer, and keeps the bundle
//! only if the root did not move meanwhile; otherwise it retries, at most
//! [`MAX_ANCHOR_TRIES`] times.

use std::time::{SystemTime, UNIX_EPOCH};

use credx_protocol::bundle::model::b64;
use credx_protocol::bundle::{AnchorPart, Bundle, BUNDLE_VERSION};
use credx_protocol::entry::{Entry, Event, LogPosition, SubjectId, ENVELOPE_VERSION};
use credx_protocol::merkle::Hash;
use credx_protocol::roster::SignedRoster;
use credx_protocol::statusmap::{StatusProof, SubjectStatus};
use credx_storage::{Sequencer, Storage, StorageError};

use crate::sync::checkpoints::latest_with_cosignatures;

/// Anchoring attempts before giving up on a busy log.
pub const MAX_ANCHOR_TRIES: usize = 5;

/// The account anchor entries name in `submitted_by`, as the sequencer's planner does.
const NODE_ACCOUNT: &str = "credx-node";

/// Why no bundle could be built.
#[derive(Debug, thiserror::Error)]
pub enum BundleBuildError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// Every try saw the status root change between reading the proof and anchoring it.
    #[error("the status map changed during each of {tries} anchoring attempts; the log is busy, retry later")]
    RootKeptMoving { tries: usize },
    #[error("encoding the {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    #[error("no signed checkpoint of {origin} covers the anchor at index {index}")]
    NoCheckpoint { origin: String, index: u64 },
    #[error("reading checkpoint cosignatures: {0}")]
    Cosignatures(String),
}

/// One consistent read: the root, the subject's status bytes and proof under that root.
struct Snapshot {
    root: Hash,
    status: Option<Vec<u8>>,
    proof: StatusProof,
}

/// Builds the bundle for `subject`, anchoring the current status root in `origin`'s log.
/// Blocks on the sequencer: call it from a blocking task.
pub fn build_bundle(
    store: &dyn Storage,
    sequencer: &Sequencer,
    origin: &str,
    subject: &SubjectId,
    roster: &SignedRoster,
) -> Result<Bundle, BundleBuildError> {
    let key = subject.map_key();
    for _ in 0..MAX_ANCHOR_TRIES {
        let Some(snapshot) = snapshot(store, &key)? else {
            continue;
        };
        let anchor = anchor_entry(origin, snapshot.root, store.log_size(origin)?)?;
        let ack = sequencer.submit(anchor.clone())?.wait()?;
        if store.status_root()? != snapshot.root {
            continue;
        }
        let checkpoint = latest_with_cosignatures(store, origin)
            .map_err(|e| BundleBuildError::Cosignatures(e.to_string()))?
            .filter(|cp| cp.checkpoint().size > ack.index)
            .ok_or_else(|| BundleBuildError::NoCheckpoint {
                origin: origin.to_owned(),
                index: ack.index,
            })?;
        let tlog_proof = store.tlog_proof(origin, ack.index, &checkpoint)?;
        let status_proof = snapshot
            .proof
            .encode()
            .map_err(|e| encode_error("status proof", e))?;
        return Ok(Bundle {
            version: BUNDLE_VERSION,
            subject: subject.clone(),
            status: snapshot.status.as_deref().map(b64),
            status_proof: b64(&status_proof),
            anchor: AnchorPart {
                origin: origin.to_owned(),
                index: ack.index,
                entry: b64(&anchor),
                tlog_proof: String::from_utf8_lossy(&tlog_proof.to_bytes()).into_owned(),
            },
            entries: Vec::new(),
            roster: String::from_utf8_lossy(&roster.to_bytes()).into_owned(),
        });
    }
    Err(BundleBuildError::RootKeptMoving {
        tries: MAX_ANCHOR_TRIES,
    })
}

/// Reads root, status and proof without a lock; `None` when a batch landed between the
/// reads (the proof then does not match the root read first).
fn snapshot(store: &dyn Storage, key: &Hash) -> Result<Option<Snapshot>, BundleBuildError> {
    let root = store.status_root()?;
    let status = store.subject_status(key)?;
    let proof = store.status_proof(key)?;
    let expected = match &status {
        Some(bytes) => Some(
            SubjectStatus::decode(bytes)
                .and_then(|s| s.value_hash())
                .map_err(|e| encode_error("stored status", e))?,
        ),
        None => None,
    };
    let consistent = proof.verify(&root, key).ok() == Some(expected);
    Ok(consistent.then_some(Snapshot {
        root,
        status,
        proof,
    }))
}

/// The `StatusMapRoot` entry committing `root`, shaped like the sequencer's periodic anchors.
fn anchor_entry(origin: &str, root: Hash, log_size: u64) -> Result<Vec<u8>, BundleBuildError> {
    let accepted_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let entry = Entry {
        version: ENVELOPE_VERSION,
        origin: origin.to_owned(),
        authority: None,
        submitted_by: NODE_ACCOUNT.to_owned(),
        subject: None,
        business_key: None,
        accepted_at_ms,
        event: Event::StatusMapRoot {
            root,
            covers: vec![LogPosition {
                origin: origin.to_owned(),
                size: log_size,
            }],
        },
    };
    let encoded = entry
        .encode()
        .map_err(|e| encode_error("anchor entry", e))?;
    Ok(encoded.into_bytes())
}

fn encode_error(what: &'static str, e: impl std::fmt::Display) -> BundleBuildError {
    BundleBuildError::Encode {
        what,
        reason: e.to_string(),
    }
}
