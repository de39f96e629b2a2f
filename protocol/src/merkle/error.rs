//! Error types of the merkle module.
//!
//! Two families, kept apart on purpose: [`MerkleError`] is what *producing* a root or a proof
//! from stored hashes can fail with (bad arguments, a storage problem), while [`ProofError`] is
//! what *verifying* untrusted proof material fails with. A verifier never touches storage, and a
//! storage failure is never evidence that a log misbehaved.

use super::MAX_PROOF_HASHES;

/// Failure to compute a root, a proof or the stored hashes for a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// A record index that is not below the tree size it was asked against.
    #[error("record index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A tree size beyond [`MAX_TREE_SIZE`](super::MAX_TREE_SIZE), where stored-hash indexes
    /// would no longer fit comfortably in 63 bits.
    #[error("tree size {size} exceeds the supported maximum {max}")]
    SizeOutOfRange { size: u64, max: u64 },
    /// A consistency proof was requested from a larger tree to a smaller one.
    #[error("old tree size {old_size} exceeds new tree size {new_size}")]
    OldSizeExceedsNew { old_size: u64, new_size: u64 },
    /// The hash store has no hash at a stored-hash index that the computation needs.
    #[error("stored hash {index} is missing")]
    MissingHash { index: u64 },
    /// The [`HashReader`](super::HashReader) returned a different number of hashes than asked for.
    #[error("hash reader returned {returned} hashes for {requested} indexes")]
    WrongHashCount { requested: usize, returned: usize },
    /// A frontier whose length does not match its size: a tree of size `size` has exactly
    /// `popcount(size)` perfect subtrees.
    #[error("a frontier for size {size} has {expected} hashes, found {found}")]
    FrontierLength {
        size: u64,
        expected: usize,
        found: usize,
    },
    /// Any other failure reported by a [`HashReader`](super::HashReader) implementation
    /// (for example a RocksDB error), carried as text so this crate stays free of I/O types.
    #[error("hash reader failed: {0}")]
    Reader(String),
}

/// Rejection of an inclusion or consistency proof (RFC 9162 §2.1.3.2, §2.1.4.2).
///
/// Every variant means "do not trust this claim"; the distinctions exist for diagnostics and
/// for callers that treat evidence of a fork ([`ProofError::SameSizeDifferentRoots`])
/// differently from a merely malformed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Inclusion proof for a leaf index that is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    /// Consistency proof whose old size is larger than its new size.
    #[error("old tree size {old_size} exceeds new tree size {new_size}")]
    OldSizeExceedsNew { old_size: u64, new_size: u64 },
    /// The proof has more than [`MAX_PROOF_HASHES`] hashes; rejected before any hashing.
    #[error("proof has {len} hashes, more than the maximum {max}", max = MAX_PROOF_HASHES)]
    ProofTooLong { len: usize },
    /// The proof does not have the exact length that the (index, size) or (old, new) pair
    /// determines.
    #[error("proof has {found} hashes, expected {expected}")]
    WrongProofLength { expected: usize, found: usize },
    /// The root recomputed from the proof is not the expected (new) root.
    #[error("recomputed root does not match the expected root")]
    RootMismatch,
    /// The consistency proof does not reproduce the old root.
    #[error("recomputed old root does not match the expected old root")]
    OldRootMismatch,
    /// Two different roots claimed for the same tree size: a consistency proof cannot fix
    /// this, it is evidence of a split view.
    #[error("same tree size but different roots")]
    SameSizeDifferentRoots,
    /// The old tree has size 0 but the claimed old root is not the empty-tree hash
    /// SHA-256("") (RFC 9162 §2.1.1).
    #[error("old tree size is 0 but its root is not the empty-tree hash")]
    EmptyOldTree,
}
