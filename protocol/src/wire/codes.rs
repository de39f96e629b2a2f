//! Error codes carried by `Rejected` and `Goodbye`.
//!
//! The numbers are the protocol: they are written on the wire as a `u16` (not as an enum
//! position), never renumbered and never reused, so logs, metrics and peers of different
//! versions agree on what a code means. A code this build does not know decodes as
//! [`ErrorCode::Unknown`] instead of failing the whole message, so a newer peer can add
//! codes without breaking older ones.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a peer refused something. Where a tlog-witness HTTP status corresponds
/// (tlog.md §1.5), it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Code 1: The origin is not one this peer mirrors (witness: 404).
    UnknownOrigin,
    /// Code 2: The peer (by its TLS identity or `Hello.node`) is not in the roster, or not a
    /// child allowed to push this origin.
    NotInRoster,
    /// Code 3: A checkpoint, roster or cosignature did not verify with the expected key
    /// (witness: 403).
    BadSignature,
    /// Code 4: Fork: a validly signed checkpoint that is inconsistent with one already verified
    /// for the origin (same size with another root, a smaller size, or no valid
    /// consistency proof). Both checkpoints are kept as evidence and the origin is frozen.
    InconsistentCheckpoint,
    /// Code 5: The consistency proof from the parent's cursor to the offered checkpoint failed
    /// (witness: 422).
    BadConsistencyProof,
    /// Code 6: The root recomputed over the received entries is not the checkpoint's root.
    RootMismatch,
    /// Code 7: An entry's authority lies outside the origin's jurisdiction in the roster.
    OutOfJurisdiction,
    /// Code 8: An entry failed to decode or broke a structural rule.
    InvalidEntry,
    /// Code 9: The sender's idea of the cursor is not the receiver's (witness: 409); the
    /// receiver answers with `CursorIs` and the sender resumes from there.
    CursorMismatch,
    /// Code 10: A message, batch or field is beyond its limit.
    Oversized,
    /// Code 11: Too many requests; retry later.
    RateLimited,
    /// Code 12: Syncing this origin is stopped (after a fork) until an operator acts.
    OriginFrozen,
    /// Code 13: The roster needed to judge the request has expired.
    RosterExpired,
    /// Code 14: No protocol version in common.
    ProtocolVersion,
    /// Code 15: The receiver failed (storage, bug); not the sender's fault. Retry later.
    Internal,
    /// Code 16: A frame that does not decode as a message of this protocol version.
    Malformed,
    /// A code this build does not know (sent by a newer peer). Never constructed locally.
    Unknown(u16),
}

impl ErrorCode {
    /// The stable wire number.
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::UnknownOrigin => 1,
            ErrorCode::NotInRoster => 2,
            ErrorCode::BadSignature => 3,
            ErrorCode::InconsistentCheckpoint => 4,
            ErrorCode::BadConsistencyProof => 5,
            ErrorCode::RootMismatch => 6,
            ErrorCode::OutOfJurisdiction => 7,
            ErrorCode::InvalidEntry => 8,
            ErrorCode::CursorMismatch => 9,
            ErrorCode::Oversized => 10,
            ErrorCode::RateLimited => 11,
            ErrorCode::OriginFrozen => 12,
            ErrorCode::RosterExpired => 13,
            ErrorCode::ProtocolVersion => 14,
            ErrorCode::Internal => 15,
            ErrorCode::Malformed => 16,
            ErrorCode::Unknown(n) => n,
        }
    }

    /// The code for a wire number; numbers this build does not know become
    /// [`ErrorCode::Unknown`].
    pub fn from_code(code: u16) -> ErrorCode {
        match code {
            1 => ErrorCode::UnknownOrigin,
            2 => ErrorCode::NotInRoster,
            3 => ErrorCode::BadSignature,
            4 => ErrorCode::InconsistentCheckpoint,
            5 => ErrorCode::BadConsistencyProof,
            6 => ErrorCode::RootMismatch,
            7 => ErrorCode::OutOfJurisdiction,
            8 => ErrorCode::InvalidEntry,
            9 => ErrorCode::CursorMismatch,
            10 => ErrorCode::Oversized,
            11 => ErrorCode::RateLimited,
            12 => ErrorCode::OriginFrozen,
            13 => ErrorCode::RosterExpired,
            14 => ErrorCode::ProtocolVersion,
            15 => ErrorCode::Internal,
            16 => ErrorCode::Malformed,
            n => ErrorCode::Unknown(n),
        }
    }

    /// Every known code, in numeric order.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::UnknownOrigin,
        ErrorCode::NotInRoster,
        ErrorCode::BadSignature,
        ErrorCode::InconsistentCheckpoint,
        ErrorCode::BadConsistencyProof,
        ErrorCode::RootMismatch,
        ErrorCode::OutOfJurisdiction,
        ErrorCode::InvalidEntry,
        ErrorCode::CursorMismatch,
        ErrorCode::Oversized,
        ErrorCode::RateLimited,
        ErrorCode::OriginFrozen,
        ErrorCode::RosterExpired,
        ErrorCode::ProtocolVersion,
        ErrorCode::Internal,
        ErrorCode::Malformed,
    ];

    /// Whether resending later (or from the peer's cursor) can succeed without anyone
    /// changing anything. CouchDB's rule (federation.md §2.4): retry transient failures,
    /// never retry refusals; a refusal needs an operator or a new roster.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::CursorMismatch | ErrorCode::RateLimited | ErrorCode::Internal
        )
    }

    /// A short stable name for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::UnknownOrigin => "unknown_origin",
            ErrorCode::NotInRoster => "not_in_roster",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::InconsistentCheckpoint => "inconsistent_checkpoint",
            ErrorCode::BadConsistencyProof => "bad_consistency_proof",
            ErrorCode::RootMismatch => "root_mismatch",
            ErrorCode::OutOfJurisdiction => "out_of_jurisdiction",
            ErrorCode::InvalidEntry => "invalid_entry",
            ErrorCode::CursorMismatch => "cursor_mismatch",
            ErrorCode::Oversized => "oversized",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::OriginFrozen => "origin_frozen",
            ErrorCode::RosterExpired => "roster_expired",
            ErrorCode::ProtocolVersion => "protocol_version",
            ErrorCode::Internal => "internal",
            ErrorCode::Malformed => "malformed",
            ErrorCode::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.code())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u16::deserialize(d).map(ErrorCode::from_code)
    }
}
