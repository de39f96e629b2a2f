//! The testnet end to end, as an operator runs it: `credx-testnet up --topology small`
//! (four `credx-node` processes: national → 广东省 → 广州市 → 天河区), `load` of 50 records
//! through the county's department API, then the national node's `/metrics` polled until
//! the county's whole log has arrived, `report`, `down`.
//!
//! The `credx-node` binary must be built beside `credx-testnet` (`cargo test --workspace`
//! builds it, as does `cargo build --release --workspace --bins`); or set CREDX_NODE_BIN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use credx_testnet::manifest::Manifest;
use credx_testnet::report;

const BIN: &str = env!("CARGO_BIN_EXE_credx-testnet");
const COUNTY: &str = "440106.credx";
const NATIONAL: &str = "cn.credx";

fn testnet(args: &[&str], dir: &Path) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    eprintln!(
        "$ credx-testnet {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `down` when dropped, so a failing test leaves no node running.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        if Manifest::exists(self.0) {
            let _ = testnet(&["down"], self.0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_records_reach_the_national_node_verified() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().join("tn");
    let _down = Down(&dir);
    let started = Instant::now();

    let up = testnet(&["up", "--topology", "small"], &dir);
    assert!(up.status.success(), "up failed");
    let manifest = Manifest::load(&dir).unwrap();
    assert_eq!(manifest.nodes.len(), 4);
    assert!(manifest.nodes.iter().all(|n| n.pid.is_some()));
    let token = std::fs::read_to_string(dir.join("tokens").join(format!("{COUNTY}.token")));
    assert!(token.unwrap().starts_with("credx_"));

    let load = testnet(&["load", "--rate", "25", "--duration", "2"], &dir);
    assert!(load.status.success(), "load failed");
    let stdout = String::from_utf8_lossy(&load.stdout);
    assert!(stdout.contains("sent 50, accepted 50"), "{stdout}");
    // Two seconds are two workflow steps: a listing then a repair, a listing then an
    // objection opened and dismissed.
    assert!(
        stdout.contains("workflows: 2 black-list entries, 1 objections opened and resolved, 1 repairs, 0 failed"),
        "{stdout}"
    );

    // The national node has the county's whole log (records plus any anchor entries).
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = report::collect(&client, &manifest).await;
        let county_size = report.node(COUNTY).and_then(|n| n.own_log());
        let at_national = report
            .node(NATIONAL)
            .and_then(|n| n.log_size(COUNTY, "mirror"));
        if county_size.is_some_and(|size| size >= 50) && at_national == county_size {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the national node did not receive the county's log within 60 s:\n{}",
            report::render(&report)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "county log reached the national node {:.1} s after up started",
        started.elapsed().as_secs_f64()
    );
    let (report, converged) =
        report::wait_converged(&client, &manifest, Duration::from_secs(30)).await;
    assert!(converged, "{}", report::render(&report));
    assert!(
        report.resent_verified().is_empty(),
        "{}",
        report::render(&report)
    );
    for node in &report.nodes {
        assert_eq!(node.resent_verified(), Some(0), "{}", node.origin);
        if node.origin != COUNTY {
            assert!(node.received().unwrap() >= 50, "{}", node.origin);
        }
    }

    // The command line says the same, and exits 0.
    let printed = testnet(&["report", "--wait", "30"], &dir);
    assert!(printed.status.success());
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.contains("converged: every log"), "{text}");
    assert!(
        text.contains("re-sent verified entries: 0 on every node"),
        "{text}"
    );

    let down = testnet(&["down"], &dir);
    assert!(down.status.success());
    let manifest = Manifest::load(&dir).unwrap();
    assert!(manifest.nodes.iter().all(|n| n.pid.is_none()));
    let text = String::from_utf8_lossy(&down.stdout);
    assert!(text.contains("4 stopped by SIGTERM, 0 killed"), "{text}");
}
