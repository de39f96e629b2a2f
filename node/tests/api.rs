//! The department API end to end: real RocksDB in a temp dir, a real sequencer signing the
//! node's log with the domain planner, and the router served on a real loopback TCP port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use credx_node::api::{router, ApiState, TokenStore, View};
use credx_protocol::note::{KeyName, NoteSigner};
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::validate::{validate_raw, ValidationContext};
use credx_storage::{
    EntryPlanner, LogStore, RocksStorage, Sequencer, SequencerConfig, StorageOptions,
};
use serde_json::{json, Value};

const ORIGIN: &str = "420281.credx";
/// 大冶市 authority (synthetic, credit-testdata.txt).
const DAYE_AUTHORITY: &str = "11420281PDY000052Q";
/// 阳新县 authority: outside the Daye department's token scope.
const YANGXIN_AUTHORITY: &str = "11420222PDY000132X";
const PERSON_ID: &str = "420281199603151237";
const PERSON_ID_MASKED: &str = "420281********1237";

struct TestApi {
    _db: tempfile::TempDir,
    _checkpoints: tempfile::TempDir,
    store: Arc<RocksStorage>,
    base: String,
    http: reqwest::Client,
    /// Daye department: submits for the Daye authority, reads public and shared views.
    daye: String,
    /// A department that may only read the public view.
    reader: String,
}

async fn start() -> TestApi {
    let db = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStorage::open(db.path(), &StorageOptions::default()).unwrap());
    let signer = NoteSigner::generate(KeyName::new(ORIGIN).unwrap(), &mut rand::rngs::OsRng);
    let mut config = SequencerConfig::new(checkpoints.path());
    config.max_batch_delay = Duration::from_millis(2);
    let sequencer =
        Sequencer::start(store.clone(), signer, EntryPlanner::new(ORIGIN), config).unwrap();
    let tokens = TokenStore::new();
    let (daye, _) = tokens
        .issue(
            "大冶市示例审批局",
            [DAYE_AUTHORITY],
            [View::Public, View::Shared],
        )
        .unwrap();
    let (reader, _) = tokens
        .issue("示例公众查询", Vec::<String>::new(), [View::Public])
        .unwrap();
    let state = ApiState::new(
        ORIGIN.to_owned(),
        store.clone(),
        Arc::new(sequencer),
        Arc::new(tokens),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    TestApi {
        _db: db,
        _checkpoints: checkpoints,
        store,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        daye,
        reader,
    }
}

impl TestApi {
    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn get_text(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let (status, text) = self.get_text(path, token).await;
        (status, serde_json::from_str(&text).unwrap())
    }
}

fn licence(document_no: &str, content: &str) -> Value {
    json!({
        "XK_XDR_MC": "大冶市示例建材有限公司", "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": "91420281PDY00001X0", "XK_FRDB": "张示例",
        "XK_XKWS": "准予行政许可决定书", "XK_WSH": document_no,
        "XK_XKLB": "普通", "XK_XKZS": "示例经营许可证",
        "XK_NR": content,
        "XK_JDRQ": "2026-03-02", "XK_YXQZ": "2026-03-02", "XK_YXQZI": "2031-03-01",
        "XK_XKJG": "大冶市示例审批局", "XK_XKJGDM": DAYE_AUTHORITY,
        "XK_ZT": "1", "XK_LYDW": "大冶市示例审批局", "XK_LYDWDM": DAYE_AUTHORITY, "BZ": ""
    })
}

/// A penalty on a natural person by the Daye authority.
fn person_penalty(document_no: &str, decided: &str, valid_until: &str) -> Value {
    json!({
        "CF_XDR_MC": "王示例", "CF_XDR_LB": "自然人",
        "CF_XDR_ZJLX": "01", "CF_XDR_ZJHM": PERSON_ID,
        "CF_WSH": document_no, "CF_WFXW": "销售不符合食品安全标准的食品（示例）",
        "CF_SY": "……（示例）", "CF_YJ": "《中华人民共和国食品安全法》第X条（示例）",
        "CF_CFLB": "警告;罚款", "CF_NR": "警告，并处罚款人民币2万元",
        "CF_NR_FK": 2.0, "CF_JDRQ": decided, "CF_YXQ": valid_until,
        "CF_CFJG": "大冶市示例监管局", "CF_CFJGDM": DAYE_AUTHORITY,
        "CF_SJLY": "大冶市示例监管局", "CF_SJLYDM": DAYE_AUTHORITY, "BZ": "失信程度：一般"
    })
}

/// A record with several defects at once.
fn broken_penalty() -> Value {
    json!({
        "CF_XDR_MC": "大冶市示例建材有限公司", "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": "91420281PDY00001X1",
        "CF_WFXW": "示例", "CF_SY": "示例", "CF_YJ": "示例",
        "CF_CFLB": "罚款", "CF_NR": "罚款",
        "CF_JDRQ": "2026-02-30", "CF_YXQ": "2026-06-10",
        "CF_CFJG": "大冶市示例监管局", "CF_CFJGDM": DAYE_AUTHORITY,
        "CF_SJLY": "大冶市示例监管局", "CF_SJLYDM": DAYE_AUTHORITY
    })
}

/// The (field, rule) pairs the protocol's validation reports for `record`.
fn expected_findings(record: &Value) -> BTreeSet<(Option<String>, String)> {
    let bytes = serde_json::to_vec(record).unwrap();
    let raw = parse_json_records(&bytes).unwrap().remove(0).unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut ctx = ValidationContext::new(today);
    ctx.publication_date = Some(today);
    validate_raw(&raw, &ctx)
        .findings
        .iter()
        .map(|f| (f.field.clone(), f.rule.to_string()))
        .collect()
}

fn reported(result: &Value) -> BTreeSet<(Option<String>, String)> {
    result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().map(str::to_owned),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_reports_every_finding_and_stores_the_good_records() {
    let api = start().await;
    let yangxin_penalty = {
        let mut p = person_penalty("阳示罚〔2026〕7号", "2026-05-11", "2026-06-10");
        p["CF_CFJGDM"] = json!(YANGXIN_AUTHORITY);
        p["CF_SJLYDM"] = json!(YANGXIN_AUTHORITY);
        p
    };
    let batch = json!([
        licence("冶示许字〔2026〕第1号", "准予从事建筑材料经营（示例）"),
        broken_penalty(),
        person_penalty("冶示罚〔2026〕1号", "2026-05-11", "2026-06-10"),
        yangxin_penalty,
        {"XK_WSH": 1, "CF_WSH": 2},
    ]);
    let (status, report) = api.post("/v1/records", Some(&api.daye), &batch).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["received"], 5);
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["rejected"], 3);
    assert_eq!(report["submitted_by"], "大冶市示例审批局");
    let results = report["results"].as_array().unwrap();

    // Good records: stored at consecutive indexes of one submission, checkpointed.
    let first = results[0]["log_index"].as_u64().unwrap();
    assert_eq!(results[0]["outcome"], "accepted");
    assert_eq!(results[2]["outcome"], "accepted");
    assert_eq!(results[2]["log_index"].as_u64().unwrap(), first + 1);
    assert!(report["checkpoint_size"].as_u64().unwrap() >= first + 2);
    assert_eq!(api.store.log_size(ORIGIN).unwrap(), first + 2);

    // The broken record gets every finding validation has, each with its batch index.
    assert_eq!(results[1]["outcome"], "rejected");
    let expected = expected_findings(&batch[1]);
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(reported(&results[1]), expected);
    for f in results[1]["findings"].as_array().unwrap() {
        assert_eq!(f["batch_index"], 1);
        assert!(!f["message"].as_str().unwrap().is_empty());
    }

    // Out of scope: a finding naming the authority field and the SCOPE rule.
    assert_eq!(results[3]["outcome"], "rejected");
    let scope: Vec<&Value> = results[3]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "SCOPE")
        .collect();
    assert_eq!(scope.len(), 1);
    assert_eq!(scope[0]["field"], "CF_CFJGDM");
    assert_eq!(scope[0]["severity"], "reject");
    assert!(scope[0]["message"]
        .as_str()
        .unwrap()
        .contains(YANGXIN_AUTHORITY));

    // Mixed kinds: unreadable as a record, still reported in place.
    assert_eq!(results[4]["outcome"], "rejected");
    assert_eq!(results[4]["findings"][0]["rule"], "E1");

    // Every entry names the submitting department.
    let stored = api.store.read_entries(ORIGIN, first, 2).unwrap();
    for bytes in stored {
        let entry = credx_protocol::entry::Entry::decode(&bytes).unwrap();
        assert_eq!(entry.submitted_by, "大冶市示例审批局");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_are_refused_with_a_code() {
    let api = start().await;
    let body = json!(licence("冶示许字〔2026〕第2号", "示例"));
    let (status, err) = api.post("/v1/records", None, &body).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("missing_token"))
    );
    let (status, err) = api.post("/v1/records", Some("credx_00"), &body).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(err["message"].as_str().unwrap().contains("operator"));
    let (status, err) = api.post("/v1/records", Some(&api.daye), &json!([])).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("empty_batch")));
    let resp = api
        .http
        .post(format!("{}/v1/records", api.base))
        .bearer_auth(&api.daye)
        .body("[{\"XK_WSH\": \"x\"},\n {\"XK_NR\": }]")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "invalid_json");
    assert!(err["message"].as_str().unwrap().contains("line 2"), "{err}");
    let too_many = Value::Array(vec![json!({"XK_WSH": "x"}); 10_001]);
    let (status, err) = api.post("/v1/records", Some(&api.daye), &too_many).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (413, Some("batch_too_large"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubmission_by_business_key_is_an_amendment() {
    let api = start().await;
    let (_, first) = api
        .post(
            "/v1/records",
            Some(&api.daye),
            &licence("冶示许字〔2026〕第3号", "第一版（示例）"),
        )
        .await;
    let first_index = first["results"][0]["log_index"].as_u64().unwrap();
    assert!(first["results"][0]["amends"].is_null());

    // Resubmitted alone, and twice more in one batch (the second amends the first).
    let (_, second) = api
        .post(
            "/v1/records",
            Some(&api.daye),
            &licence("冶示许字〔2026〕第3号", "第二版（示例）"),
        )
        .await;
    let second_result = &second["results"][0];
    assert_eq!(second_result["outcome"], "accepted");
    assert_eq!(second_result["amends"]["index"].as_u64(), Some(first_index));
    assert_eq!(second_result["amends"]["origin"], ORIGIN);
    assert!(second_result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "W2"));
    let second_index = second_result["log_index"].as_u64().unwrap();

    let (_, third) = api
        .post(
            "/v1/records",
            Some(&api.daye),
            &json!([
                licence("冶示许字〔2026〕第3号", "第三版（示例）"),
                licence("冶示许字〔2026〕第3号", "第四版（示例）")
            ]),
        )
        .await;
    let third_index = third["results"][0]["log_index"].as_u64().unwrap();
    assert_eq!(
        third["results"][0]["amends"]["index"].as_u64(),
        Some(second_index)
    );
    assert_eq!(
        third["results"][1]["amends"]["index"].as_u64(),
        Some(third_index)
    );

    let (status, view) = api.get("/v1/subjects/91420281PDY00001X0", None).await;
    assert_eq!(status, 200, "{view}");
    let records = view["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "one record per business key: {view}");
    assert_eq!(records[0]["amendments"], 3);
    assert_eq!(records[0]["fields"]["XK_NR"], "第四版（示例）");
    assert_eq!(view["status"]["total_records"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_targets_the_latest_entry_and_hides_the_record() {
    let api = start().await;
    let (_, stored) = api
        .post(
            "/v1/records",
            Some(&api.daye),
            &person_penalty("冶示罚〔2026〕9号", "2026-05-11", "2026-06-10"),
        )
        .await;
    let target = stored["results"][0]["log_index"].as_u64().unwrap();
    let request = json!({
        "authority": DAYE_AUTHORITY, "document_no": "冶示罚〔2026〕9号",
        "kind": "revoked", "reason": "复议决定撤销原处罚决定（示例）"
    });

    let (status, err) = api.post("/v1/records/withdraw", None, &request).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("missing_token"))
    );
    let mut foreign = request.clone();
    foreign["authority"] = json!(YANGXIN_AUTHORITY);
    let (status, err) = api
        .post("/v1/records/withdraw", Some(&api.daye), &foreign)
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (403, Some("authority_out_of_scope"))
    );
    let mut unknown = request.clone();
    unknown["document_no"] = json!("冶示罚〔2026〕404号");
    let (status, err) = api
        .post("/v1/records/withdraw", Some(&api.daye), &unknown)
        .await;
    assert_eq!((status, err["error"].as_str()), (404, Some("not_found")));
    let mut no_reason = request.clone();
    no_reason["reason"] = json!("  ");
    let (status, err) = api
        .post("/v1/records/withdraw", Some(&api.daye), &no_reason)
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_field"))
    );

    let (status, done) = api
        .post("/v1/records/withdraw", Some(&api.daye), &request)
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["target"]["index"].as_u64(), Some(target));
    assert_eq!(done["log_index"].as_u64(), Some(target + 1));
    let entry = credx_protocol::entry::Entry::decode(
        &api.store.read_entries(ORIGIN, target + 1, 1).unwrap()[0],
    )
    .unwrap();
    match entry.event {
        credx_protocol::entry::Event::RecordWithdrawn {
            target: t,
            kind,
            reason,
        } => {
            assert_eq!(t.index, target);
            assert_eq!(kind, credx_protocol::entry::WithdrawalKind::Revoked);
            assert_eq!(reason, "复议决定撤销原处罚决定（示例）");
        }
        other => panic!("expected a withdrawal, got {other:?}"),
    }
    assert_eq!(entry.submitted_by, "大冶市示例审批局");

    let (status, err) = api
        .post("/v1/records/withdraw", Some(&api.daye), &request)
        .await;
    assert_eq!((status, err["error"].as_str()), (409, Some("conflict")));

    let (_, public) = api.get(&format!("/v1/subjects/{PERSON_ID}"), None).await;
    assert_eq!(public["records"].as_array().unwrap().len(), 0, "{public}");
    let (_, shared) = api
        .get(&format!("/v1/subjects/{PERSON_ID}"), Some(&api.daye))
        .await;
    let records = shared["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["state"], "withdrawn");
    assert_eq!(records[0]["withdrawal"]["kind"], "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_view_masks_ids_and_hides_expired_records_shared_view_shows_all() {
    let api = start().await;
    let (_, stored) = api
        .post(
            "/v1/records",
            Some(&api.daye),
            &json!([
                // 一般 under 发改办财金〔2019〕527号: published one year, ended 2021-01-10.
                person_penalty("冶示罚〔2020〕1号", "2020-01-10", "2020-02-10"),
                person_penalty("冶示罚〔2026〕2号", "2026-05-11", "2026-06-10"),
            ]),
        )
        .await;
    assert_eq!(stored["accepted"], 2, "{stored}");

    for token in [None, Some(api.reader.as_str())] {
        let (status, text) = api
            .get_text(&format!("/v1/subjects/{PERSON_ID}"), token)
            .await;
        assert_eq!(status, 200, "{text}");
        assert!(
            !text.contains(PERSON_ID),
            "full ID number in the public view: {text}"
        );
        let view: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(view["view"], "public");
        assert_eq!(view["subject"]["code"], PERSON_ID_MASKED);
        let records = view["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "expired record shown: {view}");
        assert_eq!(records[0]["fields"]["CF_WSH"], "冶示罚〔2026〕2号");
        assert_eq!(records[0]["fields"]["CF_XDR_ZJHM"], PERSON_ID_MASKED);
        assert_eq!(
            records[0]["public_until"].as_str(),
            Some(
                NaiveDate::from_ymd_opt(2027, 5, 11)
                    .unwrap()
                    .to_string()
                    .as_str()
            )
        );
    }
    let (status, err) = api
        .get(
            &format!("/v1/subjects/{PERSON_ID}?view=shared"),
            Some(&api.reader),
        )
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (403, Some("view_not_permitted"))
    );
    let (status, err) = api
        .get(&format!("/v1/subjects/{PERSON_ID}?view=shared"), None)
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (403, Some("view_not_permitted"))
    );

    let (status, shared) = api
        .get(&format!("/v1/subjects/{PERSON_ID}"), Some(&api.daye))
        .await;
    assert_eq!(status, 200);
    assert_eq!(shared["view"], "shared");
    assert_eq!(shared["subject"]["code"], PERSON_ID);
    let records = shared["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert!(records
        .iter()
        .all(|r| r["fields"]["CF_XDR_ZJHM"] == PERSON_ID));
    // A department with the shared view may still ask for the public one.
    let (_, public) = api
        .get(
            &format!("/v1/subjects/{PERSON_ID}?view=public"),
            Some(&api.daye),
        )
        .await;
    assert_eq!(public["records"].as_array().unwrap().len(), 1);

    // Reports: JSON and a self-contained printable page, masked in the public view.
    let (status, report) = api
        .get(&format!("/v1/subjects/{PERSON_ID}/report"), None)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["summary"]["penalties"], 1);
    assert_eq!(report["checkpoint"]["origin"], ORIGIN);
    let (status, html) = api
        .get_text(&format!("/v1/subjects/{PERSON_ID}/report.html"), None)
        .await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(PERSON_ID_MASKED) && !html.contains(PERSON_ID));
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"));
    let (_, shared_html) = api
        .get_text(
            &format!("/v1/subjects/{PERSON_ID}/report.html"),
            Some(&api.daye),
        )
        .await;
    assert!(shared_html.contains(PERSON_ID) && shared_html.contains("冶示罚〔2020〕1号"));

    let (status, err) = api.get("/v1/subjects/not-a-code", None).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_subject_code"))
    );
    let (status, unknown) = api.get("/v1/subjects/91420200PDY000044B", None).await;
    assert_eq!(status, 200);
    assert!(unknown["status"].is_null() && unknown["records"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_served_and_covers_every_endpoint() {
    let api = start().await;
    let (status, doc) = api.get("/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/records",
        "/v1/records/withdraw",
        "/v1/subjects/{code}",
        "/v1/subjects/{code}/report",
        "/v1/subjects/{code}/report.html",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["BatchReport"].is_object());
    assert!(doc["components"]["securitySchemes"]["department_token"].is_object());
}

#[test]
fn token_store_keeps_only_hashes_and_round_trips_through_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let tokens = TokenStore::new();
    let (token, entry) = tokens
        .issue(
            "大冶市示例审批局",
            [DAYE_AUTHORITY.to_lowercase()],
            [View::Shared],
        )
        .unwrap();
    assert!(entry.authorities.contains(DAYE_AUTHORITY));
    tokens.save(&path).unwrap();
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(!file.contains(&token), "token stored in clear");
    assert!(file.contains(&entry.token_sha256));

    let loaded = TokenStore::load(&path).unwrap();
    assert_eq!(loaded.authenticate(&token), Some(entry.clone()));
    assert_eq!(loaded.authenticate("credx_not-a-token"), None);
    assert!(loaded.revoke(&entry.id).unwrap());
    assert_eq!(loaded.authenticate(&token), None);

    // A bad authority code in the file is refused with the token and field named.
    std::fs::write(&path, file.replace(DAYE_AUTHORITY, "11420281PDY000052X")).unwrap();
    let err = TokenStore::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("authorities") && err.contains(&entry.id),
        "{err}"
    );
    assert!(tokens.issue("x", ["not-a-uscc"], [View::Public]).is_err());
}
