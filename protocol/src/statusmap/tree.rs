//! Batch updates of the sparse Merkle tree over an abstract [`NodeStore`].
//!
//! An update runs in two phases:
//! 1. **Load**, level by level: every stored node on the path of an updated key, plus (only
//!    where a delete could empty one side of an internal node) the untouched sibling on the
//!    other side, because if that sibling is a lone leaf it must move up. One
//!    [`NodeStore::get_nodes`] call per depth; every node is checked against the hash its
//!    parent (or the root) names, so a store that disagrees with the root is caught here.
//! 2. **Rebuild** in memory, bottom-up, only the touched paths, emitting node writes and the
//!    positions that no longer hold a node. Untouched subtrees are referred to by hash only.
//!
//! Work is O(batch × depth) nodes; the rest of the tree is never read.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::hashing::{key_bit, leaf_hash, EMPTY_SUBTREE};
use super::store::{Node, NodeKey, NodeStore, MAX_DEPTH};
use super::StatusMapError;
use crate::merkle::Hash;

/// What one call of [`apply_updates`] does to the stored tree.
///
/// Storage keeps only the current tree: persist `writes` and `deletes` (no key appears in
/// both) in the same write batch as the log entries and the new root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeUpdate {
    pub new_root: Hash,
    /// Nodes to store, in [`NodeKey`] order; positions whose node is unchanged are omitted.
    pub writes: Vec<(NodeKey, Node)>,
    /// Positions that held a node and now hold none, in [`NodeKey`] order.
    pub deletes: Vec<NodeKey>,
}

/// Applies a batch of updates to the tree with root `root`.
///
/// Each update is `(key, Some(value_hash))` to insert or replace, `(key, None)` to delete
/// (deleting an absent key is a no-op). The batch may be in any order and may name a key more
/// than once: updates are sorted by key and the last update of each key wins, so the result
/// is that of applying them one at a time in slice order.
pub fn apply_updates(
    root: &Hash,
    updates: &[(Hash, Option<Hash>)],
    store: &impl NodeStore,
) -> Result<TreeUpdate, StatusMapError> {
    let batch = last_update_per_key(updates);
    if batch.is_empty() {
        return Ok(TreeUpdate {
            new_root: *root,
            writes: Vec::new(),
            deletes: Vec::new(),
        });
    }
    let loaded = load_paths(root, &batch, store)?;
    let mut builder = Builder {
        batch: &batch,
        store,
        loaded,
        writes: BTreeMap::new(),
        removed: BTreeSet::new(),
    };
    let result = builder.update(NodeKey::ROOT, *root, 0..batch.len())?;
    let new_root = builder.place(NodeKey::ROOT, result);
    Ok(builder.finish(new_root))
}

/// Sorted by key, one update per key (the last one given).
fn last_update_per_key(updates: &[(Hash, Option<Hash>)]) -> Vec<(Hash, Option<Hash>)> {
    let mut sorted = updates.to_vec();
    // Stable sort: among equal keys the slice order survives, so "last" means last given.
    sorted.sort_by_key(|a| a.0);
    let mut out: Vec<(Hash, Option<Hash>)> = Vec::with_capacity(sorted.len());
    for update in sorted {
        match out.last_mut() {
            Some(last) if last.0 == update.0 => *last = update,
            _ => out.push(update),
        }
    }
    out
}

/// Index in `batch` of the first update whose key has bit `depth` set, within `range`
/// (keys in `range` share their first `depth` bits and are sorted, so bit `depth` is monotone).
fn split_point(batch: &[(Hash, Option<Hash>)], range: &Range<usize>, depth: u16) -> usize {
    let slice = batch.get(range.clone()).unwrap_or(&[]);
    range.start + slice.partition_point(|(k, _)| !key_bit(k, usize::from(depth)))
}

/// Reads `keys` and checks each node against the hash its parent names for it.
pub(crate) fn fetch_checked(
    store: &impl NodeStore,
    wanted: &[(NodeKey, Hash)],
) -> Result<Vec<Node>, StatusMapError> {
    let keys: Vec<NodeKey> = wanted.iter().map(|(k, _)| *k).collect();
    let found = store.get_nodes(&keys)?;
    if found.len() != keys.len() {
        return Err(StatusMapError::WrongNodeCount {
            requested: keys.len(),
            returned: found.len(),
        });
    }
    wanted
        .iter()
        .zip(found)
        .map(|((key, expected), node)| {
            let node = node.ok_or(StatusMapError::MissingNode { key: *key })?;
            check_node(key, expected, &node)?;
            Ok(node)
        })
        .collect()
}

/// A stored node must hash to what its parent says, and sit where the tree's shape puts it.
pub(crate) fn check_node(
    key: &NodeKey,
    expected: &Hash,
    node: &Node,
) -> Result<(), StatusMapError> {
    let corrupt = |reason| StatusMapError::CorruptNode { key: *key, reason };
    if node.hash() != *expected {
        return Err(corrupt("hash differs from the one its parent names"));
    }
    match node {
        Node::Leaf { key: leaf_key, .. } if !key.covers(leaf_key) => {
            Err(corrupt("leaf key lies outside the position's prefix"))
        }
        Node::Internal { .. } if key.depth() >= MAX_DEPTH => {
            Err(corrupt("internal node at depth 256"))
        }
        _ => Ok(()),
    }
}

/// Phase 1: loads the nodes the rebuild needs, one store call per depth.
fn load_paths(
    root: &Hash,
    batch: &[(Hash, Option<Hash>)],
    store: &impl NodeStore,
) -> Result<BTreeMap<NodeKey, Node>, StatusMapError> {
    let mut loaded = BTreeMap::new();
    // (position, expected hash, updates below it; empty = sibling loaded only for its kind)
    let mut frontier: Vec<(NodeKey, Hash, Range<usize>)> = Vec::new();
    if *root != EMPTY_SUBTREE {
        frontier.push((NodeKey::ROOT, *root, 0..batch.len()));
    }
    while !frontier.is_empty() {
        let wanted: Vec<(NodeKey, Hash)> = frontier.iter().map(|(k, h, _)| (*k, *h)).collect();
        let nodes = fetch_checked(store, &wanted)?;
        let mut next = Vec::new();
        for ((pos, _, range), node) in frontier.into_iter().zip(nodes) {
            loaded.insert(pos, node);
            let Node::Internal { left, right } = node else {
                continue;
            };
            if range.is_empty() {
                continue;
            }
            let mid = split_point(batch, &range, pos.depth());
            let sides = [
                (false, left, range.start..mid, mid..range.end),
                (true, right, mid..range.end, range.start..mid),
            ];
            for (is_right, hash, own, other) in sides {
                if hash == EMPTY_SUBTREE {
                    continue;
                }
                let child = pos.child(is_right).ok_or(StatusMapError::CorruptNode {
                    key: pos,
                    reason: "internal node at depth 256",
                })?;
                let other_deletes = batch
                    .get(other)
                    .unwrap_or(&[])
                    .iter()
                    .any(|(_, v)| v.is_none());
                if !own.is_empty() {
                    next.push((child, hash, own));
                } else if other_deletes {
                    next.push((child, hash, 0..0));
                }
            }
        }
        frontier = next;
    }
    Ok(loaded)
}

/// A rebuilt subtree, as its parent needs to know it.
#[derive(Debug, Clone, Copy)]
enum Sub {
    Empty,
    /// Exactly one key; not yet placed. `from` is where it is stored now, if anywhere.
    Leaf {
        key: Hash,
        value_hash: Hash,
        from: Option<NodeKey>,
    },
    /// At least two keys; its root node is already in place.
    Internal(Hash),
    /// Untouched and not loaded: non-empty, kind unknown (only its hash matters unless its
    /// sibling turns out empty).
    Unloaded {
        pos: NodeKey,
        hash: Hash,
    },
}

struct Builder<'a, S: NodeStore> {
    batch: &'a [(Hash, Option<Hash>)],
    store: &'a S,
    loaded: BTreeMap<NodeKey, Node>,
    writes: BTreeMap<NodeKey, Node>,
    /// Positions whose old node was consumed (rewritten or moved).
    removed: BTreeSet<NodeKey>,
}

impl<S: NodeStore> Builder<'_, S> {
    fn updates(&self, range: &Range<usize>) -> &[(Hash, Option<Hash>)] {
        self.batch.get(range.clone()).unwrap_or(&[])
    }

    /// The subtree at `pos`, currently hashing to `current`, after the updates in `range`.
    fn update(
        &mut self,
        pos: NodeKey,
        current: Hash,
        range: Range<usize>,
    ) -> Result<Sub, StatusMapError> {
        if range.is_empty() {
            return Ok(self.untouched(pos, current));
        }
        if current == EMPTY_SUBTREE {
            let entries: Vec<(Hash, Hash)> = self
                .updates(&range)
                .iter()
                .filter_map(|(k, v)| v.map(|v| (*k, v)))
                .collect();
            return self.fresh(pos, &entries);
        }
        let node = *self
            .loaded
            .get(&pos)
            .ok_or(StatusMapError::MissingNode { key: pos })?;
        self.removed.insert(pos);
        match node {
            Node::Leaf { key, value_hash } => {
                // The old leaf joins the updates unless one of them names its key.
                let updates = self.updates(&range);
                let mut entries: Vec<(Hash, Hash)> = updates
                    .iter()
                    .filter_map(|(k, v)| v.map(|v| (*k, v)))
                    .collect();
                if !updates.iter().any(|(k, _)| *k == key) {
                    let at = entries.partition_point(|(k, _)| *k < key);
                    entries.insert(at, (key, value_hash));
                }
                self.fresh(pos, &entries)
            }
            Node::Internal { left, right } => {
                let (left_pos, right_pos) = children(pos)?;
                let mid = split_point(self.batch, &range, pos.depth());
                let l = self.update(left_pos, left, range.start..mid)?;
                let r = self.update(right_pos, right, mid..range.end)?;
                self.combine(pos, l, r)
            }
        }
    }

    /// An untouched subtree: what phase 1 learned about it, if anything.
    fn untouched(&self, pos: NodeKey, hash: Hash) -> Sub {
        if hash == EMPTY_SUBTREE {
            return Sub::Empty;
        }
        match self.loaded.get(&pos) {
            Some(Node::Leaf { key, value_hash }) => Sub::Leaf {
                key: *key,
                value_hash: *value_hash,
                from: Some(pos),
            },
            Some(Node::Internal { .. }) => Sub::Internal(hash),
            None => Sub::Unloaded { pos, hash },
        }
    }

    /// The subtree at `pos` holding exactly `entries` (sorted, distinct keys), built anew.
    fn fresh(&mut self, pos: NodeKey, entries: &[(Hash, Hash)]) -> Result<Sub, StatusMapError> {
        match entries {
            [] => Ok(Sub::Empty),
            [(key, value_hash)] => Ok(Sub::Leaf {
                key: *key,
                value_hash: *value_hash,
                from: None,
            }),
            _ => {
                // Distinct keys differ at some bit below 256, so this never runs out of depth.
                let (left_pos, right_pos) = children(pos)?;
                let mid = entries.partition_point(|(k, _)| !key_bit(k, usize::from(pos.depth())));
                let (left, right) = entries.split_at(mid);
                let l = self.fresh(left_pos, left)?;
                let r = self.fresh(right_pos, right)?;
                self.combine(pos, l, r)
            }
        }
    }

    /// Joins two rebuilt children into the subtree at `pos`, collapsing a lone leaf upwards.
    fn combine(&mut self, pos: NodeKey, l: Sub, r: Sub) -> Result<Sub, StatusMapError> {
        // A lone unloaded sibling might be a leaf that has to move up: look. Phase 1 loads
        // such siblings in advance, so this is a fallback that keeps the result correct.
        let (l, r) = match (l, r) {
            (Sub::Unloaded { pos: p, hash }, Sub::Empty) => (self.load_one(p, hash)?, r),
            (Sub::Empty, Sub::Unloaded { pos: p, hash }) => (l, self.load_one(p, hash)?),
            _ => (l, r),
        };
        match (l, r) {
            (Sub::Empty, Sub::Empty) => Ok(Sub::Empty),
            (leaf @ Sub::Leaf { .. }, Sub::Empty) | (Sub::Empty, leaf @ Sub::Leaf { .. }) => {
                Ok(leaf)
            }
            (l, r) => {
                let (left_pos, right_pos) = children(pos)?;
                let left = self.place(left_pos, l);
                let right = self.place(right_pos, r);
                let node = Node::Internal { left, right };
                self.writes.insert(pos, node);
                Ok(Sub::Internal(node.hash()))
            }
        }
    }

    fn load_one(&mut self, pos: NodeKey, hash: Hash) -> Result<Sub, StatusMapError> {
        let nodes = fetch_checked(self.store, &[(pos, hash)])?;
        let node = nodes
            .into_iter()
            .next()
            .ok_or(StatusMapError::MissingNode { key: pos })?;
        self.loaded.insert(pos, node);
        Ok(self.untouched(pos, hash))
    }

    /// Puts a rebuilt child at `pos` and returns its hash.
    fn place(&mut self, pos: NodeKey, sub: Sub) -> Hash {
        match sub {
            Sub::Empty => EMPTY_SUBTREE,
            Sub::Leaf {
                key,
                value_hash,
                from,
            } => {
                if let Some(old) = from {
                    self.removed.insert(old);
                }
                self.writes.insert(pos, Node::Leaf { key, value_hash });
                leaf_hash(&key, &value_hash)
            }
            Sub::Internal(hash) | Sub::Unloaded { hash, .. } => hash,
        }
    }

    fn finish(self, new_root: Hash) -> TreeUpdate {
        let deletes = self
            .removed
            .iter()
            .filter(|k| !self.writes.contains_key(k))
            .copied()
            .collect();
        // Rewriting a node with itself (a leaf that stayed put, an unchanged value) is no work
        // for storage to do.
        let writes = self
            .writes
            .into_iter()
            .filter(|(k, node)| self.loaded.get(k) != Some(node))
            .collect();
        TreeUpdate {
            new_root,
            writes,
            deletes,
        }
    }
}

fn children(pos: NodeKey) -> Result<(NodeKey, NodeKey), StatusMapError> {
    match (pos.child(false), pos.child(true)) {
        (Some(l), Some(r)) => Ok((l, r)),
        _ => Err(StatusMapError::InvariantViolated(
            "two distinct keys share all 256 bits",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::store::MemoryNodeStore;
    use super::*;

    fn key(first: u8, last: u8) -> Hash {
        let mut k = [0u8; 32];
        k[0] = first;
        k[31] = last;
        Hash(k)
    }

    #[test]
    fn empty_batch_changes_nothing_and_reads_nothing() {
        let store = MemoryNodeStore::new();
        let up = apply_updates(&Hash([9; 32]), &[], &store).unwrap();
        assert_eq!(up.new_root, Hash([9; 32]));
        assert!(up.writes.is_empty() && up.deletes.is_empty());
    }

    #[test]
    fn single_key_is_a_leaf_at_the_root() {
        let store = MemoryNodeStore::new();
        let k = key(1, 0);
        let v = Hash([7; 32]);
        let up = apply_updates(&EMPTY_SUBTREE, &[(k, Some(v))], &store).unwrap();
        assert_eq!(up.new_root, leaf_hash(&k, &v));
        assert_eq!(
            up.writes,
            vec![(
                NodeKey::ROOT,
                Node::Leaf {
                    key: k,
                    value_hash: v
                }
            )]
        );
    }

    #[test]
    fn keys_differing_in_the_last_bit_sit_at_depth_256_and_collapse_back() {
        let mut store = MemoryNodeStore::new();
        let (a, b) = (key(0, 0), key(0, 1));
        let v = Hash([5; 32]);
        let up = apply_updates(&EMPTY_SUBTREE, &[(a, Some(v)), (b, Some(v))], &store).unwrap();
        store.apply(&up);
        assert_eq!(store.len(), 256 + 2);
        let up2 = apply_updates(&up.new_root, &[(b, None)], &store).unwrap();
        store.apply(&up2);
        assert_eq!(up2.new_root, leaf_hash(&a, &v));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn last_update_of_a_key_wins() {
        let store = MemoryNodeStore::new();
        let k = key(3, 3);
        let up = apply_updates(
            &EMPTY_SUBTREE,
            &[
                (k, Some(Hash([1; 32]))),
                (k, None),
                (k, Some(Hash([2; 32]))),
            ],
            &store,
        )
        .unwrap();
        assert_eq!(up.new_root, leaf_hash(&k, &Hash([2; 32])));
    }

    #[test]
    fn store_disagreeing_with_root_is_reported() {
        let store = MemoryNodeStore::new();
        let err = apply_updates(&Hash([1; 32]), &[(key(0, 0), None)], &store).unwrap_err();
        assert_eq!(err, StatusMapError::MissingNode { key: NodeKey::ROOT });
        let mut store = MemoryNodeStore::new();
        let up =
            apply_updates(&EMPTY_SUBTREE, &[(key(0, 0), Some(Hash([1; 32])))], &store).unwrap();
        store.apply(&up);
        let err = apply_updates(&Hash([2; 32]), &[(key(0, 0), None)], &store).unwrap_err();
        assert!(matches!(err, StatusMapError::CorruptNode { .. }));
    }
}
