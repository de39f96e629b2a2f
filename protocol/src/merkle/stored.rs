//! The stored-hash layout of Go's `golang.org/x/mod/sumdb/tlog` (Crosby–Wallach dense
//! numbering), and roots computed from it.
//!
//! Every hash the log ever needs is the hash of a *perfect* subtree: `2^level` leaves starting
//! at a multiple of `2^level`. Such a subtree's hash never changes once its last leaf exists,
//! so it is written exactly once, right after the leaf that completes it. Appending record `n`
//! therefore writes the leaf hash plus one hash per trailing 1-bit of `n` — about two hashes
//! per record on average — and the layout is append-only: the hashes of record `n` occupy
//! indexes `stored_hash_count(n)..stored_hash_count(n + 1)`.
//!
//! Any root or proof is a combination of at most ~2·log2(n) such stored hashes. Functions here
//! compute *which* indexes they need first and fetch them with a single
//! [`HashReader::read_hashes`] call, so a RocksDB-backed reader turns each root or proof into
//! one `multi_get`.

use super::hashing::{largest_power_of_two_at_most, node_hash, EMPTY_ROOT};
use super::{Hash, MerkleError};

/// Largest tree size the stored-hash functions accept: 2^62 records.
///
/// Far beyond any real log, and it keeps every stored-hash index below 2^63, so indexes also
/// fit a signed 64-bit integer (Go `int64`, SQL) and index arithmetic can never overflow.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Index in the stored-hash sequence of the hash of the `n`-th perfect subtree at `level`
/// (the subtree over records `n·2^level .. (n+1)·2^level`). Level 0 is the leaf hashes.
///
/// Defined for every node of a tree of at most [`MAX_TREE_SIZE`] records. Outside that domain
/// the result saturates at `u64::MAX`, an index no store holds, so a read fails with
/// [`MerkleError::MissingHash`] instead of returning some other node's hash.
#[must_use]
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // The subtree is completed (and its hash written) when its last record is appended.
    let Some(last_record) = 1u64
        .checked_shl(u32::from(level))
        .and_then(|width| n.checked_add(1)?.checked_mul(width))
        .map(|end| end - 1)
    else {
        return u64::MAX;
    };
    // Record r writes 1 + trailing_ones(r) hashes, so the hashes written before record `r`
    // number sum_{i>=1} floor(r / 2^i) + r = 2r - popcount(r) (Legendre). Record `last_record`
    // then writes its leaf hash first and the hash at `level` `level` positions later.
    let before = last_record.saturating_add(last_record - u64::from(last_record.count_ones()));
    before.saturating_add(u64::from(level))
}

/// Inverse of [`stored_hash_index`]: the `(level, n)` of the subtree stored at `index`.
#[must_use]
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // stored_hash_index(0, n) = 2n - popcount(n) lies in [2n - 64, 2n], so the record that
    // wrote `index` is at least index / 2 and at most ~32 records later: walk forward.
    let mut record = index / 2;
    let mut first_of_record = stored_hash_index(0, record);
    loop {
        let written = 1 + u64::from(record.trailing_ones());
        match first_of_record.checked_add(written) {
            Some(next) if next <= index => {
                record += 1;
                first_of_record = next;
            }
            _ => break,
        }
    }
    // `index` is one of the hashes written by `record`: the leaf at offset 0, then the
    // completed subtree at level L at offset L. Offsets are < 1 + trailing_ones <= 64.
    let level = index - first_of_record;
    (level as u8, record >> level)
}

/// Number of hashes stored for a tree of `n` records: the index the hashes of record `n` start
/// at. Saturates like [`stored_hash_index`] beyond [`MAX_TREE_SIZE`].
#[must_use]
pub fn stored_hash_count(n: u64) -> u64 {
    let Some(last) = n.checked_sub(1) else {
        return 0;
    };
    // Everything up to the last leaf, the last leaf itself, and the subtrees it completed.
    stored_hash_index(0, last)
        .saturating_add(1)
        .saturating_add(u64::from(last.trailing_ones()))
}

/// Random access to the stored hashes, e.g. a RocksDB column family keyed by big-endian
/// stored-hash index.
///
/// The functions of this module call `read_hashes` at most once per root or proof, always with
/// strictly increasing `indexes` (sorted input for RocksDB `multi_get`), and never with an empty
/// slice.
pub trait HashReader {
    /// Returns the hashes at `indexes`, in the same order. A hash that is not stored should be
    /// reported as [`MerkleError::MissingHash`]; the callers check that exactly
    /// `indexes.len()` hashes come back.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        (**self).read_hashes(indexes)
    }
}

/// The hashes to store when appending record `n` whose leaf hash is `leaf`: the leaf hash
/// first, then the hash of every perfect subtree that record `n` completes, lowest level
/// first. Their indexes are `stored_hash_count(n)..stored_hash_count(n + 1)`.
///
/// Reads (in one call) the left siblings of the completed subtrees, which the first `n`
/// records already stored.
pub fn stored_hashes_for_record(
    n: u64,
    leaf: Hash,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    if n >= MAX_TREE_SIZE {
        return Err(MerkleError::SizeOutOfRange {
            size: n.saturating_add(1),
            max: MAX_TREE_SIZE,
        });
    }
    // Each trailing 1-bit of n closes a subtree: record n is the right half's last leaf and
    // the left half (a sibling at level i, index (n >> i) - 1) is already stored.
    let completed = n.trailing_ones();
    // Highest level first: those siblings lie further left, so the indexes increase.
    let indexes: Vec<u64> = (0..completed)
        .rev()
        .map(|level| stored_hash_index(level as u8, (n >> level) - 1))
        .collect();
    let siblings = read_exact(reader, &indexes)?;

    let mut hashes = Vec::with_capacity(siblings.len() + 1);
    let mut current = leaf;
    hashes.push(current);
    for sibling in siblings.iter().rev() {
        current = node_hash(sibling, &current);
        hashes.push(current);
    }
    Ok(hashes)
}

/// The root `MTH(D[size])` (RFC 9162 §2.1.1) of the first `size` records, from at most
/// `log2(size) + 1` stored hashes read in one call. `EMPTY_ROOT` for size 0, without a read.
pub fn tree_hash(size: u64, reader: &impl HashReader) -> Result<Hash, MerkleError> {
    check_size(size)?;
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    let roots = read_spans(&[Span { lo: 0, hi: size }], reader)?;
    roots.first().copied().ok_or(MerkleError::WrongHashCount {
        requested: 1,
        returned: 0,
    })
}

/// Rejects tree sizes beyond [`MAX_TREE_SIZE`].
pub(crate) fn check_size(size: u64) -> Result<(), MerkleError> {
    if size > MAX_TREE_SIZE {
        return Err(MerkleError::SizeOutOfRange {
            size,
            max: MAX_TREE_SIZE,
        });
    }
    Ok(())
}

/// A non-empty run of records `[lo, hi)` whose Merkle Tree Hash a root or proof needs.
///
/// Only spans that occur in the RFC 6962 decomposition are used: `lo` is a multiple of the
/// largest power of two not above `hi - lo`, so the span splits into perfect subtrees of
/// strictly decreasing size, each of them stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub lo: u64,
    pub hi: u64,
}

/// `(level, n)` of the perfect subtrees that make up `span`, left to right.
pub(crate) fn perfect_subtrees(span: Span) -> impl Iterator<Item = (u8, u64)> {
    let mut lo = span.lo;
    std::iter::from_fn(move || {
        if lo >= span.hi {
            return None;
        }
        let width = largest_power_of_two_at_most(span.hi - lo);
        let level = width.trailing_zeros() as u8;
        debug_assert_eq!(lo % width, 0, "span {span:?} is not RFC 6962 aligned");
        let node = (level, lo >> level);
        lo += width;
        Some(node)
    })
}

/// The Merkle Tree Hash of every span, in the order given, with one batched read.
///
/// Spans must be pairwise disjoint (they are: the pieces of one proof or root). Sorting them by
/// position sorts their stored hashes by index too, because a subtree's hash is written right
/// after its last leaf, before any record to its right.
pub(crate) fn read_spans(
    spans: &[Span],
    reader: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    let mut order: Vec<(usize, Span)> = spans.iter().copied().enumerate().collect();
    order.sort_by_key(|(_, span)| span.lo);

    let mut indexes = Vec::new();
    let mut pieces_per_span = Vec::with_capacity(order.len());
    for (_, span) in &order {
        let before = indexes.len();
        indexes.extend(perfect_subtrees(*span).map(|(level, n)| stored_hash_index(level, n)));
        pieces_per_span.push(indexes.len() - before);
    }
    let hashes = read_exact(reader, &indexes)?;

    let mut results: Vec<Option<Hash>> = vec![None; spans.len()];
    let mut hashes = hashes.into_iter();
    for ((position, _), pieces) in order.iter().zip(pieces_per_span) {
        let parts: Vec<Hash> = hashes.by_ref().take(pieces).collect();
        // The span's root joins its perfect subtrees right to left (RFC 9162 §2.1.1 applied
        // to a span whose left part is always the largest perfect subtree).
        let mut parts = parts.into_iter().rev();
        let mut root = parts.next();
        for left in parts {
            root = root.map(|right| node_hash(&left, &right));
        }
        if let Some(slot) = results.get_mut(*position) {
            *slot = root;
        }
    }
    results
        .into_iter()
        .collect::<Option<Vec<Hash>>>()
        .ok_or(MerkleError::WrongHashCount {
            requested: indexes.len(),
            returned: 0,
        })
}

/// One `read_hashes` call (none for an empty request), checking the reader kept its contract.
fn read_exact(reader: &impl HashReader, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::WrongHashCount {
            requested: indexes.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Go reference implementation's loop form, kept here as an oracle for the closed form.
    fn go_stored_hash_index(level: u8, n: u64) -> u64 {
        let mut n = n;
        for _ in 0..level {
            n = 2 * n + 1;
        }
        let mut i = 0;
        while n > 0 {
            i += n;
            n >>= 1;
        }
        i + u64::from(level)
    }

    #[test]
    fn index_matches_go_loop_form() {
        for level in 0u8..12 {
            for n in 0u64..2000 {
                assert_eq!(stored_hash_index(level, n), go_stored_hash_index(level, n));
            }
        }
    }

    #[test]
    fn split_inverts_index_over_a_dense_range() {
        // Every index in 0..count(n) is hit exactly once, in increasing order.
        let mut expected = 0u64;
        for record in 0u64..5000 {
            for level in 0..=record.trailing_ones() {
                let level = level as u8;
                let index = stored_hash_index(level, record >> level);
                assert_eq!(index, expected);
                assert_eq!(split_stored_hash_index(index), (level, record >> level));
                expected += 1;
            }
            assert_eq!(stored_hash_count(record + 1), expected);
        }
    }

    #[test]
    fn index_math_at_the_size_limit() {
        let last = MAX_TREE_SIZE - 1;
        let count = stored_hash_count(MAX_TREE_SIZE);
        // 2^62 records, the last completes 62 subtrees: 2·2^62 - 1 hashes, below 2^63.
        assert_eq!(count, 2 * MAX_TREE_SIZE - 1);
        assert!(count < 1 << 63);
        assert_eq!(split_stored_hash_index(count - 1), (62, 0));
        assert_eq!(stored_hash_index(62, 0), count - 1);
        assert_eq!(
            split_stored_hash_index(stored_hash_index(0, last)),
            (0, last)
        );
        // Out of domain saturates instead of overflowing or wrapping.
        assert_eq!(stored_hash_index(64, 0), u64::MAX);
        assert_eq!(stored_hash_index(1, u64::MAX), u64::MAX);
        assert_eq!(stored_hash_count(u64::MAX), u64::MAX);
        let _ = split_stored_hash_index(u64::MAX);
    }

    #[test]
    fn counts_for_small_trees() {
        // Go tlog: 0, 1, 3, 4, 7, 8, 10, 11, 15.
        let counts: Vec<u64> = (0..9).map(stored_hash_count).collect();
        assert_eq!(counts, [0, 1, 3, 4, 7, 8, 10, 11, 15]);
    }

    #[test]
    fn perfect_subtrees_of_a_span() {
        let pieces: Vec<_> = perfect_subtrees(Span { lo: 0, hi: 13 }).collect();
        assert_eq!(pieces, [(3, 0), (2, 2), (0, 12)]);
        let pieces: Vec<_> = perfect_subtrees(Span { lo: 8, hi: 11 }).collect();
        assert_eq!(pieces, [(1, 4), (0, 10)]);
    }
}
