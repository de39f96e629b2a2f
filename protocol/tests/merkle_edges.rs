//! Edge cases of the merkle module: empty and one-leaf trees, power-of-two boundaries,
//! old == new and old == 0 consistency, size limits, reader failures, serde.
#![allow(clippy::unwrap_used)]

use std::cell::Cell;

use credx_protocol::merkle::{
    leaf_hash, node_hash, prove_consistency, prove_inclusion, root_of_leaves, stored_hash_count,
    stored_hashes_for_record, tree_hash, verify_consistency, verify_inclusion, CompactRange,
    ConsistencyProof, Hash, HashReader, InclusionProof, MemoryHashStore, MerkleError, ProofError,
    EMPTY_ROOT, MAX_PROOF_HASHES, MAX_TREE_SIZE,
};

fn store_of(size: u64) -> MemoryHashStore {
    let mut store = MemoryHashStore::new();
    for i in 0..size {
        store.append(format!("entry {i}").as_bytes());
    }
    store
}

fn leaves_of(size: u64) -> Vec<Hash> {
    (0..size)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

/// A reader that must not be called: any call turns the result into an error the
/// assertions would not expect.
struct NoReads;

impl HashReader for NoReads {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        Err(MerkleError::Reader(format!(
            "unexpected read of {indexes:?}"
        )))
    }
}

/// A reader that misbehaves in a chosen way and counts calls.
struct Faulty {
    returns: Option<usize>,
    calls: Cell<usize>,
}

impl HashReader for Faulty {
    fn read_hashes(&self, _indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.calls.set(self.calls.get() + 1);
        match self.returns {
            Some(n) => Ok(vec![EMPTY_ROOT; n]),
            None => Err(MerkleError::Reader("disk on fire".into())),
        }
    }
}

#[test]
fn empty_tree() {
    assert_eq!(tree_hash(0, &NoReads), Ok(EMPTY_ROOT));
    assert_eq!(root_of_leaves(&[]), EMPTY_ROOT);
    assert_eq!(MemoryHashStore::new().root(), EMPTY_ROOT);
    assert_eq!(
        CompactRange::from_reader(0, &NoReads).unwrap().root(),
        EMPTY_ROOT
    );
    assert_eq!(stored_hash_count(0), 0);
    assert_eq!(
        prove_inclusion(0, 0, &NoReads),
        Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        verify_inclusion(&EMPTY_ROOT, 0, 0, &[], &EMPTY_ROOT),
        Err(ProofError::IndexBeyondSize { index: 0, size: 0 })
    );
    let proof = prove_consistency(0, 0, &NoReads).unwrap();
    assert!(proof.hashes.is_empty());
    assert_eq!(proof.verify(&EMPTY_ROOT, &EMPTY_ROOT), Ok(()));
    assert_eq!(
        verify_consistency(0, &EMPTY_ROOT, 0, &leaf_hash(b"x"), &[]),
        Err(ProofError::SameSizeDifferentRoots)
    );
}

#[test]
fn one_leaf_tree() {
    let store = store_of(1);
    let leaf = leaf_hash(b"entry 0");
    assert_eq!(store.root(), leaf);
    assert_eq!(tree_hash(1, &store), Ok(leaf));
    let proof = store.prove_inclusion(0).unwrap();
    assert!(proof.hashes.is_empty());
    assert_eq!(proof.verify(&leaf, &leaf), Ok(()));
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &[leaf], &leaf),
        Err(ProofError::WrongProofLength {
            expected: 0,
            found: 1
        })
    );
    assert_eq!(
        verify_inclusion(&leaf_hash(b"other"), 0, 1, &[], &leaf),
        Err(ProofError::RootMismatch)
    );
    // 1 -> 2: the old tree is a perfect tree, so the proof is just the new right leaf.
    let store = store_of(2);
    let proof = store.prove_consistency(1).unwrap();
    assert_eq!(proof.hashes, vec![leaf_hash(b"entry 1")]);
    assert_eq!(proof.verify(&leaf, &store.root()), Ok(()));
}

#[test]
fn consistency_from_the_empty_tree() {
    let store = store_of(5);
    let proof = store.prove_consistency(0).unwrap();
    assert_eq!(
        proof,
        ConsistencyProof {
            old_size: 0,
            new_size: 5,
            hashes: vec![]
        }
    );
    assert_eq!(proof.verify(&EMPTY_ROOT, &store.root()), Ok(()));
    // Any proof material at all is wrong.
    assert_eq!(
        verify_consistency(0, &EMPTY_ROOT, 5, &store.root(), &[store.root()]),
        Err(ProofError::WrongProofLength {
            expected: 0,
            found: 1
        })
    );
    // A size-0 checkpoint must carry the empty-tree root.
    assert_eq!(
        verify_consistency(0, &store.root(), 5, &store.root(), &[]),
        Err(ProofError::EmptyOldTree)
    );
}

#[test]
fn consistency_with_equal_sizes() {
    let store = store_of(6);
    let root = store.root();
    let proof = store.prove_consistency(6).unwrap();
    assert!(proof.hashes.is_empty());
    assert_eq!(proof.verify(&root, &root), Ok(()));
    assert_eq!(
        verify_consistency(6, &root, 6, &root, &[root]),
        Err(ProofError::WrongProofLength {
            expected: 0,
            found: 1
        })
    );
    assert_eq!(
        verify_consistency(6, &root, 6, &tree_hash(5, &store).unwrap(), &[]),
        Err(ProofError::SameSizeDifferentRoots)
    );
}

#[test]
fn power_of_two_boundaries() {
    let store = store_of(4097);
    let leaves = leaves_of(4097);
    for k in 0..=12u32 {
        let p = 1u64 << k;
        for size in [p - 1, p, p + 1] {
            if size == 0 {
                continue;
            }
            let root = tree_hash(size, &store).unwrap();
            assert_eq!(
                root,
                root_of_leaves(&leaves[..size as usize]),
                "size {size}"
            );
            for index in [0, size / 2, size - 1] {
                let proof = prove_inclusion(size, index, &store).unwrap();
                // A perfect tree of 2^k leaves has paths of exactly k hashes.
                if size == p {
                    assert_eq!(proof.hashes.len(), k as usize);
                }
                assert_eq!(proof.verify(&leaves[index as usize], &root), Ok(()));
            }
            for old in [1, p - 1, p, p + 1] {
                if old == 0 || old > size {
                    continue;
                }
                let proof = prove_consistency(old, size, &store).unwrap();
                let old_root = tree_hash(old, &store).unwrap();
                assert_eq!(proof.verify(&old_root, &root), Ok(()), "{old} -> {size}");
            }
        }
    }
    // Perfect old tree: its root is omitted from the proof, so 2^k -> 2^(k+1) needs one hash.
    let proof = prove_consistency(2048, 4096, &store).unwrap();
    assert_eq!(proof.hashes, vec![root_of_leaves(&leaves[2048..4096])]);
}

#[test]
fn overlong_proofs_are_rejected_before_anything_else() {
    let long = vec![EMPTY_ROOT; MAX_PROOF_HASHES + 1];
    assert_eq!(
        verify_inclusion(&EMPTY_ROOT, 5, 3, &long, &EMPTY_ROOT),
        Err(ProofError::ProofTooLong { len: 65 })
    );
    assert_eq!(
        verify_consistency(9, &EMPTY_ROOT, 3, &EMPTY_ROOT, &long),
        Err(ProofError::ProofTooLong { len: 65 })
    );
    // Exactly the cap is a length question, not a "too long" one.
    let capped = vec![EMPTY_ROOT; MAX_PROOF_HASHES];
    assert_eq!(
        verify_inclusion(&EMPTY_ROOT, 0, u64::MAX, &capped, &EMPTY_ROOT),
        Err(ProofError::RootMismatch)
    );
}

#[test]
fn invalid_requests() {
    let store = store_of(10);
    assert_eq!(
        store.prove_inclusion(10),
        Err(MerkleError::IndexOutOfRange {
            index: 10,
            size: 10
        })
    );
    assert_eq!(
        prove_consistency(11, 10, &store),
        Err(MerkleError::OldSizeExceedsNew {
            old_size: 11,
            new_size: 10
        })
    );
    assert_eq!(
        verify_consistency(11, &EMPTY_ROOT, 10, &EMPTY_ROOT, &[]),
        Err(ProofError::OldSizeExceedsNew {
            old_size: 11,
            new_size: 10
        })
    );
    // Asking beyond what is stored is a missing hash, not a panic.
    assert_eq!(
        tree_hash(11, &store),
        Err(MerkleError::MissingHash {
            index: stored_hash_count(10)
        })
    );
    let too_big = MAX_TREE_SIZE + 1;
    let out_of_range = Err(MerkleError::SizeOutOfRange {
        size: too_big,
        max: MAX_TREE_SIZE,
    });
    assert_eq!(tree_hash(too_big, &NoReads), out_of_range.clone());
    assert_eq!(
        prove_inclusion(too_big, 0, &NoReads).map(|p| p.index),
        out_of_range.clone().map(|_: Hash| 0)
    );
    assert_eq!(
        prove_consistency(1, too_big, &NoReads).map(|p| p.old_size),
        out_of_range.map(|_: Hash| 0)
    );
    assert_eq!(
        stored_hashes_for_record(MAX_TREE_SIZE, EMPTY_ROOT, &NoReads),
        Err(MerkleError::SizeOutOfRange {
            size: too_big,
            max: MAX_TREE_SIZE
        })
    );
}

#[test]
fn reader_failures_are_reported() {
    let short = Faulty {
        returns: Some(1),
        calls: Cell::new(0),
    };
    assert_eq!(
        tree_hash(7, &short),
        Err(MerkleError::WrongHashCount {
            requested: 3,
            returned: 1
        })
    );
    assert_eq!(short.calls.get(), 1);
    let failing = Faulty {
        returns: None,
        calls: Cell::new(0),
    };
    assert_eq!(
        prove_inclusion(7, 3, &failing),
        Err(MerkleError::Reader("disk on fire".into()))
    );
    assert_eq!(
        stored_hashes_for_record(7, EMPTY_ROOT, &failing),
        Err(MerkleError::Reader("disk on fire".into()))
    );
    assert_eq!(failing.calls.get(), 2);
    // Record 6 completes nothing (6 = 0b110): no read at all.
    assert_eq!(
        stored_hashes_for_record(6, EMPTY_ROOT, &NoReads),
        Ok(vec![EMPTY_ROOT])
    );
}

#[test]
fn memory_store_layout_and_dyn_reader() {
    let mut store = MemoryHashStore::new();
    for i in 0..100u64 {
        assert_eq!(store.append(&i.to_be_bytes()), i);
        assert_eq!(store.hashes().len() as u64, stored_hash_count(i + 1));
    }
    // Record 3 (0b11) completes two subtrees: [2,4) and [0,4).
    let l: Vec<Hash> = (0..4u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let n01 = node_hash(&l[0], &l[1]);
    let n23 = node_hash(&l[2], &l[3]);
    assert_eq!(
        &store.hashes()[..7],
        &[l[0], l[1], n01, l[2], l[3], n23, node_hash(&n01, &n23)]
    );

    let reader: &dyn HashReader = &store;
    assert_eq!(tree_hash(100, &reader), Ok(store.root()));
    assert_eq!(store.compact_range().size(), 100);
}

#[test]
fn proofs_round_trip_through_serde() {
    let store = store_of(13);
    let inclusion = store.prove_inclusion(7).unwrap();
    let json = serde_json::to_string(&inclusion).unwrap();
    assert_eq!(
        serde_json::from_str::<InclusionProof>(&json).unwrap(),
        inclusion
    );
    let consistency = store.prove_consistency(5).unwrap();
    let json = serde_json::to_string(&consistency).unwrap();
    assert_eq!(
        serde_json::from_str::<ConsistencyProof>(&json).unwrap(),
        consistency
    );
}

#[test]
fn compact_range_extends_a_known_frontier() {
    // The sync use: a receiver trusts (size 700, root); it gets entries 700..1000 and the
    // sender's root for 1000, and checks them without a store.
    let sender = store_of(1000);
    let receiver_store = store_of(700);
    let mut range = CompactRange::from_reader(700, &receiver_store).unwrap();
    assert_eq!(range.root(), receiver_store.root());
    for i in 700..1000u64 {
        range.append_entry(format!("entry {i}").as_bytes()).unwrap();
    }
    assert_eq!(range.root(), sender.root());
    // And the frontier is what a fresh store would produce.
    assert_eq!(&range, sender.compact_range());
}
