//! Known-answer tests for the merkle module.
//!
//! Vectors: the transparency-dev/merkle reference tree (`testonly/reference_test.go`, as copied
//! into ct-merkle 0.3 `tests/known_answer.rs`), whose roots also appear in the
//! certificate-transparency C++/Go test suites. The bad-proof probes follow transparency-dev's
//! `proof/verify_test.go` (`corruptInclusionProof`, `corruptConsistencyProof`).
#![allow(clippy::unwrap_used)]

use credx_protocol::merkle::{
    leaf_hash, root_of_leaves, tree_hash, verify_consistency, verify_inclusion, CompactRange, Hash,
    MemoryHashStore, ProofError, EMPTY_ROOT,
};

/// The eight reference entries (hex of the entry bytes).
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// `ROOTS[n]` is the root of the first `n` reference entries.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (tree size, leaf index, expected audit path).
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (1, 0, &[]),
    (
        2,
        0,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        2,
        1,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        3,
        2,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        5,
        1,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        8,
        0,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        8,
        5,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (old size, new size, expected consistency proof).
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(hex_text: &str) -> Hash {
    Hash::from_slice(&hex::decode(hex_text).unwrap()).unwrap()
}

fn hashes(hex_texts: &[&str]) -> Vec<Hash> {
    hex_texts.iter().map(|t| h(t)).collect()
}

fn entry(i: usize) -> Vec<u8> {
    hex::decode(LEAVES[i]).unwrap()
}

fn reference_store(size: u64) -> MemoryHashStore {
    let mut store = MemoryHashStore::new();
    for i in 0..size as usize {
        store.append(&entry(i));
    }
    store
}

/// A hash that is no root or node of the reference tree.
fn some_hash() -> Hash {
    leaf_hash(b"not in the reference tree")
}

fn flip(hash: &Hash, bit: u8) -> Hash {
    let mut out = *hash;
    out.0[0] ^= bit;
    out
}

#[test]
fn leaf_hashes_of_the_reference_entries() {
    // The empty entry's leaf hash is the size-1 root; the 0x00 entry's is the first path hash.
    assert_eq!(leaf_hash(&entry(0)), h(ROOTS[1]));
    assert_eq!(
        leaf_hash(&entry(1)),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")
    );
}

#[test]
fn roots_for_every_size() {
    assert_eq!(EMPTY_ROOT, h(ROOTS[0]));
    let leaves: Vec<Hash> = (0..8).map(|i| leaf_hash(&entry(i))).collect();
    let store = reference_store(8);
    let mut range = CompactRange::new();
    assert_eq!(range.root(), h(ROOTS[0]));
    for size in 0..=8usize {
        let want = h(ROOTS[size]);
        assert_eq!(
            root_of_leaves(&leaves[..size]),
            want,
            "root_of_leaves({size})"
        );
        assert_eq!(
            tree_hash(size as u64, &store).unwrap(),
            want,
            "tree_hash({size})"
        );
        assert_eq!(
            reference_store(size as u64).root(),
            want,
            "store root {size}"
        );
        if size > 0 {
            range.append_entry(&entry(size - 1)).unwrap();
            assert_eq!(range.root(), want, "compact range {size}");
        }
    }
}

#[test]
fn inclusion_vectors_are_reproduced_and_verify() {
    for &(size, index, expected) in INCLUSION {
        let store = reference_store(size);
        let proof = store.prove_inclusion(index).unwrap();
        assert_eq!(proof.hashes, hashes(expected), "proof ({index}, {size})");
        assert_eq!((proof.index, proof.size), (index, size));
        let leaf = leaf_hash(&entry(index as usize));
        let root = h(ROOTS[size as usize]);
        assert_eq!(proof.verify(&leaf, &root), Ok(()), "({index}, {size})");
    }
}

#[test]
fn consistency_vectors_are_reproduced_and_verify() {
    for &(old, new, expected) in CONSISTENCY {
        let store = reference_store(new);
        let proof = store.prove_consistency(old).unwrap();
        assert_eq!(proof.hashes, hashes(expected), "proof ({old}, {new})");
        let (old_root, new_root) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        assert_eq!(proof.verify(&old_root, &new_root), Ok(()), "({old}, {new})");
    }
}

/// transparency-dev `corruptInclusionProof`, plus a wrong-leaf probe per element.
#[test]
fn corrupted_inclusion_proofs_fail() {
    for &(size, index, expected) in INCLUSION {
        let proof = hashes(expected);
        let root = h(ROOTS[size as usize]);
        let leaf = leaf_hash(&entry(index as usize));
        let mut probes: Vec<(String, u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (
                "index - 1".into(),
                index.wrapping_sub(1),
                size,
                root,
                leaf,
                proof.clone(),
            ),
            (
                "index + 1".into(),
                index + 1,
                size,
                root,
                leaf,
                proof.clone(),
            ),
            (
                "index ^ 2".into(),
                index ^ 2,
                size,
                root,
                leaf,
                proof.clone(),
            ),
            (
                "size * 2".into(),
                index,
                size * 2,
                root,
                leaf,
                proof.clone(),
            ),
            (
                "size / 2".into(),
                index,
                size / 2,
                root,
                leaf,
                proof.clone(),
            ),
            (
                "wrong leaf".into(),
                index,
                size,
                root,
                leaf_hash(b"WrongLeaf"),
                proof.clone(),
            ),
            (
                "empty root".into(),
                index,
                size,
                EMPTY_ROOT,
                leaf,
                proof.clone(),
            ),
            (
                "random root".into(),
                index,
                size,
                some_hash(),
                leaf,
                proof.clone(),
            ),
        ];
        for (name, extra) in [("garbage", Hash::default()), ("root", root)] {
            let mut trailing = proof.clone();
            trailing.push(extra);
            probes.push((
                format!("trailing {name}"),
                index,
                size,
                root,
                leaf,
                trailing,
            ));
            let mut preceding = vec![extra];
            preceding.extend(proof.iter().copied());
            probes.push((
                format!("preceding {name}"),
                index,
                size,
                root,
                leaf,
                preceding,
            ));
        }
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i] = flip(&wrong[i], 8);
            probes.push((format!("proof[{i}] bit 3"), index, size, root, leaf, wrong));
        }
        if let Some((_, shorter)) = proof.split_last() {
            probes.push((
                "removed component".into(),
                index,
                size,
                root,
                leaf,
                shorter.to_vec(),
            ));
        }
        if proof.len() > 1 {
            let mut inserted = vec![proof[0], some_hash()];
            inserted.extend(proof[1..].iter().copied());
            probes.push((
                "inserted component".into(),
                index,
                size,
                root,
                leaf,
                inserted,
            ));
        }
        for (name, index, size, root, leaf, proof) in probes {
            assert!(
                verify_inclusion(&leaf, index, size, &proof, &root).is_err(),
                "{name} accepted for vector ({}, {})",
                index,
                size
            );
        }
    }
}

/// transparency-dev `corruptConsistencyProof`.
#[test]
fn corrupted_consistency_proofs_fail() {
    for &(old, new, expected) in CONSISTENCY {
        let proof = hashes(expected);
        let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        let mut probes: Vec<(String, u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            ("old - 1".into(), old - 1, new, r1, r2, proof.clone()),
            ("old + 1".into(), old + 1, new, r1, r2, proof.clone()),
            ("old ^ 2".into(), old ^ 2, new, r1, r2, proof.clone()),
            ("new * 2".into(), old, new * 2, r1, r2, proof.clone()),
            ("new / 2".into(), old, new / 2, r1, r2, proof.clone()),
            (
                "wrong old root".into(),
                old,
                new,
                EMPTY_ROOT,
                r2,
                proof.clone(),
            ),
            (
                "wrong new root".into(),
                old,
                new,
                r1,
                EMPTY_ROOT,
                proof.clone(),
            ),
        ];
        if r1 != r2 {
            probes.push(("swapped roots".into(), old, new, r2, r1, proof.clone()));
        }
        if !proof.is_empty() {
            probes.push(("empty proof".into(), old, new, r1, r2, Vec::new()));
            let mut preceding = vec![proof[0]];
            preceding.extend(proof.iter().copied());
            probes.push(("preceding proof[0]".into(), old, new, r1, r2, preceding));
            probes.push((
                "truncated".into(),
                old,
                new,
                r1,
                r2,
                proof[..proof.len() - 1].to_vec(),
            ));
        }
        for (name, extra) in [("garbage", Hash::default()), ("root1", r1), ("root2", r2)] {
            let mut trailing = proof.clone();
            trailing.push(extra);
            probes.push((format!("trailing {name}"), old, new, r1, r2, trailing));
            let mut preceding = vec![extra];
            preceding.extend(proof.iter().copied());
            probes.push((format!("preceding {name}"), old, new, r1, r2, preceding));
        }
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i] = flip(&wrong[i], 16);
            probes.push((format!("proof[{i}] bit 4"), old, new, r1, r2, wrong));
        }
        for (name, o, n, r1, r2, p) in probes {
            assert!(
                verify_consistency(o, &r1, n, &r2, &p).is_err(),
                "{name} accepted for vector ({old}, {new})"
            );
        }
    }
}

#[test]
fn consistency_between_every_pair_of_reference_sizes() {
    let store = reference_store(8);
    for new in 0..=8u64 {
        for old in 0..=new {
            let proof = credx_protocol::merkle::prove_consistency(old, new, &store).unwrap();
            assert_eq!(
                proof.verify(&h(ROOTS[old as usize]), &h(ROOTS[new as usize])),
                Ok(()),
                "({old}, {new})"
            );
        }
    }
}

#[test]
fn precise_errors_on_the_reference_tree() {
    let root8 = h(ROOTS[8]);
    let leaf5 = leaf_hash(&entry(5));
    let path: Vec<Hash> = hashes(INCLUSION[6].2);
    assert_eq!(
        verify_inclusion(&leaf5, 8, 8, &path, &root8),
        Err(ProofError::IndexBeyondSize { index: 8, size: 8 })
    );
    assert_eq!(
        verify_inclusion(&leaf5, 5, 8, &path[..2], &root8),
        Err(ProofError::WrongProofLength {
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        verify_inclusion(&leaf5, 5, 8, &path, &h(ROOTS[7])),
        Err(ProofError::RootMismatch)
    );
    let c68 = hashes(CONSISTENCY[3].2);
    assert_eq!(
        verify_consistency(6, &h(ROOTS[5]), 8, &root8, &c68),
        Err(ProofError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(6, &h(ROOTS[6]), 8, &h(ROOTS[7]), &c68),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(8, &root8, 6, &h(ROOTS[6]), &c68),
        Err(ProofError::OldSizeExceedsNew {
            old_size: 8,
            new_size: 6
        })
    );
    assert_eq!(
        verify_consistency(8, &root8, 8, &h(ROOTS[7]), &[]),
        Err(ProofError::SameSizeDifferentRoots)
    );
    assert_eq!(
        verify_consistency(0, &root8, 8, &root8, &[]),
        Err(ProofError::EmptyOldTree)
    );
}
