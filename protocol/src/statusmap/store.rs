//! Node addressing, node encoding, and the store the tree reads its nodes from.
//!
//! Storage keeps only the *current* tree: one node per position, no versions. A position is a
//! [`NodeKey`]: a depth and the key prefix of that many bits. The tree is canonical (its shape
//! depends only on the set of keys), so a position holds
//! * an [`Node::Internal`] iff at least two keys share its prefix,
//! * a [`Node::Leaf`] iff exactly one key has its prefix and the parent position holds at least
//!   two (the shortcut leaf sits at the top of its otherwise empty subtree),
//! * nothing otherwise (empty subtrees are never stored).

use std::collections::BTreeMap;

use super::hashing::{internal_hash, leaf_hash, mask_prefix};
use super::tree::TreeUpdate;
use super::StatusMapError;
use crate::merkle::Hash;

/// Deepest position in the tree. Internal nodes live at depths 0..=255; a leaf can sit at
/// depth 256 when two keys differ only in their last bit. That is why the depth is a `u16`
/// and not a `u8`: with a `u8`, those two leaves would have no address.
pub const MAX_DEPTH: u16 = 256;

/// The address of one tree position: `depth` bits of key prefix (the rest of `prefix` is zero).
///
/// The derived order (depth, then prefix) is the order of [`NodeKey::to_bytes`], so a RocksDB
/// column family keyed by those bytes iterates level by level, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeKey {
    depth: u16,
    prefix: [u8; 32],
}

impl NodeKey {
    /// The root position.
    pub const ROOT: NodeKey = NodeKey {
        depth: 0,
        prefix: [0; 32],
    };

    /// The position at `depth` on the path of `key` (bits beyond `depth` are masked off).
    pub fn new(depth: u16, key: &[u8; 32]) -> Result<NodeKey, StatusMapError> {
        if depth > MAX_DEPTH {
            return Err(StatusMapError::DepthOutOfRange { depth });
        }
        Ok(NodeKey {
            depth,
            prefix: mask_prefix(key, depth),
        })
    }

    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// The prefix, zero beyond [`NodeKey::depth`] bits.
    pub fn prefix(&self) -> &[u8; 32] {
        &self.prefix
    }

    /// The child position on side `right` (false = left), or `None` at the deepest level.
    pub fn child(&self, right: bool) -> Option<NodeKey> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        let mut prefix = self.prefix;
        if right {
            let bit = usize::from(self.depth);
            prefix[bit / 8] |= 0x80 >> (bit % 8);
        }
        Some(NodeKey {
            depth: self.depth + 1,
            prefix,
        })
    }

    /// Whether `key` lies in this position's subtree.
    pub fn covers(&self, key: &Hash) -> bool {
        mask_prefix(&key.0, self.depth) == self.prefix
    }

    /// Compact, order-preserving bytes: depth as big-endian u16, then the
    /// `ceil(depth / 8)` prefix bytes that can be non-zero (2 to 34 bytes in all).
    pub fn to_bytes(&self) -> Vec<u8> {
        let used = usize::from(self.depth).div_ceil(8);
        let mut out = Vec::with_capacity(2 + used);
        out.extend_from_slice(&self.depth.to_be_bytes());
        out.extend_from_slice(&self.prefix[..used]);
        out
    }

    /// Parses [`NodeKey::to_bytes`], rejecting any other byte string (wrong length, depth
    /// beyond 256, set bits beyond the depth), so every position has exactly one encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<NodeKey, StatusMapError> {
        let malformed = || StatusMapError::MalformedNodeKey { len: bytes.len() };
        let (depth_bytes, rest) = bytes.split_first_chunk::<2>().ok_or_else(malformed)?;
        let depth = u16::from_be_bytes(*depth_bytes);
        if depth > MAX_DEPTH || rest.len() != usize::from(depth).div_ceil(8) {
            return Err(malformed());
        }
        let mut prefix = [0u8; 32];
        prefix[..rest.len()].copy_from_slice(rest);
        if mask_prefix(&prefix, depth) != prefix {
            return Err(malformed());
        }
        Ok(NodeKey { depth, prefix })
    }
}

/// A stored tree node. Empty subtrees are never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// At least two keys below: the hashes of both children (either may be the placeholder).
    Internal { left: Hash, right: Hash },
    /// Exactly one key below, placed at the top of its subtree.
    Leaf { key: Hash, value_hash: Hash },
}

impl Node {
    /// Length of [`Node::encode`]'s output: one tag byte and two hashes.
    pub const ENCODED_LEN: usize = 65;
    const TAG_INTERNAL: u8 = 1;
    const TAG_LEAF: u8 = 2;

    /// The node's hash, as its parent (or the root) refers to it.
    pub fn hash(&self) -> Hash {
        match self {
            Node::Internal { left, right } => internal_hash(left, right),
            Node::Leaf { key, value_hash } => leaf_hash(key, value_hash),
        }
    }

    /// Fixed 65-byte encoding: tag (1 = internal, 2 = leaf), then the two hashes. Fixed width
    /// and hand-written because storage reads millions of these and nothing here can fail.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let (tag, a, b) = match self {
            Node::Internal { left, right } => (Self::TAG_INTERNAL, left, right),
            Node::Leaf { key, value_hash } => (Self::TAG_LEAF, key, value_hash),
        };
        let mut out = [0u8; Self::ENCODED_LEN];
        out[0] = tag;
        out[1..33].copy_from_slice(&a.0);
        out[33..65].copy_from_slice(&b.0);
        out
    }

    /// Parses [`Node::encode`]; anything else is [`StatusMapError::MalformedNode`].
    pub fn decode(bytes: &[u8]) -> Result<Node, StatusMapError> {
        let malformed = || StatusMapError::MalformedNode { len: bytes.len() };
        let bytes: &[u8; Self::ENCODED_LEN] = bytes.try_into().map_err(|_| malformed())?;
        let (tag, rest) = bytes.split_first().ok_or_else(malformed)?;
        let (a, b) = rest.split_at(32);
        let a = Hash::from_slice(a).map_err(|_| malformed())?;
        let b = Hash::from_slice(b).map_err(|_| malformed())?;
        match *tag {
            Self::TAG_INTERNAL => Ok(Node::Internal { left: a, right: b }),
            Self::TAG_LEAF => Ok(Node::Leaf {
                key: a,
                value_hash: b,
            }),
            _ => Err(malformed()),
        }
    }
}

/// Read access to the current tree's nodes.
///
/// Reads are batched: the tree asks for every node it needs at one depth in one call, which
/// storage turns into a single RocksDB `multi_get`. The answer must have exactly one entry per
/// requested key, in order (`None` = not stored). Implementations report their own failures
/// as [`StatusMapError::Store`].
pub trait NodeStore {
    fn get_nodes(&self, keys: &[NodeKey]) -> Result<Vec<Option<Node>>, StatusMapError>;
}

impl<S: NodeStore + ?Sized> NodeStore for &S {
    fn get_nodes(&self, keys: &[NodeKey]) -> Result<Vec<Option<Node>>, StatusMapError> {
        (**self).get_nodes(keys)
    }
}

/// The current tree in a `BTreeMap`: for tests and small tools, not for production data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryNodeStore {
    nodes: BTreeMap<NodeKey, Node>,
}

impl MemoryNodeStore {
    pub fn new() -> MemoryNodeStore {
        MemoryNodeStore::default()
    }

    /// Applies the writes and deletes of one update (deletes first; an update never deletes
    /// a key it also writes).
    pub fn apply(&mut self, update: &TreeUpdate) {
        for key in &update.deletes {
            self.nodes.remove(key);
        }
        for (key, node) in &update.writes {
            self.nodes.insert(*key, *node);
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every stored node, in [`NodeKey`] order.
    pub fn nodes(&self) -> &BTreeMap<NodeKey, Node> {
        &self.nodes
    }
}

impl NodeStore for MemoryNodeStore {
    fn get_nodes(&self, keys: &[NodeKey]) -> Result<Vec<Option<Node>>, StatusMapError> {
        Ok(keys.iter().map(|k| self.nodes.get(k).copied()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_key_bytes_round_trip_and_sort() {
        let key = [0xA5u8; 32];
        let mut all = Vec::new();
        for depth in 0..=MAX_DEPTH {
            let nk = NodeKey::new(depth, &key).unwrap();
            let bytes = nk.to_bytes();
            assert_eq!(bytes.len(), 2 + usize::from(depth).div_ceil(8));
            assert_eq!(NodeKey::from_bytes(&bytes).unwrap(), nk);
            all.push((nk, bytes));
        }
        let mut by_bytes = all.clone();
        by_bytes.sort_by_key(|a| a.1.clone());
        let mut by_key = all;
        by_key.sort_by_key(|a| a.0);
        assert_eq!(by_bytes, by_key);
    }

    #[test]
    fn node_key_rejects_noncanonical_bytes() {
        assert!(NodeKey::from_bytes(&[]).is_err());
        assert!(NodeKey::from_bytes(&[0, 1]).is_err()); // depth 1 needs one prefix byte
        assert!(NodeKey::from_bytes(&[0, 1, 0x40]).is_err()); // bit beyond depth set
        assert!(NodeKey::from_bytes(&[0, 1, 0x80]).is_ok());
        assert!(NodeKey::from_bytes(&[1, 1]).is_err()); // depth 257
        assert!(NodeKey::new(257, &[0; 32]).is_err());
        assert_eq!(NodeKey::new(256, &[0; 32]).unwrap().child(true), None);
    }

    #[test]
    fn children_extend_the_prefix() {
        let right = NodeKey::ROOT.child(true).unwrap();
        assert_eq!(right.to_bytes(), vec![0, 1, 0x80]);
        assert!(right.covers(&Hash([0xFF; 32])));
        assert!(!right.covers(&Hash([0x7F; 32])));
    }

    #[test]
    fn node_encoding_round_trips_and_rejects_garbage() {
        let nodes = [
            Node::Internal {
                left: Hash([1; 32]),
                right: Hash([2; 32]),
            },
            Node::Leaf {
                key: Hash([3; 32]),
                value_hash: Hash([4; 32]),
            },
        ];
        for node in nodes {
            assert_eq!(Node::decode(&node.encode()).unwrap(), node);
        }
        assert!(Node::decode(&[0u8; 65]).is_err());
        assert!(Node::decode(&[1u8; 64]).is_err());
        assert!(Node::decode(&[]).is_err());
    }
}
