//! [`MemoryHashStore`]: the stored-hash layout kept in a `Vec`, for tests and for checking a
//! small batch in memory. It is not the node's log (that lives in the storage crate, in
//! RocksDB); it only shares the layout and the algorithms.

use super::batch::CompactRange;
use super::hashing::leaf_hash;
use super::{
    prove_consistency, prove_inclusion, ConsistencyProof, Hash, HashReader, InclusionProof,
    MerkleError,
};

/// An in-memory, `Vec<Hash>`-backed [`HashReader`] in the Go tlog stored-hash layout.
///
/// `hashes()[i]` is the hash at stored-hash index `i`, exactly what the storage crate keeps
/// under key `i`, so the two can be compared hash for hash.
#[derive(Debug, Clone, Default)]
pub struct MemoryHashStore {
    hashes: Vec<Hash>,
    // Tracks the frontier so appends need no fallible reads: the left siblings a new record
    // merges with are precisely the right-most frontier entries.
    range: CompactRange,
}

impl MemoryHashStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry by its exact stored bytes; returns its record index.
    pub fn append(&mut self, entry_bytes: &[u8]) -> u64 {
        self.append_leaf(leaf_hash(entry_bytes))
    }

    /// Appends a precomputed leaf hash; returns its record index.
    pub fn append_leaf(&mut self, leaf: Hash) -> u64 {
        let index = self.range.size();
        // No size check needed: memory runs out long before 2^62 records.
        let completed = self.range.push(leaf);
        self.hashes.extend(completed);
        index
    }

    /// Number of records.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// All stored hashes, indexed by stored-hash index.
    #[must_use]
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The current root (from the frontier, no lookups).
    #[must_use]
    pub fn root(&self) -> Hash {
        self.range.root()
    }

    /// The current frontier, e.g. to hand to a receiver as its starting point.
    #[must_use]
    pub fn compact_range(&self) -> &CompactRange {
        &self.range
    }

    /// Inclusion proof for record `index` against the current size.
    pub fn prove_inclusion(&self, index: u64) -> Result<InclusionProof, MerkleError> {
        prove_inclusion(self.size(), index, self)
    }

    /// Consistency proof from `old_size` to the current size.
    pub fn prove_consistency(&self, old_size: u64) -> Result<ConsistencyProof, MerkleError> {
        prove_consistency(old_size, self.size(), self)
    }
}

impl HashReader for MemoryHashStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.hashes.get(i))
                    .copied()
                    .ok_or(MerkleError::MissingHash { index })
            })
            .collect()
    }
}
