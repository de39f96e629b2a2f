//! The signed roster: canonical text, signing, verification, federation rules, lookups and
//! the trust policy other regions apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credx_protocol::ident::{DivisionCode, Jurisdiction, Uscc};
use credx_protocol::merkle::Hash;
use credx_protocol::note::{
    Checkpoint, CosignerKey, KeyName, NoteSigner, PolicyError, SignedCheckpoint, VerifierKey,
};
use credx_protocol::roster::{
    InvalidReason, JurisdictionSpec, NodeLevel, Roster, RosterError, RosterNode, RosterStatus,
    SignedRoster, VerifiedRoster, MAX_NODES, MAX_ROSTER_BYTES,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

const ISSUED: u64 = 1_780_000_000;
const EXPIRES: u64 = ISSUED + 30 * 24 * 3600;
const NOW: u64 = ISSUED + 3600;

struct Keys {
    log: NoteSigner,
    cosigner: CosignerKey,
}

fn keys(origin: &str, seed: u64) -> Keys {
    let mut rng = StdRng::seed_from_u64(seed);
    Keys {
        log: NoteSigner::generate(KeyName::new(origin).unwrap(), &mut rng),
        cosigner: CosignerKey::generate(KeyName::new(origin).unwrap(), &mut rng),
    }
}

fn root() -> NoteSigner {
    NoteSigner::generate(
        KeyName::new("root.credx").unwrap(),
        &mut StdRng::seed_from_u64(1),
    )
}

fn div(code: &str) -> JurisdictionSpec {
    JurisdictionSpec::Division(Jurisdiction::of(DivisionCode::parse(code).unwrap()))
}

/// (origin, level, parent, jurisdiction)
fn layout() -> Vec<(
    &'static str,
    NodeLevel,
    Option<&'static str>,
    Vec<JurisdictionSpec>,
)> {
    vec![
        (
            "cn.credx",
            NodeLevel::National,
            None,
            vec![JurisdictionSpec::Division(Jurisdiction::National)],
        ),
        (
            "420000.credx",
            NodeLevel::Province,
            Some("cn.credx"),
            vec![div("420000")],
        ),
        (
            "420200.credx",
            NodeLevel::City,
            Some("420000.credx"),
            vec![div("420200")],
        ),
        (
            "420281.credx",
            NodeLevel::County,
            Some("420200.credx"),
            vec![div("420281")],
        ),
        (
            "420222.credx",
            NodeLevel::County,
            Some("420200.credx"),
            vec![div("420222")],
        ),
        (
            "630000.credx",
            NodeLevel::Province,
            Some("cn.credx"),
            vec![div("630000")],
        ),
        (
            "tax.420000.credx",
            NodeLevel::Sector,
            Some("420000.credx"),
            vec![JurisdictionSpec::Sector("tax".into())],
        ),
    ]
}

fn node_keys(origin: &str) -> Keys {
    let seed = layout()
        .iter()
        .position(|(o, ..)| *o == origin)
        .map_or(999, |i| 100 + i as u64);
    keys(origin, seed)
}

fn roster(version: u64) -> Roster {
    let nodes = layout()
        .into_iter()
        .map(|(origin, level, parent, jurisdiction)| {
            let k = node_keys(origin);
            RosterNode {
                origin: origin.into(),
                level,
                parent: parent.map(Into::into),
                jurisdiction,
                checkpoint_key: k.log.verifier_key().to_string(),
                cosigner_key: k.cosigner.verifier_key().to_string(),
                tls_fingerprint: (origin == "cn.credx").then_some([0xab; 32]),
            }
        })
        .collect();
    Roster {
        version,
        issued_at: ISSUED,
        expires_at: EXPIRES,
        federation: "credx-federation".into(),
        nodes,
    }
}

fn verified(version: u64) -> VerifiedRoster {
    let signed = SignedRoster::sign(&roster(version), &root()).unwrap();
    SignedRoster::parse(&signed.to_bytes())
        .unwrap()
        .verify(&root().verifier_key(), NOW)
        .unwrap()
}

fn sign_err(r: &Roster) -> RosterError {
    SignedRoster::sign(r, &root()).unwrap_err()
}

fn node_mut<'a>(r: &'a mut Roster, origin: &str) -> &'a mut RosterNode {
    r.nodes.iter_mut().find(|n| n.origin == origin).unwrap()
}

// ---------------------------------------------------------------- text, sign, verify

#[test]
fn text_round_trips_and_is_canonical() {
    let r = roster(7);
    let text = r.to_text();
    let parsed = Roster::parse_text(&text).unwrap();
    assert_eq!(parsed, r.clone().canonicalize());
    assert_eq!(parsed.to_text(), text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "credx roster v1");
    assert_eq!(lines[1], "federation credx-federation");
    assert_eq!(lines[2], "version 7");
    assert_eq!(lines[3], format!("issued {ISSUED}"));
    assert_eq!(lines[4], format!("expires {EXPIRES}"));
    let k = node_keys("420281.credx");
    assert_eq!(
        lines[8],
        format!(
            "node 420281.credx level=county parent=420200.credx juris=div:420281 ckey={} cosigner={} tls=-",
            k.log.verifier_key(),
            k.cosigner.verifier_key()
        )
    );
    assert!(lines[10].starts_with("node cn.credx level=national parent=- juris=national "));
    assert!(lines[10].ends_with(&format!(" tls={}", "ab".repeat(32))));
    // Comfortably inside the size budget: 10,000 such lines fit in one signed roster.
    assert!(lines.iter().all(|l| l.len() < 400));
    const { assert!(400 * MAX_NODES < MAX_ROSTER_BYTES) };
}

#[test]
fn signed_roster_parses_and_verifies() {
    let signed = SignedRoster::sign(&roster(7), &root()).unwrap();
    let bytes = signed.to_bytes();
    let parsed = SignedRoster::parse(&bytes).unwrap();
    assert_eq!(parsed, signed);
    let v = parsed.verify(&root().verifier_key(), NOW).unwrap();
    assert_eq!(v.version(), 7);
    assert_eq!(v.roster(), &roster(7).canonicalize());
    assert_eq!(v.signed().to_bytes(), bytes);
    assert_eq!(v.roster().nodes.len(), 7);
}

#[test]
fn non_canonical_text_is_refused_even_when_signed() {
    // The root signs anything it is given as a note; a verifier still insists on the one
    // canonical spelling.
    let text = roster(7).to_text().replace("version 7", "version 07");
    let note = credx_protocol::note::SignedNote::sign(text, &[&root()]).unwrap();
    let err = SignedRoster::parse(&note.to_bytes())
        .unwrap()
        .verify(&root().verifier_key(), NOW)
        .unwrap_err();
    assert_eq!(
        err,
        RosterError::Invalid {
            line: 3,
            reason: InvalidReason::BadNumber { field: "version" }
        }
    );
}

#[test]
fn expired_roster_is_refused() {
    let signed = SignedRoster::sign(&roster(7), &root()).unwrap();
    let err = signed.verify(&root().verifier_key(), EXPIRES).unwrap_err();
    assert_eq!(
        err,
        RosterError::Expired {
            expires_at: EXPIRES,
            now: EXPIRES
        }
    );
}

#[test]
fn roster_from_the_future_is_refused_beyond_clock_skew() {
    let signed = SignedRoster::sign(&roster(7), &root()).unwrap();
    let now = ISSUED - 3600;
    assert_eq!(
        signed.verify(&root().verifier_key(), now).unwrap_err(),
        RosterError::NotYetValid {
            issued_at: ISSUED,
            now
        }
    );
    // A minute of skew is tolerated.
    signed.verify(&root().verifier_key(), ISSUED - 60).unwrap();
}

#[test]
fn tampered_roster_fails_the_signature() {
    let bytes = SignedRoster::sign(&roster(7), &root()).unwrap().to_bytes();
    let text = String::from_utf8(bytes).unwrap();
    let tampered = text.replacen("juris=div:420281", "juris=div:420222", 1);
    assert_ne!(tampered, text);
    let err = SignedRoster::parse(tampered.as_bytes())
        .unwrap()
        .verify(&root().verifier_key(), NOW)
        .unwrap_err();
    assert!(matches!(err, RosterError::BadSignature { .. }), "{err:?}");
}

#[test]
fn wrong_root_key_is_refused() {
    let signed = SignedRoster::sign(&roster(7), &root()).unwrap();
    let impostor = NoteSigner::generate(
        KeyName::new("root.credx").unwrap(),
        &mut StdRng::seed_from_u64(2),
    );
    let err = signed.verify(&impostor.verifier_key(), NOW).unwrap_err();
    assert!(matches!(err, RosterError::BadSignature { .. }), "{err:?}");
    // A cosigner-type key can never be a roster root.
    let cosigner = CosignerKey::generate(
        KeyName::new("root.credx").unwrap(),
        &mut StdRng::seed_from_u64(3),
    );
    assert!(matches!(
        signed.verify(&cosigner.verifier_key(), NOW),
        Err(RosterError::RootKeyType { .. })
    ));
}

#[test]
fn malformed_note_is_refused_before_any_signature_check() {
    assert!(matches!(
        SignedRoster::parse(b"credx roster v1\n"),
        Err(RosterError::MalformedNote(_))
    ));
    let big = vec![b'a'; MAX_ROSTER_BYTES + 1];
    assert!(matches!(
        SignedRoster::parse(&big),
        Err(RosterError::TooLarge { .. })
    ));
}

// ---------------------------------------------------------------- updates and status

#[test]
fn updates_never_go_back() {
    let current = verified(7);
    let older = SignedRoster::sign(&roster(6), &root()).unwrap();
    assert_eq!(
        current.accept_update(older, NOW).unwrap_err(),
        RosterError::VersionRollback {
            current: 7,
            offered: 6
        }
    );

    // Same version, same text: accepted (idempotent re-delivery).
    let same = SignedRoster::sign(&roster(7), &root()).unwrap();
    assert_eq!(current.accept_update(same, NOW).unwrap().version(), 7);

    // Same version, different content: the root signed two rosters under one number.
    let mut changed = roster(7);
    node_mut(&mut changed, "420281.credx").tls_fingerprint = Some([1; 32]);
    let changed = SignedRoster::sign(&changed, &root()).unwrap();
    assert_eq!(
        current.accept_update(changed, NOW).unwrap_err(),
        RosterError::SameVersionDiffers { version: 7 }
    );

    let newer = SignedRoster::sign(&roster(8), &root()).unwrap();
    assert_eq!(current.accept_update(newer, NOW).unwrap().version(), 8);

    // An update must still come from the root and be in its validity window.
    let forged = SignedRoster::sign(
        &roster(9),
        &NoteSigner::generate(
            KeyName::new("root.credx").unwrap(),
            &mut StdRng::seed_from_u64(2),
        ),
    )
    .unwrap();
    assert!(matches!(
        current.accept_update(forged, NOW),
        Err(RosterError::BadSignature { .. })
    ));
    let newer = SignedRoster::sign(&roster(8), &root()).unwrap();
    assert!(matches!(
        current.accept_update(newer, EXPIRES + 1),
        Err(RosterError::Expired { .. })
    ));

    let mut other = roster(9);
    other.federation = "other-federation".into();
    let other = SignedRoster::sign(&other, &root()).unwrap();
    assert!(matches!(
        current.accept_update(other, NOW),
        Err(RosterError::FederationMismatch { .. })
    ));
}

#[test]
fn status_degrades_before_it_stops() {
    let v = verified(7);
    assert_eq!(v.status(NOW), RosterStatus::Valid);
    assert_eq!(
        v.status(EXPIRES - 100),
        RosterStatus::ExpiringSoon { seconds_left: 100 }
    );
    assert_eq!(v.status(EXPIRES), RosterStatus::Expired);
    assert_eq!(v.status(u64::MAX), RosterStatus::Expired);
    assert_eq!(
        v.status_with_warning(EXPIRES - 100, 10),
        RosterStatus::Valid
    );
}

// ---------------------------------------------------------------- federation rules

fn invalid(err: RosterError) -> (usize, InvalidReason) {
    match err {
        RosterError::Invalid { line, reason } => (line, reason),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn jurisdiction_outside_parent_is_refused() {
    let mut r = roster(7);
    node_mut(&mut r, "420281.credx").jurisdiction = vec![div("630102")];
    let (line, reason) = invalid(sign_err(&r));
    // Sorted: 420000, 420200, 420222, 420281 → line 9.
    assert_eq!(line, 9);
    assert_eq!(
        reason,
        InvalidReason::OutsideParent {
            item: "div:630102".into(),
            parent: "420200.credx".into()
        }
    );

    // A sector node's own areas must lie in its parent's too.
    let mut r = roster(7);
    node_mut(&mut r, "tax.420000.credx")
        .jurisdiction
        .push(div("630000"));
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::OutsideParent { .. }
    ));
}

#[test]
fn duplicate_origin_is_refused() {
    let mut r = roster(7);
    let copy = r.nodes[3].clone();
    r.nodes.push(copy);
    let (line, reason) = invalid(sign_err(&r));
    assert_eq!(line, 10);
    assert_eq!(
        reason,
        InvalidReason::DuplicateOrigin {
            origin: "420281.credx".into()
        }
    );

    // In text form too (a hand-made, root-signed text).
    let text = roster(7).to_text();
    let dup_line = text.lines().nth(8).unwrap();
    let text = text.replacen(dup_line, &format!("{dup_line}\n{dup_line}"), 1);
    let (line, reason) = invalid(Roster::parse_text(&text).unwrap_err());
    assert_eq!(line, 10);
    assert!(matches!(reason, InvalidReason::DuplicateOrigin { .. }));
}

#[test]
fn key_named_unlike_its_origin_is_refused() {
    let mut r = roster(7);
    let stranger = keys("420222.credx", 7);
    node_mut(&mut r, "420281.credx").checkpoint_key = stranger.log.verifier_key().to_string();
    let (line, reason) = invalid(sign_err(&r));
    assert_eq!(line, 9);
    assert_eq!(
        reason,
        InvalidReason::KeyNameNotOrigin {
            field: "ckey",
            name: "420222.credx".into(),
            origin: "420281.credx".into()
        }
    );
}

#[test]
fn keys_must_have_the_right_type_and_never_be_shared() {
    let mut r = roster(7);
    let k = node_keys("420281.credx");
    node_mut(&mut r, "420281.credx").checkpoint_key = k.cosigner.verifier_key().to_string();
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::KeyType { field: "ckey", .. }
    ));

    let mut r = roster(7);
    node_mut(&mut r, "420281.credx").cosigner_key = "420281.credx+00000000+AAAA".into();
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::BadKey {
            field: "cosigner",
            ..
        }
    ));

    // The same Ed25519 key as log key and cosigner key (tlog-cosignature forbids sharing).
    let mut r = roster(7);
    let signing = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let name = KeyName::new("420281.credx").unwrap();
    let n = node_mut(&mut r, "420281.credx");
    n.checkpoint_key = NoteSigner::from_signing_key(name.clone(), signing.clone())
        .verifier_key()
        .to_string();
    n.cosigner_key = CosignerKey::from_signing_key(name, signing)
        .verifier_key()
        .to_string();
    assert_eq!(
        invalid(sign_err(&r)).1,
        InvalidReason::SharedKey {
            field: "cosigner",
            other_origin: "420281.credx".into(),
            other_field: "ckey"
        }
    );
}

#[test]
fn tree_shape_rules() {
    // No national node.
    let mut r = roster(7);
    r.nodes.retain(|n| n.level != NodeLevel::National);
    for n in &mut r.nodes {
        if n.parent.as_deref() == Some("cn.credx") {
            n.parent = None;
        }
    }
    assert_eq!(invalid(sign_err(&r)), (0, InvalidReason::NoNational));

    // A province without a parent.
    let mut r = roster(7);
    node_mut(&mut r, "420000.credx").parent = None;
    assert_eq!(
        invalid(sign_err(&r)),
        (
            6,
            InvalidReason::MissingParent {
                level: NodeLevel::Province
            }
        )
    );

    // Second national node.
    let mut r = roster(7);
    let mut second = r.nodes[0].clone();
    second.origin = "cn2.credx".into();
    let k = keys("cn2.credx", 55);
    second.checkpoint_key = k.log.verifier_key().to_string();
    second.cosigner_key = k.cosigner.verifier_key().to_string();
    r.nodes.push(second);
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::SecondNational { .. }
    ));

    // National with a parent.
    let mut r = roster(7);
    node_mut(&mut r, "cn.credx").parent = Some("420000.credx".into());
    assert_eq!(invalid(sign_err(&r)).1, InvalidReason::NationalHasParent);

    // Unknown parent.
    let mut r = roster(7);
    node_mut(&mut r, "420281.credx").parent = Some("429999.credx".into());
    assert_eq!(
        invalid(sign_err(&r)).1,
        InvalidReason::UnknownParent {
            parent: "429999.credx".into()
        }
    );

    // Parent not one level up: a city under a city.
    let mut r = roster(7);
    let n = node_mut(&mut r, "420281.credx");
    n.level = NodeLevel::City;
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::ParentLevel {
            level: NodeLevel::City,
            parent_level: NodeLevel::City,
            ..
        }
    ));

    // A county straight under its province is allowed (省直辖县, municipal districts).
    let mut r = roster(7);
    node_mut(&mut r, "420281.credx").parent = Some("420000.credx".into());
    SignedRoster::sign(&r, &root()).unwrap();

    // Sectors only on sector nodes; sector nodes need a sector.
    let mut r = roster(7);
    node_mut(&mut r, "420281.credx")
        .jurisdiction
        .push(JurisdictionSpec::Sector("tax".into()));
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::SectorOnNonSectorNode { .. }
    ));
    let mut r = roster(7);
    node_mut(&mut r, "tax.420000.credx").jurisdiction = vec![div("420200")];
    assert_eq!(
        invalid(sign_err(&r)).1,
        InvalidReason::SectorNodeWithoutSector
    );
}

#[test]
fn header_and_value_rules() {
    let mut r = roster(7);
    r.expires_at = r.issued_at;
    assert_eq!(
        invalid(sign_err(&r)),
        (
            5,
            InvalidReason::ExpiresBeforeIssued {
                issued_at: ISSUED,
                expires_at: ISSUED
            }
        )
    );

    let mut r = roster(7);
    r.federation = "Credx Federation".into();
    assert_eq!(invalid(sign_err(&r)), (2, InvalidReason::BadFederationName));

    let mut r = roster(7);
    node_mut(&mut r, "420281.credx").origin = "420281 credx".into();
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::BadOrigin { .. }
    ));

    let mut r = roster(7);
    node_mut(&mut r, "420281.credx").jurisdiction = vec![];
    assert_eq!(invalid(sign_err(&r)).1, InvalidReason::EmptyJurisdiction);

    let mut r = roster(7);
    node_mut(&mut r, "420281.credx")
        .jurisdiction
        .push(div("420281"));
    assert!(matches!(
        invalid(sign_err(&r)).1,
        InvalidReason::DuplicateJurisdiction { .. }
    ));

    let mut r = roster(7);
    let copy = r.nodes[0].clone();
    r.nodes = vec![copy; MAX_NODES + 1];
    assert_eq!(
        invalid(sign_err(&r)),
        (
            0,
            InvalidReason::TooManyNodes {
                count: MAX_NODES + 1,
                max: MAX_NODES
            }
        )
    );
}

#[test]
fn text_parser_refuses_non_canonical_spellings() {
    let text = roster(7).to_text();
    let cases = [
        (text.replacen("credx roster v1", "credx roster v2", 1), 1),
        (text.replacen("issued ", "issued  ", 1), 4),
        (text.replacen("juris=div:420281", "juris=div:422327", 1), 9), // historical code
        (text.replacen("juris=national", "juris=div:100000", 1), 11),
        (text.replacen("level=county", "level=County", 1), 8),
        (text.replacen(" tls=-", " tls=-  ", 1), 6),
        (text.replacen(" tls=-\n", " tls=-\n\n", 1), 7),
        (format!("{text}trailing"), 0),
    ];
    for (bad, line) in cases {
        let err = Roster::parse_text(&bad).unwrap_err();
        match (&err, line) {
            (RosterError::Invalid { .. }, 0) => {}
            (RosterError::Invalid { line: got, .. }, want) => {
                assert_eq!(*got, want, "{bad:?}: {err}")
            }
            _ => panic!("{err:?}"),
        }
    }
    // Swapping two node lines breaks the sort order.
    let lines: Vec<&str> = text.lines().collect();
    let mut swapped = lines.clone();
    swapped.swap(6, 7);
    let swapped = format!("{}\n", swapped.join("\n"));
    assert!(matches!(
        invalid(Roster::parse_text(&swapped).unwrap_err()),
        (8, InvalidReason::NotSorted { .. })
    ));
}

// ---------------------------------------------------------------- lookups

fn division_of(uscc: &str) -> DivisionCode {
    Uscc::parse(uscc).unwrap().division()
}

#[test]
fn may_hold_follows_jurisdictions() {
    let v = verified(7);
    let daye_authority = division_of("11420281PDY000052Q");
    let yangxin_authority = division_of("11420222PDY000132X");
    let qinghai_authority = division_of("51630000PDY0000799");
    let hubei_authority = division_of("11420000PDY0001162");

    assert!(v.may_hold("420281.credx", daye_authority));
    assert!(!v.may_hold("420281.credx", yangxin_authority));
    assert!(v.may_hold("420222.credx", yangxin_authority));
    assert!(v.may_hold("420200.credx", daye_authority));
    assert!(v.may_hold("420200.credx", yangxin_authority));
    assert!(!v.may_hold("420200.credx", hubei_authority));
    assert!(v.may_hold("420000.credx", hubei_authority));
    assert!(!v.may_hold("420000.credx", qinghai_authority));
    assert!(v.may_hold("630000.credx", qinghai_authority));
    assert!(v.may_hold("cn.credx", qinghai_authority));
    // Central-level authorities (100000) belong to the national log only.
    assert!(v.may_hold("cn.credx", DivisionCode::CENTRAL));
    assert!(!v.may_hold("420000.credx", DivisionCode::CENTRAL));
    // A sector node without areas of its own covers its parent's.
    assert!(v.may_hold("tax.420000.credx", daye_authority));
    assert!(!v.may_hold("tax.420000.credx", qinghai_authority));
    // Historical 阳新 code 422327 maps to 420222.
    assert!(v.may_hold("420222.credx", DivisionCode::parse("422327").unwrap()));
    assert!(!v.may_hold("999999.credx", daye_authority));
}

#[test]
fn tree_lookups() {
    let v = verified(7);
    let origins = |nodes: Vec<&RosterNode>| -> Vec<String> {
        nodes.into_iter().map(|n| n.origin.clone()).collect()
    };
    assert_eq!(
        origins(v.children("420200.credx")),
        ["420222.credx", "420281.credx"]
    );
    assert_eq!(
        origins(v.children("420000.credx")),
        ["420200.credx", "tax.420000.credx"]
    );
    assert_eq!(
        origins(v.children("cn.credx")),
        ["420000.credx", "630000.credx"]
    );
    assert!(v.children("420281.credx").is_empty());
    assert_eq!(
        origins(v.ancestors("420281.credx")),
        ["420200.credx", "420000.credx", "cn.credx"]
    );
    assert!(v.ancestors("cn.credx").is_empty());
    assert!(v.is_within("420281.credx", "420000.credx"));
    assert!(!v.is_within("630000.credx", "420000.credx"));
    assert_eq!(v.national().unwrap().origin, "cn.credx");
    assert_eq!(v.parent("420281.credx").unwrap().origin, "420200.credx");
    assert_eq!(
        v.checkpoint_key("420281.credx"),
        Some(&node_keys("420281.credx").log.verifier_key())
    );
    assert_eq!(
        v.cosigner_key("420200.credx"),
        Some(&node_keys("420200.credx").cosigner.verifier_key())
    );
    assert!(v.checkpoint_key("nowhere.credx").is_none());
    assert!(matches!(
        v.require("nowhere.credx"),
        Err(RosterError::UnknownOrigin { .. })
    ));
    assert_eq!(v.node("420281.credx").unwrap().level, NodeLevel::County);
    assert_ne!(v.digest(), Hash::default());
}

#[test]
fn trust_policy_requires_the_whole_ancestor_chain() {
    let v = verified(7);
    let policy = v.trust_policy_for("420281.credx").unwrap();
    let daye = node_keys("420281.credx");
    let checkpoint = Checkpoint::new("420281.credx", 12, Hash([5; 32]));
    let mut signed = SignedCheckpoint::sign(checkpoint.clone(), &daye.log).unwrap();
    for origin in ["420200.credx", "420000.credx"] {
        let c = node_keys(origin).cosigner.cosign(&checkpoint, NOW).unwrap();
        signed.add_cosignature(&c).unwrap();
    }
    // City and province only: the national cosignature is missing.
    assert!(matches!(
        policy.verify_checkpoint(&signed),
        Err(PolicyError::QuorumNotMet { verified: 2, .. })
    ));
    let national = node_keys("cn.credx")
        .cosigner
        .cosign(&checkpoint, NOW)
        .unwrap();
    signed.add_cosignature(&national).unwrap();
    let ok = policy.verify_checkpoint(&signed).unwrap();
    assert_eq!(
        ok.cosigner_names(),
        ["420200.credx", "420000.credx", "cn.credx"]
    );
    // A cosignature by the node itself does not count towards its own quorum.
    let own: VerifierKey = daye.cosigner.verifier_key();
    assert!(policy.witnesses().iter().all(|w| w.key != own));

    // The national log needs no cosignature.
    let national_policy = v.trust_policy_for("cn.credx").unwrap();
    let cp = Checkpoint::new("cn.credx", 3, Hash([6; 32]));
    let signed = SignedCheckpoint::sign(cp, &node_keys("cn.credx").log).unwrap();
    national_policy.verify_checkpoint(&signed).unwrap();
    assert!(matches!(
        v.trust_policy_for("nowhere.credx"),
        Err(RosterError::UnknownOrigin { .. })
    ));
}

// ---------------------------------------------------------------- hostile input

proptest! {
    #[test]
    fn signed_roster_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(r) = SignedRoster::parse(&bytes) {
            let _ = r.verify(&root().verifier_key(), NOW);
        }
    }

    #[test]
    fn roster_text_parse_never_panics(text in "\\PC{0,400}") {
        let _ = Roster::parse_text(&text);
    }

    #[test]
    fn mutated_roster_text_never_panics(pos in 0usize..4000, byte in any::<u8>()) {
        let mut bytes = roster(7).to_text().into_bytes();
        let i = pos % bytes.len();
        bytes[i] = byte;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = Roster::parse_text(text);
        }
    }
}
