//! The 32-byte SHA-256 value used for leaves, interior nodes and roots.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const LEN: usize = 32;

    /// Parses standard base64 (RFC 4648 §4, padded), the form used in checkpoints and proofs.
    pub fn from_base64(text: &str) -> Result<Hash, HashParseError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| HashParseError::NotBase64)?;
        Self::from_slice(&bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Hash, HashParseError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| HashParseError::WrongLength { found: bytes.len() })?;
        Ok(Hash(array))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    #[error("hash is not standard base64")]
    NotBase64,
    #[error("hash must be 32 bytes, found {found}")]
    WrongLength { found: usize },
}
