//! Sequence decoding that stops at a count limit *while* decoding.
//!
//! The codec bounds the bytes of a frame, but not what they turn into: a Vec of empty
//! Vecs costs one byte each on the wire and 24 bytes each in memory, so an 8 MiB frame could
//! become ~200 MiB of headers before any after-the-fact count check ran. These deserializers
//! refuse a length prefix above the limit before reading a single element.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};

use super::bytes::ByteString;
use super::limits::{
    MAX_FEED_CHECKPOINTS, MAX_FEED_ITEMS, MAX_HEALTH_REPORTS, MAX_PROOF_HASHES, MAX_PUSH_ENTRIES,
};

struct BoundedSeq<T> {
    max: usize,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for BoundedSeq<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a sequence of at most {} elements", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let hint = seq.size_hint().unwrap_or(0);
        if hint > self.max {
            return Err(A::Error::invalid_length(hint, &self));
        }
        // Preallocate modestly: the hint is the peer's claim, not yet backed by bytes.
        let mut out = Vec::with_capacity(hint.min(256));
        while let Some(item) = seq.next_element()? {
            if out.len() >= self.max {
                return Err(A::Error::invalid_length(out.len() + 1, &self));
            }
            out.push(item);
        }
        Ok(out)
    }
}

fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(BoundedSeq {
        max,
        marker: PhantomData,
    })
}

/// A bounded sequence of byte strings, each read as bytes in one copy.
fn bounded_byte_strings<'de, D: Deserializer<'de>>(
    d: D,
    max: usize,
) -> Result<Vec<Vec<u8>>, D::Error> {
    let strings: Vec<ByteString> = bounded(d, max)?;
    Ok(strings.into_iter().map(|b| b.0).collect())
}

pub(super) fn push_entries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    bounded_byte_strings(d, MAX_PUSH_ENTRIES)
}

pub(super) fn proof<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<crate::merkle::Hash>, D::Error> {
    bounded(d, MAX_PROOF_HASHES)
}

pub(super) fn feed_items<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::messages::FeedItem>, D::Error> {
    bounded(d, MAX_FEED_ITEMS)
}

pub(super) fn feed_checkpoints<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    bounded_byte_strings(d, MAX_FEED_CHECKPOINTS)
}

pub(super) fn health_reports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    bounded_byte_strings(d, MAX_HEALTH_REPORTS)
}
