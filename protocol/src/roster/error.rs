//! Why a roster was refused. Each variant is something an operator can act on; line
//! numbers point into the roster text (`sed -n Np`), 1-based, with 0 meaning "the roster as a
//! whole" (a rule no single line breaks, such as a missing national node).

use thiserror::Error;

use super::model::NodeLevel;
use crate::note::{KeyError, KeyType, NoteError, PolicyError};

/// A roster could not be parsed, verified, adopted or used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RosterError {
    /// The signed roster is larger than [`MAX_ROSTER_BYTES`](super::MAX_ROSTER_BYTES).
    #[error("signed roster is {size} bytes, above the limit of {max}")]
    TooLarge { size: usize, max: usize },
    /// Not a well-formed signed note (before any signature is checked).
    #[error("signed roster is not a well-formed signed note: {0}")]
    MalformedNote(NoteError),
    /// No valid signature by the trust root, or a signature by the trust root's name and
    /// key id that does not verify.
    #[error("roster is not signed by trust root {root}: {reason}")]
    BadSignature { root: String, reason: NoteError },
    /// The key given as trust root cannot sign rosters (it must be an Ed25519 note key).
    #[error(
        "trust root key {root} has type {found:?}; a roster root must be an Ed25519 (0x01) key"
    )]
    RootKeyType { root: String, found: KeyType },
    /// The roster's validity ended at `expires_at`.
    #[error("roster expired at {expires_at} (now {now})")]
    Expired { expires_at: u64, now: u64 },
    /// The roster's validity starts at `issued_at`, beyond the allowed clock skew.
    #[error("roster is not valid before {issued_at} (now {now})")]
    NotYetValid { issued_at: u64, now: u64 },
    /// An update offered a lower version than the one in force.
    #[error("roster version {offered} is older than the current version {current}")]
    VersionRollback { current: u64, offered: u64 },
    /// An update offered the current version with different content: the trust root signed
    /// two rosters under one version, which must never happen.
    #[error("roster version {version} offered with content different from the one in force")]
    SameVersionDiffers { version: u64 },
    /// An update names another federation.
    #[error("roster is for federation {offered:?}, not {current:?}")]
    FederationMismatch { current: String, offered: String },
    /// The roster text breaks a format or validation rule.
    #[error("roster line {line}: {reason}")]
    Invalid { line: usize, reason: InvalidReason },
    /// A lookup named an origin the roster does not list.
    #[error("origin {origin:?} is not in the roster")]
    UnknownOrigin { origin: String },
    /// Building the trust policy for an origin failed (should not happen for a validated
    /// roster; kept rather than hidden).
    #[error("trust policy for {origin}: {source}")]
    Policy { origin: String, source: PolicyError },
}

/// The rule a roster line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidReason {
    // --- text format ---
    #[error("the first line must be `credx roster v1`")]
    Magic,
    #[error("missing `{expected}` line")]
    MissingLine { expected: &'static str },
    #[error("expected a `{expected}` line")]
    ExpectedKeyword { expected: &'static str },
    #[error("`{field}` is not a canonical decimal number")]
    BadNumber { field: &'static str },
    #[error("federation name must be 1 to 64 lower-case letters, digits or '-'")]
    BadFederationName,
    #[error("node line must be `node <origin> level=… parent=… juris=… ckey=… cosigner=… tls=…`; {detail}")]
    MalformedNode { detail: &'static str },
    #[error("text is not in canonical form (expected {expected:?})")]
    NonCanonical { expected: String },
    // --- header values ---
    #[error("expires_at {expires_at} is not after issued_at {issued_at}")]
    ExpiresBeforeIssued { issued_at: u64, expires_at: u64 },
    // --- node values ---
    #[error("origin {origin:?} must be 1 to 64 lower-case letters, digits, '.' or '-'")]
    BadOrigin { origin: String },
    #[error("unknown level {found:?} (national, province, city, county or sector)")]
    UnknownLevel { found: String },
    #[error("jurisdiction item {item:?}: {detail}")]
    BadJurisdiction { item: String, detail: &'static str },
    #[error("node has no jurisdiction")]
    EmptyJurisdiction,
    #[error("node has {count} jurisdiction items, above the limit of {max}")]
    TooManyJurisdictionItems { count: usize, max: usize },
    #[error("jurisdiction item {item} is listed twice")]
    DuplicateJurisdiction { item: String },
    #[error("only sector nodes may list sectors (found {item})")]
    SectorOnNonSectorNode { item: String },
    #[error("a sector node must list at least one sector")]
    SectorNodeWithoutSector,
    #[error("{field}: {source}")]
    BadKey {
        field: &'static str,
        source: KeyError,
    },
    #[error("{field} has type {found:?}, expected {expected:?}")]
    KeyType {
        field: &'static str,
        expected: KeyType,
        found: KeyType,
    },
    #[error("{field} is named {name:?}; a node's keys must be named like its origin {origin:?}")]
    KeyNameNotOrigin {
        field: &'static str,
        name: String,
        origin: String,
    },
    #[error("{field} uses the same Ed25519 key as the {other_field} of {other_origin}")]
    SharedKey {
        field: &'static str,
        other_origin: String,
        other_field: &'static str,
    },
    #[error("tls fingerprint must be 64 lower-case hex digits or '-'")]
    BadTlsFingerprint,
    // --- roster structure ---
    #[error("nodes must be sorted by origin: {origin:?} follows {previous:?}")]
    NotSorted { previous: String, origin: String },
    #[error("origin {origin:?} is listed twice")]
    DuplicateOrigin { origin: String },
    #[error("roster lists {count} nodes, above the limit of {max}")]
    TooManyNodes { count: usize, max: usize },
    #[error("roster has no national node")]
    NoNational,
    #[error("roster has a second national node {origin:?} (the first is {first:?})")]
    SecondNational { first: String, origin: String },
    #[error("the national node must not have a parent")]
    NationalHasParent,
    #[error("a {level} node must have a parent")]
    MissingParent { level: NodeLevel },
    #[error("parent {parent:?} is not in the roster")]
    UnknownParent { parent: String },
    #[error("a {level} node cannot have a {parent_level} parent ({parent:?})")]
    ParentLevel {
        level: NodeLevel,
        parent: String,
        parent_level: NodeLevel,
    },
    #[error("jurisdiction item {item} lies outside the jurisdiction of parent {parent:?}")]
    OutsideParent { item: String, parent: String },
}

impl RosterError {
    pub(crate) fn invalid(line: usize, reason: InvalidReason) -> RosterError {
        RosterError::Invalid { line, reason }
    }
}
