//! Delta verification: a parent checks a child's pushed range against its own cursor,
//! the child's signed checkpoint, a consistency proof, every entry and the recomputed root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use credx_protocol::delta::{
    verify_delta, DeltaError, DeltaVerifier, EntryRule, ForkKind, JurisdictionCheck, MirrorState,
    RosterJurisdiction, StateProblem, VerifiedDelta,
};
use credx_protocol::entry::{Entry, Event, ENVELOPE_VERSION};
use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::merkle::{
    leaf_hash, prove_consistency, CompactRange, Hash, MemoryHashStore, ProofError,
};
use credx_protocol::note::{
    Checkpoint, CheckpointError, CosignerKey, KeyName, NoteSigner, SignedCheckpoint, VerifierKey,
};
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::record::Record;
use credx_protocol::roster::{
    JurisdictionSpec, NodeLevel, Roster, RosterNode, SignedRoster, VerifiedRoster,
};
use credx_protocol::validate::{validate_raw, ValidationContext};
use credx_protocol::wire::ErrorCode;
use rand::rngs::StdRng;
use rand::SeedableRng;

const DAYE: &str = "420281.credx";
const YANGXIN: &str = "420222.credx";

// ---------------------------------------------------------------- fixtures

fn samples() -> Vec<Record> {
    let bytes = include_bytes!("fixtures/records/samples.json").to_vec();
    let ctx = ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    parse_json_records(&bytes)
        .unwrap()
        .into_iter()
        .map(|raw| validate_raw(&raw.unwrap(), &ctx).record.unwrap())
        .collect()
}

/// A licence by 大冶's authority 11420281PDY000052Q.
fn licence() -> Record {
    samples()
        .into_iter()
        .find(|r| matches!(r, Record::Licence(_)))
        .unwrap()
}

/// A penalty by 阳新's authority 11420222PDY000132X.
fn penalty() -> Record {
    samples()
        .into_iter()
        .find(|r| matches!(r, Record::Penalty(_)))
        .unwrap()
}

fn record_entry(origin: &str, record: Record, n: u64) -> Vec<u8> {
    Entry::for_record(
        origin,
        &format!("dept-user-{n}"),
        1_780_000_000_000 + n,
        record,
        None,
    )
    .encode()
    .unwrap()
    .into_bytes()
}

fn anchor_entry(origin: &str, n: u64) -> Vec<u8> {
    Entry {
        version: ENVELOPE_VERSION,
        origin: origin.into(),
        authority: None,
        submitted_by: "node".into(),
        subject: None,
        business_key: None,
        accepted_at_ms: 1_780_000_000_000 + n,
        event: Event::RosterAdopted {
            version: n,
            digest: Hash([n as u8; 32]),
        },
    }
    .encode()
    .unwrap()
    .into_bytes()
}

fn signer(origin: &str, seed: u64) -> NoteSigner {
    NoteSigner::generate(
        KeyName::new(origin).unwrap(),
        &mut StdRng::seed_from_u64(seed),
    )
}

fn daye_signer() -> NoteSigner {
    signer(DAYE, 42)
}

/// A child log: entries, the stored hashes, and a checkpoint at any size.
struct ChildLog {
    entries: Vec<Vec<u8>>,
    store: MemoryHashStore,
    signer: NoteSigner,
}

impl ChildLog {
    fn new(entries: Vec<Vec<u8>>) -> ChildLog {
        let mut store = MemoryHashStore::new();
        for e in &entries {
            store.append(e);
        }
        ChildLog {
            entries,
            store,
            signer: daye_signer(),
        }
    }

    /// Ten 大冶 entries: licences with anchors between them.
    fn daye(n: u64) -> ChildLog {
        ChildLog::new(
            (0..n)
                .map(|i| {
                    if i % 3 == 2 {
                        anchor_entry(DAYE, i)
                    } else {
                        record_entry(DAYE, licence(), i)
                    }
                })
                .collect(),
        )
    }

    fn root_at(&self, size: u64) -> Hash {
        let range = CompactRange::from_reader(size, &self.store).unwrap();
        range.root()
    }

    fn checkpoint(&self, size: u64) -> SignedCheckpoint {
        SignedCheckpoint::sign(
            Checkpoint::new(DAYE, size, self.root_at(size)),
            &self.signer,
        )
        .unwrap()
    }

    fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        prove_consistency(old, new, &self.store).unwrap().hashes
    }

    /// The parent's state after mirroring the first `size` entries.
    fn state(&self, size: u64) -> MirrorState {
        MirrorState {
            size,
            root: self.root_at(size),
            frontier: CompactRange::from_reader(size, &self.store)
                .unwrap()
                .frontier()
                .to_vec(),
            last_checkpoint: (size > 0).then(|| self.checkpoint(size)),
        }
    }

    fn range(&self, from: u64, to: u64) -> Vec<Vec<u8>> {
        self.entries[from as usize..to as usize].to_vec()
    }
}

fn key() -> VerifierKey {
    daye_signer().verifier_key()
}

/// A verified roster with 大冶 and 阳新 under 黄石 under 湖北 under the national node.
fn roster() -> VerifiedRoster {
    let root = signer("root.credx", 1);
    let layout: [(&str, NodeLevel, Option<&str>, JurisdictionSpec); 5] = [
        (
            "cn.credx",
            NodeLevel::National,
            None,
            JurisdictionSpec::Division(Jurisdiction::National),
        ),
        (
            "420000.credx",
            NodeLevel::Province,
            Some("cn.credx"),
            div("420000"),
        ),
        (
            "420200.credx",
            NodeLevel::City,
            Some("420000.credx"),
            div("420200"),
        ),
        (DAYE, NodeLevel::County, Some("420200.credx"), div("420281")),
        (
            YANGXIN,
            NodeLevel::County,
            Some("420200.credx"),
            div("420222"),
        ),
    ];
    let nodes = layout
        .into_iter()
        .enumerate()
        .map(|(i, (origin, level, parent, spec))| {
            let log = if origin == DAYE {
                daye_signer()
            } else {
                signer(origin, 100 + i as u64)
            };
            let cosigner = CosignerKey::generate(
                KeyName::new(origin).unwrap(),
                &mut StdRng::seed_from_u64(200 + i as u64),
            );
            RosterNode {
                origin: origin.into(),
                level,
                parent: parent.map(Into::into),
                jurisdiction: vec![spec],
                checkpoint_key: log.verifier_key().to_string(),
                cosigner_key: cosigner.verifier_key().to_string(),
                tls_fingerprint: None,
            }
        })
        .collect();
    let r = Roster {
        version: 1,
        issued_at: 1_780_000_000,
        expires_at: 1_790_000_000,
        federation: "credx-federation".into(),
        nodes,
    };
    SignedRoster::sign(&r, &root)
        .unwrap()
        .verify(&root.verifier_key(), 1_780_000_100)
        .unwrap()
}

fn div(code: &str) -> JurisdictionSpec {
    JurisdictionSpec::Division(Jurisdiction::of(DivisionCode::parse(code).unwrap()))
}

fn verify(
    log: &ChildLog,
    state: MirrorState,
    new: u64,
    start: u64,
    entries: &[Vec<u8>],
) -> Result<VerifiedDelta, DeltaError> {
    let roster = roster();
    verify_delta(
        state.clone(),
        log.checkpoint(new),
        &log.proof(state.size, new),
        &key(),
        RosterJurisdiction::new(&roster, DAYE),
        start,
        entries,
    )
}

fn entry_rule(err: DeltaError) -> (u64, EntryRule) {
    match err {
        DeltaError::Entry {
            origin,
            index,
            rule,
        } => {
            assert_eq!(origin, DAYE);
            (index, rule)
        }
        other => panic!("expected an entry error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- clean deltas

#[test]
fn clean_delta_verifies_in_one_call() {
    let log = ChildLog::daye(10);
    let delta = verify(&log, log.state(3), 10, 3, &log.range(3, 10)).unwrap();
    assert_eq!(delta.origin, DAYE);
    assert_eq!((delta.old_size, delta.new_size), (3, 10));
    assert_eq!(delta.new_root, log.root_at(10));
    let leaves: Vec<Hash> = log.range(3, 10).iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(delta.leaf_hashes, leaves);
    assert_eq!(
        delta.new_frontier,
        CompactRange::from_reader(10, &log.store)
            .unwrap()
            .frontier()
    );
    assert_eq!(delta.checkpoint, log.checkpoint(10));

    // The next delta starts from the state this one leaves behind.
    let longer = ChildLog::daye(16);
    let state = MirrorState::after(&delta);
    assert_eq!(state, longer.state(10));
    let next = verify(&longer, state, 16, 10, &longer.range(10, 16)).unwrap();
    assert_eq!(next.new_root, longer.root_at(16));
}

#[test]
fn clean_delta_from_an_empty_mirror() {
    let log = ChildLog::daye(7);
    let delta = verify(&log, MirrorState::empty(), 7, 0, &log.range(0, 7)).unwrap();
    assert_eq!(delta.new_root, log.root_at(7));
    assert_eq!(delta.leaf_hashes.len(), 7);
}

#[test]
fn re_offering_the_mirrored_checkpoint_is_a_no_op() {
    let log = ChildLog::daye(10);
    let delta = verify(&log, log.state(10), 10, 10, &[]).unwrap();
    assert_eq!((delta.old_size, delta.new_size), (10, 10));
    assert!(delta.leaf_hashes.is_empty());
}

#[test]
fn clean_delta_verifies_in_several_batches() {
    let log = ChildLog::daye(10);
    let roster = roster();
    let mut v = DeltaVerifier::new(
        log.state(3),
        log.checkpoint(10),
        &log.proof(3, 10),
        &key(),
        RosterJurisdiction::new(&roster, DAYE),
    )
    .unwrap();
    let mut leaves = Vec::new();
    for (from, to) in [(3, 6), (6, 9), (9, 10)] {
        assert_eq!(v.next_index(), from);
        let batch = v.push_batch(from, &log.range(from, to)).unwrap();
        assert_eq!(batch.start, from);
        assert_eq!(batch.entries.len() as u64, to - from);
        assert!(batch.entries.iter().all(|e| e.origin == DAYE));
        leaves.extend(batch.leaf_hashes);
    }
    let delta = v.finish().unwrap();
    assert_eq!(delta.new_root, log.root_at(10));
    assert!(delta.leaf_hashes.is_empty(), "handed out per batch");
    let expected: Vec<Hash> = log.range(3, 10).iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(leaves, expected);
}

#[test]
fn long_range_is_split_into_bounded_batches() {
    // More than one MAX_PUSH_ENTRIES batch, through the one-call path.
    let log = ChildLog::new((0..4200).map(|i| anchor_entry(DAYE, i)).collect());
    let delta = verify(&log, log.state(50), 4200, 50, &log.range(50, 4200)).unwrap();
    assert_eq!(delta.leaf_hashes.len(), 4150);
    assert_eq!(delta.new_root, log.root_at(4200));

    // A batch above the limit is refused as such.
    let roster = roster();
    let mut v = DeltaVerifier::new(
        log.state(0),
        log.checkpoint(4200),
        &[],
        &key(),
        RosterJurisdiction::new(&roster, DAYE),
    )
    .unwrap();
    let err = v.push_batch(0, &log.range(0, 4097)).unwrap_err();
    assert!(matches!(
        err,
        DeltaError::BatchTooLarge {
            count: 4097,
            max: 4096,
            ..
        }
    ));
    assert_eq!(err.code(), ErrorCode::Oversized);
}

// ---------------------------------------------------------------- positions and counts

#[test]
fn wrong_start_is_refused_and_consumes_nothing() {
    let log = ChildLog::daye(10);
    let err = verify(&log, log.state(3), 10, 4, &log.range(4, 10)).unwrap_err();
    assert!(matches!(
        err,
        DeltaError::StartMismatch {
            expected: 3,
            found: 4,
            ..
        }
    ));
    assert_eq!(err.code(), ErrorCode::CursorMismatch);

    let mut v = DeltaVerifier::new(
        log.state(3),
        log.checkpoint(10),
        &log.proof(3, 10),
        &key(),
        |_: &Entry| true,
    )
    .unwrap();
    assert!(v.push_batch(2, &log.range(2, 10)).is_err());
    // A failed batch leaves the verifier where it was.
    v.push_batch(3, &log.range(3, 10)).unwrap();
    v.finish().unwrap();
}

#[test]
fn missing_entry_is_refused() {
    let log = ChildLog::daye(10);
    let err = verify(&log, log.state(3), 10, 3, &log.range(3, 9)).unwrap_err();
    assert!(matches!(
        err,
        DeltaError::MissingEntries {
            new_size: 10,
            received: 9,
            ..
        }
    ));
    // A hole in the middle: the count is short too.
    let mut holed = log.range(3, 10);
    holed.remove(2);
    assert!(matches!(
        verify(&log, log.state(3), 10, 3, &holed).unwrap_err(),
        DeltaError::MissingEntries { received: 9, .. }
    ));
}

#[test]
fn extra_entry_is_refused() {
    let log = ChildLog::daye(11);
    let err = verify(&log, log.state(3), 10, 3, &log.range(3, 11)).unwrap_err();
    assert!(matches!(
        err,
        DeltaError::ExtraEntries {
            new_size: 10,
            end: 11,
            ..
        }
    ));
}

// ---------------------------------------------------------------- entries

#[test]
fn tampered_entry_bytes_fail_the_root() {
    let log = ChildLog::daye(10);
    let mut entries = log.range(3, 10);
    // A different, perfectly valid 大冶 entry in place of entry 5.
    entries[2] = record_entry(DAYE, licence(), 999);
    let err = verify(&log, log.state(3), 10, 3, &entries).unwrap_err();
    match &err {
        DeltaError::RootMismatch {
            size,
            expected,
            computed,
            ..
        } => {
            assert_eq!(*size, 10);
            assert_eq!(*expected, log.root_at(10));
            assert_ne!(computed, expected);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::RootMismatch);

    // A flipped byte usually breaks the canonical encoding before the root is reached.
    let mut entries = log.range(3, 10);
    let last = entries[2].len() - 1;
    entries[2][last] ^= 0xff;
    entries[2].push(0);
    let (index, rule) = entry_rule(verify(&log, log.state(3), 10, 3, &entries).unwrap_err());
    assert_eq!(index, 5);
    assert!(matches!(rule, EntryRule::Decode(_)), "{rule:?}");
}

#[test]
fn entry_from_another_origin_is_refused() {
    let mut entries: Vec<Vec<u8>> = ChildLog::daye(10).entries;
    entries[5] = record_entry(YANGXIN, penalty(), 5);
    let log = ChildLog::new(entries);
    let err = verify(&log, log.state(3), 10, 3, &log.range(3, 10)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidEntry);
    let (index, rule) = entry_rule(err);
    assert_eq!(index, 5);
    assert!(
        matches!(&rule, EntryRule::WrongOrigin { found } if found == YANGXIN),
        "{rule:?}"
    );
}

#[test]
fn entry_outside_jurisdiction_is_refused() {
    // 大冶's log carrying a penalty decided by 阳新's authority.
    let mut entries: Vec<Vec<u8>> = ChildLog::daye(10).entries;
    entries[4] = record_entry(DAYE, penalty(), 4);
    let log = ChildLog::new(entries);
    let err = verify(&log, log.state(3), 10, 3, &log.range(3, 10)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OutOfJurisdiction);
    let (index, rule) = entry_rule(err);
    assert_eq!(index, 4);
    assert!(
        matches!(&rule, EntryRule::OutOfJurisdiction { authority: Some(a) } if a == "11420222PDY000132X"),
        "{rule:?}"
    );
}

#[test]
fn structural_rules_are_checked() {
    let base = Entry::for_record(DAYE, "dept", 1, licence(), None);

    let mut no_authority = base.clone();
    no_authority.authority = None;
    let mut wrong_authority = base.clone();
    wrong_authority.authority = Some("11420281PDY000053Q".into());
    let mut wrong_subject = base.clone();
    wrong_subject.subject = None;
    let mut wrong_key = base.clone();
    wrong_key.business_key = None;

    type RuleMatcher = fn(&EntryRule) -> bool;
    let cases: [(Entry, RuleMatcher); 4] = [
        (no_authority, |r| {
            matches!(
                r,
                EntryRule::MissingAuthority {
                    event: "record-published"
                }
            )
        }),
        (wrong_authority, |r| {
            matches!(r, EntryRule::AuthorityMismatch { .. })
        }),
        (wrong_subject, |r| matches!(r, EntryRule::SubjectMismatch)),
        (wrong_key, |r| matches!(r, EntryRule::BusinessKeyMismatch)),
    ];
    for (entry, expected) in cases {
        let mut entries = ChildLog::daye(4).entries;
        entries.push(entry.encode().unwrap().into_bytes());
        let log = ChildLog::new(entries);
        let (index, rule) = entry_rule(
            verify_delta(
                log.state(2),
                log.checkpoint(5),
                &log.proof(2, 5),
                &key(),
                |_: &Entry| true,
                2,
                &log.range(2, 5),
            )
            .unwrap_err(),
        );
        assert_eq!(index, 4);
        assert!(expected(&rule), "{rule:?}");
    }
}

#[test]
fn jurisdiction_check_can_be_any_closure() {
    struct Nothing;
    impl JurisdictionCheck for Nothing {
        fn allows(&self, _: &Entry) -> bool {
            false
        }
    }
    let log = ChildLog::daye(4);
    let err = verify_delta(
        log.state(0),
        log.checkpoint(4),
        &[],
        &key(),
        Nothing,
        0,
        &log.range(0, 4),
    )
    .unwrap_err();
    assert_eq!(entry_rule(err).0, 0);
}

// ---------------------------------------------------------------- checkpoint and proof

#[test]
fn checkpoint_signed_by_another_key_is_refused() {
    let mut log = ChildLog::daye(10);
    log.signer = signer(DAYE, 7); // right name, wrong key
    let err = verify(&log, ChildLog::daye(10).state(3), 10, 3, &log.range(3, 10)).unwrap_err();
    assert!(
        matches!(
            &err,
            DeltaError::CheckpointSignature {
                reason: CheckpointError::MissingLogSignature { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::BadSignature);

    // Another origin's checkpoint offered under 大冶's key.
    let other = SignedCheckpoint::sign(
        Checkpoint::new(YANGXIN, 10, log.root_at(10)),
        &signer(YANGXIN, 8),
    )
    .unwrap();
    let err = verify_delta(
        MirrorState::empty(),
        other,
        &[],
        &key(),
        |_: &Entry| true,
        0,
        &log.range(0, 10),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        DeltaError::CheckpointSignature {
            reason: CheckpointError::OriginMismatch { .. },
            ..
        }
    ));
}

#[test]
fn bad_consistency_proof_is_refused() {
    let log = ChildLog::daye(10);
    let check = |_: &Entry| true;

    // Wrong length: malformed, not evidence of anything.
    let mut short = log.proof(3, 10);
    short.pop();
    let err =
        DeltaVerifier::new(log.state(3), log.checkpoint(10), &short, &key(), check).unwrap_err();
    assert!(matches!(
        err,
        DeltaError::BadConsistencyProof {
            old_size: 3,
            new_size: 10,
            reason: ProofError::WrongProofLength { .. },
            ..
        }
    ));
    assert_eq!(err.code(), ErrorCode::BadConsistencyProof);

    // A wrong hash against a cursor with no checkpoint of ours: a bad proof.
    let mut wrong = log.proof(3, 10);
    wrong[0] = Hash([0xee; 32]);
    let mut state = log.state(3);
    state.last_checkpoint = None;
    assert!(matches!(
        DeltaVerifier::new(state, log.checkpoint(10), &wrong, &key(), check).unwrap_err(),
        DeltaError::BadConsistencyProof {
            reason: ProofError::OldRootMismatch | ProofError::RootMismatch,
            ..
        }
    ));

    // The same wrong hash against a checkpoint the same key signed: fork evidence.
    let err =
        DeltaVerifier::new(log.state(3), log.checkpoint(10), &wrong, &key(), check).unwrap_err();
    match &err {
        DeltaError::Fork { kind, evidence, .. } => {
            assert_eq!(*kind, ForkKind::InconsistentProof);
            assert_eq!(evidence.ours, Some(log.checkpoint(3).to_bytes()));
            assert_eq!(evidence.theirs, log.checkpoint(10).to_bytes());
            assert!(evidence.ours_signed_by_same_key);
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- forks

/// Two histories of 大冶's log that agree on the first 5 entries.
fn forked() -> (ChildLog, ChildLog) {
    let a = ChildLog::daye(12);
    let mut entries = a.entries[..5].to_vec();
    entries.extend((5..12).map(|i| record_entry(DAYE, licence(), 500 + i)));
    (a, ChildLog::new(entries))
}

#[test]
fn same_size_different_root_is_a_fork() {
    let (a, b) = forked();
    let err = verify_delta(
        a.state(10),
        b.checkpoint(10),
        &[],
        &key(),
        |_: &Entry| true,
        10,
        &[],
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InconsistentCheckpoint);
    match err {
        DeltaError::Fork {
            origin,
            kind,
            evidence,
        } => {
            assert_eq!(origin, DAYE);
            assert_eq!(kind, ForkKind::SameSizeDifferentRoot);
            assert_eq!(evidence.ours, Some(a.checkpoint(10).to_bytes()));
            assert_eq!(evidence.theirs, b.checkpoint(10).to_bytes());
            assert!(evidence.ours_signed_by_same_key);
            // Both are validly signed by the origin's key: the log contradicted itself.
            for bytes in [evidence.ours.unwrap(), evidence.theirs] {
                SignedCheckpoint::parse(&bytes)
                    .unwrap()
                    .verify(&key())
                    .unwrap();
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn smaller_size_is_a_fork() {
    let (a, _) = forked();
    let err = verify_delta(
        a.state(10),
        a.checkpoint(7),
        &[],
        &key(),
        |_: &Entry| true,
        10,
        &[],
    )
    .unwrap_err();
    let evidence = err.fork_evidence().unwrap().clone();
    assert!(matches!(
        err,
        DeltaError::Fork {
            kind: ForkKind::Smaller,
            ..
        }
    ));
    assert_eq!(evidence.ours, Some(a.checkpoint(10).to_bytes()));
    assert_eq!(evidence.theirs, a.checkpoint(7).to_bytes());
}

#[test]
fn diverged_larger_history_is_a_fork() {
    let (a, b) = forked();
    // The parent mirrored history A up to 8; the child now offers history B at 12, with
    // B's own (valid for B) proof from 8.
    let err = verify_delta(
        a.state(8),
        b.checkpoint(12),
        &b.proof(8, 12),
        &key(),
        |_: &Entry| true,
        8,
        &b.range(8, 12),
    )
    .unwrap_err();
    match err {
        DeltaError::Fork { kind, evidence, .. } => {
            assert_eq!(kind, ForkKind::InconsistentProof);
            assert_eq!(evidence.ours, Some(a.checkpoint(8).to_bytes()));
            assert_eq!(evidence.theirs, b.checkpoint(12).to_bytes());
        }
        other => panic!("{other:?}"),
    }
    // Before the point of divergence the histories agree: B extends A's first 5 entries.
    verify_delta(
        a.state(5),
        b.checkpoint(12),
        &b.proof(5, 12),
        &key(),
        |_: &Entry| true,
        5,
        &b.range(5, 12),
    )
    .unwrap();
}

// ---------------------------------------------------------------- the parent's own state

#[test]
fn incoherent_mirror_state_is_an_internal_error() {
    let log = ChildLog::daye(10);
    let check = |_: &Entry| true;
    let mut state = log.state(3);
    state.frontier.pop();
    let err = DeltaVerifier::new(state, log.checkpoint(10), &log.proof(3, 10), &key(), check)
        .unwrap_err();
    assert!(matches!(
        err,
        DeltaError::State {
            problem: StateProblem::FrontierShape {
                size: 3,
                expected: 2,
                found: 1
            },
            ..
        }
    ));
    assert_eq!(err.code(), ErrorCode::Internal);

    let mut state = log.state(3);
    state.root = Hash([1; 32]);
    assert!(matches!(
        DeltaVerifier::new(state, log.checkpoint(10), &log.proof(3, 10), &key(), check)
            .unwrap_err(),
        DeltaError::State {
            problem: StateProblem::FrontierRoot,
            ..
        }
    ));

    let mut state = log.state(3);
    state.last_checkpoint = Some(log.checkpoint(4));
    assert!(matches!(
        DeltaVerifier::new(state, log.checkpoint(10), &log.proof(3, 10), &key(), check)
            .unwrap_err(),
        DeltaError::State {
            problem: StateProblem::LastCheckpoint { size: 4, .. },
            ..
        }
    ));
}

// ---------------------------------------------------------------- hostile input

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any change to any pushed byte is refused, never accepted and never a panic.
        #[test]
        fn mutated_entries_never_verify(which in 0usize..7, pos in any::<usize>(), byte in any::<u8>()) {
            let log = ChildLog::daye(10);
            let mut entries = log.range(3, 10);
            let i = pos % entries[which].len();
            prop_assume!(entries[which][i] != byte);
            entries[which][i] = byte;
            prop_assert!(verify(&log, log.state(3), 10, 3, &entries).is_err());
        }

        /// Arbitrary bytes as entries and proof never panic.
        #[test]
        fn garbage_never_panics(
            entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..8),
            proof in proptest::collection::vec(any::<[u8; 32]>(), 0..6),
        ) {
            let log = ChildLog::daye(10);
            let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
            let n = entries.len() as u64;
            let _ = verify_delta(
                log.state(2), log.checkpoint(2 + n.min(8)), &proof, &key(),
                |_: &Entry| true, 2, &entries,
            );
        }
    }
}
