//! Joint reward/punishment cases through the department API on one node (issue 5 item 4):
//! initiation against the measures catalogue, responders' steps scoped by token, the
//! folded per-target state, objection suspension, overdue and re-push, idempotent
//! initiation and the statistics. Real RocksDB, the real sequencer and planner, the router
//! on a loopback TCP port, a clock that starts at 2026-11-30 12:00 in Beijing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::NaiveDate;
use common::api_node::{ApiServer, TestClock};
use common::{loopback, TestNode};
use credx_node::api::{TokenStore, View};
use credx_node::federation::test_federation::three_level::COUNTY;
use credx_node::federation::TestFederation;
use credx_node::synthetic::synthetic_uscc;
use credx_protocol::record::enums::{CreditSeverity, SubjectCategory};
use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure, Unit};
use credx_protocol::record::{ListEntry, RecordDate};
use serde_json::{json, Value};

/// 2026-11-30 04:00 UTC = 12:00 in Beijing.
const NOW_UNIX_SECONDS: u64 = 1_796_011_200;
const DIVISION: &str = "440106";

struct Node {
    node: TestNode,
    api: ApiServer,
    clock: TestClock,
    /// The determining unit (initiator) of the listings.
    initiator: String,
    initiator_authority: String,
    /// A responding department at this node.
    responder: String,
    responder_authority: String,
    company: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Node {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut node = TestNode::start(&fed, COUNTY, &dir.path().join("county"), loopback()).await;
    let initiator_authority = synthetic_uscc("11", DIVISION, 52).unwrap();
    let responder_authority = synthetic_uscc("12", DIVISION, 61).unwrap();
    let tokens = TokenStore::new();
    let (initiator, _) = tokens
        .issue(
            "天河区示例市场监管局",
            [initiator_authority.as_str()],
            [View::Public, View::Shared],
        )
        .unwrap();
    let (responder, _) = tokens
        .issue(
            "天河区示例财政局",
            [responder_authority.as_str()],
            [View::Public],
        )
        .unwrap();
    let clock = TestClock::at(NOW_UNIX_SECONDS);
    let state = node.api_state(tokens, clock.clock());
    let api = ApiServer::serve(state).await;
    Node {
        node,
        api,
        clock,
        initiator,
        initiator_authority,
        responder,
        responder_authority,
        company: synthetic_uscc("91", DIVISION, 7).unwrap(),
        _dir: dir,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

impl Node {
    /// Lists the company; returns the list entry as `{origin, index}`.
    async fn list(&self, kind: ListKind, document_no: &str) -> Value {
        let unit = Unit {
            name: "天河区示例市场监管局".into(),
            uscc: self.initiator_authority.clone(),
        };
        let list = ListEntry {
            kind,
            subject: ListSubject {
                name: "天河区示例建材有限公司".into(),
                category: SubjectCategory::Organisation,
                code: self.company.clone(),
            },
            determining_unit: unit.clone(),
            basis: "《严重失信主体名单管理办法》第X条（示例）".into(),
            document_no: document_no.into(),
            reason: "示例事由".into(),
            listed_on: RecordDate(date(2026, 6, 1)),
            valid_until: Some(RecordDate(date(2029, 6, 1))),
            severity: Some(CreditSeverity::General),
            status: ListStatus::Active,
            removed_on: None,
            removal_reason: None,
            measures: vec![Measure {
                code: "CJ01".into(),
                text: "依法限制参加政府采购活动".into(),
                legal_basis: "《中华人民共和国政府采购法》第二十二条".into(),
            }],
            remedy: "可依法申请信用修复".into(),
            source_unit: unit,
        };
        let (status, answer) = self
            .api
            .post(
                "/v1/lists",
                &self.initiator,
                &serde_json::to_value(list).unwrap(),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        json!({"origin": COUNTY, "index": answer["log_index"]})
    }

    /// Lists the company and initiates punishment case `id` (measure CJ01) on it, pushed to
    /// this node's responder; returns the listing.
    async fn open_case(&self, id: &str, document_no: &str, respond_by: &str) -> Value {
        let listing = self.list(ListKind::SeriouslyDishonest, document_no).await;
        let request = initiation(
            id,
            &listing,
            "punishment",
            &["CJ01"],
            json!([self.own_target()]),
            respond_by,
        );
        let (status, answer) = self.api.post("/v1/cases", &self.initiator, &request).await;
        assert_eq!(status, 200, "{answer}");
        listing
    }

    fn own_target(&self) -> Value {
        json!({"node": COUNTY, "department": self.responder_authority})
    }

    async fn case(&self, id: &str) -> Value {
        let (status, state) = self
            .api
            .get(&format!("/v1/cases/{id}"), Some(&self.responder))
            .await;
        assert_eq!(status, 200, "{state}");
        state
    }

    async fn step(&self, id: &str, token: &str, step: Value) -> (u16, Value) {
        self.api
            .post(
                &format!("/v1/cases/{id}/steps"),
                token,
                &json!({ "step": step }),
            )
            .await
    }

    fn log_size(&self) -> u64 {
        self.node.size(COUNTY)
    }
}

fn initiation(
    id: &str,
    listing: &Value,
    kind: &str,
    measures: &[&str],
    targets: Value,
    respond_by: &str,
) -> Value {
    json!({
        "case_id": id, "listing": listing, "kind": kind, "catalogue_edition": "2024",
        "measures": measures, "targets": targets, "respond_by": respond_by
    })
}

fn target<'a>(state: &'a Value, node: &str) -> &'a Value {
    state["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["node"] == node)
        .unwrap_or_else(|| panic!("no target {node} in {state}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_runs_from_push_to_closed_with_scoped_steps_and_statistics() {
    let n = start().await;
    let listing = n
        .list(ListKind::SeriouslyDishonest, "穗天示认〔2026〕1号")
        .await;
    let remote =
        json!({"node": "460200.credx", "department": synthetic_uscc("11", "460200", 3).unwrap()});
    let request = initiation(
        "440106-20261130-1",
        &listing,
        "punishment",
        &["CJ01", "CJ05"],
        json!([n.own_target(), remote]),
        "2026-12-07",
    );
    let (status, answer) = n.api.post("/v1/cases", &n.initiator, &request).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["written"].as_array().unwrap().len(),
        3,
        "initiation + 2 pushes"
    );
    assert_eq!(answer["duplicate"], false);
    assert_eq!(answer["submitted_by"], "天河区示例市场监管局");
    let state = &answer["state"];
    assert_eq!(state["status"], "open");
    assert_eq!(state["measures"][0]["code"], "CJ01");
    assert!(state["measures"][0]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("政府采购法"));
    assert_eq!(target(state, COUNTY)["phase"], "pushed");
    assert_eq!(target(state, "460200.credx")["phase"], "pushed");

    // The same initiation again writes nothing; other terms under the same version are refused.
    let size = n.log_size();
    let (status, again) = n.api.post("/v1/cases", &n.initiator, &request).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["written"], json!([]));
    assert_eq!(n.log_size(), size);
    let mut other = request.clone();
    other["respond_by"] = json!("2026-12-09");
    let (status, refused) = n.api.post("/v1/cases", &n.initiator, &other).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (409, Some("conflict")),
        "{refused}"
    );

    // Reading needs a token; steps need the responding department's token.
    let (status, _) = n.api.get("/v1/cases/440106-20261130-1", None).await;
    assert_eq!(status, 401);
    let id = "440106-20261130-1";
    let (status, wrong) = n
        .step(
            id,
            &n.initiator,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await;
    assert_eq!(
        status, 409,
        "the initiator's token covers no target here: {wrong}"
    );
    let (status, elsewhere) = n
        .api
        .post(
            &format!("/v1/cases/{id}/steps"),
            &n.responder,
            &json!({"responder": remote, "step": {"kind": "acknowledge", "accepted": true}}),
        )
        .await;
    assert_eq!(
        status, 409,
        "a step is written at the responder's node: {elsewhere}"
    );

    let (status, acked) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(target(&acked["state"], COUNTY)["phase"], "acknowledged");
    let (status, _) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await;
    assert_eq!(status, 409, "acknowledged once");

    // Results: only the case's measures, only results that fit the kind.
    let (status, bad) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "execute", "measure_code": "CJ03", "result": "punished"}),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("CJ03"));
    let (status, _) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "execute", "measure_code": "CJ01", "result": "rewarded"}),
        )
        .await;
    assert_eq!(status, 400, "已激励 does not fit a punishment case");
    let (status, executed) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "execute", "measure_code": "CJ01", "result": "punished",
                   "detail": "已限制参加政府采购", "business_item": "ZFCG-2026-118", "executed_on": "2026-11-30"}),
        )
        .await;
    assert_eq!(status, 200, "{executed}");
    let mine = target(&executed["state"], COUNTY);
    assert_eq!(mine["measures"][0]["state"], "executed");
    assert_eq!(mine["measures"][1]["state"], "pending");
    let (status, early) = n.step(id, &n.responder, json!({"kind": "close"})).await;
    assert_eq!(status, 409, "{early}");
    assert!(early["message"].as_str().unwrap().contains("CJ05"));
    let (status, fed_back) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "execute", "measure_code": "CJ05", "result": "no_related_business"}),
        )
        .await;
    assert_eq!(status, 200, "{fed_back}");
    let mine = target(&fed_back["state"], COUNTY);
    assert_eq!(mine["phase"], "feedback");
    assert_eq!(mine["measures"][1]["state"], "not_applicable");
    assert_eq!(mine["feedback_on"], "2026-11-30");
    let (status, closed) = n.step(id, &n.responder, json!({"kind": "close"})).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(target(&closed["state"], COUNTY)["phase"], "closed");
    assert_eq!(
        closed["state"]["status"], "open",
        "the remote target is still pushed"
    );
    assert_eq!(closed["state"]["ignored"], json!([]));

    let (status, stats) = n.api.get("/v1/cases/statistics", Some(&n.responder)).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["cases"], 1);
    assert_eq!(stats["by_status"]["open"], 1);
    let here = stats["responders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == COUNTY)
        .unwrap();
    assert_eq!(here["pushed"], 1);
    assert_eq!(here["acknowledged_in_time"], 1);
    assert_eq!(here["feedback"], 1);
    assert_eq!(here["feedback_rate"], 1.0);
    assert_eq!(here["feedback_in_working_days"], 1);
    let there = stats["responders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == "460200.credx")
        .unwrap();
    assert_eq!(there["feedback_rate"], 0.0);

    // The OpenAPI document describes the case endpoints.
    let (_, doc) = n.api.get("/openapi.json", None).await;
    for path in [
        "/v1/cases",
        "/v1/cases/{id}",
        "/v1/cases/{id}/steps",
        "/v1/cases/{id}/overdue-check",
        "/v1/cases/statistics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    n.api.stop().await;
    n.node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measures_outside_the_catalogue_edition_are_refused_by_name() {
    let n = start().await;
    let listing = n
        .list(ListKind::SeriouslyDishonest, "穗天示认〔2026〕2号")
        .await;
    let size = n.log_size();
    let targets = json!([n.own_target()]);
    let (status, refused) = n
        .api
        .post(
            "/v1/cases",
            &n.initiator,
            &initiation(
                "C-7",
                &listing,
                "punishment",
                &["CJ01", "CJ07"],
                targets.clone(),
                "2026-12-07",
            ),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "measure_not_in_catalogue");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("\"CJ07\"") && message.contains("2024"),
        "{message}"
    );

    let mut unknown = initiation(
        "C-7",
        &listing,
        "punishment",
        &["CJ01"],
        targets.clone(),
        "2026-12-07",
    );
    unknown["catalogue_edition"] = json!("2019");
    let (status, refused) = n.api.post("/v1/cases", &n.initiator, &unknown).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (422, Some("unknown_catalogue_edition"))
    );
    let (status, refused) = n
        .api
        .post(
            "/v1/cases",
            &n.initiator,
            &initiation(
                "C-7",
                &listing,
                "punishment",
                &["JL01"],
                targets.clone(),
                "2026-12-07",
            ),
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (422, Some("measure_of_other_kind"))
    );
    let (status, refused) = n
        .api
        .post(
            "/v1/cases",
            &n.initiator,
            &initiation(
                "C-7",
                &listing,
                "reward",
                &["JL01"],
                targets.clone(),
                "2026-12-07",
            ),
        )
        .await;
    assert_eq!(status, 400, "a reward case acts on the red list: {refused}");
    let (status, refused) = n
        .api
        .post(
            "/v1/cases",
            &n.responder,
            &initiation(
                "C-7",
                &listing,
                "punishment",
                &["CJ01"],
                targets,
                "2026-12-07",
            ),
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("authority_out_of_scope"))
    );
    assert_eq!(n.log_size(), size, "nothing was written");
    let (status, _) = n.api.get("/v1/cases/C-7", Some(&n.responder)).await;
    assert_eq!(status, 404);
    n.api.stop().await;
    n.node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objections_suspend_or_not_and_an_upheld_one_lifts_every_target() {
    let n = start().await;
    let id = "C-OBJ";
    let listing = n.open_case(id, "穗天示认〔2026〕3号", "2026-12-07").await;
    let (status, _) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await;
    assert_eq!(status, 200);

    // A suspending objection pauses the measures: only 暂缓 may be recorded.
    let objection =
        json!({"target": listing, "objection_id": "YY-1", "grounds": "认定事实有误（示例）"});
    let (status, opened) = n.api.post("/v1/objections", &n.initiator, &objection).await;
    assert_eq!(status, 200, "{opened}");
    let state = n.case(id).await;
    assert_eq!(state["status"], "suspended");
    assert_eq!(state["measures_paused"], true);
    assert_eq!(state["objection"]["objection_id"], "YY-1");
    let (status, paused) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "execute", "measure_code": "CJ01", "result": "punished"}),
        )
        .await;
    assert_eq!(status, 409, "{paused}");
    assert!(paused["message"].as_str().unwrap().contains("YY-1"));
    let (status, _) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "execute", "measure_code": "CJ01", "result": "deferred"}),
        )
        .await;
    assert_eq!(status, 200);

    // Dismissed: back to the previous state, measures resume.
    let resolve =
        |outcome: &str| json!({"target": listing, "outcome": outcome, "reason": "经核实（示例）"});
    let (status, _) = n
        .api
        .post(
            "/v1/objections/YY-1/resolve",
            &n.initiator,
            &resolve("dismissed"),
        )
        .await;
    assert_eq!(status, 200);
    let state = n.case(id).await;
    assert_eq!(state["status"], "open");
    assert_eq!(state["measures_paused"], false);
    assert_eq!(state["objection"], Value::Null);
    assert_eq!(target(&state, COUNTY)["phase"], "acknowledged");
    assert_eq!(target(&state, COUNTY)["measures"][0]["state"], "deferred");

    // An objection that does not suspend leaves the case open.
    let objection = json!({"target": listing, "objection_id": "YY-2", "grounds": "示例", "suspend_on_objection": false});
    let (status, _) = n.api.post("/v1/objections", &n.initiator, &objection).await;
    assert_eq!(status, 200);
    let state = n.case(id).await;
    assert_eq!(state["status"], "open");
    assert_eq!(state["objection"]["suspends_measures"], false);

    // Upheld: corrected, every target must lift and confirm.
    let (status, _) = n
        .api
        .post(
            "/v1/objections/YY-2/resolve",
            &n.initiator,
            &resolve("upheld"),
        )
        .await;
    assert_eq!(status, 200);
    let state = n.case(id).await;
    assert_eq!(state["status"], "lifted");
    assert_eq!(state["lift"]["reason"], "corrected");
    assert_eq!(target(&state, COUNTY)["phase"], "lifted");
    let (status, acked) = n
        .step(id, &n.responder, json!({"kind": "lift_acknowledge"}))
        .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(
        target(&acked["state"], COUNTY)["phase"],
        "lift_acknowledged"
    );
    assert_eq!(acked["state"]["status"], "closed");
    n.api.stop().await;
    n.node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_push_becomes_overdue_and_is_pushed_again_under_the_next_version() {
    let n = start().await;
    let id = "C-LATE";
    n.open_case(id, "穗天示认〔2026〕4号", "2026-12-02").await;
    n.clock.advance_days(3);
    let state = n.case(id).await;
    assert_eq!(target(&state, COUNTY)["phase"], "overdue");
    assert_eq!(target(&state, COUNTY)["overdue_now"], true);

    let path = format!("/v1/cases/{id}/overdue-check");
    let (status, checked) = n.api.post(&path, &n.initiator, &json!({})).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["written"].as_array().unwrap().len(), 1);
    assert_eq!(checked["overdue"], json!([n.own_target()]));
    assert_eq!(
        target(&checked["state"], COUNTY)["overdue_versions"],
        json!([1])
    );
    let (status, again) = n.api.post(&path, &n.initiator, &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(again["written"], json!([]), "recorded once per version");
    let (status, _) = n.api.post(&path, &n.responder, &json!({})).await;
    assert_eq!(status, 403, "only the initiating authority");

    let (status, repushed) = n
        .api
        .post(&path, &n.initiator, &json!({"respond_by": "2026-12-10"}))
        .await;
    assert_eq!(status, 200, "{repushed}");
    assert_eq!(repushed["repushed"], json!([n.own_target()]));
    let state = &repushed["state"];
    assert_eq!(state["version"], 2);
    let mine = target(state, COUNTY);
    assert_eq!(mine["pushed_versions"], json!([1, 2]));
    assert_eq!(mine["respond_by"], "2026-12-10");
    assert_eq!(mine["phase"], "pushed");
    let (status, acked) = n
        .step(
            id,
            &n.responder,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(
        target(&acked["state"], COUNTY)["acknowledgement"]["version"],
        2
    );

    let (_, stats) = n.api.get("/v1/cases/statistics", Some(&n.initiator)).await;
    assert_eq!(stats["responders"][0]["overdue"], 1);
    assert_eq!(stats["responders"][0]["acknowledged_in_time"], 1);

    // The initiator may tell every target to lift (here: the validity it decided ended);
    // once told, there is nothing more to lift, and the responder confirms.
    let lift = json!({"kind": "lift", "reason": "expired"});
    let (status, _) = n.step(id, &n.responder, lift.clone()).await;
    assert_eq!(status, 403, "only the initiating authority lifts");
    let (status, lifted) = n.step(id, &n.initiator, lift.clone()).await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["written"].as_array().unwrap().len(), 1);
    let mine = target(&lifted["state"], COUNTY);
    assert_eq!(mine["phase"], "lifted");
    assert_eq!(mine["lift"]["reason"], "expired");
    assert_eq!(lifted["state"]["status"], "lifted");
    let (status, _) = n.step(id, &n.initiator, lift).await;
    assert_eq!(status, 409, "already lifted");
    let (status, done) = n
        .step(id, &n.responder, json!({"kind": "lift_acknowledge"}))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["state"]["status"], "closed");
    n.api.stop().await;
    n.node.stop().await;
}
