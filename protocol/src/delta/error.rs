//! Why a pushed delta was refused. Every variant names the origin, and where one entry is
//! at fault its index and the rule it broke, so the `Rejected` detail and the operator's
//! log say exactly what to look at.

use thiserror::Error;

use crate::entry::EntryError;
use crate::merkle::{Hash, ProofError};
use crate::note::CheckpointError;
use crate::wire::ErrorCode;

/// A delta failed verification.
#[derive(Debug, Error)]
pub enum DeltaError {
    /// The parent's own state for the origin is inconsistent (frontier shape, frontier vs.
    /// root, stored checkpoint). Not the child's fault; nothing can be verified against it.
    #[error("{origin}: mirror state is inconsistent: {problem}")]
    State {
        origin: String,
        problem: StateProblem,
    },
    /// The offered checkpoint is not validly signed by the origin's log key (or names another
    /// origin than the key).
    #[error("{origin}: checkpoint signature: {reason}")]
    CheckpointSignature {
        origin: String,
        reason: CheckpointError,
    },
    /// The offered checkpoint claims a tree larger than any log may grow.
    #[error("{origin}: checkpoint size {size} is beyond the maximum tree size")]
    SizeOutOfRange { origin: String, size: u64 },
    /// A validly signed checkpoint inconsistent with the one the parent already verified.
    /// Reject, keep both as evidence, alert, and stop syncing the origin (design brief §6).
    #[error("{origin}: fork ({kind}): offered checkpoint is inconsistent with the mirror")]
    Fork {
        origin: String,
        kind: ForkKind,
        evidence: ForkEvidence,
    },
    /// The consistency proof from the parent's cursor to the offered checkpoint failed, and
    /// the failure is not evidence of a fork (malformed proof, or no checkpoint of ours
    /// signed by the same key to hold against it).
    #[error("{origin}: consistency proof {old_size} -> {new_size}: {reason}")]
    BadConsistencyProof {
        origin: String,
        old_size: u64,
        new_size: u64,
        reason: ProofError,
    },
    /// A batch does not start where the verified range ends (the parent's cursor).
    #[error("{origin}: batch starts at {found}, expected {expected}")]
    StartMismatch {
        origin: String,
        expected: u64,
        found: u64,
    },
    /// A batch has more entries than one batch may.
    #[error("{origin}: batch of {count} entries, above the limit of {max}")]
    BatchTooLarge {
        origin: String,
        count: usize,
        max: usize,
    },
    /// Entries beyond the offered checkpoint's size.
    #[error("{origin}: entries run to {end}, past the checkpoint size {new_size}")]
    ExtraEntries {
        origin: String,
        new_size: u64,
        end: u64,
    },
    /// The delta ended before reaching the checkpoint's size.
    #[error("{origin}: entries end at {received}, short of the checkpoint size {new_size}")]
    MissingEntries {
        origin: String,
        new_size: u64,
        received: u64,
    },
    /// One entry broke a rule.
    #[error("{origin}: entry {index}: {rule}")]
    Entry {
        origin: String,
        index: u64,
        rule: EntryRule,
    },
    /// The root recomputed from the parent's frontier and the received entries is not the
    /// checkpoint's root: some entry bytes are not the ones the child signed.
    #[error("{origin}: root over entries up to {size} is {computed}, checkpoint says {expected}")]
    RootMismatch {
        origin: String,
        size: u64,
        expected: Hash,
        computed: Hash,
    },
}

/// What is wrong with the parent's own mirror state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateProblem {
    #[error("frontier has {found} hashes, a tree of size {size} has {expected}")]
    FrontierShape {
        size: u64,
        expected: usize,
        found: usize,
    },
    #[error("frontier does not hash to the stored root")]
    FrontierRoot,
    #[error("last checkpoint (origin {origin:?}, size {size}) does not describe the mirror")]
    LastCheckpoint { origin: String, size: u64 },
}

/// The rule an entry broke.
#[derive(Debug, Error)]
pub enum EntryRule {
    /// Not a canonical, bounded entry of a known envelope version.
    #[error("does not decode: {0}")]
    Decode(EntryError),
    /// The entry names another log as its origin.
    #[error("names origin {found:?}")]
    WrongOrigin { found: String },
    /// Only node-level anchors may lack a submitting authority.
    #[error("a {event} entry must name its authority")]
    MissingAuthority { event: &'static str },
    /// Positions 3-8 of the authority's USCC are not a division code.
    #[error("authority {authority} has no division code in positions 3-8")]
    AuthorityDivision { authority: String },
    /// The envelope's authority is not the record's deciding authority.
    #[error("envelope authority {authority:?} is not the record's authority {record_authority}")]
    AuthorityMismatch {
        authority: Option<String>,
        record_authority: String,
    },
    /// The envelope's business key is not the record's.
    #[error("envelope business key does not match the record")]
    BusinessKeyMismatch,
    /// The envelope's subject is not the record's.
    #[error("envelope subject does not match the record")]
    SubjectMismatch,
    /// The authority lies outside the origin's jurisdiction in the roster.
    #[error("authority {authority:?} is outside the origin's jurisdiction")]
    OutOfJurisdiction { authority: Option<String> },
}

/// How an offered checkpoint contradicts the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkKind {
    /// Same tree size, different root: a split view.
    SameSizeDifferentRoot,
    /// A smaller tree than the one already verified: the child went back (a restored
    /// backup, or a view shown to someone else).
    Smaller,
    /// Larger, but no valid consistency proof connects our checkpoint to it, though both
    /// are signed by the same key.
    InconsistentProof,
}

impl std::fmt::Display for ForkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ForkKind::SameSizeDifferentRoot => "same size, different root",
            ForkKind::Smaller => "smaller than the verified size",
            ForkKind::InconsistentProof => "no consistency proof",
        })
    }
}

/// The two checkpoints that disagree, as their exact signed bytes, for the operator and
/// for anyone the parent shows them to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkEvidence {
    /// The checkpoint the mirror was verified against (`None` if the state carried none).
    pub ours: Option<Vec<u8>>,
    /// Whether `ours` verifies with the same log key as `theirs`: only then are the two a
    /// self-contradiction by the origin's key rather than a disagreement across a key change.
    pub ours_signed_by_same_key: bool,
    /// The offered checkpoint.
    pub theirs: Vec<u8>,
}

impl DeltaError {
    /// The origin the error is about.
    pub fn origin(&self) -> &str {
        match self {
            DeltaError::State { origin, .. }
            | DeltaError::CheckpointSignature { origin, .. }
            | DeltaError::SizeOutOfRange { origin, .. }
            | DeltaError::Fork { origin, .. }
            | DeltaError::BadConsistencyProof { origin, .. }
            | DeltaError::StartMismatch { origin, .. }
            | DeltaError::BatchTooLarge { origin, .. }
            | DeltaError::ExtraEntries { origin, .. }
            | DeltaError::MissingEntries { origin, .. }
            | DeltaError::Entry { origin, .. }
            | DeltaError::RootMismatch { origin, .. } => origin,
        }
    }

    /// The code to answer with in `Rejected`.
    pub fn code(&self) -> ErrorCode {
        match self {
            DeltaError::State { .. } => ErrorCode::Internal,
            DeltaError::CheckpointSignature { .. } => ErrorCode::BadSignature,
            DeltaError::SizeOutOfRange { .. } | DeltaError::BatchTooLarge { .. } => {
                ErrorCode::Oversized
            }
            DeltaError::Fork { .. } => ErrorCode::InconsistentCheckpoint,
            DeltaError::BadConsistencyProof { .. } => ErrorCode::BadConsistencyProof,
            DeltaError::StartMismatch { .. }
            | DeltaError::ExtraEntries { .. }
            | DeltaError::MissingEntries { .. } => ErrorCode::CursorMismatch,
            DeltaError::Entry {
                rule: EntryRule::OutOfJurisdiction { .. },
                ..
            } => ErrorCode::OutOfJurisdiction,
            DeltaError::Entry { .. } => ErrorCode::InvalidEntry,
            DeltaError::RootMismatch { .. } => ErrorCode::RootMismatch,
        }
    }

    /// The fork evidence, if this is a fork.
    pub fn fork_evidence(&self) -> Option<&ForkEvidence> {
        match self {
            DeltaError::Fork { evidence, .. } => Some(evidence),
            _ => None,
        }
    }
}
