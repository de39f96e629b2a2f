//! Differential property tests: our Merkle code against three independent implementations.
//!
//! * `tlog_tiles` 0.2 — a port of Go `sumdb/tlog`, the algorithm family our stored-hash code
//!   follows, so its stored-hash *layout* must match ours hash for hash.
//! * `ct-merkle` 0.3 — an unrelated RFC 6962 implementation (needs leaf values, not hashes,
//!   and a digest-0.11 hasher; [`Sha256Digest011`] adapts our sha2 0.10).
//! * `rs_merkle` 1.5 with an RFC 6962 hasher — roots and audit paths only.
//!
//! Logs have distinct entries, so no two leaves (or equal-shaped subtrees) share a hash; that
//! is what lets "a proof for index i does not verify at index j" be asserted.
#![allow(clippy::unwrap_used)]

use std::cell::{Cell, RefCell};

use credx_protocol::merkle::{
    leaf_hash, node_hash, prove_consistency, prove_inclusion, root_of_leaves,
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_record,
    tree_hash, verify_consistency, verify_inclusion, CompactRange, Hash, HashReader,
    MemoryHashStore, MerkleError, ProofError, EMPTY_ROOT, MAX_PROOF_HASHES,
};
use ct_merkle::digest::{consts::U32, FixedOutput, HashMarker, Output, OutputSizeUser, Update};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Oracle adapters.

/// sha2 0.10's SHA-256 behind the digest 0.11 traits ct-merkle 0.3 is generic over.
#[derive(Clone, Default)]
struct Sha256Digest011(sha2::Sha256);

impl HashMarker for Sha256Digest011 {}

impl Update for Sha256Digest011 {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }
}

impl OutputSizeUser for Sha256Digest011 {
    type OutputSize = U32;
}

impl FixedOutput for Sha256Digest011 {
    fn finalize_into(self, out: &mut Output<Self>) {
        out.copy_from_slice(&sha2::Digest::finalize(self.0));
    }
}

type CtTree = MemoryBackedTree<Sha256Digest011, Vec<u8>>;

fn ct_root(hash: &Hash, size: u64) -> ct_merkle::RootHash<Sha256Digest011> {
    ct_merkle::RootHash::new(
        Output::<Sha256Digest011>::try_from(&hash.0[..]).unwrap(),
        size,
    )
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

fn ct_verify_inclusion(root: &Hash, size: u64, entry: &[u8], index: u64, proof: &[Hash]) -> bool {
    let proof =
        ct_merkle::InclusionProof::<Sha256Digest011>::try_from_bytes(concat(proof)).unwrap();
    ct_root(root, size)
        .verify_inclusion(&entry, index, &proof)
        .is_ok()
}

fn ct_verify_consistency(old: u64, r1: &Hash, new: u64, r2: &Hash, proof: &[Hash]) -> bool {
    let proof =
        ct_merkle::ConsistencyProof::<Sha256Digest011>::try_from_bytes(concat(proof)).unwrap();
    ct_root(r2, new)
        .verify_consistency(&ct_root(r1, old), &proof)
        .is_ok()
}

/// RFC 6962 interior hashing for rs_merkle; `None` (a lone right-most node) is promoted.
#[derive(Clone)]
struct Rfc6962Hasher;

impl rs_merkle::Hasher for Rfc6962Hasher {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        <sha2::Sha256 as sha2::Digest>::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => node_hash(&Hash(*left), &Hash(*right)).0,
            None => *left,
        }
    }
}

/// tlog_tiles' own stored-hash layout, built by tlog_tiles.
struct TlogHashes(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for TlogHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| self.0.get(i as usize).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or(tlog_tiles::Error::IndexesNotInTree)
    }
}

fn th(hash: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(hash.0)
}

fn ours(hashes: &[tlog_tiles::Hash]) -> Vec<Hash> {
    hashes.iter().map(|h| Hash(h.0)).collect()
}

/// Our `HashReader` over a `MemoryHashStore` that records how it is called: the contract is
/// one `read_hashes` per root or proof, with strictly increasing indexes.
struct CountingReader<'a> {
    store: &'a MemoryHashStore,
    calls: Cell<usize>,
    requests: RefCell<Vec<Vec<u64>>>,
}

impl<'a> CountingReader<'a> {
    fn new(store: &'a MemoryHashStore) -> Self {
        CountingReader {
            store,
            calls: Cell::new(0),
            requests: RefCell::new(Vec::new()),
        }
    }

    /// Calls made since the last check; asserts each request was non-empty and sorted.
    fn take_calls(&self) -> usize {
        for request in self.requests.borrow_mut().drain(..) {
            assert!(!request.is_empty(), "empty read_hashes call");
            assert!(
                request.windows(2).all(|w| w[0] < w[1]),
                "indexes not strictly increasing: {request:?}"
            );
        }
        self.calls.replace(0)
    }
}

impl HashReader for CountingReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.calls.set(self.calls.get() + 1);
        self.requests.borrow_mut().push(indexes.to_vec());
        self.store.read_hashes(indexes)
    }
}

// ---------------------------------------------------------------------------------------------
// A random log, held by us and by every oracle.

struct Log {
    entries: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
    store: MemoryHashStore,
    tlog: TlogHashes,
    ct: CtTree,
}

/// Distinct entries of varying length (one empty entry in some logs).
fn entry(seed: u64, i: u64) -> Vec<u8> {
    if i == 0 && seed.is_multiple_of(5) {
        return Vec::new();
    }
    let mut bytes = format!("{seed:016x}/{i}").into_bytes();
    let pad = ((seed >> 8) ^ i.wrapping_mul(0x9e37_79b9)) % 41;
    bytes.extend(std::iter::repeat_n(i as u8, pad as usize));
    bytes
}

fn build_log(seed: u64, size: u64) -> Log {
    let mut log = Log {
        entries: Vec::new(),
        leaves: Vec::new(),
        store: MemoryHashStore::new(),
        tlog: TlogHashes(Vec::new()),
        ct: CtTree::new(),
    };
    for i in 0..size {
        let e = entry(seed, i);
        let stored = tlog_tiles::stored_hashes(i, &e, &log.tlog).unwrap();
        log.tlog.0.extend(stored);
        assert_eq!(log.store.append(&e), i);
        log.leaves.push(leaf_hash(&e));
        log.ct.push(e.clone());
        log.entries.push(e);
    }
    log
}

/// Indexes to probe in a log of `size`: all of them for small logs, otherwise the edges,
/// the power-of-two boundaries and a random sample.
fn sample(size: u64, seed: u64, count: usize) -> Vec<u64> {
    if size <= count as u64 {
        return (0..size).collect();
    }
    let mut picks = vec![0, 1, size / 2, size - 2, size - 1];
    let mut p = 1u64;
    while p < size {
        picks.extend([p - 1, p, (p + 1).min(size - 1)]);
        p <<= 1;
    }
    let mut state = seed | 1;
    while picks.len() < count {
        // xorshift64: deterministic per case, so failures reproduce from the proptest seed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        picks.push(state % size);
    }
    picks.sort_unstable();
    picks.dedup();
    picks
}

fn sizes() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..2000, 1 => 4095u64..=4097]
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(32))]

    /// Roots and the stored layout agree with every oracle, for every prefix.
    #[test]
    fn roots_and_layout_match_the_oracles(seed in any::<u64>(), size in sizes()) {
        let log = build_log(seed, size);
        // Same stored hashes, at the same indexes, as Go's layout.
        let tlog_layout = ours(&log.tlog.0);
        prop_assert_eq!(log.store.hashes(), &tlog_layout[..]);
        prop_assert_eq!(log.store.hashes().len() as u64, stored_hash_count(size));

        let ours_root = tree_hash(size, &log.store).unwrap();
        prop_assert_eq!(ours_root, Hash(tlog_tiles::tree_hash(size, &log.tlog).unwrap().0));
        let ct_root = log.ct.root();
        prop_assert_eq!(&ours_root.0[..], ct_root.as_bytes().as_slice());
        let rs_root = rs_merkle::MerkleTree::<Rfc6962Hasher>::from_leaves(
            &log.leaves.iter().map(|h| h.0).collect::<Vec<_>>(),
        )
        .root()
        .map_or(EMPTY_ROOT, Hash);
        prop_assert_eq!(ours_root, rs_root);
        prop_assert_eq!(ours_root, root_of_leaves(&log.leaves));
        prop_assert_eq!(ours_root, log.store.root());

        // Every prefix: the frontier, the stored hashes and tlog_tiles agree.
        let reader = CountingReader::new(&log.store);
        let mut range = CompactRange::new();
        for prefix in 0..=size {
            let root = tree_hash(prefix, &reader).unwrap();
            prop_assert_eq!(reader.take_calls(), usize::from(prefix > 0));
            prop_assert_eq!(range.root(), root, "prefix {}", prefix);
            prop_assert_eq!(
                root,
                Hash(tlog_tiles::tree_hash(prefix, &log.tlog).unwrap().0)
            );
            let loaded = CompactRange::from_reader(prefix, &reader).unwrap();
            prop_assert_eq!(reader.take_calls(), usize::from(prefix > 0));
            prop_assert_eq!(&loaded, &range);
            if prefix < size {
                range.append(log.leaves[prefix as usize]).unwrap();
            }
        }
        for prefix in sample(size + 1, seed, 8) {
            prop_assert_eq!(
                tree_hash(prefix, &log.store).unwrap(),
                root_of_leaves(&log.leaves[..prefix as usize])
            );
        }
    }

    /// `stored_hashes_for_record` writes exactly what tlog_tiles writes, at the promised
    /// indexes, with at most one read.
    #[test]
    fn stored_hashes_for_record_matches_tlog(seed in any::<u64>(), size in 1u64..600) {
        let log = build_log(seed, size);
        let reader = CountingReader::new(&log.store);
        for n in 0..size {
            let hashes = stored_hashes_for_record(n, log.leaves[n as usize], &reader).unwrap();
            prop_assert!(reader.take_calls() <= 1);
            let (from, to) = (stored_hash_count(n) as usize, stored_hash_count(n + 1) as usize);
            prop_assert_eq!(&hashes[..], &log.store.hashes()[from..to]);
            prop_assert_eq!(hashes[0], log.leaves[n as usize]);
        }
    }

    /// Inclusion proofs: ours equal tlog_tiles' and ct-merkle's and rs_merkle's audit paths,
    /// ours verify with all three verifiers, theirs verify with ours.
    #[test]
    fn inclusion_proofs_match_the_oracles(seed in any::<u64>(), size in sizes()) {
        prop_assume!(size > 0);
        let log = build_log(seed, size);
        let root = log.store.root();
        let rs_tree = rs_merkle::MerkleTree::<Rfc6962Hasher>::from_leaves(
            &log.leaves.iter().map(|h| h.0).collect::<Vec<_>>(),
        );
        let reader = CountingReader::new(&log.store);
        for index in sample(size, seed, 64) {
            let proof = prove_inclusion(size, index, &reader).unwrap();
            prop_assert_eq!(reader.take_calls(), usize::from(size > 1));
            prop_assert!(proof.hashes.len() <= MAX_PROOF_HASHES);
            let leaf = log.leaves[index as usize];
            let entry = &log.entries[index as usize];

            // Ours verifies with ours and with both independent verifiers.
            prop_assert_eq!(proof.verify(&leaf, &root), Ok(()));
            let tlog_proof: Vec<_> = proof.hashes.iter().map(th).collect();
            prop_assert!(
                tlog_tiles::check_record(&tlog_proof, size, th(&root), index, th(&leaf)).is_ok()
            );
            prop_assert!(ct_verify_inclusion(&root, size, entry, index, &proof.hashes));

            // Theirs verify with ours (and, being RFC 6962 paths, are identical to ours).
            let tlog_made = ours(&tlog_tiles::prove_record(size, index, &log.tlog).unwrap());
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &tlog_made, &root), Ok(()));
            let ct_proof = log.ct.prove_inclusion(index as usize);
            let ct_made: Vec<Hash> = ct_proof
                .as_bytes()
                .chunks(32)
                .map(|c| Hash::from_slice(c).unwrap())
                .collect();
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &ct_made, &root), Ok(()));
            let rs_made: Vec<Hash> = rs_tree
                .proof(&[index as usize])
                .proof_hashes()
                .iter()
                .map(|h| Hash(*h))
                .collect();
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &rs_made, &root), Ok(()));
            prop_assert_eq!(&proof.hashes, &tlog_made);
            prop_assert_eq!(&proof.hashes, &ct_made);
            prop_assert_eq!(&proof.hashes, &rs_made);
        }
    }

    /// Consistency proofs: ours equal tlog_tiles' and ct-merkle's, ours verify with both,
    /// theirs verify with ours.
    #[test]
    fn consistency_proofs_match_the_oracles(seed in any::<u64>(), new in sizes()) {
        let log = build_log(seed, new);
        let new_root = log.store.root();
        let reader = CountingReader::new(&log.store);
        for old in sample(new + 1, seed, 48) {
            let proof = prove_consistency(old, new, &reader).unwrap();
            prop_assert_eq!(reader.take_calls(), usize::from(old > 0 && old < new));
            prop_assert!(proof.hashes.len() <= MAX_PROOF_HASHES);
            let old_root = tree_hash(old, &log.store).unwrap();
            prop_assert_eq!(proof.verify(&old_root, &new_root), Ok(()));
            if old == 0 {
                // Neither oracle defines consistency with the empty tree.
                prop_assert!(proof.hashes.is_empty());
                continue;
            }
            let tlog_proof: Vec<_> = proof.hashes.iter().map(th).collect();
            prop_assert!(
                tlog_tiles::check_tree(&tlog_proof, new, th(&new_root), old, th(&old_root)).is_ok()
            );
            prop_assert!(ct_verify_consistency(old, &old_root, new, &new_root, &proof.hashes));

            let tlog_made = ours(&tlog_tiles::prove_tree(new, old, &log.tlog).unwrap());
            prop_assert_eq!(
                verify_consistency(old, &old_root, new, &new_root, &tlog_made),
                Ok(())
            );
            let ct_made: Vec<Hash> = log
                .ct
                .prove_consistency((new - old) as usize)
                .as_bytes()
                .chunks(32)
                .map(|c| Hash::from_slice(c).unwrap())
                .collect();
            prop_assert_eq!(
                verify_consistency(old, &old_root, new, &new_root, &ct_made),
                Ok(())
            );
            prop_assert_eq!(&proof.hashes, &tlog_made);
            prop_assert_eq!(&proof.hashes, &ct_made);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Tampering with a valid inclusion claim makes ours reject it. Changing only the size is
    /// not always detectable — RFC 6962 paths do not bind the tree size (e.g. the path of leaf
    /// 0 is the same shape in trees of 5..=8 leaves) — so there we require agreement with
    /// both independent verifiers instead.
    #[test]
    fn mutated_inclusion_claims_fail(
        seed in any::<u64>(),
        size in 1u64..300,
        pick in any::<u64>(),
        other in any::<u64>(),
        bit in 0u8..8,
        byte in 0usize..32,
        size_delta in -70i64..70,
    ) {
        let log = build_log(seed, size);
        let root = log.store.root();
        let index = pick % size;
        let leaf = log.leaves[index as usize];
        let proof = log.store.prove_inclusion(index).unwrap().hashes;

        let flipped = |h: &Hash| { let mut h = *h; h.0[byte] ^= 1 << bit; h };

        // Different root, different leaf.
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &flipped(&root)).is_err());
        prop_assert!(verify_inclusion(&flipped(&leaf), index, size, &proof, &root).is_err());
        let other_leaf = log.leaves[(other % size) as usize];
        if other_leaf != leaf {
            prop_assert!(verify_inclusion(&other_leaf, index, size, &proof, &root).is_err());
        }
        // Any changed, missing or extra hash.
        if !proof.is_empty() {
            let at = (other as usize) % proof.len();
            let mut changed = proof.clone();
            changed[at] = flipped(&changed[at]);
            prop_assert_eq!(
                verify_inclusion(&leaf, index, size, &changed, &root),
                Err(ProofError::RootMismatch)
            );
            let mut missing = proof.clone();
            missing.remove(at);
            prop_assert!(verify_inclusion(&leaf, index, size, &missing, &root).is_err());
        }
        let mut extra = proof.clone();
        extra.insert((other as usize) % (proof.len() + 1), flipped(&root));
        prop_assert!(verify_inclusion(&leaf, index, size, &extra, &root).is_err());
        // Another index: leaves are distinct, so the path cannot fit elsewhere.
        let wrong_index = other % size;
        if wrong_index != index {
            prop_assert!(verify_inclusion(&leaf, wrong_index, size, &proof, &root).is_err());
        }
        // Another size: same verdict as the oracles.
        let wrong_size = size.saturating_add_signed(size_delta);
        if wrong_size != size {
            let verdict = verify_inclusion(&leaf, index, wrong_size, &proof, &root).is_ok();
            let tlog_proof: Vec<_> = proof.iter().map(th).collect();
            let tlog = tlog_tiles::check_record(&tlog_proof, wrong_size, th(&root), index, th(&leaf))
                .is_ok();
            let ct = ct_verify_inclusion(&root, wrong_size, &log.entries[index as usize], index, &proof);
            prop_assert_eq!(verdict, tlog, "size {} -> {}", size, wrong_size);
            prop_assert_eq!(verdict, ct, "size {} -> {}", size, wrong_size);
        }
    }

    /// Tampering with a valid consistency claim makes ours reject it; changed sizes must
    /// agree with both oracles (consistency paths do not always bind sizes either).
    #[test]
    fn mutated_consistency_claims_fail(
        seed in any::<u64>(),
        new in 2u64..300,
        pick in any::<u64>(),
        other in any::<u64>(),
        bit in 0u8..8,
        byte in 0usize..32,
        old_delta in -40i64..40,
        new_delta in -40i64..40,
    ) {
        let log = build_log(seed, new);
        let old = 1 + pick % (new - 1);
        let (r1, r2) = (tree_hash(old, &log.store).unwrap(), log.store.root());
        let proof = log.store.prove_consistency(old).unwrap().hashes;
        let flipped = |h: &Hash| { let mut h = *h; h.0[byte] ^= 1 << bit; h };

        prop_assert!(verify_consistency(old, &flipped(&r1), new, &r2, &proof).is_err());
        prop_assert!(verify_consistency(old, &r1, new, &flipped(&r2), &proof).is_err());
        prop_assert!(verify_consistency(old, &r2, new, &r1, &proof).is_err());
        let at = (other as usize) % proof.len();
        let mut changed = proof.clone();
        changed[at] = flipped(&changed[at]);
        prop_assert!(verify_consistency(old, &r1, new, &r2, &changed).is_err());
        let mut missing = proof.clone();
        missing.remove(at);
        prop_assert!(verify_consistency(old, &r1, new, &r2, &missing).is_err());
        let mut extra = proof.clone();
        extra.insert((other as usize) % (proof.len() + 1), flipped(&r1));
        prop_assert!(verify_consistency(old, &r1, new, &r2, &extra).is_err());

        let (o2, n2) = (old.saturating_add_signed(old_delta), new.saturating_add_signed(new_delta));
        if (o2, n2) != (old, new) && o2 >= 1 && o2 <= n2 {
            let verdict = verify_consistency(o2, &r1, n2, &r2, &proof).is_ok();
            let tlog_proof: Vec<_> = proof.iter().map(th).collect();
            let tlog = tlog_tiles::check_tree(&tlog_proof, n2, th(&r2), o2, th(&r1)).is_ok();
            let ct = ct_verify_consistency(o2, &r1, n2, &r2, &proof);
            prop_assert_eq!(verdict, tlog, "({}, {}) -> ({}, {})", old, new, o2, n2);
            prop_assert_eq!(verdict, ct, "({}, {}) -> ({}, {})", old, new, o2, n2);
        }
    }

    /// The stored-hash index functions agree with tlog_tiles over a wide range.
    #[test]
    fn index_functions_match_tlog(level in 0u8..40, n in 0u64..(1 << 20), big in 0u64..(1 << 61)) {
        prop_assert_eq!(stored_hash_index(level, n), tlog_tiles::stored_hash_index(level, n));
        let index = stored_hash_index(level, n);
        prop_assert_eq!(split_stored_hash_index(index), (level, n));
        prop_assert_eq!(split_stored_hash_index(big), tlog_tiles::split_stored_hash_index(big));
        prop_assert_eq!(stored_hash_count(big), tlog_tiles::stored_hash_count(big));
    }
}

/// Sizes and indexes that stress the bit arithmetic: 0, 1, powers of two and their
/// neighbours, the extremes of u64.
fn edgy_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..70,
        (0u32..64, -2i64..=2).prop_map(|(p, d)| (1u64 << p).saturating_add_signed(d)),
        Just(u64::MAX),
        Just(u64::MAX - 1),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    /// Verifiers never panic on arbitrary input, including proofs of the exact expected
    /// length (which get past the length checks into the hashing loops).
    #[test]
    fn verifiers_never_panic(
        index in edgy_u64(),
        size in edgy_u64(),
        old in edgy_u64(),
        raw in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        a in any::<[u8; 32]>(),
        b in any::<[u8; 32]>(),
    ) {
        let proof: Vec<Hash> = raw.into_iter().map(Hash).collect();
        let (a, b) = (Hash(a), Hash(b));
        let _ = verify_inclusion(&a, index, size, &proof, &b);
        let _ = verify_consistency(old, &a, size, &b, &proof);
        if let Err(ProofError::WrongProofLength { expected, .. }) =
            verify_inclusion(&a, index, size, &[], &b)
        {
            let fitted: Vec<Hash> = proof.iter().copied().cycle().take(expected).collect();
            if fitted.len() == expected {
                prop_assert!(verify_inclusion(&a, index, size, &fitted, &b).is_err());
            }
        }
        if let Err(ProofError::WrongProofLength { expected, .. }) =
            verify_consistency(old, &a, size, &b, &[])
        {
            let fitted: Vec<Hash> = proof.iter().copied().cycle().take(expected).collect();
            if fitted.len() == expected {
                let _ = verify_consistency(old, &a, size, &b, &fitted);
            }
        }
    }
}
