//! The verifiable status map: subject key → current status, as a sparse Merkle tree.
//!
//! The pure part only (no I/O): hashing, batch updates over an abstract [`NodeStore`], proof
//! generation and verification. Storage persists the nodes (one per [`NodeKey`], current tree
//! only) and applies each [`TreeUpdate`] in the same write batch as the log entries.
//!
//! * [`SubjectStatus`]: the value (its [`SubjectStatus::value_hash`] is what the tree holds).
//! * the tree: 256-bit keys ([`crate::entry::SubjectId::map_key`]), binary, with **shortcut
//!   leaves** as in Diem/Aptos' sparse Merkle tree: a subtree with one key is that key's leaf
//!   placed at the subtree's top, an empty subtree is the placeholder [`EMPTY_SUBTREE`]. The
//!   shape depends only on the set of keys, so any two nodes that replay the same logs get the
//!   same root, whatever batches they applied them in. Hashing: [`hashing`](self::leaf_hash).
//! * [`apply_updates`]: a batch of inserts, replacements and deletes → new root, node writes
//!   and deletes; O(batch × depth) node reads, batched per depth.
//! * [`prove`], [`StatusProof`], [`verify_presence`], [`verify_absence`], [`verify_status`],
//!   [`StatusProof::verify`]: presence or absence of a subject under a root, ~log2(n) hashes.
//!
//! Two error families, as in [`crate::merkle`]: [`StatusMapError`] for producing things (store
//! failures, corrupt stored nodes, encoding), [`ProofError`] for untrusted proofs.

mod derive;
mod hashing;
mod proof;
mod status;
mod store;
mod tree;

pub use derive::{apply_entry, list_kind_name};
pub use hashing::{internal_hash, leaf_hash, EMPTY_SUBTREE, INTERNAL_TAG, LEAF_TAG};
pub use proof::{
    prove, verify_absence, verify_presence, verify_status, StatusProof, Terminal,
    MAX_STATUS_PROOF_BYTES, PROOF_READ_DEPTHS,
};
pub use status::{Listing, SubjectStatus, MAX_STATUS_RECORDS, VALUE_HASH_DOMAIN};
pub use store::{MemoryNodeStore, Node, NodeKey, NodeStore, MAX_DEPTH};
pub use tree::{apply_updates, TreeUpdate};

/// Most siblings a proof can have (one per depth of a 256-bit key); decoding and verification
/// refuse more before hashing anything.
pub const MAX_PROOF_SIBLINGS: usize = 256;

/// Failure to update the tree, build a proof, or encode / decode map values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusMapError {
    /// The [`NodeStore`] failed (for example a RocksDB error), carried as text so this crate
    /// stays free of I/O types.
    #[error("node store failed: {0}")]
    Store(String),
    /// The store answered a batched read with the wrong number of results.
    #[error("node store returned {returned} results for {requested} keys")]
    WrongNodeCount { requested: usize, returned: usize },
    /// The root (or a stored parent) names a node the store does not have.
    #[error("node {key:?} is missing from the store")]
    MissingNode { key: NodeKey },
    /// A stored node contradicts the tree above it.
    #[error("stored node {key:?} is corrupt: {reason}")]
    CorruptNode { key: NodeKey, reason: &'static str },
    #[error("node depth {depth} is beyond the maximum of 256")]
    DepthOutOfRange { depth: u16 },
    #[error("malformed node key ({len} bytes)")]
    MalformedNodeKey { len: usize },
    #[error("malformed node ({len} bytes)")]
    MalformedNode { len: usize },
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error("decoding failed: {0}")]
    Decode(String),
    /// A [`SubjectStatus`] not in its one canonical form.
    #[error("status is not canonical: {0}")]
    NotCanonical(&'static str),
    /// A proof failed verification or is malformed.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// Something this module's own invariants rule out; reported instead of panicking.
    #[error("status map invariant violated: {0}")]
    InvariantViolated(&'static str),
}

/// Rejection of a status proof. Every variant means "do not trust this claim".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("proof has {found} siblings, more than the 256 a 256-bit key can have")]
    TooManySiblings { found: usize },
    #[error("proof bitmap has {bits} bits set but {siblings} siblings")]
    BitmapMismatch { bits: u32, siblings: usize },
    /// The terminal leaf's key does not share the path prefix of the key asked about.
    #[error("terminal leaf is not on the key's path")]
    LeafNotOnPath,
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    /// Presence asked, and the path ends at another key's leaf: the key is absent.
    #[error("proof ends at a leaf for a different key (the key is absent)")]
    KeyMismatch,
    /// Presence asked, and the path ends in an empty subtree: the key is absent.
    #[error("proof ends in an empty subtree (the key is absent)")]
    Absent,
    /// Presence asked with a value, and the key holds a different one.
    #[error("the key is present with a different value")]
    ValueMismatch,
    /// Absence asked, and the key is present.
    #[error("the key is present")]
    Present,
}
