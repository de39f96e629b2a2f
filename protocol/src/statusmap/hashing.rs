//! Hashing of the status map's sparse Merkle tree.
//!
//! The map's hashes must never be confusable with the RFC 6962 log's (which prefixes leaves
//! with `0x00` and interior nodes with `0x01`), nor with each other:
//!
//! * leaf     = SHA-256(`0x10` || key (32 B) || value_hash (32 B))
//! * internal = SHA-256(`0x11` || left (32 B) || right (32 B))
//! * empty    = SHA-256("credx/smt/empty"), the placeholder of every empty subtree at every
//!   depth ([`EMPTY_SUBTREE`]).
//!
//! Leaf and internal inputs are both exactly 65 bytes and differ in the first byte, so no leaf
//! can be passed off as an internal node or the other way round. The placeholder is a hash
//! of a fixed string rather than all zeros so that it is an ordinary-looking value nobody can
//! produce as a leaf or internal hash without a SHA-256 preimage. Using one placeholder for all
//! depths (instead of per-depth "default hashes") is what lets a subtree holding one key be
//! represented by that key's leaf at the top of the subtree (the Diem/Aptos shortcut leaf).

use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// Domain byte of a leaf hash.
pub const LEAF_TAG: u8 = 0x10;
/// Domain byte of an internal node hash.
pub const INTERNAL_TAG: u8 = 0x11;

/// SHA-256("credx/smt/empty"): the hash of an empty subtree, and the root of the empty map.
/// (Checked against its definition by a unit test.)
pub const EMPTY_SUBTREE: Hash = Hash([
    19, 60, 186, 207, 155, 222, 86, 59, 11, 220, 118, 90, 205, 243, 152, 128, 125, 36, 11, 121, 92,
    160, 69, 172, 236, 184, 19, 214, 87, 115, 254, 207,
]);

/// Hash of the leaf holding `key` with value hash `value_hash`.
pub fn leaf_hash(key: &Hash, value_hash: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_TAG]);
    hasher.update(key.0);
    hasher.update(value_hash.0);
    Hash(hasher.finalize().into())
}

/// Hash of an internal node from its children's hashes (either may be [`EMPTY_SUBTREE`]).
pub fn internal_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([INTERNAL_TAG]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// Bit `index` (0 = most significant bit of byte 0) of a 256-bit key: 0 = left, 1 = right.
/// `index` must be below 256; callers only ask for depths of internal nodes, which are.
pub(crate) fn key_bit(key: &Hash, index: usize) -> bool {
    let byte = key.0.get(index / 8).copied().unwrap_or(0);
    (byte >> (7 - (index % 8))) & 1 == 1
}

/// `key` with every bit at position `depth` and beyond cleared: the prefix that addresses
/// the subtree of depth `depth` containing `key`.
pub(crate) fn mask_prefix(key: &[u8; 32], depth: u16) -> [u8; 32] {
    let mut out = [0u8; 32];
    let depth = usize::from(depth.min(256));
    let full = depth / 8;
    out[..full].copy_from_slice(&key[..full]);
    let rest = depth % 8;
    if rest != 0 {
        if let (Some(dst), Some(src)) = (out.get_mut(full), key.get(full)) {
            *dst = src & (0xFFu8 << (8 - rest));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_constant_matches_its_definition() {
        let digest: [u8; 32] = Sha256::digest(b"credx/smt/empty").into();
        assert_eq!(EMPTY_SUBTREE, Hash(digest));
    }

    #[test]
    fn leaf_and_internal_are_domain_separated() {
        let a = Hash([1; 32]);
        let b = Hash([2; 32]);
        assert_ne!(leaf_hash(&a, &b), internal_hash(&a, &b));
        assert_ne!(leaf_hash(&a, &b), crate::merkle::node_hash(&a, &b));
    }

    #[test]
    fn bits_are_msb_first() {
        let mut key = [0u8; 32];
        key[0] = 0b1000_0000;
        key[31] = 0b0000_0001;
        let key = Hash(key);
        assert!(key_bit(&key, 0));
        assert!(!key_bit(&key, 1));
        assert!(key_bit(&key, 255));
        assert!(!key_bit(&key, 254));
    }

    #[test]
    fn masking_keeps_only_the_prefix() {
        let key = [0xFFu8; 32];
        assert_eq!(mask_prefix(&key, 0), [0u8; 32]);
        assert_eq!(mask_prefix(&key, 256), key);
        let m = mask_prefix(&key, 9);
        assert_eq!(m[0], 0xFF);
        assert_eq!(m[1], 0x80);
        assert_eq!(m[2], 0);
    }
}
