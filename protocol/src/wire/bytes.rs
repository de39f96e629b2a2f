//! Byte strings in wire messages as serde *bytes*, not as sequences of `u8`.
//!
//! bincode writes both the same way (a varint length, then the bytes), so the wire format
//! does not change; but a `Vec<u8>` goes through serde one `u8` call per byte, on encode,
//! on decode and on the codec's canonical re-encode. Entries are ~512 bytes each and a
//! `PushEntries` carries thousands: per-byte calls were most of the parent's decode time.

use std::fmt;

use serde::de::{Deserializer, Error, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// One byte string, (de)serialized as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ByteString(pub(super) Vec<u8>);

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByteString, D::Error> {
        d.deserialize_byte_buf(ByteStringVisitor).map(ByteString)
    }
}

struct ByteStringVisitor;

impl<'de> Visitor<'de> for ByteStringVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    // Self-describing formats (JSON in tests and tools) write bytes as a sequence.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(byte) = seq.next_element::<u8>()? {
            out.push(byte);
        }
        Ok(out)
    }
}

/// `#[serde(with = "bytes")]` on a `Vec<u8>` field.
pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(v)
}

/// `#[serde(with = "bytes")]` on a `Vec<u8>` field.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    ByteString::deserialize(d).map(|b| b.0)
}

/// `#[serde(serialize_with = "bytes::serialize_seq")]` on a `Vec<Vec<u8>>` field (decoding
/// goes through the bounded deserializers, which read their elements as [`ByteString`]).
pub(super) fn serialize_seq<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|b| AsBytes(b)))
}

struct AsBytes<'a>(&'a [u8]);

impl Serialize for AsBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::codec::{decode_with_limit, encode_with_limit, MAX_FRAME_BYTES};

    /// The layout before: byte strings as serde sequences of `u8`.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct AsSequences {
        one: Vec<u8>,
        many: Vec<Vec<u8>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct AsBytesFields {
        #[serde(with = "super")]
        one: Vec<u8>,
        #[serde(
            serialize_with = "serialize_seq",
            deserialize_with = "super::super::bounded::push_entries"
        )]
        many: Vec<Vec<u8>>,
    }

    #[test]
    fn bytes_and_sequences_of_u8_are_the_same_bincode_both_ways() {
        let many: Vec<Vec<u8>> = (0..300u32)
            .map(|i| (0..(i * 7 % 700)).map(|b| (b * 31 + i) as u8).collect())
            .collect();
        let one: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        let old = AsSequences {
            one: one.clone(),
            many: many.clone(),
        };
        let new = AsBytesFields { one, many };
        let old_bytes = encode_with_limit::<_, MAX_FRAME_BYTES>(&old).unwrap();
        let new_bytes = encode_with_limit::<_, MAX_FRAME_BYTES>(&new).unwrap();
        assert_eq!(old_bytes, new_bytes);
        let read: AsBytesFields = decode_with_limit::<_, MAX_FRAME_BYTES>(&old_bytes).unwrap();
        assert_eq!(read, new);
        let read: AsSequences = decode_with_limit::<_, MAX_FRAME_BYTES>(&new_bytes).unwrap();
        assert_eq!(read, old);
    }

    #[test]
    fn a_byte_string_longer_than_its_frame_is_refused_without_reserving_it() {
        // Length prefix claiming 2^40 bytes (varint 0xFD + u64 LE) and nothing behind it.
        let mut frame = vec![0xFD];
        frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let read = decode_with_limit::<AsBytesFields, MAX_FRAME_BYTES>(&frame);
        assert!(read.is_err(), "{read:?}");
    }
}
