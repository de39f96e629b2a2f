//! The dashboard in real headless Chromium against a live federation (issue 6 items 5
//! and 6): the small testnet (national → 广东省 → 广州市 → 天河区, real `credx-node`
//! processes, a fault-injecting relay on every link), with short health limits so silence
//! shows within seconds. The page is loaded from the national node and its JavaScript
//! polls that node's `/v1/health/tree`; the DOM Chromium dumps afterwards must show:
//!
//! - every node OK once the federation synced;
//! - the county STOP or STALL while its link to the city is cut, the others OK;
//! - every node OK again after the link heals;
//! - the county STOP while its process is killed, OK again after a restart.
//!
//! Screenshots are kept in `<target dir>/test-artifacts/dashboard-live-*.png`. Needs
//! Debian's `chromium` (scripts/build-deps.sh installs it); `CREDX_SKIP_BROWSER=1` skips.
//! The `credx-node` and `credx-testnet` binaries must be built beside the test (`cargo test
//! --workspace` builds them), or named by CREDX_NODE_BIN and CREDX_TESTNET_BIN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use credx_node::dashboard::headless::{artifact_dir, Chromium, Dom};
use credx_testnet::manifest::Manifest;
use credx_testnet::topology::Topology;
use credx_testnet::{chaos, commands, process, setup};

const NATIONAL: &str = "cn.credx";
const COUNTY: &str = "440106.credx";
/// The county's edge, named by its child's division code.
const COUNTY_EDGE: &str = "440106";
const ORIGINS: [&str; 4] = [NATIONAL, "440000.credx", "440100.credx", COUNTY];
/// How long a change may take to show in `/v1/health/tree`.
const SHOWS_WITHIN: Duration = Duration::from_secs(60);
/// Virtual time the page runs before its DOM is read: at least two polls.
const PAGE_BUDGET: Duration = Duration::from_millis(4_500);

/// Health limits short enough for a test: a report every 300 ms, silent after 2 s, an
/// edge STOP after 2 s without success, judged over a 2 s window.
const HEALTH: &str = "\n[health]\nreport_interval_ms = 300\nsilence_limit_ms = 2000\n\
                      stop_limit_ms = 2000\nwindow_ms = 2000\n";

/// The small testnet with [`HEALTH`] in every node's config, stopped when dropped.
struct Testnet {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    manifest: Manifest,
    client: reqwest::Client,
}

impl Testnet {
    async fn up() -> Testnet {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tn");
        // Generated first, so the configs can get the short limits; `up` then starts the
        // testnet it finds in `dir`.
        let bin = process::find_node_bin().unwrap_or_else(|e| panic!("{e}"));
        let manifest = setup::generate(&dir, Topology::Small, &bin, true)
            .unwrap_or_else(|e| panic!("generating the testnet: {e}"));
        for node in &manifest.nodes {
            let mut config = std::fs::OpenOptions::new()
                .append(true)
                .open(&node.config)
                .unwrap();
            config.write_all(HEALTH.as_bytes()).unwrap();
        }
        manifest.save(&dir).unwrap();
        let manifest = commands::up(&dir, Topology::Small)
            .await
            .unwrap_or_else(|e| panic!("up: {e}"));
        Testnet {
            _tmp: tmp,
            dir,
            manifest,
            client: commands::client().unwrap(),
        }
    }

    fn national_url(&self, path: &str) -> String {
        self.manifest.node(NATIONAL).unwrap().url(path)
    }

    /// Status per origin in the national node's `/v1/health/tree`.
    async fn statuses(&self) -> BTreeMap<String, String> {
        let answer = self
            .client
            .get(self.national_url("/v1/health/tree"))
            .send()
            .await;
        let Ok(response) = answer else {
            return BTreeMap::new();
        };
        let tree: serde_json::Value = response.json().await.unwrap_or_default();
        tree["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| {
                        Some((
                            n["origin"].as_str()?.to_owned(),
                            n["status"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until the national node's JSON satisfies `want`.
    async fn wait_for(&self, what: &str, want: impl Fn(&BTreeMap<String, String>) -> bool) {
        let deadline = Instant::now() + SHOWS_WITHIN;
        let started = Instant::now();
        loop {
            let statuses = self.statuses().await;
            if want(&statuses) {
                eprintln!(
                    "{what}: shown in /v1/health/tree after {:.1} s: {statuses:?}",
                    started.elapsed().as_secs_f64()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not shown in /v1/health/tree within {SHOWS_WITHIN:?}: {statuses:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        if Manifest::exists(&self.dir) {
            let _ = commands::down(&self.dir);
        }
    }
}

/// The page's DOM after its scripts polled the national node.
async fn page(chromium: &Chromium, url: &str) -> Dom {
    let (chromium, url) = (chromium.clone(), url.to_owned());
    let html = tokio::task::spawn_blocking(move || chromium.dump_dom(&url, PAGE_BUDGET))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    Dom::new(html)
}

async fn screenshot(chromium: &Chromium, url: &str, name: &str) {
    let png = artifact_dir().join(name);
    let (chromium, url, path) = (chromium.clone(), url.to_owned(), png.clone());
    tokio::task::spawn_blocking(move || chromium.screenshot(&url, PAGE_BUDGET, &path))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("dashboard screenshot: {}", png.display());
}

/// The status the page shows for `origin`: in the tree and in the fleet table, which
/// must agree.
fn shown(dom: &Dom, origin: &str) -> Option<String> {
    let tree = dom.origin_attr("a", origin, "data-status");
    let row = dom.origin_attr("tr", origin, "data-status");
    assert_eq!(tree, row, "{origin}: tree and fleet table disagree");
    row
}

/// Reads the page until it shows what `want` accepts (the JSON already does; the page
/// may have read an answer from just before), then returns the DOM.
async fn page_showing(
    chromium: &Chromium,
    url: &str,
    what: &str,
    want: impl Fn(&BTreeMap<&str, Option<String>>) -> bool,
) -> Dom {
    let mut last = BTreeMap::new();
    for _ in 0..5 {
        let dom = page(chromium, url).await;
        assert!(
            dom.tags("body")
                .first()
                .is_some_and(|b| b.attr("data-state").as_deref() == Some("ok")),
            "the page could not read the national node:\n{}",
            dom.html()
        );
        last = ORIGINS.iter().map(|o| (*o, shown(&dom, o))).collect();
        if want(&last) {
            return dom;
        }
    }
    panic!("{what}: the page shows {last:?}");
}

fn all_ok(statuses: &BTreeMap<&str, Option<String>>) -> bool {
    statuses.values().all(|s| s.as_deref() == Some("OK"))
}

fn county_down(statuses: &BTreeMap<&str, Option<String>>) -> bool {
    statuses.iter().all(|(origin, s)| match *origin {
        COUNTY => matches!(s.as_deref(), Some("STOP" | "STALL")),
        _ => s.as_deref() == Some("OK"),
    })
}

fn json_all_ok(statuses: &BTreeMap<String, String>) -> bool {
    ORIGINS
        .iter()
        .all(|o| statuses.get(*o).is_some_and(|s| s == "OK"))
}

fn json_county_down(statuses: &BTreeMap<String, String>) -> bool {
    statuses
        .get(COUNTY)
        .is_some_and(|s| s == "STOP" || s == "STALL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_a_cut_or_stopped_county_and_its_recovery() {
    let Some(chromium) = Chromium::for_tests().unwrap_or_else(|e| panic!("{e}")) else {
        return;
    };
    let started = Instant::now();
    let net = Testnet::up().await;
    let url = net.national_url("/dashboard");
    let summary = commands::load(&net.dir, 20.0, 1.0).await.unwrap();
    assert_eq!(summary.accepted, summary.sent, "{summary:?}");

    // Synced: every node OK.
    net.wait_for("every node OK", json_all_ok).await;
    let dom = page_showing(&chromium, &url, "every node OK", all_ok).await;
    assert!(dom.by_id("banner").is_some_and(|b| b.has_attr("hidden")));
    assert_eq!(dom.text_of("node-origin").as_deref(), Some(NATIONAL));
    screenshot(&chromium, &url, "dashboard-live-ok.png").await;

    // The county's link cut: STOP or STALL, everything else OK.
    chaos::cut(&net.dir, COUNTY_EDGE).unwrap();
    let cut_at = Instant::now();
    net.wait_for("county cut off", json_county_down).await;
    let dom = page_showing(&chromium, &url, "county cut off", county_down).await;
    eprintln!(
        "cut link shown as {:?} on the page {:.1} s after the cut",
        shown(&dom, COUNTY),
        cut_at.elapsed().as_secs_f64()
    );
    screenshot(&chromium, &url, "dashboard-live-cut.png").await;

    // Healed: OK again.
    chaos::heal(&net.dir, COUNTY_EDGE).unwrap();
    let healed_at = Instant::now();
    net.wait_for("county healed", json_all_ok).await;
    page_showing(&chromium, &url, "county healed", all_ok).await;
    eprintln!(
        "healed link shown as OK {:.1} s after the heal",
        healed_at.elapsed().as_secs_f64()
    );

    // The county process killed: STOP (silent); restarted: OK again.
    chaos::kill(&net.dir, COUNTY_EDGE).unwrap();
    net.wait_for("county killed", json_county_down).await;
    page_showing(&chromium, &url, "county killed", county_down).await;
    chaos::restart(&net.dir, COUNTY_EDGE).await.unwrap();
    let restarted_at = Instant::now();
    net.wait_for("county restarted", json_all_ok).await;
    page_showing(&chromium, &url, "county restarted", all_ok).await;
    eprintln!(
        "restarted county shown as OK {:.1} s after the restart; whole test {:.1} s",
        restarted_at.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    screenshot(&chromium, &url, "dashboard-live-recovered.png").await;
}
