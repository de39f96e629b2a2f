//! The dashboard page in real headless Chromium against a fixture: `dashboard::router()`
//! and a `/v1/health/tree` that answers `node/src/dashboard/fixture/tree.json` (15 nodes,
//! every status, a node never heard from, a fork, proof failures, a certificate expiring
//! in 12 days and one expired) on a local axum server. The DOM is read after the page's
//! JavaScript polled it; a screenshot is kept in `<target>/test-artifacts/`.
//!
//! The live federation is checked by testnet/tests/dashboard.rs. Needs Debian's `chromium`
//! (scripts/build-deps.sh installs it); `CREDX_SKIP_BROWSER=1` skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use credx_node::dashboard::headless::{self, Chromium, Dom};
use credx_node::dashboard::{self, HEALTH_TREE_PATH, PAGE_PATH};
use credx_node::health::TreeHealth;
use tokio::sync::Notify;

const FIXTURE: &str = include_str!("../src/dashboard/fixture/tree.json");

/// The severity order of the contract, least severe first.
const SEVERITY: [&str; 6] = ["OK", "WARN", "REWIND", "STALL", "STOP", "ERR"];

fn fixture() -> serde_json::Value {
    serde_json::from_str(FIXTURE).unwrap()
}

/// Chromium, or `None` when the developer set CREDX_SKIP_BROWSER=1. Missing Chromium
/// fails the test with what to install.
fn browser() -> Option<Chromium> {
    Chromium::for_tests().unwrap_or_else(|e| panic!("{e}"))
}

/// What the fake node does after its first answer of the health tree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AfterFirst {
    KeepAnswering,
    /// Shut the whole server down: later polls find nothing listening, as when the node
    /// stopped.
    GoDown,
}

struct FixtureNode {
    addr: SocketAddr,
    tree_requests: Arc<AtomicUsize>,
}

impl FixtureNode {
    async fn start(after_first: AfterFirst) -> FixtureNode {
        let tree_requests = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(Notify::new());
        let (count, signal) = (Arc::clone(&tree_requests), Arc::clone(&down));
        let tree = get(move || {
            let (count, signal) = (Arc::clone(&count), Arc::clone(&signal));
            async move {
                let n = count.fetch_add(1, Ordering::SeqCst);
                if after_first == AfterFirst::GoDown && n >= 1 {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
                }
                if after_first == AfterFirst::GoDown {
                    // The answer is still delivered (graceful shutdown), then nothing listens.
                    signal.notify_one();
                }
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CONNECTION, "close"),
                    ],
                    FIXTURE,
                )
                    .into_response()
            }
        });
        let app = Router::new()
            .merge(dashboard::router())
            .route(HEALTH_TREE_PATH, tree);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { down.notified().await })
                .await;
        });
        FixtureNode {
            addr,
            tree_requests,
        }
    }

    fn url(&self) -> String {
        format!("http://{}{PAGE_PATH}", self.addr)
    }
}

async fn dump(chromium: &Chromium, url: String, budget: Duration) -> Dom {
    let chromium = chromium.clone();
    let html = tokio::task::spawn_blocking(move || chromium.dump_dom(&url, budget))
        .await
        .unwrap();
    Dom::new(html.unwrap_or_else(|e| panic!("{e}")))
}

/// A screenshot of `url` in `<target>/test-artifacts/<name>` at 1400 × `height` pixels.
async fn screenshot(chromium: &Chromium, url: String, budget: Duration, name: &str, height: u32) {
    let png = headless::artifact_dir().join(name);
    let chromium = chromium.clone();
    let path = png.clone();
    tokio::task::spawn_blocking(move || {
        chromium.screenshot_window(&url, budget, &path, (1400, height))
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("dashboard screenshot: {}", png.display());
}

fn body_attr(dom: &Dom, name: &str) -> String {
    let body = dom.tags_with("data-state", "ok");
    let error = dom.tags_with("data-state", "error");
    let loading = dom.tags_with("data-state", "loading");
    let tag = body
        .iter()
        .chain(&error)
        .chain(&loading)
        .find(|t| t.name() == "body")
        .unwrap_or_else(|| panic!("no <body data-state=...> in the DOM:\n{}", dom.html()));
    tag.attr(name).unwrap()
}

/// The fixture is an answer the node could give: it parses as the daemon's own type, and
/// nothing in it is lost in the round trip (so the page is tested on the real contract).
#[test]
fn fixture_follows_the_health_tree_contract() {
    let tree: TreeHealth = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(tree.nodes.len(), 15);
    assert_eq!(serde_json::to_value(&tree).unwrap(), fixture());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_renders_every_node_worst_first_with_integrity_and_expiry() {
    let Some(chromium) = browser() else { return };
    let node = FixtureNode::start(AfterFirst::KeepAnswering).await;
    let dom = dump(&chromium, node.url(), Duration::from_millis(5_000)).await;
    assert!(
        node.tree_requests.load(Ordering::SeqCst) >= 2,
        "the page polls"
    );
    assert_eq!(body_attr(&dom, "data-state"), "ok", "{}", dom.html());
    assert!(body_attr(&dom, "data-updates").parse::<u32>().unwrap() >= 2);
    assert!(dom.by_id("banner").unwrap().has_attr("hidden"));

    // Every node, in the tree and in the fleet table, with the status of the answer.
    let fixture = fixture();
    let nodes = fixture["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 15);
    for n in nodes {
        let origin = n["origin"].as_str().unwrap();
        let status = n["status"].as_str().unwrap();
        assert_eq!(
            dom.origin_attr("a", origin, "data-status").as_deref(),
            Some(status),
            "tree node {origin}"
        );
        assert_eq!(
            dom.origin_attr("tr", origin, "data-status").as_deref(),
            Some(status),
            "fleet row {origin}"
        );
        if let Some(up) = n["upstream"].as_object() {
            let edge = dom.tags_with("data-edge-of", origin);
            assert_eq!(edge.len(), 1, "edge label of {origin}");
            assert_eq!(
                edge[0].attr("data-status").as_deref(),
                up["status"].as_str()
            );
        }
    }

    // The fleet table is sorted worst first, then by origin.
    let rows: Vec<(String, String)> = dom
        .tags("tr")
        .iter()
        .filter(|t| t.attr("id").is_some_and(|id| id.starts_with("row-")))
        .map(|t| {
            (
                t.attr("data-origin").unwrap(),
                t.attr("data-status").unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 15);
    let rank = |s: &str| SEVERITY.iter().position(|x| *x == s).unwrap();
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            rank(&a.1) > rank(&b.1) || (rank(&a.1) == rank(&b.1) && a.0 < b.0),
            "fleet order: {rows:?}"
        );
    }
    assert_eq!(rows[0].1, "ERR");

    // Never heard from: said in words, in the tree and the table.
    let never = dom.tags_with("data-never-heard", "true");
    assert!(never
        .iter()
        .all(|t| t.attr("data-origin").as_deref() == Some("440104.credx")));
    assert_eq!(never.len(), 2, "tree node and fleet row");
    assert!(dom.html().matches("never heard from").count() >= 2);

    // Integrity: failures by kind, the fork, a checkpoint per origin.
    let invalid = dom.tags_with("data-kind", "invalid_entry");
    assert!(invalid
        .iter()
        .any(|t| t.attr("data-count").as_deref() == Some("2")));
    let total = dom.tags_with("data-kind", "total");
    assert_eq!(total[0].attr("data-count").as_deref(), Some("3"));
    assert!(dom
        .html()
        .contains("<tr data-origin=\"420200.credx\" class=\"bad\">"));
    let checkpoints = dom.html().split("id=\"checkpoints\"").nth(1).unwrap();
    let checkpoints = &checkpoints[..checkpoints.find("</table>").unwrap()];
    assert_eq!(checkpoints.matches("<tr data-origin=").count(), 15);

    // Expiry: one certificate within 30 days, one expired, said in words.
    let summary = dom.by_id("expiry-summary").unwrap();
    assert_eq!(summary.attr("data-flagged").as_deref(), Some("2"));
    let expiry = dom.html().split("id=\"expiry-table\"").nth(1).unwrap();
    let expiry = Dom::new(expiry[..expiry.find("</table>").unwrap()].to_owned());
    let cert_of = |origin: &str| {
        let html = expiry.html();
        let row = &html[html.find(&format!("<tr data-origin=\"{origin}\"")).unwrap()..];
        let row = Dom::new(row[..row.find("</tr>").unwrap()].to_owned());
        let cells = row.tags_with("data-kind", "certificate");
        cells[0].attr("data-expiry").unwrap()
    };
    assert_eq!(cert_of("440304.credx"), "warn");
    assert_eq!(cert_of("420103.credx"), "expired");
    assert_eq!(cert_of("440106.credx"), "ok");
    assert!(dom.html().contains("expires in 12 d"));
    assert!(dom.html().contains("EXPIRED 3 d ago"));

    // The first screen, and the whole page (fleet, integrity and expiry below the tree).
    for (name, height) in [
        ("dashboard-fixture.png", 1000),
        ("dashboard-fixture-full.png", 2000),
    ] {
        screenshot(
            &chromium,
            node.url(),
            Duration::from_millis(3_000),
            name,
            height,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_node_down_shows_a_banner_and_keeps_the_last_data() {
    let Some(chromium) = browser() else { return };
    let node = FixtureNode::start(AfterFirst::GoDown).await;
    let dom = dump(&chromium, node.url(), Duration::from_millis(6_000)).await;
    assert_eq!(body_attr(&dom, "data-state"), "error", "{}", dom.html());
    assert_eq!(body_attr(&dom, "data-updates"), "1");
    assert!(body_attr(&dom, "data-failures").parse::<u32>().unwrap() >= 1);
    let banner = dom.by_id("banner").unwrap();
    assert!(!banner.has_attr("hidden"), "{}", banner.text());
    let text = dom.text_of("banner").unwrap();
    assert!(text.contains("Cannot read /v1/health/tree"), "{text}");
    assert!(text.contains("Showing the last data, received"), "{text}");
    // The last data stays on the page.
    assert_eq!(
        dom.origin_attr("tr", "440104.credx", "data-status")
            .as_deref(),
        Some("STOP")
    );
    assert!(dom.text_of("freshness").unwrap().contains("(stale)"));

    let again = FixtureNode::start(AfterFirst::GoDown).await;
    screenshot(
        &chromium,
        again.url(),
        Duration::from_millis(6_000),
        "dashboard-fixture-down.png",
        1000,
    )
    .await;
}
