//! The one place that turns values into canonical bytes and back.
//!
//! Everything credx hashes, signs or sends as binary goes through here, so the choice of
//! encoding (bincode 2.0.1, pinned; see `docs/decisions/0002-bincode-2.md`) and its
//! configuration live in exactly one module.
//!
//! Two properties matter more than speed:
//! - **Bounded decoding.** Every decode names a byte limit; bincode's own limit stops
//!   length prefixes from reserving memory beyond it, and the input is checked against the
//!   limit before decoding starts.
//! - **Canonical bytes.** A log leaf is the exact stored bytes of an entry. If two byte
//!   strings could decode to the same value, a record could appear twice under different
//!   leaf hashes. So decoding re-encodes the value and rejects any input that is not the
//!   canonical encoding of what it decodes to, and rejects trailing bytes.

use bincode::config::{Configuration, LittleEndian, Varint};
use serde::{de::DeserializeOwned, Serialize};

/// The largest encoded log entry. Matches the 65,535-byte entry limit of C2SP tlog-tiles
/// entry bundles (big-endian u16 length prefixes), so logs can later be served as tiles.
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// The largest single wire frame a peer may send (a batch of entries plus proofs).
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;

type BaseConfig = Configuration<LittleEndian, Varint>;

const fn base_config() -> BaseConfig {
    bincode::config::standard()
}

/// Why a value could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("encoding failed: {0}")]
    Bincode(#[from] bincode::error::EncodeError),
    #[error("encoded value is {size} bytes, above the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
}

/// Why bytes could not be decoded into a value.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("input is {size} bytes, above the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed encoding: {0}")]
    Malformed(#[from] bincode::error::DecodeError),
    #[error("{trailing} unexpected bytes after the encoded value")]
    TrailingBytes { trailing: usize },
    #[error("bytes are not the canonical encoding of the value they decode to")]
    NotCanonical,
}

/// Encodes `value` canonically, refusing results larger than `LIMIT` bytes.
pub fn encode_with_limit<T: Serialize, const LIMIT: usize>(
    value: &T,
) -> Result<Vec<u8>, EncodeError> {
    let bytes = bincode::serde::encode_to_vec(value, base_config())?;
    if bytes.len() > LIMIT {
        return Err(EncodeError::TooLarge {
            size: bytes.len(),
            limit: LIMIT,
        });
    }
    Ok(bytes)
}

/// Decodes exactly one canonical value of at most `LIMIT` bytes.
pub fn decode_with_limit<T, const LIMIT: usize>(bytes: &[u8]) -> Result<T, DecodeError>
where
    T: DeserializeOwned + Serialize,
{
    if bytes.len() > LIMIT {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: LIMIT,
        });
    }
    let config = base_config().with_limit::<LIMIT>();
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(bytes, config)?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes {
            trailing: bytes.len().saturating_sub(used),
        });
    }
    // Re-encoding is the only way to be sure varints, enum tags and lengths were written in
    // their one canonical form. It is compared as it is produced: no copy is built.
    let mut rest = CanonicalCheck { expected: bytes };
    bincode::serde::encode_into_writer(&value, &mut rest, base_config())
        .map_err(|_| DecodeError::NotCanonical)?;
    if !rest.expected.is_empty() {
        return Err(DecodeError::NotCanonical);
    }
    Ok(value)
}

/// A bincode writer that accepts exactly the bytes it expects, in order, and fails at the
/// first difference.
struct CanonicalCheck<'a> {
    expected: &'a [u8],
}

impl bincode::enc::write::Writer for CanonicalCheck<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        match self.expected.split_at_checked(bytes.len()) {
            Some((head, tail)) if head == bytes => {
                self.expected = tail;
                Ok(())
            }
            _ => Err(bincode::error::EncodeError::Other(
                "not the canonical encoding",
            )),
        }
    }
}

/// Encodes a log entry (or any value that must fit in one).
pub fn encode_entry<T: Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    encode_with_limit::<T, MAX_ENTRY_BYTES>(value)
}

/// Decodes a log entry (or any value that must fit in one).
pub fn decode_entry<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_with_limit::<T, MAX_ENTRY_BYTES>(bytes)
}

/// Encodes one wire frame payload.
pub fn encode_frame<T: Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    encode_with_limit::<T, MAX_FRAME_BYTES>(value)
}

/// Decodes one wire frame payload.
pub fn decode_frame<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_with_limit::<T, MAX_FRAME_BYTES>(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        id: u64,
        name: String,
        tags: Vec<String>,
    }

    #[test]
    fn round_trips() {
        let value = Sample {
            id: 300,
            name: "大冶".into(),
            tags: vec!["a".into()],
        };
        let bytes = encode_entry(&value).unwrap();
        assert_eq!(decode_entry::<Sample>(&bytes).unwrap(), value);
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut bytes = encode_entry(&7u64).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode_entry::<u64>(&bytes),
            Err(DecodeError::TrailingBytes { trailing: 1 })
        ));
    }

    #[test]
    fn rejects_non_minimal_varint() {
        // 5 written with the two-byte marker form (251, then u16 LE) instead of one byte.
        let bytes = [251u8, 5, 0];
        assert!(matches!(
            decode_entry::<u64>(&bytes),
            Err(DecodeError::NotCanonical) | Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn length_prefix_cannot_reserve_beyond_limit() {
        // A Vec<u8> claiming 2^40 elements: must fail cleanly, without allocating.
        let mut bytes = vec![253u8];
        bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(decode_entry::<Vec<u8>>(&bytes).is_err());
    }

    #[test]
    fn rejects_oversized_input_before_decoding() {
        let bytes = vec![0u8; MAX_ENTRY_BYTES + 1];
        assert!(matches!(
            decode_entry::<Vec<u8>>(&bytes),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn refuses_to_encode_oversized_entries() {
        let big = vec![0u8; MAX_ENTRY_BYTES];
        assert!(matches!(
            encode_entry(&big),
            Err(EncodeError::TooLarge { .. })
        ));
    }
}
