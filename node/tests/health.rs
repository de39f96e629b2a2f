//! Whole-tree health end to end: four in-process daemons (national → province → city →
//! county) with real RocksDB, QUIC, certificates and roster, configured with short health
//! limits; the national node's `/v1/health/tree` lists every node OK after sync, shows a
//! stopped county as STOP after the silence limit, and forged health reports are refused
//! and counted (through the receiver state machine with real stores and roster).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{loopback, TestNode};
use credx_node::api::{TokenStore, View};
use credx_node::config::Config;
use credx_node::daemon::Daemon;
use credx_node::federation::test_federation::three_level::{CITY, COUNTY, NATIONAL, PROVINCE};
use credx_node::federation::{Overwrite, TestFederation};
use credx_node::health::TreeHealth;
use credx_node::sync::ReceiverSession;
use credx_node::synthetic::synthetic_uscc;
use credx_protocol::health::{EdgeStatus, HealthReport, SignedHealthReport, HEALTH_REPORT_VERSION};
use credx_protocol::note::{KeyName, NoteSigner};
use credx_protocol::wire::{Message, PROTOCOL_VERSION};

const SILENCE_MS: u64 = 3_000;

const COUNTY_DIVISION: &str = "440106";

fn config(
    root: &Path,
    origin: &str,
    listen: bool,
    parent: Option<(&str, SocketAddr)>,
    tokens: Option<&Path>,
) -> Config {
    let dir = root.join(origin);
    std::fs::create_dir_all(&dir).unwrap();
    let fed = root.join("federation");
    let mut text = format!(
        "origin = {origin:?}\n\
         data_dir = {data:?}\n\
         credentials_dir = {creds:?}\n\
         roster_file = {roster:?}\n\
         listen_http = \"127.0.0.1:0\"\n",
        data = dir.join("data").display().to_string(),
        creds = fed.join("nodes").join(origin).display().to_string(),
        roster = fed.join("roster.note").display().to_string(),
    );
    if listen {
        text.push_str("listen_quic = \"127.0.0.1:0\"\n");
    }
    if let Some(tokens) = tokens {
        text.push_str(&format!(
            "tokens_file = {:?}\n",
            tokens.display().to_string()
        ));
    }
    if let Some((parent, addr)) = parent {
        text.push_str(&format!(
            "[parent]\norigin = {parent:?}\naddress = \"{addr}\"\n"
        ));
    }
    text.push_str(&format!(
        "[sync]\ninterval_ms = 100\nbackoff_max_ms = 500\npeer_timeout_ms = 2000\n\
         [health]\nreport_interval_ms = 200\nsilence_limit_ms = {SILENCE_MS}\n\
         stop_limit_ms = 3000\nwindow_ms = 2000\n"
    ));
    Config::parse(&text, &dir.join("node.toml")).unwrap()
}

async fn tree(http: SocketAddr) -> TreeHealth {
    reqwest::get(format!("http://{http}/v1/health/tree"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `http`'s tree until `done` holds, or fails after `limit` showing the last tree.
async fn wait_tree(
    http: SocketAddr,
    limit: Duration,
    what: &str,
    done: impl Fn(&TreeHealth) -> bool,
) -> (TreeHealth, Duration) {
    let start = Instant::now();
    loop {
        let t = tree(http).await;
        if done(&t) {
            return (t, start.elapsed());
        }
        if start.elapsed() > limit {
            panic!(
                "{what}: not within {limit:?}; last tree: {}",
                serde_json::to_string_pretty(&t).unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn status_of(t: &TreeHealth, origin: &str) -> EdgeStatus {
    t.nodes
        .iter()
        .find(|n| n.origin == origin)
        .unwrap_or_else(|| panic!("{origin} missing from the tree"))
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn national_sees_every_node_and_a_silent_county_as_stop() {
    let root = tempfile::tempdir().unwrap();
    let fed = TestFederation::three_level().unwrap();
    fed.save(&root.path().join("federation"), Overwrite::Refuse)
        .unwrap();
    let tokens = TokenStore::new();
    let authority = synthetic_uscc("11", COUNTY_DIVISION, 52).unwrap();
    let (token, _) = tokens
        .issue("示例审批局440106", [authority], [View::Public])
        .unwrap();
    let tokens_file = root.path().join("county-tokens.json");
    tokens.save(&tokens_file).unwrap();
    let national = Daemon::start(config(root.path(), NATIONAL, true, None, None))
        .await
        .unwrap();
    let province = Daemon::start(config(
        root.path(),
        PROVINCE,
        true,
        Some((NATIONAL, national.quic_addr())),
        None,
    ))
    .await
    .unwrap();
    let city = Daemon::start(config(
        root.path(),
        CITY,
        true,
        Some((PROVINCE, province.quic_addr())),
        None,
    ))
    .await
    .unwrap();
    let county = Daemon::start(config(
        root.path(),
        COUNTY,
        false,
        Some((CITY, city.quic_addr())),
        Some(&tokens_file),
    ))
    .await
    .unwrap();

    // Before any report arrives, the tree already lists every roster node (never heard
    // from: STOP); then reports travel up two relays.
    let first = tree(national.http_addr()).await;
    assert_eq!(first.nodes.len(), 4);
    submit(&county, &token, 200).await;
    let all = [NATIONAL, PROVINCE, CITY, COUNTY];
    let (t, took) = wait_tree(
        national.http_addr(),
        Duration::from_secs(30),
        "every node OK at the national node",
        |t| {
            all.iter().all(|o| status_of(t, o) == EdgeStatus::Ok)
                && t.nodes
                    .iter()
                    .any(|n| n.origin == COUNTY && n.log_size == Some(200))
                && t.integrity
                    .origins
                    .iter()
                    .any(|o| o.origin == COUNTY && o.size == 200)
                && t.nodes.iter().all(|n| n.report_age_ms.is_some())
                // A report made after the sender's first completed session.
                && t.nodes.iter().all(|n| {
                    n.upstream
                        .as_ref()
                        .is_none_or(|up| up.last_success_age_ms.is_some())
                })
        },
    )
    .await;
    eprintln!("all four nodes OK at the national node after {took:?}");
    assert_eq!(t.node, NATIONAL);
    let county_entry = t.nodes.iter().find(|n| n.origin == COUNTY).unwrap();
    assert_eq!(county_entry.level, "county");
    assert_eq!(county_entry.parent.as_deref(), Some(CITY));
    let up = county_entry.upstream.as_ref().unwrap();
    assert_eq!(up.parent, CITY);
    assert_eq!(up.lag_entries, 0);
    assert!(up.last_success_age_ms.is_some());
    assert!(county_entry.cert_expires_at_ms.is_some());
    assert!(county_entry.roster_expires_at_ms.is_some());
    let national_entry = t.nodes.iter().find(|n| n.origin == NATIONAL).unwrap();
    assert!(national_entry.parent.is_none() && national_entry.upstream.is_none());
    // The JSON keys of the contract.
    let raw: serde_json::Value =
        reqwest::get(format!("http://{}/v1/health/tree", national.http_addr()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    for key in ["node", "generated_at_ms", "nodes", "integrity"] {
        assert!(raw.get(key).is_some(), "tree lacks {key}");
    }
    for key in ["proof_failures_by_kind", "forks", "origins"] {
        assert!(raw["integrity"].get(key).is_some(), "integrity lacks {key}");
    }
    let own: serde_json::Value = reqwest::get(format!("http://{}/v1/health", county_addr(&county)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["origin"], COUNTY);
    assert_eq!(own["status"], "OK");
    let metrics = reqwest::get(format!("http://{}/metrics", city.http_addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "credx_sync_lag_entries{",
        "credx_sync_lag_seconds{",
        "credx_health_edge_status{",
        "credx_sync_last_success_timestamp_seconds{",
        "credx_health_reports_accepted_total",
        "credx_certificate_expiry_timestamp_seconds",
        "credx_roster_expiry_timestamp_seconds",
        "credx_checkpoint_age_seconds{",
        "credx_rocksdb_property{",
        "credx_build_info{",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}");
    }

    // The county stops: after the silence limit the national node shows it STOP, the
    // others stay OK.
    let stopped_at = Instant::now();
    county.shutdown().await;
    let (_, took) = wait_tree(
        national.http_addr(),
        Duration::from_millis(SILENCE_MS) + Duration::from_secs(10),
        "the stopped county STOP at the national node",
        |t| status_of(t, COUNTY) == EdgeStatus::Stop,
    )
    .await;
    let since_stop = stopped_at.elapsed();
    eprintln!("county STOP at the national node {since_stop:?} after it stopped (poll {took:?})");
    let t = tree(national.http_addr()).await;
    let silent = t.nodes.iter().find(|n| n.origin == COUNTY).unwrap();
    assert!(
        silent.report_age_ms.unwrap() > SILENCE_MS,
        "STOP for silence"
    );
    assert_eq!(t.nodes[0].origin, COUNTY, "worst first");
    for origin in [NATIONAL, PROVINCE, CITY] {
        assert_eq!(status_of(&t, origin), EdgeStatus::Ok, "{origin}");
    }

    city.shutdown().await;
    province.shutdown().await;
    national.shutdown().await;
}

fn county_addr(county: &Daemon) -> SocketAddr {
    county.http_addr()
}

/// Submits `count` licence records of the county's synthetic authority.
async fn submit(county: &Daemon, token: &str, count: u64) {
    let authority = synthetic_uscc("11", COUNTY_DIVISION, 52).unwrap();
    let records: Vec<serde_json::Value> = (0..count)
        .map(|n| {
            let subject = synthetic_uscc("91", COUNTY_DIVISION, n).unwrap();
            serde_json::json!({
                "XK_XDR_MC": format!("示例建材有限公司{n}"), "XK_XDR_LB": "法人及非法人组织",
                "XK_XDR_SHXYM": subject, "XK_FRDB": "张示例",
                "XK_XKWS": "准予行政许可决定书", "XK_WSH": format!("示许字〔2026〕第{n}号"),
                "XK_XKLB": "普通", "XK_XKZS": "示例经营许可证",
                "XK_XKBH": format!("SL2026{n:06}"), "XK_NR": "准予从事建筑材料经营（示例）",
                "XK_JDRQ": "2026-03-02", "XK_YXQZ": "2026-03-02", "XK_YXQZI": "2031-03-01",
                "XK_XKJG": "示例审批局440106", "XK_XKJGDM": authority, "XK_ZT": "1",
                "XK_LYDW": "示例审批局440106", "XK_LYDWDM": authority, "BZ": ""
            })
        })
        .collect();
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/records", county.http_addr()))
        .bearer_auth(token)
        .json(&records)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
}

fn report(origin: &str, parent: Option<&str>, now_ms: u64) -> HealthReport {
    HealthReport {
        format: HEALTH_REPORT_VERSION,
        origin: origin.to_owned(),
        generated_at_ms: now_ms,
        roster_version: 1,
        software: "forged".to_owned(),
        log_size: 0,
        checkpoint_size: None,
        checkpoint_age_ms: None,
        upstream: parent.map(|p| credx_protocol::health::UpstreamEdge {
            parent: p.to_owned(),
            status: EdgeStatus::Ok,
            lag_entries: 0,
            lag_ms: 0,
            last_success_age_ms: None,
        }),
        proof_failures: 0,
        forks: 0,
        cert_expires_at_ms: None,
        roster_expires_at_ms: None,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_reports_are_refused_and_counted() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let city = TestNode::start(&fed, CITY, &dir.path().join("city"), loopback()).await;
    let now = now_ms();

    let honest = SignedHealthReport::sign(
        &report(COUNTY, Some(CITY), now),
        fed.node(COUNTY).unwrap().checkpoint_signer(),
    )
    .unwrap();
    // Signed by a key the roster does not list for the county.
    let impostor = NoteSigner::generate(KeyName::new(COUNTY).unwrap(), &mut rand::thread_rng());
    let wrong_key = SignedHealthReport::sign(&report(COUNTY, Some(CITY), now), &impostor).unwrap();
    // The province's own, honestly signed report, pushed by the county: not its subtree.
    let outside = SignedHealthReport::sign(
        &report(PROVINCE, Some(NATIONAL), now),
        fed.node(PROVINCE).unwrap().checkpoint_signer(),
    )
    .unwrap();
    // The county's signature over bytes that were changed afterwards.
    let mut tampered = honest.clone();
    let last = tampered.report.len() - 1;
    tampered.report[last] ^= 1;

    let mut session = ReceiverSession::new(Arc::clone(&city.ctx), COUNTY);
    let ack = session
        .handle(Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            node: COUNTY.to_owned(),
            roster_version: fed.roster().version(),
            session_id: [9; 16],
        })
        .unwrap();
    assert!(matches!(ack[0], Message::HelloAck { .. }));
    let reports = [&wrong_key, &outside, &tampered, &honest]
        .iter()
        .map(|r| r.to_bytes().unwrap())
        .collect();
    let answer = session.handle(Message::HealthReports { reports }).unwrap();
    assert_eq!(
        answer,
        vec![Message::HealthAck {
            accepted: 1,
            refused: 3
        }]
    );
    // Only the honest report is held; the session goes on.
    let t = city.ctx.health.tree(now_ms());
    let county = t.nodes.iter().find(|n| n.origin == COUNTY).unwrap();
    assert_eq!(county.software.as_deref(), Some("forged"));
    assert_eq!(county.status, EdgeStatus::Ok);
    let refused = &t.integrity.health_reports_refused_by_kind;
    assert_eq!(refused.get("bad_signature"), Some(&1), "{refused:?}");
    assert_eq!(refused.get("outside_subtree"), Some(&1), "{refused:?}");
    assert_eq!(
        refused
            .get("invalid")
            .or(refused.get("malformed"))
            .copied()
            .unwrap_or(0)
            + refused.get("bad_signature").copied().unwrap_or(0),
        2,
        "{refused:?}"
    );
    let metric = |kind: &str| {
        city.ctx
            .health
            .metrics()
            .reports_refused
            .get_or_create(&credx_node::health::metrics::KindLabels {
                kind: kind.to_owned(),
            })
            .get()
    };
    assert_eq!(metric("outside_subtree"), 1);
    // An older report never replaces a newer one.
    let older = SignedHealthReport::sign(
        &report(COUNTY, Some(CITY), now - 10_000),
        fed.node(COUNTY).unwrap().checkpoint_signer(),
    )
    .unwrap();
    let answer = session
        .handle(Message::HealthReports {
            reports: vec![older.to_bytes().unwrap()],
        })
        .unwrap();
    assert_eq!(
        answer,
        vec![Message::HealthAck {
            accepted: 1,
            refused: 0
        }]
    );
    let held_age = city
        .ctx
        .health
        .tree(now)
        .nodes
        .iter()
        .find(|n| n.origin == COUNTY)
        .unwrap()
        .report_age_ms;
    assert_eq!(held_age, Some(0), "the newer report is still held");
    session
        .handle(Message::Goodbye {
            code: None,
            detail: String::new(),
        })
        .unwrap();
    city.stop().await;
}

/// What reporting costs a parent: the size of a signed report and the time to verify and
/// keep one (printed; `cargo test --release --workspace --test health -- --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_size_and_verification_cost() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let city = TestNode::start(&fed, CITY, &dir.path().join("city"), loopback()).await;
    let signer = fed.node(COUNTY).unwrap().checkpoint_signer();
    let now = now_ms();
    let count = 2_048u64;
    let reports: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            SignedHealthReport::sign(&report(COUNTY, Some(CITY), now - count + i), signer)
                .unwrap()
                .to_bytes()
                .unwrap()
        })
        .collect();
    let size = reports[0].len();
    assert!(size <= credx_protocol::health::MAX_SIGNED_HEALTH_REPORT_BYTES);
    let start = Instant::now();
    for bytes in &reports {
        assert!(city.ctx.health.accept(COUNTY, bytes, now).unwrap());
    }
    let per_report = start.elapsed() / count as u32;
    let start = Instant::now();
    let tree = city.ctx.health.tree(now_ms());
    let tree_time = start.elapsed();
    eprintln!(
        "signed health report: {size} bytes; verify and keep: {per_report:?} per report \
         ({count} reports); /v1/health/tree of {} nodes built in {tree_time:?}",
        tree.nodes.len()
    );
    city.stop().await;
}
