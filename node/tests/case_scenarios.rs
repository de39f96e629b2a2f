//! The seven joint reward/punishment scenarios of credit-data.md §6.3, end to end across
//! nodes: a two-province federation (national `cn.credx`; 湖北 `420000` → 黄石 `420200` →
//! 大冶 `420281`; 海南 `460000` → 三亚 `460200`), each node with real RocksDB, its own
//! sequencer and department API on loopback HTTP, and verified QUIC sync between them
//! (entries up the tree, the list feed down). Cases start at 大冶 and reach responders by
//! sync only; their steps come back the same way; every node folds the same state from
//! the entries it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use common::api_node::{ApiServer, TestClock};
use common::{loopback, TestNode};
use credx_node::api::{TokenStore, View};
use credx_node::federation::{NodeSpec, TestFederation};
use credx_node::synthetic::synthetic_uscc;
use credx_protocol::entry::{CaseKey, CaseStep, CaseStepKind, Entry, Event, TargetUnit};
use credx_protocol::record::enums::{CreditSeverity, SubjectCategory};
use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure, Unit};
use credx_protocol::record::{ListEntry, RecordDate};
use credx_protocol::roster::NodeLevel;
use credx_storage::{FeedStore, IndexStore, Sequencer};
use serde_json::{json, Value};

const NATIONAL: &str = "cn.credx";
const HUBEI: &str = "420000.credx";
const HUANGSHI: &str = "420200.credx";
const DAYE: &str = "420281.credx";
const HAINAN: &str = "460000.credx";
const SANYA: &str = "460200.credx";
const ALL: [&str; 6] = [NATIONAL, HUBEI, HUANGSHI, DAYE, HAINAN, SANYA];

/// (child, parent) in the order that carries every log to the national node.
const UP: [(&str, &str); 5] = [
    (DAYE, HUANGSHI),
    (HUANGSHI, HUBEI),
    (HUBEI, NATIONAL),
    (SANYA, HAINAN),
    (HAINAN, NATIONAL),
];
/// (child, parent) in the order that carries the national feed to every node.
const DOWN: [(&str, &str); 5] = [
    (HUBEI, NATIONAL),
    (HAINAN, NATIONAL),
    (HUANGSHI, HUBEI),
    (SANYA, HAINAN),
    (DAYE, HUANGSHI),
];

/// 2026-11-30 04:00 UTC = 12:00 in Beijing.
const NOW_UNIX_SECONDS: u64 = 1_796_011_200;

fn division(origin: &str) -> &str {
    origin.split('.').next().unwrap()
}

/// The departments of each node: (USCC kind digits, serial) → one token each.
fn departments(origin: &str) -> Vec<String> {
    let d = division(origin);
    match origin {
        NATIONAL => Vec::new(),
        DAYE => vec![
            synthetic_uscc("11", d, 52).unwrap(),
            synthetic_uscc("12", d, 61).unwrap(),
        ],
        SANYA => vec![
            synthetic_uscc("11", d, 41).unwrap(),
            synthetic_uscc("12", d, 42).unwrap(),
        ],
        _ => vec![synthetic_uscc("11", d, 31).unwrap()],
    }
}

/// 大冶's determining unit (the initiator).
fn initiator() -> String {
    departments(DAYE)[0].clone()
}

fn federation() -> TestFederation {
    TestFederation::build(&[
        NodeSpec::national(NATIONAL),
        NodeSpec::division(HUBEI, NodeLevel::Province, NATIONAL, "420000").unwrap(),
        NodeSpec::division(HUANGSHI, NodeLevel::City, HUBEI, "420200").unwrap(),
        NodeSpec::division(DAYE, NodeLevel::County, HUANGSHI, "420281").unwrap(),
        NodeSpec::division(HAINAN, NodeLevel::Province, NATIONAL, "460000").unwrap(),
        NodeSpec::division(SANYA, NodeLevel::City, HAINAN, "460200").unwrap(),
    ])
    .unwrap()
}

struct FedNode {
    node: TestNode,
    api: ApiServer,
    sequencer: Arc<Sequencer>,
    /// Authority USCC → token.
    tokens: BTreeMap<String, String>,
}

struct Fed {
    fed: TestFederation,
    clock: TestClock,
    dir: tempfile::TempDir,
    nodes: BTreeMap<&'static str, FedNode>,
}

impl Fed {
    async fn start(origins: &[&'static str]) -> Fed {
        let mut fed = Fed {
            fed: federation(),
            clock: TestClock::at(NOW_UNIX_SECONDS),
            dir: tempfile::tempdir().unwrap(),
            nodes: BTreeMap::new(),
        };
        for origin in origins {
            fed.start_node(origin).await;
        }
        fed
    }

    fn node_dir(&self, origin: &str) -> PathBuf {
        self.dir.path().join(origin)
    }

    async fn start_node(&mut self, origin: &'static str) {
        let mut node = TestNode::start(&self.fed, origin, &self.node_dir(origin), loopback()).await;
        let store = TokenStore::new();
        let mut tokens = BTreeMap::new();
        for (i, authority) in departments(origin).into_iter().enumerate() {
            let (token, _) = store
                .issue(
                    &format!("{}示例部门{i}", division(origin)),
                    [authority.as_str()],
                    [View::Public, View::Shared],
                )
                .unwrap();
            tokens.insert(authority, token);
        }
        let (state, sequencer) = node.api_state_and_sequencer(store, self.clock.clock());
        let api = ApiServer::serve(state).await;
        self.nodes.insert(
            origin,
            FedNode {
                node,
                api,
                sequencer,
                tokens,
            },
        );
    }

    /// Takes `origin` off line: API stopped, sequencer and store closed.
    async fn stop_node(&mut self, origin: &str) {
        let n = self.nodes.remove(origin).unwrap();
        n.api.stop().await;
        drop(n.sequencer);
        n.node.stop().await;
    }

    async fn stop(mut self) {
        let origins: Vec<&str> = self.nodes.keys().copied().collect();
        for origin in origins {
            self.stop_node(origin).await;
        }
    }

    fn node(&self, origin: &str) -> &FedNode {
        self.nodes
            .get(origin)
            .unwrap_or_else(|| panic!("{origin} is not running"))
    }

    fn token(&self, origin: &str, authority: &str) -> String {
        self.node(origin).tokens[authority].clone()
    }

    /// One sync round over the running nodes: every log up to the national node, then
    /// the national feed down to every node.
    async fn sync(&self) {
        for (child, parent) in UP.iter().chain(DOWN.iter()) {
            let (Some(c), Some(p)) = (self.nodes.get(child), self.nodes.get(parent)) else {
                continue;
            };
            let report = c.node.upload_to(&p.node).await.unwrap();
            assert!(report.refused.is_empty(), "{child} → {parent}: {report:?}");
            p.node.wait_indexed();
        }
    }

    async fn post(&self, origin: &str, authority: &str, path: &str, body: &Value) -> (u16, Value) {
        self.node(origin)
            .api
            .post(path, &self.token(origin, authority), body)
            .await
    }

    async fn case(&self, origin: &str, id: &str) -> Value {
        let n = self.node(origin);
        let token = n.tokens.values().next().unwrap();
        let (status, state) = n.api.get(&format!("/v1/cases/{id}"), Some(token)).await;
        assert_eq!(status, 200, "{origin}: {state}");
        state
    }

    /// The case as a node without an API (the national node) folds it.
    fn folded(&self, origin: &str, id: &str) -> Value {
        let store = self.node(origin).node.store.clone();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let state = credx_node::cases::load_case(store.as_ref(), id, today)
            .unwrap()
            .unwrap_or_else(|| panic!("{origin} does not know case {id}"));
        serde_json::to_value(state).unwrap()
    }

    async fn step(&self, origin: &str, authority: &str, id: &str, step: Value) -> (u16, Value) {
        let body = json!({"responder": {"node": origin, "department": authority}, "step": step});
        self.post(origin, authority, &format!("/v1/cases/{id}/steps"), &body)
            .await
    }

    /// A responder's results, one per (measure, result, detail), then its close.
    async fn feed_back(
        &self,
        origin: &str,
        authority: &str,
        id: &str,
        results: &[(&str, &str, &str)],
    ) {
        for (code, result, detail) in results {
            let step = json!({"kind": "execute", "measure_code": code, "result": result, "detail": detail});
            ok(self.step(origin, authority, id, step).await);
        }
        ok(self
            .step(origin, authority, id, json!({"kind": "close"}))
            .await);
    }

    /// 大冶's statistics.
    async fn statistics(&self) -> Value {
        let (status, stats) = self
            .node(DAYE)
            .api
            .get(
                "/v1/cases/statistics",
                Some(&self.token(DAYE, &initiator())),
            )
            .await;
        assert_eq!(status, 200, "{stats}");
        stats
    }

    /// Puts the subject `serial` of 大冶 on `kind`; returns the list entry `{origin, index}`.
    async fn list(&self, kind: ListKind, serial: u64, document_no: &str) -> Value {
        let unit = Unit {
            name: "大冶市示例市场监管局".into(),
            uscc: initiator(),
        };
        let reward = kind == ListKind::RedList;
        let list = ListEntry {
            kind,
            subject: ListSubject {
                name: format!("大冶市示例企业{serial}"),
                category: SubjectCategory::Organisation,
                code: synthetic_uscc("91", "420281", serial).unwrap(),
            },
            determining_unit: unit.clone(),
            basis: "《失信行为纠正后的信用信息修复管理办法》第X条（示例）".into(),
            document_no: document_no.into(),
            reason: "示例事由".into(),
            listed_on: RecordDate(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
            valid_until: Some(RecordDate(NaiveDate::from_ymd_opt(2029, 6, 1).unwrap())),
            severity: (!reward).then_some(CreditSeverity::General),
            status: ListStatus::Active,
            removed_on: None,
            removal_reason: None,
            measures: vec![Measure {
                code: if reward { "JL01" } else { "CJ01" }.into(),
                text: "示例措施".into(),
                legal_basis: "示例".into(),
            }],
            remedy: "可依法申请复核或信用修复".into(),
            source_unit: unit,
        };
        let (status, answer) = self
            .post(
                DAYE,
                &initiator(),
                "/v1/lists",
                &serde_json::to_value(list).unwrap(),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        json!({"origin": DAYE, "index": answer["log_index"]})
    }

    /// Initiates case `id` at 大冶.
    async fn initiate(
        &self,
        id: &str,
        listing: &Value,
        kind: &str,
        measures: &[&str],
        targets: &[(&str, &str)],
        respond_by: &str,
    ) -> (u16, Value) {
        let targets: Vec<Value> = targets
            .iter()
            .map(|(node, department)| json!({"node": node, "department": department}))
            .collect();
        let body = json!({
            "case_id": id, "listing": listing, "kind": kind, "catalogue_edition": "2024",
            "measures": measures, "targets": targets, "respond_by": respond_by
        });
        self.post(DAYE, &initiator(), "/v1/cases", &body).await
    }
}

fn target<'a>(state: &'a Value, node: &str, department: &str) -> &'a Value {
    state["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["node"] == node && t["department"] == department)
        .unwrap_or_else(|| panic!("no target {node}/{department} in {state}"))
}

fn ok(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1
}

/// Scenario 1: a case from 大冶 (湖北) reaches a 三亚 (海南) department through 黄石, 湖北,
/// the national node and 海南; its acknowledgement and feedback come back the same way,
/// and every node on the path folds the same state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_cross_province_push_and_feedback_routed_back() {
    let f = Fed::start(&ALL).await;
    let sanya = departments(SANYA)[0].clone();
    let listing = f
        .list(ListKind::SeriouslyDishonest, 1, "冶示认〔2026〕101号")
        .await;
    let id = "42028120261130001";
    ok(f.initiate(
        id,
        &listing,
        "punishment",
        &["CJ01", "CJ02"],
        &[(SANYA, &sanya)],
        "2026-12-07",
    )
    .await);

    f.sync().await;
    let there = f.case(SANYA, id).await;
    assert_eq!(there["initiator"]["origin"], DAYE);
    assert_eq!(
        there["list_kind"], "seriously-dishonest",
        "the listing came down too"
    );
    assert_eq!(target(&there, SANYA, &sanya)["phase"], "pushed");
    // 三亚 holds the case as verified feed items, not as a log of its own.
    let initiated_at = there["initiator"]["entry"]["index"].as_u64().unwrap();
    let sanya_store = &f.node(SANYA).node.store;
    assert!(sanya_store
        .received_entry(DAYE, initiated_at)
        .unwrap()
        .is_some());
    assert_eq!(sanya_store.case_ids(None, 10).unwrap(), vec![id.to_owned()]);

    ok(f.step(
        SANYA,
        &sanya,
        id,
        json!({"kind": "acknowledge", "accepted": true}),
    )
    .await);
    f.feed_back(
        SANYA,
        &sanya,
        id,
        &[
            ("CJ01", "punished", "已限制参加政府采购"),
            ("CJ02", "not_applicable", "本单位无招标投标业务"),
        ],
    )
    .await;

    f.sync().await;
    let home = f.case(DAYE, id).await;
    let back = target(&home, SANYA, &sanya);
    assert_eq!(back["phase"], "closed");
    assert_eq!(back["acknowledgement"]["accepted"], true);
    assert_eq!(back["measures"][0]["result"]["result"], "punished");
    assert_eq!(back["measures"][0]["result"]["entry"]["origin"], SANYA);
    assert_eq!(back["measures"][1]["state"], "not_applicable");
    assert_eq!(home["status"], "closed");
    assert_eq!(home["ignored"], json!([]));
    // The same entries give the same state at the initiator, the responder and the
    // national node in between.
    assert_eq!(home, f.case(SANYA, id).await);
    assert_eq!(home, f.folded(NATIONAL, id));

    let stats = f.statistics().await;
    let row = &stats["responders"][0];
    assert_eq!(
        (row["node"].as_str(), row["feedback_rate"].as_f64()),
        (Some(SANYA), Some(1.0))
    );
    assert_eq!(row["feedback_in_working_days"], 1);
    f.stop().await;
}

/// Scenario 2: an objection during PUSHED suspends a 严重失信 case at the responder until
/// dismissed; on the courts' 失信被执行人 list the case stays in force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_2_objection_with_and_without_suspension() {
    let f = Fed::start(&ALL).await;
    let sanya = departments(SANYA)[0].clone();
    let black = f
        .list(ListKind::SeriouslyDishonest, 2, "冶示认〔2026〕201号")
        .await;
    let court = f
        .list(
            ListKind::DishonestJudgmentDebtor,
            3,
            "（2026）鄂0281执示1号",
        )
        .await;
    ok(f.initiate(
        "C-S",
        &black,
        "punishment",
        &["CJ01"],
        &[(SANYA, &sanya)],
        "2026-12-07",
    )
    .await);
    ok(f.initiate(
        "C-N",
        &court,
        "punishment",
        &["CJ03"],
        &[(SANYA, &sanya)],
        "2026-12-07",
    )
    .await);
    for (listing, objection) in [(&black, "YY-S"), (&court, "YY-N")] {
        let body = json!({"target": listing, "objection_id": objection, "grounds": "认定事实有误（示例）"});
        ok(f.post(DAYE, &initiator(), "/v1/objections", &body).await);
    }

    f.sync().await;
    let suspended = f.case(SANYA, "C-S").await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["measures_paused"], true);
    assert_eq!(target(&suspended, SANYA, &sanya)["phase"], "pushed");
    let in_force = f.case(SANYA, "C-N").await;
    assert_eq!(in_force["status"], "open");
    assert_eq!(in_force["objection"]["suspends_measures"], false);
    for id in ["C-S", "C-N"] {
        ok(f.step(
            SANYA,
            &sanya,
            id,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await);
    }
    let (status, paused) = f
        .step(
            SANYA,
            &sanya,
            "C-S",
            json!({"kind": "execute", "measure_code": "CJ01", "result": "punished"}),
        )
        .await;
    assert_eq!(status, 409, "{paused}");
    ok(f.step(
        SANYA,
        &sanya,
        "C-S",
        json!({"kind": "execute", "measure_code": "CJ01", "result": "deferred"}),
    )
    .await);
    ok(f.step(
        SANYA,
        &sanya,
        "C-N",
        json!({"kind": "execute", "measure_code": "CJ03", "result": "punished"}),
    )
    .await);

    // Dismissed at 大冶: the case resumes at 三亚 and the measure is applied.
    let body = json!({"target": black, "outcome": "dismissed", "reason": "经核实（示例）"});
    ok(
        f.post(DAYE, &initiator(), "/v1/objections/YY-S/resolve", &body)
            .await,
    );
    f.sync().await;
    let resumed = f.case(SANYA, "C-S").await;
    assert_eq!(resumed["status"], "open");
    assert_eq!(resumed["measures_paused"], false);
    ok(f.step(
        SANYA,
        &sanya,
        "C-S",
        json!({"kind": "execute", "measure_code": "CJ01", "result": "punished"}),
    )
    .await);
    f.sync().await;
    let home = f.case(DAYE, "C-S").await;
    assert_eq!(
        target(&home, SANYA, &sanya)["measures"][0]["state"],
        "executed"
    );
    assert_eq!(
        target(&f.case(DAYE, "C-N").await, SANYA, &sanya)["phase"],
        "feedback"
    );
    f.stop().await;
}

/// Scenario 3: repair approved while 3 of 5 responders have executed: all 5 get LIFT and
/// each LIFT_ACK is tracked until the case closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_repair_lifts_every_responder_and_lift_acks_are_tracked() {
    let f = Fed::start(&ALL).await;
    let responders: Vec<(&str, String)> = vec![
        (DAYE, departments(DAYE)[1].clone()),
        (HUANGSHI, departments(HUANGSHI)[0].clone()),
        (HUBEI, departments(HUBEI)[0].clone()),
        (SANYA, departments(SANYA)[0].clone()),
        (SANYA, departments(SANYA)[1].clone()),
    ];
    let targets: Vec<(&str, &str)> = responders.iter().map(|(n, d)| (*n, d.as_str())).collect();
    let listing = f
        .list(ListKind::SeriouslyDishonest, 4, "冶示认〔2026〕301号")
        .await;
    let id = "C-REPAIR";
    ok(f.initiate(
        id,
        &listing,
        "punishment",
        &["CJ01"],
        &targets,
        "2026-12-07",
    )
    .await);
    f.sync().await;
    for (node, dept) in &responders[..3] {
        ok(f.step(
            node,
            dept,
            id,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await);
        ok(f.step(
            node,
            dept,
            id,
            json!({"kind": "execute", "measure_code": "CJ01", "result": "punished"}),
        )
        .await);
    }
    ok(f.step(
        responders[3].0,
        &responders[3].1,
        id,
        json!({"kind": "acknowledge", "accepted": true}),
    )
    .await);
    f.sync().await;
    let before = f.case(DAYE, id).await;
    let executed = before["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["phase"] == "feedback")
        .count();
    assert_eq!(executed, 3);

    let repair = json!({
        "target": listing, "repair_id": "XF-1", "basis": "已履行全部义务并作出信用承诺（示例）",
        "obligations_fulfilled": true, "commitment_made": true
    });
    ok(f.post(DAYE, &initiator(), "/v1/repairs", &repair).await);
    f.sync().await;
    for (node, dept) in &responders {
        let state = f.case(node, id).await;
        assert_eq!(state["status"], "lifted", "{node}");
        assert_eq!(state["lift"]["reason"], "repaired");
        assert_eq!(
            target(&state, node, dept)["phase"],
            "lifted",
            "{node}/{dept}"
        );
    }
    // No result is accepted any more; three confirm the lift.
    let (status, _) = f
        .step(
            responders[3].0,
            &responders[3].1,
            id,
            json!({"kind": "execute", "measure_code": "CJ01", "result": "punished"}),
        )
        .await;
    assert_eq!(status, 409);
    for (node, dept) in &responders[..3] {
        ok(f.step(node, dept, id, json!({"kind": "lift_acknowledge"}))
            .await);
    }
    f.sync().await;
    let stats = f.statistics().await;
    let rows = stats["responders"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["lift_required"] == 1));
    assert_eq!(
        rows.iter().filter(|r| r["lift_acknowledged"] == 1).count(),
        3
    );
    assert_eq!(f.case(DAYE, id).await["status"], "lifted");
    for (node, dept) in &responders[3..] {
        ok(f.step(node, dept, id, json!({"kind": "lift_acknowledge"}))
            .await);
    }
    f.sync().await;
    let home = f.case(DAYE, id).await;
    assert_eq!(home["status"], "closed");
    assert!(home["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["phase"] == "lift_acknowledged"));
    assert_eq!(home, f.folded(NATIONAL, id));
    f.stop().await;
}

/// Scenario 4: a push repeated (the API call again, and a raw second `Pushed` entry for
/// the same (case_id, version)) changes nothing at the responder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_4_duplicate_push_is_idempotent() {
    let f = Fed::start(&[DAYE, HUANGSHI]).await;
    let responder = departments(HUANGSHI)[0].clone();
    let listing = f
        .list(ListKind::SeriouslyDishonest, 5, "冶示认〔2026〕401号")
        .await;
    let id = "C-DUP";
    let first = ok(f
        .initiate(
            id,
            &listing,
            "punishment",
            &["CJ01"],
            &[(HUANGSHI, &responder)],
            "2026-12-07",
        )
        .await);
    let size = f.node(DAYE).node.size(DAYE);
    let again = ok(f
        .initiate(
            id,
            &listing,
            "punishment",
            &["CJ01"],
            &[(HUANGSHI, &responder)],
            "2026-12-07",
        )
        .await);
    assert_eq!(again["duplicate"], true);
    assert_eq!(f.node(DAYE).node.size(DAYE), size, "nothing written");
    assert_eq!(again["state"], first["state"]);

    f.sync().await;
    ok(f.step(
        HUANGSHI,
        &responder,
        id,
        json!({"kind": "acknowledge", "accepted": true}),
    )
    .await);
    let before = f.case(HUANGSHI, id).await;

    // A relay or a retrying initiator writes the same push again.
    let push = Entry {
        version: credx_protocol::entry::ENVELOPE_VERSION,
        origin: DAYE.into(),
        authority: Some(initiator()),
        submitted_by: "大冶市示例市场监管局-重发".into(),
        subject: None,
        business_key: None,
        accepted_at_ms: 1_796_011_300_000,
        event: Event::CaseStep(CaseStep {
            case: CaseKey {
                case_id: id.into(),
                version: 1,
            },
            responder: TargetUnit {
                node: HUANGSHI.into(),
                department: Some(responder.clone()),
            },
            step: CaseStepKind::Pushed,
        }),
    };
    f.node(DAYE)
        .sequencer
        .submit(push.encode().unwrap().into_bytes())
        .unwrap()
        .wait()
        .unwrap();
    f.sync().await;
    let after = f.case(HUANGSHI, id).await;
    assert_eq!(after["duplicates"], 1);
    assert_eq!(after["entries"], before["entries"].as_u64().unwrap() + 1);
    let mine = target(&after, HUANGSHI, &responder);
    assert_eq!(mine["pushed_versions"], json!([1]));
    assert_eq!(mine["phase"], "acknowledged");
    let strip = |mut v: Value| {
        v["duplicates"] = Value::Null;
        v["entries"] = Value::Null;
        v
    };
    assert_eq!(strip(after), strip(before), "only the counters moved");
    let (status, _) = f
        .step(
            HUANGSHI,
            &responder,
            id,
            json!({"kind": "acknowledge", "accepted": true}),
        )
        .await;
    assert_eq!(status, 409, "still acknowledged once");
    f.stop().await;
}

/// Scenario 5: the responder's node is off line past the respond-by date: 大冶 records
/// OVERDUE and re-pushes under version 2; back on line, 三亚 receives and acknowledges it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_5_offline_responder_becomes_overdue_and_is_pushed_again() {
    let mut f = Fed::start(&ALL).await;
    let sanya = departments(SANYA)[0].clone();
    let huangshi = departments(HUANGSHI)[0].clone();
    f.stop_node(SANYA).await;
    let listing = f
        .list(ListKind::SeriouslyDishonest, 6, "冶示认〔2026〕501号")
        .await;
    let id = "C-LATE";
    ok(f.initiate(
        id,
        &listing,
        "punishment",
        &["CJ01"],
        &[(SANYA, &sanya), (HUANGSHI, &huangshi)],
        "2026-12-02",
    )
    .await);
    f.sync().await;
    ok(f.step(
        HUANGSHI,
        &huangshi,
        id,
        json!({"kind": "acknowledge", "accepted": true}),
    )
    .await);
    f.sync().await;

    f.clock.advance_days(3); // 2026-12-03
    let late = f.case(DAYE, id).await;
    assert_eq!(target(&late, SANYA, &sanya)["phase"], "overdue");
    assert_eq!(target(&late, HUANGSHI, &huangshi)["phase"], "acknowledged");
    let checked = ok(f
        .post(
            DAYE,
            &initiator(),
            &format!("/v1/cases/{id}/overdue-check"),
            &json!({"respond_by": "2026-12-10"}),
        )
        .await);
    assert_eq!(
        checked["overdue"],
        json!([{"node": SANYA, "department": sanya}])
    );
    assert_eq!(checked["repushed"], checked["overdue"]);
    assert_eq!(checked["state"]["version"], 2);

    f.start_node(SANYA).await;
    f.sync().await;
    let there = f.case(SANYA, id).await;
    let mine = target(&there, SANYA, &sanya);
    assert_eq!(mine["pushed_versions"], json!([1, 2]));
    assert_eq!(mine["overdue_versions"], json!([1]));
    assert_eq!(mine["respond_by"], "2026-12-10");
    assert_eq!(mine["phase"], "pushed");
    ok(f.step(
        SANYA,
        &sanya,
        id,
        json!({"kind": "acknowledge", "accepted": true}),
    )
    .await);
    f.sync().await;
    let home = f.case(DAYE, id).await;
    let back = target(&home, SANYA, &sanya);
    assert_eq!(back["phase"], "acknowledged");
    assert_eq!(back["acknowledgement"]["version"], 2);
    let stats = f.statistics().await;
    let row = stats["responders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == SANYA)
        .unwrap()
        .clone();
    assert_eq!(row["overdue"], 1);
    assert_eq!(row["acknowledged_in_time"], 1, "in time for the re-push");
    f.stop().await;
}

/// Scenario 6: a 红名单 (reward) case: 已激励 (容缺受理 / 绿色通道) is recorded across
/// provinces, 已惩戒 is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_6_reward_case_records_rewarded() {
    let f = Fed::start(&ALL).await;
    let sanya = departments(SANYA)[1].clone();
    let red = f.list(ListKind::RedList, 7, "冶示信〔2026〕601号").await;
    let id = "C-RED";
    let (status, refused) = f
        .initiate(
            id,
            &red,
            "punishment",
            &["CJ01"],
            &[(SANYA, &sanya)],
            "2026-12-07",
        )
        .await;
    assert_eq!(status, 400, "punishment on the red list: {refused}");
    ok(f.initiate(
        id,
        &red,
        "reward",
        &["JL01", "JL02"],
        &[(SANYA, &sanya)],
        "2026-12-07",
    )
    .await);
    f.sync().await;
    let there = f.case(SANYA, id).await;
    assert_eq!(
        (there["kind"].as_str(), there["list_kind"].as_str()),
        (Some("reward"), Some("red-list"))
    );
    ok(f.step(
        SANYA,
        &sanya,
        id,
        json!({"kind": "acknowledge", "accepted": true}),
    )
    .await);
    let (status, _) = f
        .step(
            SANYA,
            &sanya,
            id,
            json!({"kind": "execute", "measure_code": "JL01", "result": "punished"}),
        )
        .await;
    assert_eq!(status, 400, "已惩戒 does not fit a reward case");
    f.feed_back(
        SANYA,
        &sanya,
        id,
        &[
            ("JL01", "rewarded", "容缺受理"),
            ("JL02", "rewarded", "绿色通道，降低抽查频次"),
        ],
    )
    .await;
    f.sync().await;
    let home = f.case(DAYE, id).await;
    let back = target(&home, SANYA, &sanya);
    assert_eq!(back["measures"][0]["result"]["result"], "rewarded");
    assert_eq!(back["measures"][0]["result"]["detail"], "容缺受理");
    assert_eq!(back["measures"][1]["state"], "executed");
    assert_eq!(home["status"], "closed");
    f.stop().await;
}

/// Scenario 7: a measure not on the 2024 基础清单 edition: initiation refused, naming the
/// measure and the edition; nothing is written, so nothing reaches the other nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_7_measure_not_in_catalogue_is_rejected() {
    let f = Fed::start(&[DAYE, HUANGSHI]).await;
    let responder = departments(HUANGSHI)[0].clone();
    let listing = f
        .list(ListKind::SeriouslyDishonest, 8, "冶示认〔2026〕701号")
        .await;
    let size = f.node(DAYE).node.size(DAYE);
    let (status, refused) = f
        .initiate(
            "C-BAD",
            &listing,
            "punishment",
            &["CJ01", "CJ07"],
            &[(HUANGSHI, &responder)],
            "2026-12-07",
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "measure_not_in_catalogue");
    assert_eq!(
        refused["message"],
        "measure \"CJ07\" is not in the 2024 edition of the measures catalogue (基础清单); only measures of the named edition may be applied"
    );
    assert_eq!(f.node(DAYE).node.size(DAYE), size);
    f.sync().await;
    assert!(f
        .node(HUANGSHI)
        .node
        .store
        .case_ids(None, 10)
        .unwrap()
        .is_empty());
    let (status, _) = f
        .node(HUANGSHI)
        .api
        .get("/v1/cases/C-BAD", Some(&f.token(HUANGSHI, &responder)))
        .await;
    assert_eq!(status, 404);
    f.stop().await;
}
