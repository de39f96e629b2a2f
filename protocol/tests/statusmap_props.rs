//! Properties of the status map's sparse Merkle tree: batch updates against one-at-a-time
//! updates and a from-scratch reference, exact stored node sets (no garbage), presence and
//! absence proofs, tampering, no-panic decoding, read bounds, and proof size at 100,000 keys.
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use credx_protocol::entry::{EntryRef, SubjectId};
use credx_protocol::merkle::Hash;
use credx_protocol::statusmap::{
    apply_updates, internal_hash, leaf_hash, prove, verify_absence, verify_presence, verify_status,
    Listing, MemoryNodeStore, Node, NodeKey, NodeStore, ProofError, StatusMapError, StatusProof,
    SubjectStatus, Terminal, EMPTY_SUBTREE,
};
use proptest::prelude::*;
use proptest::sample::Index;
use sha2::{Digest, Sha256};

fn bit(key: &Hash, depth: usize) -> bool {
    (key.0[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

/// Reference: the root of a key → value-hash map, computed from scratch by the definition.
fn naive_root(entries: &[(Hash, Hash)], depth: usize) -> Hash {
    match entries {
        [] => EMPTY_SUBTREE,
        [(k, v)] => leaf_hash(k, v),
        _ => {
            let mid = entries.partition_point(|(k, _)| !bit(k, depth));
            let (l, r) = entries.split_at(mid);
            internal_hash(&naive_root(l, depth + 1), &naive_root(r, depth + 1))
        }
    }
}

/// Reference: every node the canonical tree of `entries` stores, by position; returns the
/// subtree's hash (computed once per node, bottom-up, so deep trees stay cheap).
fn naive_nodes(entries: &[(Hash, Hash)], pos: NodeKey, out: &mut BTreeMap<NodeKey, Node>) -> Hash {
    match entries {
        [] => EMPTY_SUBTREE,
        [(k, v)] => {
            out.insert(
                pos,
                Node::Leaf {
                    key: *k,
                    value_hash: *v,
                },
            );
            leaf_hash(k, v)
        }
        _ => {
            let depth = usize::from(pos.depth());
            let mid = entries.partition_point(|(k, _)| !bit(k, depth));
            let (l, r) = entries.split_at(mid);
            let left = naive_nodes(l, pos.child(false).unwrap(), out);
            let right = naive_nodes(r, pos.child(true).unwrap(), out);
            out.insert(pos, Node::Internal { left, right });
            internal_hash(&left, &right)
        }
    }
}

fn sorted_entries(map: &BTreeMap<Hash, Hash>) -> Vec<(Hash, Hash)> {
    map.iter().map(|(k, v)| (*k, *v)).collect()
}

/// Keys that are either uniformly random or crowded into a few long shared prefixes (down
/// to keys differing only in their last bit), so deep paths and depth-256 leaves get tested.
fn key_strategy() -> impl Strategy<Value = Hash> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(Hash),
        (0u8..2, any::<u8>()).prop_map(|(top, last)| {
            let mut k = [0u8; 32];
            k[0] = top << 7;
            k[31] = last;
            Hash(k)
        }),
        (0u8..4).prop_map(|last| {
            let mut k = [0xFFu8; 32];
            k[31] = 0xFC | last;
            Hash(k)
        }),
    ]
}

type Ops = Vec<(Hash, Option<Hash>)>;

/// A pool of keys and a sequence of updates over it (so deletes and replacements hit).
fn ops_strategy() -> impl Strategy<Value = Ops> {
    (
        prop::collection::vec(key_strategy(), 1..24),
        prop::collection::vec((any::<Index>(), prop::option::weighted(0.7, 0u8..4)), 0..80),
    )
        .prop_map(|(pool, ops)| {
            ops.into_iter()
                .map(|(i, v)| (*i.get(&pool), v.map(|b| Hash([b; 32]))))
                .collect()
        })
}

fn model_apply(model: &mut BTreeMap<Hash, Hash>, ops: &[(Hash, Option<Hash>)]) {
    for (k, v) in ops {
        match v {
            Some(v) => model.insert(*k, *v),
            None => model.remove(k),
        };
    }
}

/// Applies `ops` in batches of the given sizes (cycled; 0 means "the rest").
fn apply_in_batches(
    ops: &[(Hash, Option<Hash>)],
    sizes: &[usize],
    store: &mut MemoryNodeStore,
    mut root: Hash,
) -> Hash {
    let mut rest = ops;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes.get(i % sizes.len().max(1)).copied().unwrap_or(0);
        let take = if size == 0 {
            rest.len()
        } else {
            size.min(rest.len())
        };
        let (batch, tail) = rest.split_at(take);
        let update = apply_updates(&root, batch, &*store).unwrap();
        for (k, _) in &update.writes {
            assert!(!update.deletes.contains(k), "key both written and deleted");
        }
        store.apply(&update);
        root = update.new_root;
        rest = tail;
        i += 1;
    }
    root
}

fn build(ops: &[(Hash, Option<Hash>)]) -> (MemoryNodeStore, Hash, BTreeMap<Hash, Hash>) {
    let mut store = MemoryNodeStore::new();
    let root = apply_in_batches(ops, &[0], &mut store, EMPTY_SUBTREE);
    let mut model = BTreeMap::new();
    model_apply(&mut model, ops);
    (store, root, model)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn batch_splits_one_by_one_and_reference_agree(
        ops in ops_strategy(),
        sizes in prop::collection::vec(0usize..9, 1..5),
    ) {
        let mut model = BTreeMap::new();
        model_apply(&mut model, &ops);
        let entries = sorted_entries(&model);
        let expected = naive_root(&entries, 0);
        let mut reference_nodes = BTreeMap::new();
        let reference_root = naive_nodes(&entries, NodeKey::ROOT, &mut reference_nodes);
        prop_assert_eq!(reference_root, expected);

        for split in [vec![0], vec![1], sizes] {
            let mut store = MemoryNodeStore::new();
            let root = apply_in_batches(&ops, &split, &mut store, EMPTY_SUBTREE);
            prop_assert_eq!(root, expected);
            // Exactly the canonical tree's nodes: nothing missing, no garbage.
            prop_assert_eq!(store.nodes(), &reference_nodes);
        }
    }

    #[test]
    fn every_intermediate_store_is_exactly_the_canonical_tree(ops in ops_strategy()) {
        let mut store = MemoryNodeStore::new();
        let mut root = EMPTY_SUBTREE;
        let mut model = BTreeMap::new();
        for chunk in ops.chunks(5) {
            root = apply_in_batches(chunk, &[0], &mut store, root);
            model_apply(&mut model, chunk);
            let entries = sorted_entries(&model);
            let mut reference = BTreeMap::new();
            let reference_root = naive_nodes(&entries, NodeKey::ROOT, &mut reference);
            prop_assert_eq!(reference_root, naive_root(&entries, 0));
            prop_assert_eq!(root, naive_root(&entries, 0));
            prop_assert_eq!(store.nodes(), &reference);
        }
    }

    #[test]
    fn deleting_everything_leaves_the_empty_root_and_an_empty_store(ops in ops_strategy()) {
        let (mut store, root, model) = build(&ops);
        let deletes: Ops = model.keys().map(|k| (*k, None)).collect();
        let root = apply_in_batches(&deletes, &[3], &mut store, root);
        prop_assert_eq!(root, EMPTY_SUBTREE);
        prop_assert!(store.is_empty());
    }

    #[test]
    fn proofs_show_presence_and_absence_and_nothing_else(
        ops in ops_strategy(),
        absent in prop::collection::vec(key_strategy(), 1..8),
    ) {
        let (store, root, model) = build(&ops);
        let other_root = Hash([0xEE; 32]);
        for (k, v) in &model {
            let proof = prove(&root, k, &store).unwrap();
            prop_assert_eq!(proof.verify(&root, k).unwrap(), Some(*v));
            prop_assert!(verify_presence(&root, k, v, &proof).is_ok());
            prop_assert_eq!(verify_absence(&root, k, &proof), Err(ProofError::Present));
            prop_assert_eq!(
                verify_presence(&root, k, &Hash([0xAB; 32]), &proof),
                Err(ProofError::ValueMismatch)
            );
            prop_assert!(verify_presence(&other_root, k, v, &proof).is_err());
            for other in model.keys().filter(|o| *o != k).take(4) {
                prop_assert!(verify_presence(&root, other, v, &proof).is_err());
            }
            let bytes = proof.encode().unwrap();
            prop_assert_eq!(bytes.len(), proof.encoded_len());
            prop_assert_eq!(&StatusProof::decode(&bytes).unwrap(), &proof);
        }
        for k in absent.iter().filter(|k| !model.contains_key(k)) {
            let proof = prove(&root, k, &store).unwrap();
            prop_assert_eq!(proof.verify(&root, k).unwrap(), None);
            prop_assert!(verify_absence(&root, k, &proof).is_ok());
            prop_assert!(verify_presence(&root, k, &Hash([0; 32]), &proof).is_err());
            prop_assert!(verify_absence(&other_root, k, &proof).is_err());
            for present in model.keys().take(4) {
                prop_assert!(verify_absence(&root, present, &proof).is_err());
            }
            prop_assert_eq!(proof.encode().unwrap().len(), proof.encoded_len());
        }
    }

    #[test]
    fn tampered_proofs_fail(ops in ops_strategy(), probe in key_strategy(), flip in any::<Index>()) {
        let (store, root, model) = build(&ops);
        let key = model.keys().next().copied().unwrap_or(probe);
        let proof = prove(&root, &key, &store).unwrap();
        let expected = proof.verify(&root, &key).unwrap();
        let bytes = proof.encode().unwrap();
        let mut bad = bytes.clone();
        let i = flip.index(bad.len());
        bad[i] ^= 0x01;
        // Either it no longer decodes, or it no longer proves the same thing under `root`.
        if let Ok(p) = StatusProof::decode(&bad) {
            let outcome = p.verify(&root, &key);
            prop_assert!(outcome.is_err() || outcome.unwrap() != expected);
        }
    }

    #[test]
    fn proof_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600), key in any::<[u8; 32]>()) {
        if let Ok(proof) = StatusProof::decode(&bytes) {
            let _ = proof.verify(&EMPTY_SUBTREE, &Hash(key));
            prop_assert_eq!(proof.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn arbitrary_proofs_never_panic_the_verifier(
        siblings in prop::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..40),
        bitmap in any::<[u8; 32]>(),
        leaf in prop::option::of((any::<[u8; 32]>(), any::<[u8; 32]>())),
        key in any::<[u8; 32]>(),
    ) {
        let proof = StatusProof {
            siblings,
            bitmap,
            terminal: match leaf {
                None => Terminal::Empty,
                Some((k, v)) => Terminal::Leaf { key: Hash(k), value_hash: Hash(v) },
            },
        };
        prop_assert!(proof.verify(&Hash([1; 32]), &Hash(key)).is_err());
        let _ = verify_absence(&Hash([1; 32]), &Hash(key), &proof);
    }

    #[test]
    fn node_key_bytes_round_trip(depth in 0u16..=256, key in any::<[u8; 32]>()) {
        let nk = NodeKey::new(depth, &key).unwrap();
        prop_assert_eq!(NodeKey::from_bytes(&nk.to_bytes()).unwrap(), nk);
        prop_assert!(nk.covers(&Hash(key)));
    }
}

#[test]
fn empty_map_proves_absence_of_everything() {
    let store = MemoryNodeStore::new();
    let proof = prove(&EMPTY_SUBTREE, &Hash([7; 32]), &store).unwrap();
    assert_eq!(proof.terminal, Terminal::Empty);
    assert!(proof.siblings.is_empty());
    assert!(verify_absence(&EMPTY_SUBTREE, &Hash([7; 32]), &proof).is_ok());
    assert_eq!(proof.encoded_len(), 34);
}

#[test]
fn malformed_proofs_get_precise_errors() {
    let proof = StatusProof {
        siblings: vec![Hash([1; 32])],
        bitmap: [0; 32],
        terminal: Terminal::Empty,
    };
    assert_eq!(
        verify_absence(&EMPTY_SUBTREE, &Hash([0; 32]), &proof),
        Err(ProofError::BitmapMismatch {
            bits: 0,
            siblings: 1
        })
    );
    let proof = StatusProof {
        siblings: vec![Hash([1; 32]); 257],
        bitmap: [0xFF; 32],
        terminal: Terminal::Empty,
    };
    assert_eq!(
        verify_absence(&EMPTY_SUBTREE, &Hash([0; 32]), &proof),
        Err(ProofError::TooManySiblings { found: 257 })
    );
    assert!(proof.encode().is_err());
    // A leaf with a different first bit cannot end the path of key 0x00.. at depth 1.
    let mut bitmap = [0u8; 32];
    bitmap[0] = 0x80;
    let proof = StatusProof {
        siblings: vec![Hash([1; 32])],
        bitmap,
        terminal: Terminal::Leaf {
            key: Hash([0xFF; 32]),
            value_hash: Hash([2; 32]),
        },
    };
    assert_eq!(
        verify_absence(&EMPTY_SUBTREE, &Hash([0; 32]), &proof),
        Err(ProofError::LeafNotOnPath)
    );
}

/// A store that counts reads, to show updates touch O(batch × depth) nodes.
struct CountingStore<'a> {
    inner: &'a MemoryNodeStore,
    calls: Cell<usize>,
    keys: Cell<usize>,
}

impl NodeStore for CountingStore<'_> {
    fn get_nodes(&self, keys: &[NodeKey]) -> Result<Vec<Option<Node>>, StatusMapError> {
        self.calls.set(self.calls.get() + 1);
        self.keys.set(self.keys.get() + keys.len());
        self.inner.get_nodes(keys)
    }
}

struct FailingStore;

impl NodeStore for FailingStore {
    fn get_nodes(&self, _keys: &[NodeKey]) -> Result<Vec<Option<Node>>, StatusMapError> {
        Err(StatusMapError::Store("disk on fire".into()))
    }
}

fn key_of(i: u64) -> Hash {
    Hash(Sha256::digest(i.to_le_bytes()).into())
}

fn value_of(i: u64) -> Hash {
    Hash(Sha256::digest((i ^ 0x5555).to_be_bytes()).into())
}

fn build_random(n: u64, batch: u64) -> (MemoryNodeStore, Hash) {
    let mut store = MemoryNodeStore::new();
    let mut root = EMPTY_SUBTREE;
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        let updates: Ops = (start..end)
            .map(|i| (key_of(i), Some(value_of(i))))
            .collect();
        let update = apply_updates(&root, &updates, &store).unwrap();
        store.apply(&update);
        root = update.new_root;
        start = end;
    }
    (store, root)
}

#[test]
fn updates_read_only_the_touched_paths_in_one_call_per_depth() {
    let (store, root) = build_random(10_000, 2_500);
    let counting = CountingStore {
        inner: &store,
        calls: Cell::new(0),
        keys: Cell::new(0),
    };
    // 10 replacements, 10 deletes, 10 inserts.
    let mut updates: Ops = (0..10).map(|i| (key_of(i), Some(Hash([1; 32])))).collect();
    updates.extend((10..20).map(|i| (key_of(i), None)));
    updates.extend((1_000_000..1_000_010).map(|i| (key_of(i), Some(value_of(i)))));
    let update = apply_updates(&root, &updates, &counting).unwrap();
    let depth_bound = 48; // far above the ~2·log2(10^4) ≈ 27 deepest path of 10^4 random keys
    assert!(
        counting.calls.get() <= depth_bound,
        "calls {}",
        counting.calls.get()
    );
    assert!(
        counting.keys.get() <= 2 * updates.len() * depth_bound,
        "read {} of {} nodes",
        counting.keys.get(),
        store.len()
    );
    let mut expected = store.clone();
    expected.apply(&update);
    let (_, again) = {
        let mut s = store.clone();
        let r = apply_in_batches(&updates, &[1], &mut s, root);
        (s, r)
    };
    assert_eq!(again, update.new_root);
    assert_eq!(
        apply_updates(&root, &updates, &FailingStore),
        Err(StatusMapError::Store("disk on fire".into()))
    );
}

#[test]
fn status_values_prove_under_their_subject_key() {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let subject = SubjectId::Organisation("91350100M000100Y43".into());
    let mut status = SubjectStatus::new(subject.clone());
    status.listings.push(Listing {
        entry: EntryRef {
            origin: "credx.test/350100".into(),
            index: 42,
            leaf_hash: Hash([4; 32]),
        },
        list_kind: "seriously-dishonest".into(),
        listed_on: date(2025, 1, 2),
        valid_until: Some(date(2028, 1, 1)),
        measures: vec!["bid-ban".into()],
        suspended: false,
    });
    status.add_record(status.listings[0].entry.clone());
    let mut store = MemoryNodeStore::new();
    let update = apply_updates(
        &EMPTY_SUBTREE,
        &[
            (subject.map_key(), Some(status.value_hash().unwrap())),
            (key_of(1), Some(value_of(1))),
        ],
        &store,
    )
    .unwrap();
    store.apply(&update);
    let proof = prove(&update.new_root, &subject.map_key(), &store).unwrap();
    assert!(verify_status(&update.new_root, &status, &proof).is_ok());
    let mut other = status.clone();
    other.subject = SubjectId::Organisation("91350100M000200Y43".into());
    assert!(verify_status(&update.new_root, &other, &proof).is_err());
    assert_eq!(status.active_listings_on(date(2028, 1, 2)).count(), 0);
}

#[test]
fn proof_size_at_100k_keys() {
    const N: u64 = 100_000;
    let (store, root) = build_random(N, 10_000);
    let mut max_present = 0;
    let mut total = 0;
    let mut max_siblings = 0;
    for i in 0..N {
        let proof = prove(&root, &key_of(i), &store).unwrap();
        let len = proof.encoded_len();
        max_present = max_present.max(len);
        max_siblings = max_siblings.max(proof.siblings.len());
        total += len;
        if i % 1_000 == 0 {
            assert_eq!(proof.verify(&root, &key_of(i)).unwrap(), Some(value_of(i)));
        }
    }
    let mut max_absent = 0;
    for i in N..N + 10_000 {
        let proof = prove(&root, &key_of(i), &store).unwrap();
        max_absent = max_absent.max(proof.encoded_len());
        if i % 1_000 == 0 {
            assert_eq!(proof.verify(&root, &key_of(i)).unwrap(), None);
        }
    }
    println!(
        "100k keys: {} stored nodes; proof bytes: mean present {}, max present {}, max absent \
         (10k probes) {}; max siblings {}",
        store.len(),
        total / N as usize,
        max_present,
        max_absent,
        max_siblings
    );
    assert!(max_present <= 1_536);
    assert!(max_absent <= 1_536);
}
