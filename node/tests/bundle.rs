//! Verification bundles end to end over HTTP: a province node (real RocksDB, sequencer,
//! QUIC) takes records through the department API and serves `GET
//! /v1/subjects/{code}/bundle`; until its parent, the national node, has cosigned a
//! checkpoint covering the anchor it answers 503 naming what to wait for; after one real
//! upload the bundle verifies offline with nothing but the national root key (and, as a
//! verifier in another province would set it, a cosigner policy); tampering with any part
//! fails with the error naming that part. Personal ID numbers never leave in a public answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{loopback, TestNode};
use credx_node::api::{router, ApiState, TokenStore, View};
use credx_node::federation::test_federation::three_level::{CITY, COUNTY, NATIONAL, PROVINCE};
use credx_node::federation::TestFederation;
use credx_node::synthetic::synthetic_uscc;
use credx_protocol::bundle::model::{b64, unb64};
use credx_protocol::bundle::{verify_bundle, Bundle, BundleError};
use credx_protocol::entry::SubjectId;
use credx_protocol::note::{KeyName, NoteSigner, PolicyError, TrustPolicy};
use credx_protocol::roster::RosterError;
use credx_protocol::statusmap::ProofError;
use credx_storage::{LogStore, Sequencer};
use serde_json::{json, Value};

const PERSON_ID: &str = "420281199603151237";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn authority() -> String {
    synthetic_uscc("11", "440106", 52).unwrap()
}

fn company() -> String {
    synthetic_uscc("91", "440106", 1).unwrap()
}

/// A penalty on an organisation whose legal representative's ID number is on the record.
fn company_penalty() -> Value {
    json!({
        "CF_XDR_MC": "天河区示例建材有限公司", "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": company(), "CF_FRDB": "张示例",
        "CF_FR_ZJLX": "01", "CF_FR_ZJHM": PERSON_ID,
        "CF_WSH": "穗天示罚〔2026〕1号", "CF_WFXW": "未按规定公示信息（示例）",
        "CF_SY": "……（示例）", "CF_YJ": "《示例条例》第X条",
        "CF_CFLB": "罚款", "CF_NR": "罚款人民币1万元",
        "CF_NR_FK": 1.0, "CF_JDRQ": "2026-03-02", "CF_YXQ": "2027-03-01",
        "CF_CFJG": "天河区示例监管局", "CF_CFJGDM": authority(),
        "CF_SJLY": "天河区示例监管局", "CF_SJLYDM": authority(), "BZ": ""
    })
}

/// A penalty on a natural person.
fn person_penalty() -> Value {
    json!({
        "CF_XDR_MC": "王示例", "CF_XDR_LB": "自然人",
        "CF_XDR_ZJLX": "01", "CF_XDR_ZJHM": PERSON_ID,
        "CF_WSH": "穗天示罚〔2026〕2号", "CF_WFXW": "销售不符合食品安全标准的食品（示例）",
        "CF_SY": "……（示例）", "CF_YJ": "《中华人民共和国食品安全法》第X条（示例）",
        "CF_CFLB": "警告;罚款", "CF_NR": "警告，并处罚款人民币2万元",
        "CF_NR_FK": 2.0, "CF_JDRQ": "2026-03-02", "CF_YXQ": "2027-03-01",
        "CF_CFJG": "天河区示例监管局", "CF_CFJGDM": authority(),
        "CF_SJLY": "天河区示例监管局", "CF_SJLYDM": authority(), "BZ": ""
    })
}

/// The department API of `node`, served on loopback; returns its base URL and a token that
/// may submit for [`authority`] and read the shared view.
async fn serve_api(node: &mut TestNode) -> (String, String) {
    let sequencer: Arc<Sequencer> = Arc::new(node.sequencer.take().unwrap());
    let tokens = TokenStore::new();
    let (token, _) = tokens
        .issue("天河区示例监管局", [authority()], [View::Shared])
        .unwrap();
    let state = ApiState::new(
        node.origin.clone(),
        node.store.clone(),
        sequencer,
        Arc::new(tokens),
    )
    .with_roster(Arc::clone(&node.ctx.roster));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    (format!("http://{addr}"), token)
}

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn error_code(text: &str) -> String {
    let body: Value = serde_json::from_str(text).unwrap();
    body["error"].as_str().unwrap().to_owned()
}

/// What a verifier in another province configures: the province's log key and the national
/// node's cosigner key, both from the national roster, one cosignature required.
fn other_province_policy(fed: &TestFederation) -> TrustPolicy {
    let roster = fed.roster();
    TrustPolicy::new(
        &[roster.checkpoint_key(PROVINCE).unwrap().clone()],
        &[roster.cosigner_key(NATIONAL).unwrap().clone()],
        1,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn province_bundle_over_http_verifies_offline_and_tampering_is_named() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let national = TestNode::start(&fed, NATIONAL, &dir.path().join("national"), loopback()).await;
    let mut province =
        TestNode::start(&fed, PROVINCE, &dir.path().join("province"), loopback()).await;
    let (base, token) = serve_api(&mut province).await;
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1/records"))
        .bearer_auth(&token)
        .json(&json!([company_penalty(), person_penalty()]))
        .send()
        .await
        .unwrap();
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["accepted"], 2, "{report}");

    // Not cosigned by the national node yet: 503 saying what to wait for, and a retry
    // while waiting does not append another anchor.
    let company_url = format!("{base}/v1/subjects/{}/bundle", company());
    let (status, text) = get(&company_url, None).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(error_code(&text), "awaiting_cosignature", "{text}");
    assert!(
        text.contains("cn.credx") && text.contains("upload"),
        "{text}"
    );
    let size = province.store.log_size(PROVINCE).unwrap();
    let (status, _) = get(&company_url, None).await;
    assert_eq!(status, 503);
    assert_eq!(province.store.log_size(PROVINCE).unwrap(), size);

    // One real upload: the national node verifies the delta and cosigns.
    province.upload_to(&national).await.unwrap();

    let (status, text) = get(&company_url, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains(PERSON_ID) && !text.contains("19960315"),
        "a public bundle must not carry a personal ID number"
    );
    let bundle = Bundle::parse(text.as_bytes()).unwrap();
    let vkey = fed.root().root_vkey();
    let ok = verify_bundle(&bundle, &vkey, None, now()).unwrap();
    assert_eq!(ok.origin, PROVINCE);
    assert_eq!(ok.cosigners, vec![NATIONAL.to_owned()]);
    let status = ok.status.unwrap();
    assert_eq!(status.subject, SubjectId::Organisation(company()));
    assert_eq!(status.total_records, 1);
    let policy = other_province_policy(&fed);
    verify_bundle(&bundle, &vkey, Some(&policy), now()).unwrap();
    assert!(
        bundle.entries.is_empty(),
        "the public bundle carries no record bytes"
    );
    // The shared view adds the record behind the status, proven in its own log under the
    // same quorum.
    let (status, text) = get(&company_url, Some(&token)).await;
    assert_eq!(status, 200, "{text}");
    let shared = Bundle::parse(text.as_bytes()).unwrap();
    let proven = verify_bundle(&shared, &vkey, Some(&policy), now()).unwrap();
    assert_eq!(proven.entries.len(), 1);
    assert_eq!(proven.entries[0].origin, PROVINCE);
    let mut t = shared.clone();
    t.entries[0].entry = t.anchor.entry.clone();
    assert!(
        verify_bundle(&t, &vkey, None, now()).is_err(),
        "an entry swapped for another fails its tlog-proof"
    );
    // Asked again while the status stands: the same cosigned proof, nothing appended.
    let size = province.store.log_size(PROVINCE).unwrap();
    let (status, text) = get(&company_url, None).await;
    assert_eq!(status, 200, "{text}");
    let again = Bundle::parse(text.as_bytes()).unwrap();
    assert_eq!(again.anchor.index, bundle.anchor.index);
    assert_eq!(province.store.log_size(PROVINCE).unwrap(), size);

    // An unknown subject gets an absence proof (the root has not moved: no new anchor).
    let unknown = synthetic_uscc("91", "440106", 99_999).unwrap();
    let size = province.store.log_size(PROVINCE).unwrap();
    let (status, text) = get(&format!("{base}/v1/subjects/{unknown}/bundle"), None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(province.store.log_size(PROVINCE).unwrap(), size);
    let absent = Bundle::parse(text.as_bytes()).unwrap();
    let proven = verify_bundle(&absent, &vkey, Some(&policy), now()).unwrap();
    assert!(proven.status.is_none());
    // ... and that absence cannot be passed off for the listed company.
    let mut t = absent.clone();
    t.subject = SubjectId::Organisation(company());
    let err = verify_bundle(&t, &vkey, None, now()).unwrap_err();
    assert!(matches!(err, BundleError::StatusProof(_)), "{err}");

    // A natural person: the public request is refused without echoing the number; the
    // shared view gets a bundle that verifies.
    let person_url = format!("{base}/v1/subjects/{PERSON_ID}/bundle");
    let (status, text) = get(&person_url, None).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(error_code(&text), "person_needs_shared_view");
    assert!(!text.contains(PERSON_ID), "{text}");
    let (status, text) = get(&format!("{person_url}?view=public"), Some(&token)).await;
    assert_eq!(
        (status, error_code(&text).as_str()),
        (403, "person_needs_shared_view")
    );
    let (status, text) = get(&person_url, Some(&token)).await;
    assert_eq!(status, 200, "{text}");
    let person = Bundle::parse(text.as_bytes()).unwrap();
    let proven = verify_bundle(&person, &vkey, None, now()).unwrap();
    assert!(proven.status.is_some());

    // The endpoint is in the served OpenAPI document.
    let (status, text) = get(&format!("{base}/openapi.json"), None).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["paths"]["/v1/subjects/{code}/bundle"]["get"].is_object());

    tamper_checks(&bundle, &vkey);
    province.stop().await;
    national.stop().await;
}

/// Each part of a served bundle, changed, fails with the error naming that part.
fn tamper_checks(bundle: &Bundle, vkey: &credx_protocol::note::VerifierKey) {
    let now = now();
    // (a) the status: absence claimed for a present subject, or a changed status.
    let mut t = bundle.clone();
    t.status = None;
    assert!(matches!(
        verify_bundle(&t, vkey, None, now),
        Err(BundleError::StatusProof(ProofError::Present))
    ));
    let mut t = bundle.clone();
    let mut bytes = unb64("status", &t.status.clone().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    t.status = Some(b64(&bytes));
    let err = verify_bundle(&t, vkey, None, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::BadStatus(_) | BundleError::StatusProof(ProofError::ValueMismatch)
        ),
        "{err}"
    );

    // (b) the anchor entry: one changed byte is no longer the entry the log holds.
    let mut t = bundle.clone();
    let mut bytes = unb64("entry", &t.anchor.entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    t.anchor.entry = b64(&bytes);
    let err = verify_bundle(&t, vkey, None, now).unwrap_err();
    assert!(
        matches!(err, BundleError::NotIncluded { what: "anchor", .. }),
        "{err}"
    );

    // (c) the national cosignature: a flipped byte is rejected by name; without it the
    // quorum of all ancestors is missed.
    let marker = "— cn.credx ";
    let mut t = bundle.clone();
    let pos = t.anchor.tlog_proof.find(marker).unwrap() + marker.len();
    let line_end = pos + t.anchor.tlog_proof[pos..].find('\n').unwrap();
    let mut sig = unb64("sig", &t.anchor.tlog_proof[pos..line_end]).unwrap();
    sig[20] ^= 1;
    t.anchor.tlog_proof.replace_range(pos..line_end, &b64(&sig));
    let err = verify_bundle(&t, vkey, None, now).unwrap_err();
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
    let mut t = bundle.clone();
    let start = t.anchor.tlog_proof.find(marker).unwrap();
    let end = start + t.anchor.tlog_proof[start..].find('\n').unwrap() + 1;
    t.anchor.tlog_proof.replace_range(start..end, "");
    let err = verify_bundle(&t, vkey, None, now).unwrap_err();
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

    // (d) the roster: an edited roster loses the root's signature, and another root key
    // refuses it.
    let mut t = bundle.clone();
    let federation = "credx-test";
    assert!(t.roster.contains(federation));
    t.roster = t.roster.replacen(federation, "credx-tesu", 1);
    let err = verify_bundle(&t, vkey, None, now).unwrap_err();
    assert!(matches!(err, BundleError::Roster(_)), "{err}");
    let other = NoteSigner::generate(KeyName::new("credx-root").unwrap(), &mut rand::rngs::OsRng);
    let err = verify_bundle(bundle, &other.verifier_key(), None, now).unwrap_err();
    assert!(matches!(err, BundleError::Roster(_)), "{err}");
    let err = verify_bundle(bundle, vkey, None, now + 86_400 * 400).unwrap_err();
    assert!(
        matches!(err, BundleError::Roster(RosterError::Expired { .. })),
        "{err}"
    );
}

/// A county's checkpoints are cosigned only by its city; the province's and the national
/// node's cosignatures stay with them. The county says so and names who can answer.
#[tokio::test(flavor = "multi_thread")]
async fn county_names_the_ancestor_that_can_answer() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut county = TestNode::start(&fed, COUNTY, &dir.path().join("county"), loopback()).await;
    let (base, _) = serve_api(&mut county).await;
    let (status, text) = get(&format!("{base}/v1/subjects/{}/bundle", company()), None).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(error_code(&text), "quorum_out_of_reach", "{text}");
    assert!(
        text.contains(PROVINCE) && text.contains(NATIONAL) && !text.contains(CITY),
        "{text}"
    );
    county.stop().await;
}

/// A county's record, mirrored by the province: the province's shared-view bundle carries
/// it with a tlog-proof of the county's log, cosigned by the city, the province and the
/// national node (the province holds all three after syncing up).
#[tokio::test(flavor = "multi_thread")]
async fn a_province_proves_a_county_record_behind_a_status() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let national = TestNode::start(&fed, NATIONAL, &dir.path().join("national"), loopback()).await;
    let mut province =
        TestNode::start(&fed, PROVINCE, &dir.path().join("province"), loopback()).await;
    let city = TestNode::start(&fed, CITY, &dir.path().join("city"), loopback()).await;
    let county = TestNode::start(&fed, COUNTY, &dir.path().join("county"), loopback()).await;
    county.submit(common::licences(COUNTY, "440106", 0, 3));
    county.upload_to(&city).await.unwrap();
    city.upload_to(&province).await.unwrap();
    province.wait_indexed();
    let (base, token) = serve_api(&mut province).await;
    let subject = synthetic_uscc("91", "440106", 1).unwrap();
    let url = format!("{base}/v1/subjects/{subject}/bundle");
    // The status is anchored now; the national node's cosignatures (of the anchor and of
    // the county's checkpoint) come with the province's next upload.
    let (status, text) = get(&url, Some(&token)).await;
    assert_eq!(status, 503, "{text}");
    province.upload_to(&national).await.unwrap();
    let (status, text) = get(&url, Some(&token)).await;
    assert_eq!(status, 200, "{text}");
    let bundle = Bundle::parse(text.as_bytes()).unwrap();
    let vkey = fed.root().root_vkey();
    let proven = verify_bundle(&bundle, &vkey, None, now()).unwrap();
    assert_eq!(proven.entries.len(), 1, "{:?}", proven.entries);
    assert_eq!(proven.entries[0].origin, COUNTY);
    county.stop().await;
    city.stop().await;
    province.stop().await;
    national.stop().await;
}
