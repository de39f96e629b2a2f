//! Why a bundle was rejected. Every variant means "do not trust this bundle" and names the
//! check that failed.

use crate::entry::EntryError;
use crate::merkle::ProofError as InclusionError;
use crate::note::{CheckpointError, PolicyError, TlogProofError};
use crate::roster::RosterError;
use crate::statusmap::{ProofError, StatusMapError};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("bundle is {size} bytes, larger than the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("bundle is not a well-formed bundle document: {0}")]
    Malformed(String),
    #[error("bundle version {found} is not supported (expected 1)")]
    UnsupportedVersion { found: u32 },
    #[error("field {field} is not standard base64")]
    BadBase64 { field: &'static str },
    #[error("roster: {0}")]
    Roster(RosterError),
    #[error("anchor origin {origin:?} is not a node of the roster")]
    OriginNotInRoster { origin: String },
    #[error("no trust policy for origin {origin:?}: {source}")]
    NoPolicy { origin: String, source: RosterError },
    #[error("{what} tlog-proof does not parse: {source}")]
    BadTlogProof {
        what: &'static str,
        source: TlogProofError,
    },
    #[error("{what} checkpoint is for origin {found:?}, expected {expected:?}")]
    OriginMismatch {
        what: &'static str,
        expected: String,
        found: String,
    },
    #[error("{what} checkpoint is not signed by {origin:?}'s log key from the roster: {source}")]
    CheckpointSignature {
        what: &'static str,
        origin: String,
        source: CheckpointError,
    },
    #[error("{what} checkpoint lacks the required cosignatures: {source}")]
    Cosignatures {
        what: &'static str,
        source: PolicyError,
    },
    #[error("anchor is at index {claimed} but its tlog-proof is for index {proven}")]
    AnchorIndexMismatch { claimed: u64, proven: u64 },
    #[error("{what} entry at index {index} is outside the checkpoint of size {size}")]
    IndexOutOfRange {
        what: &'static str,
        index: u64,
        size: u64,
    },
    #[error("{what} entry at index {index} is not in the checkpointed log: {source}")]
    NotIncluded {
        what: &'static str,
        index: u64,
        source: InclusionError,
    },
    #[error("{what} entry does not decode: {source}")]
    BadEntry {
        what: &'static str,
        source: EntryError,
    },
    #[error("anchor entry is a {kind:?} entry, not a status-map-root entry")]
    NotAnAnchor { kind: &'static str },
    #[error("anchor entry names origin {found:?}, not the anchor's origin {expected:?}")]
    AnchorEntryOrigin { expected: String, found: String },
    #[error("status proof does not parse: {0}")]
    BadStatusProof(StatusMapError),
    #[error("status does not parse or is not canonical: {0}")]
    BadStatus(StatusMapError),
    #[error("status is for a different subject than the bundle's")]
    SubjectMismatch,
    #[error("status proof does not prove the claim under the anchored root: {0}")]
    StatusProof(ProofError),
}
