//! Federation credentials: trust root and node credentials on disk, the signed roster file,
//! and the in-memory test federation the sync tests build on. Real keys, real certificates,
//! real WebPKI verification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use credx_node::federation::credentials::file;
use credx_node::federation::{
    three_level, unix_now, FederationError, NodeCredentials, NodePublicKeys, NodeSpec, Overwrite,
    RosterFile, TestFederation, TrustRoot,
};
use credx_node::transport::{FederationRoots, Validity};
use credx_protocol::ident::DivisionCode;
use credx_protocol::roster::{NodeLevel, RosterError};

const DAY: u64 = 24 * 3600;

fn validity() -> Validity {
    Validity::from_now(Duration::from_secs(30 * DAY))
}

/// Whether `roots` accept the node's certificate (as `credx roster sign` checks it).
fn issued_by(node: &NodeCredentials, roots: &FederationRoots) -> Result<(), FederationError> {
    node.public()
        .check_issued_by(roots, Path::new("ca.crt"), Path::new("tls.crt"))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn trust_root_round_trips_and_keeps_keys_private() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::generate("credx-federation").unwrap();
    assert_eq!(root.root_vkey().name().as_str(), "credx-federation-root");
    root.save(dir.path(), Overwrite::Refuse).unwrap();

    let loaded = TrustRoot::load(dir.path()).unwrap();
    assert_eq!(loaded.federation(), "credx-federation");
    assert_eq!(loaded.root_vkey(), root.root_vkey());
    assert_eq!(loaded.ca_certificate_pem(), root.ca_certificate_pem());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(TrustRoot::VKEY_FILE)).unwrap(),
        format!("{}\n", root.root_vkey())
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.path().join(TrustRoot::KEY_FILE)), 0o600);
        assert_eq!(mode(&dir.path().join(TrustRoot::CA_KEY_FILE)), 0o600);
        assert_eq!(mode(&dir.path().join(TrustRoot::VKEY_FILE)), 0o644);
    }
    // The loaded CA still issues certificates the original CA's anchors accept.
    let node = NodeCredentials::issue(&loaded, "440106.credx", validity()).unwrap();
    issued_by(&node, &root.roots().unwrap()).unwrap();
}

#[test]
fn existing_files_are_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let first = TrustRoot::generate("credx-federation").unwrap();
    first.save(dir.path(), Overwrite::Refuse).unwrap();
    let second = TrustRoot::generate("credx-federation").unwrap();
    let err = second.save(dir.path(), Overwrite::Refuse).unwrap_err();
    let FederationError::Exists { path } = &err else {
        panic!("expected Exists, got {err:?}");
    };
    assert_eq!(path, &dir.path().join(TrustRoot::KEY_FILE));
    assert!(err.to_string().contains("--force"), "{err}");
    // Nothing was replaced.
    assert_eq!(
        TrustRoot::load(dir.path()).unwrap().root_vkey(),
        first.root_vkey()
    );
    second.save(dir.path(), Overwrite::Replace).unwrap();
    assert_eq!(
        TrustRoot::load(dir.path()).unwrap().root_vkey(),
        second.root_vkey()
    );
}

#[test]
fn node_credentials_round_trip() {
    let root = TrustRoot::generate("credx-federation").unwrap();
    let node = NodeCredentials::issue(&root, "440106.credx", validity()).unwrap();
    assert_eq!(node.checkpoint_signer().name().as_str(), "440106.credx");
    assert_eq!(node.cosigner().name().as_str(), "440106.credx");
    assert!(!node
        .checkpoint_signer()
        .verifier_key()
        .same_public_key(&node.cosigner().verifier_key()));
    assert_eq!(node.tls().origin, "440106.credx");

    let dir = tempfile::tempdir().unwrap();
    node.save(dir.path(), Overwrite::Refuse).unwrap();
    let loaded = NodeCredentials::load(dir.path()).unwrap();
    assert_eq!(loaded.origin(), "440106.credx");
    assert_eq!(loaded.public(), node.public());
    assert_eq!(loaded.root_vkey(), &root.root_vkey());
    assert_eq!(loaded.tls().fingerprint(), node.tls().fingerprint());
    loaded.roots().unwrap();
    #[cfg(unix)]
    for name in [file::CHECKPOINT_KEY, file::COSIGNER_KEY, file::TLS_KEY] {
        assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
    }
    // The roster operator reads the public files only.
    let public = NodePublicKeys::load(dir.path()).unwrap();
    assert_eq!(public, node.public());
    let line = public.roster_node(NodeLevel::County, Some("440100.credx"), vec![]);
    assert_eq!(
        line.checkpoint_key,
        node.checkpoint_signer().verifier_key().to_string()
    );
    assert_eq!(
        line.cosigner_key,
        node.cosigner().verifier_key().to_string()
    );
    assert_eq!(line.tls_fingerprint, node.tls().fingerprint());

    let err = node.save(dir.path(), Overwrite::Refuse).unwrap_err();
    assert!(matches!(err, FederationError::Exists { .. }), "{err}");
}

#[test]
fn mixed_up_credential_files_are_refused_naming_the_file() {
    let root = TrustRoot::generate("credx-federation").unwrap();
    let county = NodeCredentials::issue(&root, "440106.credx", validity()).unwrap();
    let city = NodeCredentials::issue(&root, "440100.credx", validity()).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    county.save(a.path(), Overwrite::Refuse).unwrap();
    city.save(b.path(), Overwrite::Refuse).unwrap();

    // The city's cosigner key in the county's directory.
    std::fs::copy(
        b.path().join(file::COSIGNER_KEY),
        a.path().join(file::COSIGNER_KEY),
    )
    .unwrap();
    let err = NodeCredentials::load(a.path()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cosigner.key") && text.contains("440100.credx"),
        "{text}"
    );

    // The city's certificate with the county's keys.
    county.save(a.path(), Overwrite::Replace).unwrap();
    std::fs::copy(b.path().join(file::TLS_CERT), a.path().join(file::TLS_CERT)).unwrap();
    let text = NodeCredentials::load(a.path()).unwrap_err().to_string();
    assert!(
        text.contains("tls.crt") && text.contains("440100.credx"),
        "{text}"
    );

    // A certificate for the right origin from another CA.
    let foreign = TrustRoot::generate("credx-federation").unwrap();
    let impostor = NodeCredentials::issue(&foreign, "440106.credx", validity()).unwrap();
    let c = tempfile::tempdir().unwrap();
    impostor.save(c.path(), Overwrite::Refuse).unwrap();
    std::fs::copy(a.path().join(file::CA_CERT), c.path().join(file::CA_CERT)).unwrap();
    let err = NodeCredentials::load(c.path()).unwrap_err();
    assert!(
        matches!(err, FederationError::NotIssuedByCa { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("tls.crt"), "{err}");

    // A key file that is not a key.
    std::fs::write(a.path().join(file::CHECKPOINT_KEY), "not a key\n").unwrap();
    let err = NodeCredentials::load(a.path()).unwrap_err();
    assert!(matches!(err, FederationError::Key { .. }), "{err}");
    assert!(err.to_string().contains("checkpoint.key"), "{err}");

    // A missing file.
    let err = NodeCredentials::load(&a.path().join("nowhere")).unwrap_err();
    assert!(err.is_io(), "{err}");
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn origins_must_meet_the_roster_and_certificate_rules() {
    let root = TrustRoot::generate("credx-federation").unwrap();
    for origin in [
        "",
        "440106",                             // one label: not a certificate name
        "440106.CREDX",                       // upper case
        "440106.credx.",                      // trailing dot
        "tax_440000.credx",                   // underscore
        "credx.440106",                       // numeric last label
        &format!("{}.credx", "a".repeat(60)), // longer than the roster's 64
    ] {
        let err = NodeCredentials::issue(&root, origin, validity()).unwrap_err();
        assert!(
            matches!(err, FederationError::InvalidOrigin { .. }),
            "{origin}: {err}"
        );
    }
    let err = TrustRoot::generate("Credx Federation").unwrap_err();
    assert!(
        matches!(err, FederationError::InvalidFederationName { .. }),
        "{err}"
    );
}

#[test]
fn signed_roster_file_is_verified_against_root_vkey() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    fed.save(dir.path(), Overwrite::Refuse).unwrap();

    let file = RosterFile::new(dir.path().join(RosterFile::FILE_NAME));
    let root_vkey = dir.path().join("root").join(TrustRoot::VKEY_FILE);
    let verified = file
        .load_verified_with_vkey_file(&root_vkey, unix_now())
        .unwrap();
    assert_eq!(verified.digest(), fed.roster().digest());
    assert_eq!(verified.roster().nodes.len(), 4);

    // Every node directory loads and carries the same trust anchors.
    for node in fed.nodes() {
        let loaded = NodeCredentials::load(&dir.path().join("nodes").join(node.origin())).unwrap();
        assert_eq!(loaded.public(), node.public());
        assert_eq!(loaded.root_vkey(), &fed.root().root_vkey());
        // The node's own root.vkey verifies the roster.
        file.load_verified(loaded.root_vkey(), unix_now()).unwrap();
    }

    // Another root, same federation name: refused as badly signed.
    let foreign = fed.foreign().unwrap();
    let err = file
        .load_verified(&foreign.root().root_vkey(), unix_now())
        .unwrap_err();
    let FederationError::Roster { path, source } = &err else {
        panic!("expected Roster, got {err:?}");
    };
    assert_eq!(path, file.path());
    assert!(
        matches!(**source, RosterError::BadSignature { .. }),
        "{source}"
    );
    assert!(err.to_string().contains("roster.note"), "{err}");

    // One flipped byte in the signed text.
    let mut bytes = std::fs::read(file.path()).unwrap();
    let at = bytes.windows(5).position(|w| w == b"div:4").unwrap() + 4;
    bytes[at] = b'5';
    let tampered = dir.path().join("tampered.note");
    std::fs::write(&tampered, bytes).unwrap();
    let err = RosterFile::new(&tampered)
        .load_verified(&fed.root().root_vkey(), unix_now())
        .unwrap_err();
    assert!(
        matches!(
            &err,
            FederationError::Roster { source, .. }
                if matches!(**source, RosterError::BadSignature { .. })
        ),
        "{err}"
    );
}

#[test]
fn expired_and_future_rosters_are_refused_with_dates() {
    let fed = TestFederation::three_level().unwrap();
    let now = unix_now();
    let dir = tempfile::tempdir().unwrap();

    let expired = fed.sign_roster(2, now - 10 * DAY, now - DAY).unwrap();
    let file = RosterFile::new(dir.path().join("expired.note"));
    file.save(&expired, Overwrite::Refuse).unwrap();
    let err = file
        .load_verified(&fed.root().root_vkey(), now)
        .unwrap_err();
    let FederationError::RosterExpired {
        version,
        expires_at,
        ..
    } = &err
    else {
        panic!("expected RosterExpired, got {err:?}");
    };
    assert_eq!((*version, *expires_at), (2, now - DAY));
    let text = err.to_string();
    assert!(
        text.contains("expired.note") && text.contains("expired at") && text.contains("UTC"),
        "{text}"
    );
    // Still readable for an operator, and valid at a time inside its window.
    file.load_unverified().unwrap();
    file.load_verified(&fed.root().root_vkey(), now - 2 * DAY)
        .unwrap();

    let future = fed.sign_roster(3, now + DAY, now + 2 * DAY).unwrap();
    let file = RosterFile::new(dir.path().join("future.note"));
    file.save(&future, Overwrite::Refuse).unwrap();
    let err = file
        .load_verified(&fed.root().root_vkey(), now)
        .unwrap_err();
    assert!(
        matches!(err, FederationError::RosterNotYetValid { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("clock"), "{err}");
}

#[test]
fn three_level_federation_has_the_right_tree() {
    use three_level::{CITY, COUNTY, NATIONAL, PROVINCE};
    let fed = TestFederation::three_level().unwrap();
    let roster = fed.roster();
    assert_eq!(roster.roster().federation, three_level::FEDERATION);
    assert_eq!(roster.version(), 1);
    assert!(roster.expires_at() > unix_now() + DAY - 120);

    assert_eq!(roster.national().unwrap().origin, NATIONAL);
    assert_eq!(roster.parent(PROVINCE).unwrap().origin, NATIONAL);
    assert_eq!(roster.parent(CITY).unwrap().origin, PROVINCE);
    assert_eq!(roster.parent(COUNTY).unwrap().origin, CITY);
    let chain: Vec<&str> = roster
        .ancestors(COUNTY)
        .iter()
        .map(|n| n.origin.as_str())
        .collect();
    assert_eq!(chain, [CITY, PROVINCE, NATIONAL]);
    assert_eq!(roster.children(CITY).len(), 1);
    assert!(roster.is_within(COUNTY, PROVINCE));
    assert_eq!(roster.node(COUNTY).unwrap().level, NodeLevel::County);

    // Jurisdictions are the GB/T 2260 prefixes: 天河区 holds only 440106.
    let code = |c: &str| DivisionCode::parse(c).unwrap();
    assert!(roster.may_hold(COUNTY, code("440106")));
    assert!(!roster.may_hold(COUNTY, code("440104")));
    assert!(roster.may_hold(CITY, code("440104")));
    assert!(!roster.may_hold(CITY, code("440300")));
    assert!(roster.may_hold(PROVINCE, code("440300")));
    assert!(!roster.may_hold(PROVINCE, code("420281")));

    // The roster carries exactly the keys and certificates the nodes hold.
    for node in fed.nodes() {
        let origin = node.origin();
        assert_eq!(
            roster.checkpoint_key(origin).unwrap(),
            &node.checkpoint_signer().verifier_key()
        );
        assert_eq!(
            roster.cosigner_key(origin).unwrap(),
            &node.cosigner().verifier_key()
        );
        assert_eq!(
            roster.node(origin).unwrap().tls_fingerprint,
            node.tls().fingerprint()
        );
        assert_eq!(node.root_vkey(), &fed.root().root_vkey());
    }
    // Another region's view of the county: its log key and three ancestor cosigners.
    roster.trust_policy_for(COUNTY).unwrap();

    let err = fed.node("440999.credx").unwrap_err();
    assert!(err.to_string().contains(COUNTY), "{err}");
}

#[test]
fn foreign_federation_has_another_ca_and_root() {
    use three_level::COUNTY;
    let fed = TestFederation::three_level().unwrap();
    let foreign = fed.foreign().unwrap();
    assert_eq!(foreign.federation(), fed.federation());
    assert_ne!(foreign.root().root_vkey(), fed.root().root_vkey());
    assert_ne!(
        foreign.root().ca_certificate_pem(),
        fed.root().ca_certificate_pem()
    );

    let impostor = foreign.node(COUNTY).unwrap();
    assert_eq!(impostor.origin(), COUNTY);
    let err = issued_by(impostor, &fed.roots().unwrap()).unwrap_err();
    assert!(
        matches!(err, FederationError::NotIssuedByCa { .. }),
        "{err}"
    );
    issued_by(fed.node(COUNTY).unwrap(), &fed.roots().unwrap()).unwrap();

    let err = foreign
        .signed_roster()
        .verify(&fed.root().root_vkey(), unix_now())
        .unwrap_err();
    assert!(matches!(err, RosterError::BadSignature { .. }), "{err}");
}

#[test]
fn build_refuses_a_layout_the_roster_rules_refuse() {
    // A county outside its city's area: caught before anything is signed.
    let mut specs = TestFederation::three_level_specs().unwrap();
    specs.push(
        NodeSpec::division(
            "440305.credx",
            NodeLevel::County,
            three_level::CITY,
            "440305",
        )
        .unwrap(),
    );
    let err = TestFederation::build(&specs).unwrap_err();
    assert!(
        matches!(
            &err,
            FederationError::RosterRules(e) if matches!(**e, RosterError::Invalid { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("outside"), "{err}");

    // The same origin twice.
    let mut specs = TestFederation::three_level_specs().unwrap();
    specs.push(specs[3].clone());
    let err = TestFederation::build(&specs).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

/// The fixture's credentials work on the real transport: the county dials the city that the
/// roster names as its parent; a county certificate from the foreign CA is refused.
#[tokio::test]
async fn test_federation_credentials_connect_over_quic() {
    use std::sync::Arc;

    use credx_node::transport::{tls, AllowOrigins, Transport, TransportLimits};
    use three_level::{CITY, COUNTY};

    let fed = TestFederation::three_level().unwrap();
    let roster = fed.roster();
    let admitted: AllowOrigins = roster
        .roster()
        .nodes
        .iter()
        .map(|n| n.origin.clone())
        .collect();
    let bind = |node: &NodeCredentials, listen: bool| {
        let roots = node.roots().unwrap();
        Transport::bind(
            "127.0.0.1:0".parse().unwrap(),
            listen.then(|| tls::server_config(node.tls(), &roots).unwrap()),
            tls::client_config(node.tls(), &roots).unwrap(),
            Arc::new(admitted.clone()),
            TransportLimits::default(),
        )
        .unwrap()
    };
    let city = bind(fed.node(CITY).unwrap(), true);
    let county = bind(fed.node(COUNTY).unwrap(), false);
    let parent = roster.parent(COUNTY).unwrap().origin.clone();
    let addr = city.local_addr().unwrap();
    let (to_city, to_county) = tokio::join!(county.connect(addr, &parent), city.accept());
    let (to_city, to_county) = (to_city.unwrap(), to_county.unwrap());
    assert_eq!(to_city.peer().origin, CITY);
    assert_eq!(to_county.peer().origin, COUNTY);
    // The certificate the county presented is the one the roster pins.
    assert_eq!(
        Some(to_county.peer().cert_fingerprint),
        roster.node(COUNTY).unwrap().tls_fingerprint
    );

    let foreign = fed.foreign().unwrap();
    let impostor = foreign.node(COUNTY).unwrap();
    let impostor = Transport::bind(
        "127.0.0.1:0".parse().unwrap(),
        None,
        // Trusts our CA for the server, but presents a foreign certificate.
        tls::client_config(impostor.tls(), &fed.roots().unwrap()).unwrap(),
        Arc::new(admitted.clone()),
        TransportLimits::default(),
    )
    .unwrap();
    let (dialled, accepted) = tokio::join!(impostor.connect(addr, CITY), city.accept());
    assert!(
        dialled.is_err() || accepted.is_err(),
        "foreign certificate admitted"
    );
    assert!(
        accepted.is_err(),
        "city accepted a certificate from another CA"
    );
}
