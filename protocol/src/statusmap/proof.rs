//! Status proofs: presence or absence of a subject key under a map root.
//!
//! A proof lists the siblings along the key's path from the root down to where the path ends
//! (the *terminal*): either an empty subtree (the key is absent) or a shortcut leaf, which
//! holds the key itself (present, with its value hash) or another key sharing the path so far
//! (absent). Placeholder siblings are not sent: bit `d` of `bitmap` (most significant bit of
//! byte 0 first) says whether the sibling at depth `d` is a real hash, and `siblings` holds
//! only those, root side first.
//!
//! The terminal's depth is not sent either: in a canonical tree the deepest sibling on any
//! path is never a placeholder (an internal node with one empty child holds at least two keys
//! on the other side, so a path cannot end next to an empty sibling), so the terminal sits
//! right below the deepest set bit. A proof that disagrees simply fails to reach the root.
//!
//! # Size
//!
//! Encoded (bincode via [`crate::codec`]): a 1-byte sibling count (3 bytes above 250), 32 bytes
//! per sibling, the 32-byte bitmap, and 1 byte of terminal tag plus 64 bytes for a leaf:
//! at most `98 + 32 × s` bytes for `s < 251` siblings. With `n` random keys, a path has about
//! `log2 n` non-placeholder siblings: at 10^7 subjects log2(10^7) ≈ 23.3, so a typical proof
//! is ≈ 98 + 24 × 32 = 866 bytes. Paths run deeper than `log2 n` only where a few keys happen
//! to share a long prefix, and there the siblings are almost all placeholders, which cost one
//! bitmap bit; the 1,536-byte budget (1.5 KB) allows 44 real siblings, about 20 more than the
//! typical path at 10^7 keys. (Measured at 100,000 keys by `tests/statusmap_props.rs`.)

use serde::{Deserialize, Serialize};

use super::hashing::{internal_hash, key_bit, leaf_hash, mask_prefix, EMPTY_SUBTREE};
use super::status::SubjectStatus;
use super::store::MAX_DEPTH;
use super::store::{NodeKey, NodeStore};
use super::tree::check_node;
use super::{ProofError, StatusMapError, MAX_PROOF_SIBLINGS};
use crate::codec;
use crate::merkle::Hash;

/// Largest encoded [`StatusProof`]: 3-byte count for 256 siblings, 256 siblings, bitmap,
/// leaf terminal. Decoding refuses anything longer before reading it.
pub const MAX_STATUS_PROOF_BYTES: usize = 3 + MAX_PROOF_SIBLINGS * 32 + 32 + 1 + 64;

/// Where a key's path ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Terminal {
    /// An empty subtree: the key is absent.
    Empty,
    /// A shortcut leaf: the key itself (present) or another key on the same path (absent).
    Leaf { key: Hash, value_hash: Hash },
}

/// Proof of presence or absence of one key under one map root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusProof {
    /// Non-placeholder siblings, root side first.
    pub siblings: Vec<Hash>,
    /// Bit `d` (MSB of byte 0 = depth 0) set iff the sibling at depth `d` is in `siblings`.
    pub bitmap: [u8; 32],
    pub terminal: Terminal,
}

impl StatusProof {
    /// Length of [`StatusProof::encode`]'s output, computed without encoding.
    pub fn encoded_len(&self) -> usize {
        let n = self.siblings.len();
        // bincode 2 varint: one byte below 251, then a marker byte and a u16/u32/u64.
        let count = match n {
            0..=250 => 1,
            251..=0xFFFF => 3,
            _ => 5,
        };
        let terminal = match self.terminal {
            Terminal::Empty => 1,
            Terminal::Leaf { .. } => 1 + 64,
        };
        count + 32 * n + 32 + terminal
    }

    /// Canonical bytes of a well-formed proof.
    pub fn encode(&self) -> Result<Vec<u8>, StatusMapError> {
        self.terminal_depth()?;
        codec::encode_with_limit::<_, MAX_STATUS_PROOF_BYTES>(self)
            .map_err(|e| StatusMapError::Encode(e.to_string()))
    }

    /// Parses untrusted bytes: bounded by [`MAX_STATUS_PROOF_BYTES`], canonical encoding only,
    /// and the bitmap must agree with the sibling count. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<StatusProof, StatusMapError> {
        let proof: StatusProof = codec::decode_with_limit::<_, MAX_STATUS_PROOF_BYTES>(bytes)
            .map_err(|e| StatusMapError::Decode(e.to_string()))?;
        proof.terminal_depth()?;
        Ok(proof)
    }

    /// Checks the proof's shape and returns the depth of its terminal.
    fn terminal_depth(&self) -> Result<usize, ProofError> {
        if self.siblings.len() > MAX_PROOF_SIBLINGS {
            return Err(ProofError::TooManySiblings {
                found: self.siblings.len(),
            });
        }
        let bits: u32 = self.bitmap.iter().map(|b| b.count_ones()).sum();
        if usize::try_from(bits).ok() != Some(self.siblings.len()) {
            return Err(ProofError::BitmapMismatch {
                bits,
                siblings: self.siblings.len(),
            });
        }
        // Depth of the terminal = 1 + index of the deepest set bit (0 when none is set).
        let depth = self
            .bitmap
            .iter()
            .enumerate()
            .rev()
            .find(|(_, b)| **b != 0)
            .map_or(0, |(i, b)| i * 8 + 8 - b.trailing_zeros() as usize);
        Ok(depth)
    }

    /// Checks the proof against `root` for `key`: `Ok(Some(value_hash))` if it proves `key`
    /// present with that value hash, `Ok(None)` if it proves `key` absent.
    pub fn verify(&self, root: &Hash, key: &Hash) -> Result<Option<Hash>, StatusMapError> {
        Ok(self.check(root, key)?)
    }

    fn check(&self, root: &Hash, key: &Hash) -> Result<Option<Hash>, ProofError> {
        let depth = self.terminal_depth()?;
        let (mut hash, found) = match &self.terminal {
            Terminal::Empty => (EMPTY_SUBTREE, None),
            Terminal::Leaf {
                key: leaf_key,
                value_hash,
            } => {
                // A leaf proves absence only if it really sits on this key's path; checking
                // the prefix here means a malformed tree cannot hide a key behind a leaf
                // borrowed from elsewhere.
                let depth16 = u16::try_from(depth).map_err(|_| ProofError::LeafNotOnPath)?;
                if mask_prefix(&leaf_key.0, depth16) != mask_prefix(&key.0, depth16) {
                    return Err(ProofError::LeafNotOnPath);
                }
                let found = (leaf_key == key).then_some(*value_hash);
                (leaf_hash(leaf_key, value_hash), found)
            }
        };
        let mut remaining = self.siblings.iter().rev();
        for d in (0..depth).rev() {
            let present = self
                .bitmap
                .get(d / 8)
                .is_some_and(|b| b & (0x80 >> (d % 8)) != 0);
            let sibling = if present {
                // terminal_depth() checked popcount == siblings.len(), so this never runs out.
                *remaining.next().ok_or(ProofError::BitmapMismatch {
                    bits: 0,
                    siblings: self.siblings.len(),
                })?
            } else {
                EMPTY_SUBTREE
            };
            hash = if key_bit(key, d) {
                internal_hash(&sibling, &hash)
            } else {
                internal_hash(&hash, &sibling)
            };
        }
        if hash != *root {
            return Err(ProofError::RootMismatch);
        }
        Ok(found)
    }
}

/// Depths of a key's path read per store call by [`prove`]. A path through `n` random keys
/// ends near depth `log2 n` (about 20 at 10^6 keys, 24 at 10^7), so one call of 32 positions
/// covers almost every proof up to ~10^8 keys; the positions below the path's end are not
/// stored, and a store answers those misses cheaply (bloom filters). Deeper paths (keys
/// sharing a long prefix) take one more call per 32 depths.
pub const PROOF_READ_DEPTHS: u16 = 32;

/// Builds the proof for `key` under `root` from the stored tree. The positions on the key's
/// path are read [`PROOF_READ_DEPTHS`] at a time, in one store call (one RocksDB
/// `multi_get`) each, instead of one call per depth; each node used is checked against the
/// hash its parent names.
pub fn prove(
    root: &Hash,
    key: &Hash,
    store: &impl NodeStore,
) -> Result<StatusProof, StatusMapError> {
    let mut siblings = Vec::new();
    let mut bitmap = [0u8; 32];
    let mut pos = NodeKey::ROOT;
    let mut expected = *root;
    // Nodes at the path positions `window_start..window_start + window.len()`.
    let mut window: Vec<Option<super::Node>> = Vec::new();
    let mut window_start: u16 = 0;
    let terminal = loop {
        if expected == EMPTY_SUBTREE {
            break Terminal::Empty;
        }
        let depth = pos.depth();
        if depth >= window_start + window.len() as u16 {
            window_start = depth;
            window = read_path(store, key, depth)?;
        }
        let node = window
            .get(usize::from(depth - window_start))
            .copied()
            .flatten()
            .ok_or(StatusMapError::MissingNode { key: pos })?;
        check_node(&pos, &expected, &node)?;
        match node {
            super::Node::Leaf { key, value_hash } => break Terminal::Leaf { key, value_hash },
            super::Node::Internal { left, right } => {
                let d = usize::from(depth);
                let right_side = key_bit(key, d);
                let (next, sibling) = if right_side {
                    (right, left)
                } else {
                    (left, right)
                };
                if sibling != EMPTY_SUBTREE {
                    if let Some(byte) = bitmap.get_mut(d / 8) {
                        *byte |= 0x80 >> (d % 8);
                    }
                    siblings.push(sibling);
                }
                pos = pos.child(right_side).ok_or(StatusMapError::CorruptNode {
                    key: pos,
                    reason: "internal node at depth 256",
                })?;
                expected = next;
            }
        }
    };
    let proof = StatusProof {
        siblings,
        bitmap,
        terminal,
    };
    // The verifier infers the terminal's depth from the bitmap; that only works in a
    // canonical tree, so refuse to hand out a proof the stored tree makes unverifiable.
    if proof.terminal_depth()? != usize::from(pos.depth()) {
        return Err(StatusMapError::CorruptNode {
            key: pos,
            reason: "path ends next to an empty sibling (tree not canonical)",
        });
    }
    Ok(proof)
}

/// The stored nodes at depths `from..from + PROOF_READ_DEPTHS` (capped at the deepest
/// level) on `key`'s path, in one store call; `None` where no node is stored.
fn read_path(
    store: &impl NodeStore,
    key: &Hash,
    from: u16,
) -> Result<Vec<Option<super::Node>>, StatusMapError> {
    let to = from.saturating_add(PROOF_READ_DEPTHS).min(MAX_DEPTH + 1);
    let keys = (from..to)
        .map(|depth| NodeKey::new(depth, &key.0))
        .collect::<Result<Vec<NodeKey>, StatusMapError>>()?;
    let nodes = store.get_nodes(&keys)?;
    if nodes.len() != keys.len() {
        return Err(StatusMapError::WrongNodeCount {
            requested: keys.len(),
            returned: nodes.len(),
        });
    }
    Ok(nodes)
}

/// Checks that `proof` shows `key` present under `root` with `value_hash`.
pub fn verify_presence(
    root: &Hash,
    key: &Hash,
    value_hash: &Hash,
    proof: &StatusProof,
) -> Result<(), ProofError> {
    match proof.check(root, key)? {
        Some(found) if found == *value_hash => Ok(()),
        Some(_) => Err(ProofError::ValueMismatch),
        None => match proof.terminal {
            Terminal::Leaf { .. } => Err(ProofError::KeyMismatch),
            Terminal::Empty => Err(ProofError::Absent),
        },
    }
}

/// Checks that `proof` shows `key` absent under `root`.
pub fn verify_absence(root: &Hash, key: &Hash, proof: &StatusProof) -> Result<(), ProofError> {
    match proof.check(root, key)? {
        None => Ok(()),
        Some(_) => Err(ProofError::Present),
    }
}

/// Checks that `proof` shows `status` as the current status of its subject under `root`.
/// The key is derived from `status.subject`, so a status cannot be shown under someone
/// else's key.
pub fn verify_status(
    root: &Hash,
    status: &SubjectStatus,
    proof: &StatusProof,
) -> Result<(), StatusMapError> {
    let key = status.subject.map_key();
    let value_hash = status.value_hash()?;
    Ok(verify_presence(root, &key, &value_hash, proof)?)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::super::store::{MemoryNodeStore, Node};
    use super::super::tree::apply_updates;
    use super::*;

    /// Counts store calls.
    struct Counting<'a> {
        inner: &'a MemoryNodeStore,
        calls: Cell<usize>,
    }

    impl NodeStore for Counting<'_> {
        fn get_nodes(&self, keys: &[NodeKey]) -> Result<Vec<Option<Node>>, StatusMapError> {
            self.calls.set(self.calls.get() + 1);
            self.inner.get_nodes(keys)
        }
    }

    fn key(i: u32) -> Hash {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&i.wrapping_mul(0x9E37_79B9).to_be_bytes());
        k[4..8].copy_from_slice(&i.to_be_bytes());
        Hash(k)
    }

    #[test]
    fn a_shallow_path_is_one_store_call_and_a_deep_one_a_call_per_32_depths() {
        let mut store = MemoryNodeStore::new();
        let mut updates: Vec<(Hash, Option<Hash>)> =
            (0..2000).map(|i| (key(i), Some(Hash([1; 32])))).collect();
        // Two keys that differ only in their last bit: their path runs to depth 256.
        let (deep_a, mut deep_b) = (Hash([0xAB; 32]), Hash([0xAB; 32]));
        deep_b.0[31] ^= 1;
        updates.push((deep_a, Some(Hash([2; 32]))));
        updates.push((deep_b, Some(Hash([3; 32]))));
        let update = apply_updates(&EMPTY_SUBTREE, &updates, &store).unwrap();
        store.apply(&update);
        let root = update.new_root;
        let counting = Counting {
            inner: &store,
            calls: Cell::new(0),
        };
        for i in (0..2000).step_by(97) {
            counting.calls.set(0);
            let proof = prove(&root, &key(i), &counting).unwrap();
            assert_eq!(counting.calls.get(), 1, "key {i}");
            verify_presence(&root, &key(i), &Hash([1; 32]), &proof).unwrap();
            counting.calls.set(0);
            let absent = key(i + 1_000_000);
            let proof = prove(&root, &absent, &counting).unwrap();
            assert_eq!(counting.calls.get(), 1);
            verify_absence(&root, &absent, &proof).unwrap();
        }
        counting.calls.set(0);
        let proof = prove(&root, &deep_b, &counting).unwrap();
        verify_presence(&root, &deep_b, &Hash([3; 32]), &proof).unwrap();
        // Depths 0..=256: 257 positions, 32 per call.
        assert_eq!(counting.calls.get(), 257usize.div_ceil(32));
    }
}
