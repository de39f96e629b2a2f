//! The RFC 6962 / RFC 9162 §2.1.1 Merkle Tree Hash: leaf and interior-node hashing with
//! domain separation, and a direct in-memory evaluation of the definition.

use sha2::{Digest, Sha256};

use super::Hash;

/// Domain-separation prefix for leaves (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix for interior nodes (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// `MTH({})`, the root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1),
/// `e3b0c442…7852b855`.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The leaf hash `SHA-256(0x00 || entry)` (RFC 9162 §2.1.1).
///
/// `entry_bytes` must be the exact bytes the log stores for the entry. The log never
/// re-encodes an entry before hashing, so anyone holding the stored bytes can recompute the
/// leaf without agreeing with us on an encoder.
#[must_use]
pub fn leaf_hash(entry_bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(entry_bytes);
    Hash(hasher.finalize().into())
}

/// The interior-node hash `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
///
/// The distinct prefix means a leaf can never be passed off as an interior node (second
/// preimage resistance across levels).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// `MTH(D[n])` over already-hashed leaves, evaluated straight from the recursive definition of
/// RFC 9162 §2.1.1 (split at the largest power of two smaller than n).
///
/// Intended for small sets and as an independent cross-check of the stored-hash code: it
/// shares nothing with it but [`node_hash`]. Recursion depth is at most 64.
#[must_use]
pub fn root_of_leaves(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => EMPTY_ROOT,
        [single] => *single,
        _ => {
            // len >= 2 here, so the split point k satisfies 1 <= k < len.
            let k = split_point(leaves.len() as u64) as usize;
            let (left, right) = leaves.split_at(k);
            node_hash(&root_of_leaves(left), &root_of_leaves(right))
        }
    }
}

/// The largest power of two strictly smaller than `n`: the RFC 6962 split point `k` with
/// `k < n <= 2k`. Only meaningful for `n >= 2`; returns 1 for smaller inputs so callers never
/// see a zero-width left subtree.
pub(crate) fn split_point(n: u64) -> u64 {
    if n < 2 {
        return 1;
    }
    1 << (63 - (n - 1).leading_zeros())
}

/// The largest power of two that is `<= n`, for `n >= 1` (returns 1 for 0).
pub(crate) fn largest_power_of_two_at_most(n: u64) -> u64 {
    if n == 0 {
        return 1;
    }
    1 << (63 - n.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, Hash(Sha256::digest(b"").into()));
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for n in 2u64..=4096 {
            let k = split_point(n);
            assert!(k.is_power_of_two() && k < n && n <= 2 * k, "n={n} k={k}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point((1 << 63) + 1), 1 << 63);
        assert_eq!(split_point(1 << 63), 1 << 62);
    }

    #[test]
    fn largest_power_of_two_at_most_matches_definition() {
        for n in 1u64..=4096 {
            let k = largest_power_of_two_at_most(n);
            assert!(k.is_power_of_two() && k <= n && n < 2 * k, "n={n} k={k}");
        }
        assert_eq!(largest_power_of_two_at_most(u64::MAX), 1 << 63);
    }

    #[test]
    fn root_of_small_trees_follows_the_definition() {
        let l: Vec<Hash> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(root_of_leaves(&l[..1]), l[0]);
        assert_eq!(root_of_leaves(&l[..2]), node_hash(&l[0], &l[1]));
        // Size 3: the lone right leaf is promoted, not duplicated.
        assert_eq!(
            root_of_leaves(&l),
            node_hash(&node_hash(&l[0], &l[1]), &l[2])
        );
    }
}
