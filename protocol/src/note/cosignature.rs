//! C2SP tlog-cosignature, Ed25519 flavour (`cosignature/v1`, signature type 0x04).
//!
//! Signature bytes: `u64 timestamp (big-endian, ≤ 2^63-1) || ed25519_signature[64]`, over
//! `"cosignature/v1\ntime <timestamp>\n" || <checkpoint text>`.

use super::checkpoint::Checkpoint;
use super::error::CosignatureError;
use super::key::{CosignerKey, KeyName, KeyType, VerifierKey};
use super::signed_note::NoteSignature;

/// Largest timestamp the spec allows (2^63 - 1).
pub const MAX_COSIGNATURE_TIMESTAMP: u64 = i64::MAX as u64;

/// Length of a cosignature/v1 signature after the key id: 8-byte time + 64-byte Ed25519.
pub const COSIGNATURE_V1_LEN: usize = 8 + 64;

pub(crate) fn check_timestamp(timestamp: u64) -> Result<(), CosignatureError> {
    if timestamp > MAX_COSIGNATURE_TIMESTAMP {
        return Err(CosignatureError::TimestampOutOfRange { timestamp });
    }
    Ok(())
}

/// The exact bytes a cosigner signs for a note whose text is `text`.
pub fn signed_message(text: &[u8], timestamp: u64) -> Vec<u8> {
    let header = format!("cosignature/v1\ntime {timestamp}\n");
    let mut msg = Vec::with_capacity(header.len() + text.len());
    msg.extend_from_slice(header.as_bytes());
    msg.extend_from_slice(text);
    msg
}

/// Splits `timestamp || signature` and range-checks the timestamp.
pub(crate) fn split_signature(sig: &[u8]) -> Result<(u64, [u8; 64]), CosignatureError> {
    let raw: &[u8; COSIGNATURE_V1_LEN] = sig
        .try_into()
        .map_err(|_| CosignatureError::WrongLength { len: sig.len() })?;
    let (ts, sig) = raw.split_at(8);
    let mut ts_bytes = [0u8; 8];
    ts_bytes.copy_from_slice(ts);
    let timestamp = u64::from_be_bytes(ts_bytes);
    check_timestamp(timestamp)?;
    let mut signature = [0u8; 64];
    signature.copy_from_slice(sig);
    Ok((timestamp, signature))
}

/// A cosignature/v1 on a checkpoint, as carried on a note signature line.
#[derive(Clone, PartialEq, Eq)]
pub struct Cosignature {
    pub name: KeyName,
    pub key_id: u32,
    pub timestamp: u64,
    pub signature: [u8; 64],
}

impl std::fmt::Debug for Cosignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cosignature")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("timestamp", &self.timestamp)
            .field("signature", &hex::encode(self.signature))
            .finish()
    }
}

impl CosignerKey {
    /// Cosigns `checkpoint` as of `timestamp` (POSIX seconds). The caller is asserting the
    /// cosignature/v1 statement: this is the largest consistent tree it has seen for the
    /// origin, so only call it after verifying consistency with what it cosigned before.
    pub fn cosign(
        &self,
        checkpoint: &Checkpoint,
        timestamp: u64,
    ) -> Result<Cosignature, CosignatureError> {
        check_timestamp(timestamp)?;
        let text = checkpoint.to_text();
        let signature = self.sign_raw(&signed_message(text.as_bytes(), timestamp));
        Ok(Cosignature {
            name: self.name().clone(),
            key_id: self.key_id(),
            timestamp,
            signature,
        })
    }
}

impl Cosignature {
    /// Verifies this cosignature over `checkpoint` with `key`, which must be a type 0x04
    /// vkey whose name and key id are the ones on the cosignature.
    pub fn verify(
        &self,
        checkpoint: &Checkpoint,
        key: &VerifierKey,
    ) -> Result<(), CosignatureError> {
        if key.key_type() != KeyType::CosignatureV1 {
            return Err(CosignatureError::WrongKeyType {
                found: key.key_type(),
            });
        }
        if self.name != *key.name() {
            return Err(CosignatureError::NameMismatch {
                expected: key.name().to_string(),
                found: self.name.to_string(),
            });
        }
        if self.key_id != key.key_id() {
            return Err(CosignatureError::KeyIdMismatch {
                expected: key.key_id(),
                found: self.key_id,
            });
        }
        check_timestamp(self.timestamp)?;
        let msg = signed_message(checkpoint.to_text().as_bytes(), self.timestamp);
        if !key.verify_raw(&msg, &self.signature) {
            return Err(CosignatureError::InvalidSignature {
                name: self.name.to_string(),
            });
        }
        Ok(())
    }

    /// The note signature line form: key id, then `timestamp || signature`.
    pub fn to_note_signature(&self) -> NoteSignature {
        let mut signature = Vec::with_capacity(COSIGNATURE_V1_LEN);
        signature.extend_from_slice(&self.timestamp.to_be_bytes());
        signature.extend_from_slice(&self.signature);
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        }
    }

    /// Reads a note signature line as a cosignature/v1. Only the shape is checked: whether
    /// the line really is a cosignature is known only to whoever holds the key.
    pub fn from_note_signature(sig: &NoteSignature) -> Result<Cosignature, CosignatureError> {
        let (timestamp, signature) = split_signature(&sig.signature)?;
        Ok(Cosignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
            timestamp,
            signature,
        })
    }
}

impl From<&Cosignature> for NoteSignature {
    fn from(c: &Cosignature) -> NoteSignature {
        c.to_note_signature()
    }
}

impl TryFrom<&NoteSignature> for Cosignature {
    type Error = CosignatureError;
    fn try_from(sig: &NoteSignature) -> Result<Cosignature, CosignatureError> {
        Cosignature::from_note_signature(sig)
    }
}
