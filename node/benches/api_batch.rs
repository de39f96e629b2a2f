//! Batch submit of 10,000 records through the department API at a county node (issue 5
//! target: answered within 1 s on this machine).
//!
//! Run: `cd /work/main && source scripts/env.sh && cargo bench --workspace --bench api_batch`
//! (`CREDX_BENCH_RUNS` sets the timed runs per measure, default 5).
//!
//! Setup (not timed): the county node 420281.credx on a fresh RocksDB (production options,
//! synced writes) with its real sequencer (`EntryPlanner`: subject and business-key index
//! rows, status-map updates; `max_batch_entries` = 10,000 so a batch is one append and one
//! signed checkpoint), the API router on a loopback TCP port, and the request bodies:
//! 10,000 distinct licence records (distinct subjects and document numbers, decided
//! yesterday, so reported on time) as JSON.
//!
//! Timed, per run, from sending the request to having read the whole answer:
//! 1. new: 10,000 records never seen before (parse, validate all, scope, index look-ups,
//!    encode, one `submit_many`, durable append + status map + signed checkpoint, report);
//!    Each run's records are about 10,000 subjects no earlier run touched (a county's
//!    daily batch is about many different subjects; repeats would grow their statuses);
//! 2. amend: the same 10,000 business keys again, so every record becomes an amendment.
//!
//! One warm-up run precedes the timed ones. The log grows by 10,000 entries per run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use credx_node::api::{router, ApiState, TokenStore, View};
use credx_protocol::ident::Uscc;
use credx_protocol::note::{KeyName, NoteSigner};
use credx_storage::{EntryPlanner, RocksStorage, Sequencer, SequencerConfig, StorageOptions};
use serde_json::{json, Value};

const ORIGIN: &str = "420281.credx";
const DIVISION: &str = "420281";
const BATCH: usize = 10_000;

/// A USCC of the reserved synthetic range (credit-testdata.txt): `<kind><division>PDY<serial>`.
fn synthetic_uscc(kind: &str, serial: u64) -> String {
    Uscc::complete(&format!("{kind}{DIVISION}PDY{serial:05}")).unwrap()
}

/// Records decided yesterday: a county reporting on time (no W1 late-report warning).
fn batch_body(authority: &str, tag: &str, subjects_from: u64, content: &str) -> Vec<u8> {
    let decided = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let valid_to = decided + chrono::Duration::days(5 * 365);
    let records: Vec<Value> = (0..BATCH as u64)
        .map(|n| {
            json!({
                "XK_XDR_MC": format!("示例建材有限公司{DIVISION}-{n}"), "XK_XDR_LB": "法人及非法人组织",
                "XK_XDR_SHXYM": synthetic_uscc("91", (subjects_from + n) % 100_000), "XK_FRDB": "张示例",
                "XK_XKWS": "准予行政许可决定书", "XK_WSH": format!("冶示许字〔2026〕{tag}第{n}号"),
                "XK_XKLB": "普通", "XK_XKZS": "示例经营许可证", "XK_XKBH": format!("SL{DIVISION}{tag}{n:06}"),
                "XK_NR": content,
                "XK_JDRQ": decided.to_string(), "XK_YXQZ": decided.to_string(), "XK_YXQZI": valid_to.to_string(),
                "XK_XKJG": "大冶市示例审批局", "XK_XKJGDM": authority,
                "XK_ZT": "1", "XK_LYDW": "大冶市示例审批局", "XK_LYDWDM": authority, "BZ": ""
            })
        })
        .collect();
    serde_json::to_vec(&records).unwrap()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("CREDX_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStorage::open(db.path(), &StorageOptions::default()).unwrap());
    let signer = NoteSigner::generate(KeyName::new(ORIGIN).unwrap(), &mut rand::rngs::OsRng);
    let mut config = SequencerConfig::new(checkpoints.path());
    config.max_batch_entries = BATCH;
    let sequencer =
        Sequencer::start(store.clone(), signer, EntryPlanner::new(ORIGIN), config).unwrap();
    let authority = synthetic_uscc("11", 52);
    let tokens = TokenStore::new();
    let (token, _) = tokens
        .issue(
            "大冶市示例审批局",
            [authority.as_str()],
            [View::Public, View::Shared],
        )
        .unwrap();
    let state = ApiState::new(
        ORIGIN.to_owned(),
        store,
        Arc::new(sequencer),
        Arc::new(tokens),
    )
    .with_max_submission(BATCH);

    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/records", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
        let http = reqwest::Client::new();
        let submit = |body: Vec<u8>| {
            let http = http.clone();
            let url = url.clone();
            let token = token.clone();
            async move {
                let started = Instant::now();
                let resp = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 200);
                let report: Value = resp.json().await.unwrap();
                let elapsed = started.elapsed();
                assert_eq!(report["accepted"].as_u64(), Some(BATCH as u64), "{}", report["results"][0]);
                (elapsed, report)
            }
        };

        let body_bytes = batch_body(&authority, "W", 0, "准予从事建筑材料经营（示例）").len();
        println!("api_batch: {BATCH} licence records per request, body {:.1} MiB, {runs} timed runs (+1 warm-up)", body_bytes as f64 / 1048576.0);
        let _ = submit(batch_body(&authority, "W", 0, "准予从事建筑材料经营（示例）")).await;
        let mut new = Vec::new();
        let mut amend = Vec::new();
        for run in 0..runs {
            let tag = format!("R{run}");
            // Each run's records are about subjects no earlier run touched.
            let subjects_from = (run as u64 + 1) * BATCH as u64;
            let (t, _) = submit(batch_body(&authority, &tag, subjects_from, "第一版（示例）")).await;
            new.push(t);
            let (t, report) = submit(batch_body(&authority, &tag, subjects_from, "第二版（示例）")).await;
            assert!(report["results"][0]["amends"].is_object());
            amend.push(t);
        }
        let show = |name: &str, xs: &Vec<Duration>| {
            let ms: Vec<String> = xs.iter().map(|d| format!("{:.0}", d.as_secs_f64() * 1e3)).collect();
            println!(
                "api_batch/{name}: median {:.0} ms for {BATCH} records ({:.0} records/s); runs [{}] ms",
                median(xs.clone()).as_secs_f64() * 1e3,
                BATCH as f64 / median(xs.clone()).as_secs_f64(),
                ms.join(", ")
            );
        };
        show("new", &new);
        show("amend", &amend);
    });
}
