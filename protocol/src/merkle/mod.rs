//! RFC 6962 / RFC 9162 Merkle trees: hashing, proof generation over stored hashes, proof
//! verification.
//!
//! * [`leaf_hash`], [`node_hash`], [`root_of_leaves`]: `MTH` with the 0x00 / 0x01 domain
//!   separation (RFC 9162 §2.1.1).
//!   A leaf is the exact stored bytes of an entry, never re-encoded before hashing.
//! * stored hashes: the Go `sumdb/tlog` layout (~2 hashes per record) behind a
//!   [`HashReader`]; every root and proof is one batched read.
//! * [`prove_inclusion`] / [`verify_inclusion`] (RFC 9162 §2.1.3),
//!   [`prove_consistency`] / [`verify_consistency`] (RFC 9162 §2.1.4).
//! * [`CompactRange`]: the Merkle frontier, to recompute roots over received entries.
//! * [`MemoryHashStore`]: the layout in a `Vec`, for tests and small in-memory batches.

mod batch;
mod consistency;
mod error;
mod hash;
mod hashing;
mod inclusion;
mod memory;
mod stored;

pub use batch::CompactRange;
pub use consistency::{prove_consistency, verify_consistency, ConsistencyProof};
pub use error::{MerkleError, ProofError};
pub use hash::{Hash, HashParseError};
pub use hashing::{leaf_hash, node_hash, root_of_leaves, EMPTY_ROOT};
pub use inclusion::{prove_inclusion, verify_inclusion, InclusionProof};
pub use memory::MemoryHashStore;
pub use stored::{
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_record,
    tree_hash, HashReader, MAX_TREE_SIZE,
};

/// Longest proof a verifier accepts; longer proofs are rejected before any hashing.
///
/// An inclusion proof has at most `ceil(log2 size)` hashes and a consistency proof at most one
/// more, so 64 covers every size up to [`MAX_TREE_SIZE`] (C2SP tlog-witness caps its wire form
/// at 63 lines) while bounding the work an attacker can make a verifier do.
pub const MAX_PROOF_HASHES: usize = 64;
