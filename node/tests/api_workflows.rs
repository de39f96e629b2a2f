//! Credit workflows through the department API end to end (issue 5 item 4): list entries,
//! objections with and without suspension, credit repair against the period rules, and
//! listing removal — each a log entry, folded into the subject's status. Real RocksDB in a
//! temp dir, a real sequencer with the domain planner, the router on a loopback TCP port,
//! and a clock pinned to 2026-11-30 (China Standard Time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use credx_node::api::{router, ApiState, TokenStore, View};
use credx_protocol::note::{KeyName, NoteSigner};
use credx_protocol::period::{publication_period, PeriodOptions, SeverityClass};
use credx_protocol::record::enums::{CreditSeverity, SubjectCategory};
use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure, Unit};
use credx_protocol::record::{ListEntry, RecordDate};
use credx_storage::{EntryPlanner, RocksStorage, Sequencer, SequencerConfig, StorageOptions};
use serde_json::{json, Value};

const ORIGIN: &str = "420281.credx";
/// 大冶市 authority (synthetic, credit-testdata.txt).
const DAYE_AUTHORITY: &str = "11420281PDY000052Q";
/// 阳新县 authority: outside the Daye department's token scope.
const YANGXIN_AUTHORITY: &str = "11420222PDY000132X";
const COMPANY: &str = "91420281PDY00001X0";
/// 2026-11-30 04:00 UTC = 12:00 in Beijing.
const NOW_UNIX_SECONDS: u64 = 1_796_011_200;

struct TestApi {
    _db: tempfile::TempDir,
    _checkpoints: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
    /// Daye department: acts for the Daye authority, reads both views.
    daye: String,
    /// Yangxin department: acts for the Yangxin authority only.
    yangxin: String,
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
            "大冶市示例信用办",
            [DAYE_AUTHORITY],
            [View::Public, View::Shared],
        )
        .unwrap();
    let (yangxin, _) = tokens
        .issue("阳新县示例信用办", [YANGXIN_AUTHORITY], [View::Public])
        .unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(NOW_UNIX_SECONDS);
    let state = ApiState::new(
        ORIGIN.to_owned(),
        store,
        Arc::new(sequencer),
        Arc::new(tokens),
    )
    .with_clock(Arc::new(move || -> SystemTime { now }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    TestApi {
        _db: db,
        _checkpoints: checkpoints,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        daye,
        yangxin,
    }
}

impl TestApi {
    async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Value {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        resp.json().await.unwrap()
    }

    /// Lists the company; returns the list entry's target.
    async fn list(&self, kind: ListKind, document_no: &str, listed_on: NaiveDate) -> Value {
        let body = serde_json::to_value(list_entry(kind, document_no, listed_on)).unwrap();
        let (status, answer) = self.post("/v1/lists", &self.daye, &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["submitted_by"], "大冶市示例信用办");
        json!({"origin": ORIGIN, "index": answer["log_index"]})
    }

    /// The company's status in the shared view.
    async fn status(&self) -> Value {
        let view = self
            .get(&format!("/v1/subjects/{COMPANY}"), Some(&self.daye))
            .await;
        view["status"].clone()
    }

    async fn listing(&self, target: &Value) -> Option<Value> {
        self.status().await["listings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["entry"] == *target)
            .cloned()
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn list_entry(kind: ListKind, document_no: &str, listed_on: NaiveDate) -> ListEntry {
    let unit = Unit {
        name: "大冶市示例市场监管局".into(),
        uscc: DAYE_AUTHORITY.into(),
    };
    ListEntry {
        kind,
        subject: ListSubject {
            name: "大冶市示例建材有限公司".into(),
            category: SubjectCategory::Organisation,
            code: COMPANY.into(),
        },
        determining_unit: unit.clone(),
        basis: "《严重违法失信名单管理办法》第X条（示例）".into(),
        document_no: document_no.into(),
        reason: "示例事由".into(),
        listed_on: RecordDate(listed_on),
        valid_until: Some(RecordDate(date(2029, 6, 1))),
        severity: Some(CreditSeverity::Serious),
        status: ListStatus::Active,
        removed_on: None,
        removal_reason: None,
        measures: vec![Measure {
            code: "M02".into(),
            text: "限制参与政府采购（示例）".into(),
            legal_basis: "示例".into(),
        }],
        remedy: "可依法申请信用修复".into(),
        source_unit: unit,
    }
}

fn objection(target: &Value, id: &str) -> Value {
    json!({"target": target, "objection_id": id, "grounds": "认定事实有误（示例）"})
}

fn resolution(target: &Value, outcome: &str) -> Value {
    json!({"target": target, "outcome": outcome, "reason": "经核实（示例）"})
}

fn repair(target: &Value, id: &str) -> Value {
    json!({
        "target": target, "repair_id": id, "basis": "已履行全部义务并作出信用承诺（示例）",
        "obligations_fulfilled": true, "commitment_made": true
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objection_with_suspension_pauses_measures_until_dismissed() {
    let api = start().await;
    let target = api
        .list(
            ListKind::SeriouslyDishonest,
            "冶示认〔2026〕1号",
            date(2026, 6, 1),
        )
        .await;
    let listing = api.listing(&target).await.unwrap();
    assert_eq!(listing["list_kind"], "seriously-dishonest");
    assert_eq!(listing["in_force"], true);

    // The list's rule (not the courts' list) suspends measures while verifying.
    let (status, opened) = api
        .post("/v1/objections", &api.daye, &objection(&target, "YY-1"))
        .await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["event"], "objection-opened");
    assert_eq!(opened["suspends_measures"], true);
    assert_eq!(opened["submitted_by"], "大冶市示例信用办");
    let listing = api.listing(&target).await.unwrap();
    assert_eq!(listing["suspended"], true);
    assert_eq!(listing["in_force"], false);
    assert_eq!(api.status().await["open_objections"], json!([target]));

    // One open objection per record; ids are not reused.
    let (status, again) = api
        .post("/v1/objections", &api.daye, &objection(&target, "YY-2"))
        .await;
    assert_eq!((status, again["error"].as_str()), (409, Some("conflict")));

    // Resolving an unknown id is refused; dismissing the open one resumes the measures.
    let (status, unknown) = api
        .post(
            "/v1/objections/YY-9/resolve",
            &api.daye,
            &resolution(&target, "dismissed"),
        )
        .await;
    assert_eq!(
        (status, unknown["error"].as_str()),
        (404, Some("not_found"))
    );
    let (status, resolved) = api
        .post(
            "/v1/objections/YY-1/resolve",
            &api.daye,
            &resolution(&target, "dismissed"),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["event"], "objection-resolved");
    let listing = api.listing(&target).await.unwrap();
    assert_eq!(listing["suspended"], false);
    assert_eq!(listing["in_force"], true);
    assert_eq!(api.status().await["open_objections"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upheld_objection_lifts_the_listing_and_court_list_stays_in_force() {
    let api = start().await;
    let target = api
        .list(
            ListKind::KeyAttention,
            "冶示认〔2026〕2号",
            date(2026, 6, 1),
        )
        .await;
    let (status, _) = api
        .post("/v1/objections", &api.daye, &objection(&target, "YY-3"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post(
            "/v1/objections/YY-3/resolve",
            &api.daye,
            &resolution(&target, "upheld"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(api.listing(&target).await.is_none(), "upheld lifts");

    // 失信被执行人: the listing stays in force during reconsideration by default.
    let court = api
        .list(
            ListKind::DishonestJudgmentDebtor,
            "(2026)鄂0281执示1号",
            date(2026, 6, 1),
        )
        .await;
    let (status, opened) = api
        .post("/v1/objections", &api.daye, &objection(&court, "YY-4"))
        .await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["suspends_measures"], false);
    assert_eq!(api.listing(&court).await.unwrap()["in_force"], true);
    // An explicit flag overrides the list's default.
    let other = api
        .list(
            ListKind::DishonestJudgmentDebtor,
            "(2026)鄂0281执示2号",
            date(2026, 6, 1),
        )
        .await;
    let mut asked = objection(&other, "YY-5");
    asked["suspend_on_objection"] = json!(true);
    let (status, opened) = api.post("/v1/objections", &api.daye, &asked).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(api.listing(&other).await.unwrap()["suspended"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_is_refused_before_the_minimum_period_and_lifts_the_listing_after() {
    let api = start().await;
    let recent = api
        .list(
            ListKind::SeriouslyDishonest,
            "冶示认〔2026〕3号",
            date(2026, 6, 1),
        )
        .await;
    let (status, refused) = api
        .post("/v1/repairs", &api.daye, &repair(&recent, "XF-1"))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "repair_not_eligible");
    let earliest = publication_period(
        date(2026, 6, 1),
        SeverityClass::Serious,
        &PeriodOptions::default(),
    )
    .unwrap()
    .earliest_repair
    .unwrap();
    assert!(earliest > date(2026, 11, 30));
    assert_eq!(refused["earliest"], earliest.to_string());
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("condition (1)"), "{message}");
    assert!(message.contains(&earliest.to_string()), "{message}");
    assert!(api.listing(&recent).await.is_some(), "nothing was written");

    // Conditions (2) and (3) are named too.
    let mut unmet = repair(&recent, "XF-2");
    unmet["obligations_fulfilled"] = json!(false);
    unmet["commitment_made"] = json!(false);
    let (_, refused) = api.post("/v1/repairs", &api.daye, &unmet).await;
    assert_eq!(refused["unmet"].as_array().unwrap().len(), 3, "{refused}");

    // Listed long enough ago: the repair is approved and the listing lifted.
    let old = api
        .list(
            ListKind::SeriouslyDishonest,
            "冶示认〔2025〕4号",
            date(2025, 3, 1),
        )
        .await;
    let public = api.get(&format!("/v1/subjects/{COMPANY}"), None).await;
    assert_eq!(public["records"].as_array().unwrap().len(), 2);
    let (status, approved) = api
        .post("/v1/repairs", &api.daye, &repair(&old, "XF-3"))
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["event"], "repair-approved");
    assert!(api.listing(&old).await.is_none());
    let public = api
        .get(&format!("/v1/subjects/{COMPANY}?view=public"), None)
        .await;
    let listed: Vec<&Value> = public["status"]["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["entry"])
        .collect();
    assert_eq!(listed, vec![&recent]);
    let shown: Vec<&Value> = public["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["entry"])
        .collect();
    assert_eq!(
        shown,
        vec![&recent],
        "the repaired listing left the public view"
    );
    let (status, twice) = api
        .post("/v1/repairs", &api.daye, &repair(&old, "XF-4"))
        .await;
    assert_eq!((status, twice["error"].as_str()), (409, Some("conflict")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_and_scope() {
    let api = start().await;
    let target = api
        .list(ListKind::RedList, "冶示认〔2026〕5号", date(2026, 6, 1))
        .await;

    // Another department may not act for the Daye authority.
    let (status, denied) = api
        .post("/v1/objections", &api.yangxin, &objection(&target, "YY-6"))
        .await;
    assert_eq!(status, 403, "{denied}");
    assert_eq!(denied["error"], "authority_out_of_scope");
    let (status, denied) = api
        .post(
            "/v1/lists",
            &api.yangxin,
            &serde_json::to_value(list_entry(
                ListKind::RedList,
                "冶示认〔2026〕6号",
                date(2026, 6, 1),
            ))
            .unwrap(),
        )
        .await;
    assert_eq!(
        (status, denied["error"].as_str()),
        (403, Some("authority_out_of_scope"))
    );

    // A red list is not repaired, it is removed.
    let (status, refused) = api
        .post("/v1/repairs", &api.daye, &repair(&target, "XF-5"))
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_field"))
    );
    let path = format!("/v1/lists/{ORIGIN}:{}/remove", target["index"]);
    let body = json!({"reason": "主动申请移出（示例）"});
    let (status, denied) = api.post(&path, &api.yangxin, &body).await;
    assert_eq!(status, 403, "{denied}");
    let (status, removed) = api.post(&path, &api.daye, &body).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["event"], "listing-removed");
    assert!(api.listing(&target).await.is_none());
    let (status, again) = api.post(&path, &api.daye, &body).await;
    assert_eq!((status, again["error"].as_str()), (409, Some("conflict")));

    // Targets that are not records, or not there.
    let (status, missing) = api
        .post(
            "/v1/objections",
            &api.daye,
            &objection(&json!({"origin": ORIGIN, "index": 999}), "YY-7"),
        )
        .await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (404, Some("not_found"))
    );
    let (status, bad) = api
        .post("/v1/lists/no-index/remove", &api.daye, &body)
        .await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (400, Some("invalid_field"))
    );

    let doc = api.get("/openapi.json", None).await;
    for path in [
        "/v1/lists",
        "/v1/lists/{target}/remove",
        "/v1/objections",
        "/v1/objections/{id}/resolve",
        "/v1/repairs",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}
