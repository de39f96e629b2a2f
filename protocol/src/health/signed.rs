//! A health report signed with the reporting node's log (checkpoint) key.
//!
//! The signed message is [`HEALTH_SIGNATURE_CONTEXT`] followed by the report's canonical
//! bytes. The context contains a NUL byte, which no signed note may contain (C2SP
//! signed-note texts are UTF-8 without control characters other than newline), so a health
//! signature can never be taken for a checkpoint or any other note signed by the same key,
//! and no note signature can be replayed as a health report.

use serde::{Deserialize, Serialize};

use super::report::HealthReport;
use super::MAX_SIGNED_HEALTH_REPORT_BYTES;
use crate::codec::{self, DecodeError, EncodeError};
use crate::note::NoteSigner;
use crate::roster::VerifiedRoster;

/// Domain separation prefix of every health signature.
pub const HEALTH_SIGNATURE_CONTEXT: &[u8] = b"credx health report v1\0";

/// Why a health report was refused (or could not be produced).
#[derive(Debug, thiserror::Error)]
pub enum HealthReportError {
    #[error("health report does not encode: {0}")]
    Encode(#[from] EncodeError),
    #[error("health report does not decode: {0}")]
    Decode(#[from] DecodeError),
    #[error("health report field `{field}`: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error(
        "health report of {origin}: the signature is {found} bytes, an Ed25519 signature is 64"
    )]
    SignatureLength { origin: String, found: usize },
    #[error("health report of {origin}: the origin has no log key in roster v{roster_version}")]
    UnknownOrigin { origin: String, roster_version: u64 },
    #[error(
        "health report of {origin}: the signature does not verify with its log key in roster \
         v{roster_version}"
    )]
    BadSignature { origin: String, roster_version: u64 },
    #[error("cannot sign the health report of {origin} with the key of {signer}")]
    WrongSigner { origin: String, signer: String },
}

impl HealthReportError {
    /// A short stable name, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            HealthReportError::Encode(_) | HealthReportError::Decode(_) => "malformed",
            HealthReportError::Invalid { .. } => "invalid",
            HealthReportError::SignatureLength { .. } | HealthReportError::BadSignature { .. } => {
                "bad_signature"
            }
            HealthReportError::UnknownOrigin { .. } => "unknown_origin",
            HealthReportError::WrongSigner { .. } => "wrong_signer",
        }
    }
}

/// A report's exact signed bytes and the signature over them. Forwarded up the tree
/// verbatim: relays never re-encode it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHealthReport {
    /// Canonical bytes of a [`HealthReport`].
    pub report: Vec<u8>,
    /// Ed25519 over `HEALTH_SIGNATURE_CONTEXT || report`, 64 bytes.
    pub signature: Vec<u8>,
}

fn signed_message(report: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(HEALTH_SIGNATURE_CONTEXT.len() + report.len());
    message.extend_from_slice(HEALTH_SIGNATURE_CONTEXT);
    message.extend_from_slice(report);
    message
}

impl SignedHealthReport {
    /// Signs `report` with the log key of its origin.
    pub fn sign(
        report: &HealthReport,
        signer: &NoteSigner,
    ) -> Result<SignedHealthReport, HealthReportError> {
        if signer.name().as_str() != report.origin {
            return Err(HealthReportError::WrongSigner {
                origin: report.origin.clone(),
                signer: signer.name().to_string(),
            });
        }
        let bytes = report.to_bytes()?;
        let signature = signer.sign_raw(&signed_message(&bytes)).to_vec();
        Ok(SignedHealthReport {
            report: bytes,
            signature,
        })
    }

    /// Canonical bytes, as carried in `HealthReports` (bounded).
    pub fn to_bytes(&self) -> Result<Vec<u8>, HealthReportError> {
        Ok(codec::encode_with_limit::<_, MAX_SIGNED_HEALTH_REPORT_BYTES>(self)?)
    }

    /// Decodes canonical bytes (bounded); nothing is verified yet.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedHealthReport, HealthReportError> {
        Ok(codec::decode_with_limit::<_, MAX_SIGNED_HEALTH_REPORT_BYTES>(bytes)?)
    }

    /// Decodes the report, checks its fields and verifies the signature with the log key
    /// the roster lists for the origin the report names.
    pub fn verify(&self, roster: &VerifiedRoster) -> Result<HealthReport, HealthReportError> {
        let report = HealthReport::from_bytes(&self.report)?;
        let roster_version = roster.version();
        if self.signature.len() != 64 {
            return Err(HealthReportError::SignatureLength {
                origin: report.origin,
                found: self.signature.len(),
            });
        }
        let Some(key) = roster.checkpoint_key(&report.origin) else {
            return Err(HealthReportError::UnknownOrigin {
                origin: report.origin,
                roster_version,
            });
        };
        if !key.verify_raw(&signed_message(&self.report), &self.signature) {
            return Err(HealthReportError::BadSignature {
                origin: report.origin,
                roster_version,
            });
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::report::tests::sample;
    use crate::note::{KeyName, SignedNote};

    fn signer(origin: &str) -> NoteSigner {
        NoteSigner::generate(KeyName::new(origin).unwrap(), &mut rand::thread_rng())
    }

    #[test]
    fn the_context_cannot_start_a_note_text() {
        // A NUL byte makes the message an invalid note text, whatever follows.
        assert!(HEALTH_SIGNATURE_CONTEXT.contains(&0));
        let text = String::from_utf8_lossy(HEALTH_SIGNATURE_CONTEXT).into_owned() + "\n";
        let note = format!("{text}\n— x AAAA\n");
        assert!(SignedNote::parse(note.as_bytes()).is_err());
    }

    #[test]
    fn sign_and_round_trip_bytes() {
        let key = signer("440106.credx");
        let signed = SignedHealthReport::sign(&sample("440106.credx"), &key).unwrap();
        let bytes = signed.to_bytes().unwrap();
        assert!(bytes.len() <= MAX_SIGNED_HEALTH_REPORT_BYTES);
        assert_eq!(SignedHealthReport::from_bytes(&bytes).unwrap(), signed);
        let mut message = HEALTH_SIGNATURE_CONTEXT.to_vec();
        message.extend_from_slice(&signed.report);
        assert!(key.verifier_key().verify_raw(&message, &signed.signature));
        // The bare report bytes (no context) do not verify: the signature is bound to it.
        assert!(!key
            .verifier_key()
            .verify_raw(&signed.report, &signed.signature));
    }

    #[test]
    fn refuses_to_sign_another_origins_report() {
        let key = signer("440105.credx");
        assert!(matches!(
            SignedHealthReport::sign(&sample("440106.credx"), &key),
            Err(HealthReportError::WrongSigner { .. })
        ));
    }
}
