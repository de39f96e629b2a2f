//! The bundle document: JSON, binary parts in standard base64, text parts (tlog-proofs, the
//! signed roster) as their own canonical text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::BundleError;
use crate::entry::SubjectId;

/// The only bundle format this crate reads and writes.
pub const BUNDLE_VERSION: u32 = 1;

/// Largest bundle [`Bundle::parse`] reads: a roster (≤ 1 MiB), a status (≤ a few hundred
/// KiB), proofs and a bounded list of entries fit well within it.
pub const MAX_BUNDLE_BYTES: usize = 8 << 20;

/// A subject's status (or its absence) tied, through an anchor entry, to a checkpoint of
/// the log that computed it, cosigned by that log's ancestors, under a signed roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub version: u32,
    pub subject: SubjectId,
    /// [`crate::statusmap::SubjectStatus::encode`] bytes, base64; `None` claims absence.
    pub status: Option<String>,
    /// [`crate::statusmap::StatusProof::encode`] bytes, base64.
    pub status_proof: String,
    pub anchor: AnchorPart,
    /// Entries behind the status (its listings and records), each with its tlog-proof.
    #[serde(default)]
    pub entries: Vec<ProvenEntry>,
    /// The signed roster's note text.
    pub roster: String,
}

/// The `StatusMapRoot` entry committing the status proof's root, and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorPart {
    pub origin: String,
    pub index: u64,
    /// Encoded entry bytes, base64.
    pub entry: String,
    /// C2SP tlog-proof text, its checkpoint carrying the cosignatures.
    pub tlog_proof: String,
}

/// One log entry with its C2SP tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEntry {
    /// Encoded entry bytes, base64.
    pub entry: String,
    pub tlog_proof: String,
}

impl Bundle {
    /// Pretty JSON, the form the node serves and `credx verify` reads.
    pub fn to_json(&self) -> Result<String, BundleError> {
        serde_json::to_string_pretty(self).map_err(|e| BundleError::Malformed(e.to_string()))
    }

    /// Parses untrusted bytes (bounded by [`MAX_BUNDLE_BYTES`]); checks only the shape.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge {
                size: bytes.len(),
                max: MAX_BUNDLE_BYTES,
            });
        }
        let bundle: Bundle =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
        if bundle.version != BUNDLE_VERSION {
            return Err(BundleError::UnsupportedVersion {
                found: bundle.version,
            });
        }
        Ok(bundle)
    }
}

/// Standard base64 of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes the base64 field `field`.
pub fn unb64(field: &'static str, text: &str) -> Result<Vec<u8>, BundleError> {
    STANDARD
        .decode(text)
        .map_err(|_| BundleError::BadBase64 { field })
}
