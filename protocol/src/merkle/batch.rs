//! [`CompactRange`]: the Merkle frontier of a log prefix, for recomputing roots over received
//! entries without any hash store (the "compact range" of `transparency-dev/merkle`).
//!
//! A tree of `size` leaves is, left to right, one perfect subtree per set bit of `size`
//! (largest first). Those `popcount(size) <= 64` hashes are all that is needed to append
//! further leaves and to compute every later root. A receiver that knows the frontier at a
//! size it already trusts appends the leaf hashes of the entries it receives and compares
//! [`CompactRange::root`] with the sender's signed root.

use super::hashing::{leaf_hash, node_hash, EMPTY_ROOT};
use super::stored::{check_size, perfect_subtrees, stored_hash_index, Span};
use super::{Hash, HashReader, MerkleError, MAX_TREE_SIZE};

/// The Merkle frontier of the first `size` leaves of a log: the hashes of the perfect subtrees
/// that make up `[0, size)`, left to right.
///
/// Invariant (upheld by every constructor): `frontier.len() == size.count_ones()`, and
/// `frontier[i]` covers the leaves of the `i`-th highest set bit of `size`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    frontier: Vec<Hash>,
}

impl CompactRange {
    /// The empty range (size 0, root [`EMPTY_ROOT`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Resumes from a frontier previously taken with [`CompactRange::frontier`] (or read from a
    /// trusted store). Checks only the shape: the hashes themselves are taken on trust, so the
    /// caller must have authenticated them, e.g. by comparing [`CompactRange::root`] with a
    /// signed root for `size`.
    pub fn from_frontier(size: u64, frontier: Vec<Hash>) -> Result<Self, MerkleError> {
        check_size(size)?;
        let expected = size.count_ones() as usize;
        if frontier.len() != expected {
            return Err(MerkleError::FrontierLength {
                size,
                expected,
                found: frontier.len(),
            });
        }
        Ok(CompactRange { size, frontier })
    }

    /// Loads the frontier for `size` from stored hashes, with one batched read of at most 62
    /// hashes (the perfect subtrees of `[0, size)` are all stored).
    pub fn from_reader(size: u64, reader: &impl HashReader) -> Result<Self, MerkleError> {
        check_size(size)?;
        let indexes: Vec<u64> = perfect_subtrees(Span { lo: 0, hi: size })
            .map(|(level, n)| stored_hash_index(level, n))
            .collect();
        let frontier = if indexes.is_empty() {
            Vec::new()
        } else {
            reader.read_hashes(&indexes)?
        };
        if frontier.len() != indexes.len() {
            return Err(MerkleError::WrongHashCount {
                requested: indexes.len(),
                returned: frontier.len(),
            });
        }
        Self::from_frontier(size, frontier)
    }

    /// Number of leaves covered.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree hashes, left to right (largest first).
    #[must_use]
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// Appends one leaf hash. Fails only once [`MAX_TREE_SIZE`] leaves are covered.
    pub fn append(&mut self, leaf: Hash) -> Result<(), MerkleError> {
        if self.size >= MAX_TREE_SIZE {
            return Err(MerkleError::SizeOutOfRange {
                size: self.size.saturating_add(1),
                max: MAX_TREE_SIZE,
            });
        }
        self.push(leaf);
        Ok(())
    }

    /// Appends an entry by the exact bytes the log stores for it (hashed with [`leaf_hash`],
    /// never re-encoded).
    pub fn append_entry(&mut self, entry_bytes: &[u8]) -> Result<(), MerkleError> {
        self.append(leaf_hash(entry_bytes))
    }

    /// `MTH` of the covered leaves (RFC 9162 §2.1.1): the frontier joined right to left.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut hashes = self.frontier.iter().rev();
        let Some(mut root) = hashes.next().copied() else {
            return EMPTY_ROOT;
        };
        for left in hashes {
            root = node_hash(left, &root);
        }
        root
    }

    /// Appends `leaf` without the size check and returns the hashes that become final with
    /// it: the leaf, then every perfect subtree it completes, lowest first. These are exactly
    /// the stored hashes of the new record (see
    /// [`stored_hashes_for_record`](super::stored_hashes_for_record)).
    ///
    /// Callers must ensure `size < u64::MAX`.
    pub(crate) fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        // Each trailing 1-bit of the old size is a perfect subtree of the same width as the
        // one being built, sitting immediately to its left: merge them.
        let merges = self.size.trailing_ones();
        let mut completed = Vec::with_capacity(merges as usize + 1);
        let mut current = leaf;
        completed.push(current);
        for _ in 0..merges {
            // The invariant guarantees `merges` entries to pop (popcount >= trailing ones).
            let Some(left) = self.frontier.pop() else {
                break;
            };
            current = node_hash(&left, &current);
            completed.push(current);
        }
        self.frontier.push(current);
        self.size += 1;
        completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::root_of_leaves;

    #[test]
    fn roots_match_the_definition_for_every_prefix() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut range = CompactRange::new();
        assert_eq!(range.root(), EMPTY_ROOT);
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(range.append(*leaf), Ok(()));
            assert_eq!(range.size(), i as u64 + 1);
            assert_eq!(range.frontier().len(), range.size().count_ones() as usize);
            assert_eq!(range.root(), root_of_leaves(&leaves[..=i]));
        }
    }

    #[test]
    fn resumes_from_a_frontier() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut full = CompactRange::new();
        for leaf in &leaves[..13] {
            full.push(*leaf);
        }
        let resumed = CompactRange::from_frontier(13, full.frontier().to_vec());
        assert!(resumed.is_ok(), "valid frontier rejected: {resumed:?}");
        let mut resumed = resumed.unwrap_or_default();
        for leaf in &leaves[13..] {
            full.push(*leaf);
            resumed.push(*leaf);
        }
        assert_eq!(resumed, full);
        assert_eq!(resumed.root(), root_of_leaves(&leaves));
    }

    #[test]
    fn rejects_misshapen_frontiers() {
        assert_eq!(
            CompactRange::from_frontier(13, vec![EMPTY_ROOT; 2]),
            Err(MerkleError::FrontierLength {
                size: 13,
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            CompactRange::from_frontier(0, vec![EMPTY_ROOT]),
            Err(MerkleError::FrontierLength {
                size: 0,
                expected: 0,
                found: 1
            })
        );
        assert!(matches!(
            CompactRange::from_frontier(MAX_TREE_SIZE + 1, vec![EMPTY_ROOT; 2]),
            Err(MerkleError::SizeOutOfRange { .. })
        ));
    }

    #[test]
    fn append_stops_at_the_size_limit() {
        let range = CompactRange::from_frontier(MAX_TREE_SIZE, vec![EMPTY_ROOT]);
        assert!(range.is_ok(), "frontier of a perfect tree rejected");
        let mut range = range.unwrap_or_default();
        assert!(matches!(
            range.append(EMPTY_ROOT),
            Err(MerkleError::SizeOutOfRange { .. })
        ));
        assert_eq!(range.size(), MAX_TREE_SIZE);
    }
}
