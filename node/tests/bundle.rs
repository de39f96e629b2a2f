//! Verification bundles end to end: a real RocksDB-backed node with its sequencer takes a
//! licence through the department API, builds a bundle for the subject (anchoring its status
//! root), its ancestors cosign the checkpoint, and the bundle verifies offline against the
//! national root key alone; tampering with any part fails with the error naming that part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use credx_node::api::bundle::build_bundle;
use credx_node::api::{router, ApiState, TokenStore, View};
use credx_protocol::bundle::model::{b64, unb64};
use credx_protocol::bundle::{verify_bundle, Bundle, BundleError};
use credx_protocol::entry::SubjectId;
use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::note::{CosignerKey, KeyName, NoteSigner, PolicyError, TlogProof};
use credx_protocol::roster::{
    JurisdictionSpec, NodeLevel, Roster, RosterError, RosterNode, SignedRoster,
};
use credx_protocol::statusmap::ProofError;
use credx_storage::{
    EntryPlanner, RocksStorage, Sequencer, SequencerConfig, Storage, StorageOptions,
};
use serde_json::{json, Value};

const ORIGIN: &str = "420281.credx";
const DAYE_AUTHORITY: &str = "11420281PDY000052Q";
const COMPANY: &str = "91420281PDY00001X0";
const ISSUED: u64 = 1_780_000_000;
const NOW: u64 = ISSUED + 3600;

/// (origin, level, parent, division).
const LAYOUT: [(&str, NodeLevel, Option<&str>, &str); 4] = [
    ("cn.credx", NodeLevel::National, None, "000000"),
    (
        "420000.credx",
        NodeLevel::Province,
        Some("cn.credx"),
        "420000",
    ),
    (
        "420200.credx",
        NodeLevel::City,
        Some("420000.credx"),
        "420200",
    ),
    (ORIGIN, NodeLevel::County, Some("420200.credx"), "420281"),
];

struct Keys {
    log: NoteSigner,
    cosigner: CosignerKey,
}

fn keys(origin: &str) -> Keys {
    let name = KeyName::new(origin).unwrap();
    Keys {
        log: NoteSigner::generate(name.clone(), &mut rand::rngs::OsRng),
        cosigner: CosignerKey::generate(name, &mut rand::rngs::OsRng),
    }
}

fn roster(all: &[(String, Keys)]) -> Roster {
    let nodes = LAYOUT
        .iter()
        .zip(all)
        .map(|((origin, level, parent, div), (_, k))| RosterNode {
            origin: (*origin).to_owned(),
            level: *level,
            parent: parent.map(str::to_owned),
            jurisdiction: vec![JurisdictionSpec::Division(
                if *level == NodeLevel::National {
                    Jurisdiction::National
                } else {
                    Jurisdiction::of(DivisionCode::parse(div).unwrap())
                },
            )],
            checkpoint_key: k.log.verifier_key().to_string(),
            cosigner_key: k.cosigner.verifier_key().to_string(),
            tls_fingerprint: None,
        })
        .collect();
    Roster {
        version: 1,
        issued_at: ISSUED,
        expires_at: ISSUED + 86_400 * 30,
        federation: "credx-federation".into(),
        nodes,
    }
}

fn licence() -> Value {
    json!({
        "XK_XDR_MC": "大冶市示例建材有限公司", "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": COMPANY, "XK_FRDB": "张示例",
        "XK_XKWS": "准予行政许可决定书", "XK_WSH": "冶示许字〔2026〕第1号",
        "XK_XKLB": "普通", "XK_XKZS": "示例经营许可证", "XK_NR": "示例",
        "XK_JDRQ": "2026-03-02", "XK_YXQZ": "2026-03-02", "XK_YXQZI": "2031-03-01",
        "XK_XKJG": "大冶市示例审批局", "XK_XKJGDM": DAYE_AUTHORITY,
        "XK_ZT": "1", "XK_LYDW": "大冶市示例审批局", "XK_LYDWDM": DAYE_AUTHORITY, "BZ": ""
    })
}

struct Fixture {
    bundle: Bundle,
    absent: Bundle,
    root: NoteSigner,
    _db: tempfile::TempDir,
    _checkpoints: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let all: Vec<(String, Keys)> = LAYOUT
        .iter()
        .map(|(o, ..)| ((*o).to_owned(), keys(o)))
        .collect();
    let root = NoteSigner::generate(KeyName::new("credx-root").unwrap(), &mut rand::rngs::OsRng);
    let signed_roster = SignedRoster::sign(&roster(&all), &root).unwrap();

    let db = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStorage::open(db.path(), &StorageOptions::default()).unwrap());
    let own = &all.iter().find(|(o, _)| o == ORIGIN).unwrap().1;
    let signer = NoteSigner::from_private_key_str(&own.log.to_private_key_str()).unwrap();
    let mut config = SequencerConfig::new(checkpoints.path());
    config.max_batch_delay = Duration::from_millis(2);
    let sequencer = Arc::new(
        Sequencer::start(store.clone(), signer, EntryPlanner::new(ORIGIN), config).unwrap(),
    );
    let tokens = TokenStore::new();
    let (token, _) = tokens
        .issue("大冶市示例审批局", [DAYE_AUTHORITY], [View::Shared])
        .unwrap();
    let state = ApiState::new(
        ORIGIN.to_owned(),
        store.clone(),
        sequencer.clone(),
        Arc::new(tokens),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/v1/records"))
        .bearer_auth(&token)
        .json(&licence())
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        200,
        "{}",
        resp.text().await.unwrap()
    );

    let subject = SubjectId::Organisation(COMPANY.to_owned());
    let other = SubjectId::Organisation("91420281PDY00002X1".to_owned());
    let (bundle, absent) = tokio::task::spawn_blocking({
        let store = store.clone();
        let sequencer = sequencer.clone();
        move || {
            let s: &dyn Storage = store.as_ref();
            let bundle = build_bundle(s, &sequencer, ORIGIN, &subject, &signed_roster).unwrap();
            let absent = build_bundle(s, &sequencer, ORIGIN, &other, &signed_roster).unwrap();
            (bundle, absent)
        }
    })
    .await
    .unwrap();
    // The ancestors cosign the anchors' checkpoint, as sync would deliver it.
    let cosign = |b: &Bundle| {
        let mut proof = TlogProof::parse(b.anchor.tlog_proof.as_bytes()).unwrap();
        for (origin, k) in &all {
            if origin != ORIGIN {
                let c = k
                    .cosigner
                    .cosign(proof.checkpoint.checkpoint(), NOW)
                    .unwrap();
                proof.checkpoint.add_cosignature(&c).unwrap();
            }
        }
        let mut b = b.clone();
        b.anchor.tlog_proof = String::from_utf8(proof.to_bytes()).unwrap();
        b
    };
    Fixture {
        bundle: cosign(&bundle),
        absent: cosign(&absent),
        root,
        _db: db,
        _checkpoints: checkpoints,
    }
}

fn reencode(bundle: &Bundle) -> Bundle {
    Bundle::parse(bundle.to_json().unwrap().as_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_from_a_rocksdb_node_verifies_offline_and_tampering_is_named() {
    let f = fixture().await;
    let vkey = f.root.verifier_key();

    let ok = verify_bundle(&reencode(&f.bundle), &vkey, None, NOW).unwrap();
    assert_eq!(ok.origin, ORIGIN);
    assert_eq!(ok.cosigners.len(), 3, "{:?}", ok.cosigners);
    assert!(ok.status.is_some());
    let absent = verify_bundle(&f.absent, &vkey, None, NOW).unwrap();
    assert!(absent.status.is_none());

    // (a) the status: another subject's status, or absence claimed for a present subject.
    let mut t = f.bundle.clone();
    t.status = None;
    assert!(matches!(
        verify_bundle(&t, &vkey, None, NOW),
        Err(BundleError::StatusProof(ProofError::Present))
    ));
    let mut t = f.bundle.clone();
    let mut bytes = unb64("status", &t.status.clone().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    t.status = Some(b64(&bytes));
    let err = verify_bundle(&t, &vkey, None, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::BadStatus(_) | BundleError::StatusProof(ProofError::ValueMismatch)
        ),
        "{err}"
    );

    // (b) the anchor entry: one changed byte is no longer the entry the log holds.
    let mut t = f.bundle.clone();
    let mut bytes = unb64("entry", &t.anchor.entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    t.anchor.entry = b64(&bytes);
    let err = verify_bundle(&t, &vkey, None, NOW).unwrap_err();
    assert!(
        matches!(err, BundleError::NotIncluded { what: "anchor", .. }),
        "{err}"
    );

    // (c) a cosignature: a flipped signature byte is rejected by name; dropping one misses
    // the quorum of all ancestors.
    let mut t = f.bundle.clone();
    let pos = t.anchor.tlog_proof.find("— 420000.credx ").unwrap() + "— 420000.credx ".len();
    let line_end = pos + t.anchor.tlog_proof[pos..].find('\n').unwrap();
    let mut sig = unb64("sig", &t.anchor.tlog_proof[pos..line_end]).unwrap();
    sig[20] ^= 1;
    t.anchor.tlog_proof.replace_range(pos..line_end, &b64(&sig));
    let err = verify_bundle(&t, &vkey, None, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Cosignatures {
                what: "anchor",
                source: PolicyError::InvalidCosignature { .. }
            }
        ),
        "{err}"
    );
    let mut t = f.bundle.clone();
    let start = t.anchor.tlog_proof.find("— 420000.credx ").unwrap();
    let end = start + t.anchor.tlog_proof[start..].find('\n').unwrap() + 1;
    t.anchor.tlog_proof.replace_range(start..end, "");
    let err = verify_bundle(&t, &vkey, None, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Cosignatures {
                source: PolicyError::QuorumNotMet { .. },
                ..
            }
        ),
        "{err}"
    );

    // (d) the roster: an edited roster no longer carries the root's signature, an expired
    // one is refused, and another root key refuses it.
    let mut t = f.bundle.clone();
    t.roster = t.roster.replacen("credx-federation", "credx-federatiom", 1);
    let err = verify_bundle(&t, &vkey, None, NOW).unwrap_err();
    assert!(matches!(err, BundleError::Roster(_)), "{err}");
    let err = verify_bundle(&f.bundle, &vkey, None, ISSUED + 86_400 * 31).unwrap_err();
    assert!(
        matches!(err, BundleError::Roster(RosterError::Expired { .. })),
        "{err}"
    );
    let other = NoteSigner::generate(KeyName::new("credx-root").unwrap(), &mut rand::rngs::OsRng);
    let err = verify_bundle(&f.bundle, &other.verifier_key(), None, NOW).unwrap_err();
    assert!(matches!(err, BundleError::Roster(_)), "{err}");
}
