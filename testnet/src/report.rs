//! `report`: every node's `/metrics`, scraped at once, turned into per-node counters and the
//! convergence of every log: its size at its origin against the size of its mirror at
//! each ancestor (county → city → province → national).
//!
//! Everything comes from metrics the node exports: `credx_log_entries{origin,role}`,
//! `credx_sync_entries_received`, `credx_sync_entries_resent_verified` and
//! `credx_sync_sessions{role,result}`.

use std::time::Duration;

use crate::error::TestnetError;
use crate::manifest::{Manifest, NodeEntry};
use crate::metrics::Scrape;

/// One node's scrape.
#[derive(Debug, Clone)]
pub struct NodeReport {
    pub origin: String,
    pub name: String,
    pub level: String,
    /// The scrape, or why there is none.
    pub scrape: Result<Scrape, String>,
}

/// Upload or receive sessions, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sessions {
    pub ok: u64,
    pub failed: u64,
}

impl NodeReport {
    fn scraped(&self) -> Option<&Scrape> {
        self.scrape.as_ref().ok()
    }

    /// Size of `origin`'s log at this node (own or mirror); 0 when the node holds no
    /// such log yet; `None` when the node did not answer.
    pub fn log_size(&self, origin: &str, role: &str) -> Option<u64> {
        self.scraped()
            .map(|s| s.sum("credx_log_entries", &[("origin", origin), ("role", role)]))
    }

    pub fn own_log(&self) -> Option<u64> {
        self.log_size(&self.origin, "own")
    }

    /// Entries verified and stored from children, all origins.
    pub fn received(&self) -> Option<u64> {
        self.scraped()
            .map(|s| s.sum("credx_sync_entries_received", &[]))
    }

    /// Entries received again after they had been verified and stored (must stay 0).
    pub fn resent_verified(&self) -> Option<u64> {
        self.scraped()
            .map(|s| s.sum("credx_sync_entries_resent_verified", &[]))
    }

    /// Sessions as `upload` (to the parent) or `receive` (from children).
    pub fn sessions(&self, role: &str) -> Option<Sessions> {
        let scrape = self.scraped()?;
        let all = scrape.sum("credx_sync_sessions", &[("role", role)]);
        let ok = scrape.sum("credx_sync_sessions", &[("role", role), ("result", "ok")]);
        Some(Sessions {
            ok,
            failed: all.saturating_sub(ok),
        })
    }
}

/// One log and its mirrors up the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConvergence {
    pub origin: String,
    /// Its size at its own node (`None`: the node did not answer).
    pub own: Option<u64>,
    /// Each ancestor, nearest first, with its mirror's size.
    pub mirrors: Vec<(String, Option<u64>)>,
}

impl LogConvergence {
    pub fn converged(&self) -> bool {
        self.own.is_some() && self.mirrors.iter().all(|(_, size)| *size == self.own)
    }
}

/// All nodes' scrapes and the convergence of every log.
#[derive(Debug, Clone)]
pub struct Report {
    pub nodes: Vec<NodeReport>,
    pub logs: Vec<LogConvergence>,
}

impl Report {
    pub fn node(&self, origin: &str) -> Option<&NodeReport> {
        self.nodes.iter().find(|n| n.origin == origin)
    }

    /// Whether every log has reached every ancestor.
    pub fn converged(&self) -> bool {
        self.logs.iter().all(LogConvergence::converged)
    }

    /// The logs that have not, as `origin own→[ancestor mirror, ...]`.
    pub fn lagging(&self) -> Vec<String> {
        self.logs
            .iter()
            .filter(|l| !l.converged())
            .map(|l| {
                let mirrors: Vec<String> = l
                    .mirrors
                    .iter()
                    .map(|(a, s)| format!("{a} {}", show(*s)))
                    .collect();
                format!("{} {} → {}", l.origin, show(l.own), mirrors.join(", "))
            })
            .collect()
    }

    /// Nodes whose re-sent-verified counter is not 0, with the count.
    pub fn resent_verified(&self) -> Vec<(String, u64)> {
        self.nodes
            .iter()
            .filter_map(|n| Some((n.origin.clone(), n.resent_verified()?)))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// Nodes that did not answer, with the reason.
    pub fn unreachable(&self) -> Vec<(String, String)> {
        self.nodes
            .iter()
            .filter_map(|n| {
                n.scrape
                    .as_ref()
                    .err()
                    .map(|e| (n.origin.clone(), e.clone()))
            })
            .collect()
    }
}

fn show(value: Option<u64>) -> String {
    value.map_or_else(|| "?".to_owned(), |v| v.to_string())
}

/// Scrapes every node of `manifest` concurrently (so the numbers are close in time).
pub async fn collect(client: &reqwest::Client, manifest: &Manifest) -> Report {
    let mut tasks = Vec::new();
    for node in &manifest.nodes {
        let client = client.clone();
        let url = node.url("/metrics");
        tasks.push(tokio::spawn(async move { scrape(&client, &url).await }));
    }
    let mut nodes = Vec::new();
    for (node, task) in manifest.nodes.iter().zip(tasks) {
        let scrape = match task.await {
            Ok(result) => result,
            Err(e) => Err(format!("scrape task failed: {e}")),
        };
        nodes.push(NodeReport {
            origin: node.origin.clone(),
            name: node.name.clone(),
            level: node.level.clone(),
            scrape,
        });
    }
    let logs = manifest
        .nodes
        .iter()
        .map(|node| convergence(manifest, &nodes, node))
        .collect();
    Report { nodes, logs }
}

async fn scrape(client: &reqwest::Client, url: &str) -> Result<Scrape, String> {
    let response = client
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", response.status()));
    }
    let text = response
        .text()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(Scrape::parse(&text))
}

fn convergence(manifest: &Manifest, reports: &[NodeReport], node: &NodeEntry) -> LogConvergence {
    let at = |origin: &str| reports.iter().find(|r| r.origin == origin);
    LogConvergence {
        origin: node.origin.clone(),
        own: at(&node.origin).and_then(NodeReport::own_log),
        mirrors: manifest
            .ancestors(&node.origin)
            .into_iter()
            .map(|a| {
                let size = at(&a.origin).and_then(|r| r.log_size(&node.origin, "mirror"));
                (a.origin.clone(), size)
            })
            .collect(),
    }
}

/// Scrapes until every log has reached every ancestor, or `limit` passes; the last report
/// either way, and whether it converged.
pub async fn wait_converged(
    client: &reqwest::Client,
    manifest: &Manifest,
    limit: Duration,
) -> (Report, bool) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let report = collect(client, manifest).await;
        if report.converged() {
            return (report, true);
        }
        if std::time::Instant::now() > deadline {
            return (report, false);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Fails when some node counted re-sent verified entries.
pub fn check_resent_verified(report: &Report) -> Result<(), TestnetError> {
    let nodes = report.resent_verified();
    if nodes.is_empty() {
        return Ok(());
    }
    Err(TestnetError::ResentVerified {
        count: nodes.len(),
        nodes: nodes
            .iter()
            .map(|(o, c)| format!("{o}: {c}"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The report as text: a table of nodes, then convergence.
pub fn render(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let opt = |v: Option<u64>| show(v);
    let sessions =
        |s: Option<Sessions>| s.map_or("?".to_owned(), |s| format!("{}/{}", s.ok, s.failed));
    let _ = writeln!(
        out,
        "{:<14} {:<8} {:>9} {:>10} {:>15} {:>13} {:>13}  name",
        "node", "level", "own log", "received", "resent verified", "upload ok/err", "recv ok/err"
    );
    for node in &report.nodes {
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:>9} {:>10} {:>15} {:>13} {:>13}  {}",
            node.origin,
            node.level,
            opt(node.own_log()),
            opt(node.received()),
            opt(node.resent_verified()),
            sessions(node.sessions("upload")),
            sessions(node.sessions("receive")),
            node.name,
        );
    }
    for (origin, error) in report.unreachable() {
        let _ = writeln!(out, "unreachable: {origin}: {error}");
    }
    let _ = writeln!(
        out,
        "\nconvergence (log size at its node → mirror at each ancestor):"
    );
    for log in &report.logs {
        if log.mirrors.is_empty() {
            continue;
        }
        let mirrors: Vec<String> = log
            .mirrors
            .iter()
            .map(|(a, s)| format!("{a} {}", opt(*s)))
            .collect();
        let _ = writeln!(
            out,
            "  {} {:<14} {:>7} → {}",
            if log.converged() { "ok  " } else { "LAG " },
            log.origin,
            opt(log.own),
            mirrors.join(", ")
        );
    }
    let resent = report.resent_verified();
    let _ = writeln!(
        out,
        "\n{}; re-sent verified entries: {}",
        if report.converged() {
            "converged: every log has the same size at every ancestor"
        } else {
            "NOT converged"
        },
        if resent.is_empty() {
            "0 on every node".to_owned()
        } else {
            format!("{resent:?} (must be 0)")
        }
    );
    out
}
