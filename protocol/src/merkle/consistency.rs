//! Consistency proofs: RFC 6962 §2.1.2, RFC 9162 §2.1.4.

use serde::{Deserialize, Serialize};

use super::hashing::{node_hash, split_point, EMPTY_ROOT};
use super::stored::{check_size, read_spans, Span};
use super::{Hash, HashReader, MerkleError, ProofError, MAX_PROOF_HASHES};

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves
/// (RFC 9162 §2.1.4.1 order). Empty when `old_size` is 0 or equals `new_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// [`verify_consistency`] between `old_root` and `new_root` with this proof's sizes.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), ProofError> {
        verify_consistency(
            self.old_size,
            old_root,
            self.new_size,
            new_root,
            &self.hashes,
        )
    }
}

/// Builds the consistency proof from the first `old_size` records to the first `new_size`
/// (RFC 6962 §2.1.2 `PROOF(m, D[n])`, RFC 9162 §2.1.4.1), with one batched read.
///
/// For `old_size == 0` and `old_size == new_size` the proof is empty and nothing is read:
/// every tree extends the empty tree, and a tree is consistent with itself exactly when the
/// roots are equal, which the verifier checks.
pub fn prove_consistency(
    old_size: u64,
    new_size: u64,
    reader: &impl HashReader,
) -> Result<ConsistencyProof, MerkleError> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(MerkleError::OldSizeExceedsNew { old_size, new_size });
    }
    let hashes = if old_size == 0 || old_size == new_size {
        Vec::new()
    } else {
        read_spans(&consistency_spans(old_size, new_size), reader)?
    };
    Ok(ConsistencyProof {
        old_size,
        new_size,
        hashes,
    })
}

/// The subtrees whose hashes form `PROOF(old, D[new])`, in proof order. Requires
/// `0 < old < new`.
fn consistency_spans(old: u64, new: u64) -> Vec<Span> {
    // Iterative SUBPROOF(m, D[lo:hi], b): the flag b of the RFC is true exactly while we have
    // only ever gone left, i.e. while lo == 0. Collected top-down, returned bottom-up.
    let mut spans = Vec::new();
    let (mut lo, mut hi) = (0, new);
    loop {
        if old == hi {
            // SUBPROOF(m, D[m], b): the verifier already knows the old root when b is true.
            if lo != 0 {
                spans.push(Span { lo, hi });
            }
            break;
        }
        let mid = lo + split_point(hi - lo);
        if old <= mid {
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

/// The exact length of `PROOF(old, D[new])` for `0 < old < new`.
///
/// The proof is the audit path of leaf `old - 1` in the new tree, minus the levels below the
/// largest perfect subtree ending at `old` (`trailing_zeros(old)` of them), plus that
/// subtree's own hash unless it is the whole old tree (`old` a power of two).
pub(crate) fn consistency_proof_len(old: u64, new: u64) -> usize {
    let last = old - 1;
    let inner = 64 - (last ^ (new - 1)).leading_zeros();
    let border = last.checked_shr(inner).unwrap_or(0).count_ones();
    let shift = old.trailing_zeros();
    let seed = usize::from(!old.is_power_of_two());
    seed + (inner.saturating_sub(shift) + border) as usize
}

/// Verifies that the tree (`new_size`, `new_root`) extends the tree (`old_size`, `old_root`),
/// with the algorithm of RFC 9162 §2.1.4.2 and these edge cases (as `transparency-dev/merkle`
/// and C2SP tlog-witness treat them):
///
/// * `old_size > new_size`: [`ProofError::OldSizeExceedsNew`].
/// * `old_size == 0`: the proof must be empty and `old_root` must be [`EMPTY_ROOT`]; any new
///   tree extends the empty tree (if `new_size` is 0 too, `new_root` must be `EMPTY_ROOT`).
/// * `old_size == new_size`: the proof must be empty and the roots equal; different roots
///   are [`ProofError::SameSizeDifferentRoots`], evidence of a split view.
///
/// Length is checked before any hashing. Never panics.
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::ProofTooLong { len: proof.len() });
    }
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNew { old_size, new_size });
    }
    let expected = if old_size == 0 || old_size == new_size {
        0
    } else {
        consistency_proof_len(old_size, new_size)
    };
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    if old_size == 0 {
        if *old_root != EMPTY_ROOT {
            return Err(ProofError::EmptyOldTree);
        }
        if new_size == 0 && *new_root != EMPTY_ROOT {
            return Err(ProofError::SameSizeDifferentRoots);
        }
        return Ok(());
    }
    if old_size == new_size {
        if old_root != new_root {
            return Err(ProofError::SameSizeDifferentRoots);
        }
        return Ok(());
    }

    // RFC 9162 §2.1.4.2 step 2: when the old tree is a perfect tree, the proof omits its root
    // because the verifier has it; use it as the starting hash.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => return Err(ProofError::WrongProofLength { expected, found: 0 }),
        }
    };

    // Steps 3-7. `fr` rebuilds the old root, `sr` the new root, from the same path.
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut fr = *seed;
    let mut sr = *seed;
    for c in rest {
        if s_n == 0 {
            // Unreachable after the length check; kept because it is the RFC's own guard.
            return Err(ProofError::WrongProofLength {
                expected,
                found: proof.len(),
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            // Hashes to the right of the old tree only contribute to the new root.
            sr = node_hash(&sr, c);
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
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_length_matches_span_count() {
        for new in 2u64..=300 {
            for old in 1..new {
                assert_eq!(
                    consistency_proof_len(old, new),
                    consistency_spans(old, new).len(),
                    "old {old} new {new}"
                );
            }
        }
    }

    #[test]
    fn spans_are_disjoint() {
        for new in 2u64..=130 {
            for old in 1..new {
                let mut spans = consistency_spans(old, new);
                spans.sort_by_key(|s| s.lo);
                for pair in spans.windows(2) {
                    assert!(pair[0].hi <= pair[1].lo, "old {old} new {new}: {spans:?}");
                }
            }
        }
    }

    #[test]
    fn longest_consistency_proof_fits_the_cap() {
        // Sizes up to MAX_TREE_SIZE never need more than MAX_PROOF_HASHES hashes.
        let max = super::super::MAX_TREE_SIZE;
        for old in [1, 2, 3, max / 2 + 1, max - 1, (max - 1) / 3] {
            assert!(consistency_proof_len(old, max) <= MAX_PROOF_HASHES);
        }
        assert_eq!(consistency_proof_len(max - 1, max), 63);
    }
}
