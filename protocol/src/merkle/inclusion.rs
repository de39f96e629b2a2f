//! Inclusion proofs (audit paths): RFC 6962 §2.1.1, RFC 9162 §2.1.3.

use serde::{Deserialize, Serialize};

use super::hashing::{node_hash, split_point};
use super::stored::{check_size, read_spans, Span};
use super::{Hash, HashReader, MerkleError, ProofError, MAX_PROOF_HASHES};

/// Proof that the leaf at `index` is in the tree of `size` leaves: the audit path, from the
/// leaf's sibling up to a child of the root (RFC 9162 §2.1.3.1 order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// [`verify_inclusion`] of `leaf` against `root` with this proof's index, size and path.
    pub fn verify(&self, leaf: &Hash, root: &Hash) -> Result<(), ProofError> {
        verify_inclusion(leaf, self.index, self.size, &self.hashes, root)
    }
}

/// Builds the inclusion proof for record `index` in the tree of the first `size` records
/// (RFC 6962 §2.1.1 `PATH(m, D[n])`, RFC 9162 §2.1.3.1), with one batched read.
pub fn prove_inclusion(
    size: u64,
    index: u64,
    reader: &impl HashReader,
) -> Result<InclusionProof, MerkleError> {
    check_size(size)?;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let hashes = read_spans(&inclusion_spans(index, size), reader)?;
    Ok(InclusionProof {
        index,
        size,
        hashes,
    })
}

/// The subtrees whose hashes form `PATH(index, D[size])`, bottom-up. Requires `index < size`.
fn inclusion_spans(index: u64, size: u64) -> Vec<Span> {
    // Walk from the root towards the leaf; at each split the subtree not containing the leaf
    // is the next (higher) proof element. Collected top-down, returned bottom-up.
    let mut spans = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            spans.push(Span { lo: mid, hi });
            hi = mid;
        } else {
            spans.push(Span { lo, hi: mid });
            lo = mid;
        }
    }
    spans.reverse();
    spans
}

/// The exact length of the audit path for `index < size`: one hash per level where the path
/// to the leaf has a sibling. Below the highest bit where `index` and `size - 1` differ
/// ("inner" levels) every level has one; above it, only where `index` turns right ("border").
pub(crate) fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Verifies that `leaf` (a leaf hash, see [`leaf_hash`](super::leaf_hash)) is at `index` in
/// the tree of `size` leaves whose root is `root`, with the algorithm of RFC 9162 §2.1.3.2.
///
/// Length is checked before any hashing: more than [`MAX_PROOF_HASHES`] hashes, or any length
/// other than the one `(index, size)` determines, is rejected. Never panics.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::ProofTooLong { len: proof.len() });
    }
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }

    // RFC 9162 §2.1.3.2 steps 3-6; `fn`/`sn` are the leaf's and the last leaf's positions
    // at the current level.
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            // Unreachable after the length check; kept because it is the RFC's own guard.
            return Err(ProofError::WrongProofLength {
                expected,
                found: proof.len(),
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            // A right-most node without a sibling is promoted: skip the levels where it is.
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_length_matches_span_count() {
        for size in 1u64..=300 {
            for index in 0..size {
                assert_eq!(
                    inclusion_proof_len(index, size),
                    inclusion_spans(index, size).len(),
                    "index {index} size {size}"
                );
            }
        }
        assert_eq!(inclusion_proof_len(0, u64::MAX), 64);
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), 63);
    }

    #[test]
    fn spans_are_disjoint_and_cover_everything_but_the_leaf() {
        for size in 1u64..=130 {
            for index in 0..size {
                let mut spans = inclusion_spans(index, size);
                spans.push(Span {
                    lo: index,
                    hi: index + 1,
                });
                spans.sort_by_key(|s| s.lo);
                let mut next = 0;
                for s in spans {
                    assert_eq!(s.lo, next);
                    next = s.hi;
                }
                assert_eq!(next, size);
            }
        }
    }
}
