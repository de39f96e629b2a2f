//! `report`: every node's `/metrics`, scraped at once, turned into per-node counters and the
//! convergence of every log: its size at its origin against the size of its mirror at
//! each ancestor (county → city → province → national).
//!
//! Per node it also gives the lag in entries: how many entries of the logs below it have
//! not reached it yet. After a chaos heal or restart, `report --wait` says how long after it
//! the testnet converged ([`AfterRecovery`]).
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

    /// Entries of this log not yet at `ancestor` (`None`: a size is unknown, or `ancestor`
    /// does not mirror this log).
    pub fn lag_at(&self, ancestor: &str) -> Option<u64> {
        let own = self.own?;
        let (_, size) = self.mirrors.iter().find(|(a, _)| a == ancestor)?;
        Some(own.saturating_sub((*size)?))
    }

    /// Whether every ancestor holds at least the first `size` entries of this log.
    pub fn reached(&self, size: u64) -> bool {
        self.mirrors
            .iter()
            .all(|(_, s)| s.is_some_and(|s| s >= size))
    }
}

/// A node's convergence: the logs of the nodes below it and how far behind it is on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLag {
    /// Logs below the node that it mirrors.
    pub logs: usize,
    /// Of those, the ones it does not hold in full.
    pub behind: usize,
    /// Entries of those logs not yet at the node.
    pub entries: u64,
    /// Logs whose size (at their node or here) is unknown.
    pub unknown: usize,
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

    /// How far `origin` is behind the nodes below it (every log of its subtree against its
    /// mirror of it).
    pub fn lag_at(&self, origin: &str) -> NodeLag {
        let mut lag = NodeLag::default();
        for log in &self.logs {
            if !log.mirrors.iter().any(|(a, _)| a == origin) {
                continue;
            }
            lag.logs += 1;
            match log.lag_at(origin) {
                Some(0) => {}
                Some(n) => {
                    lag.behind += 1;
                    lag.entries += n;
                }
                None => lag.unknown += 1,
            }
        }
        lag
    }

    /// The own log size of every node that answered.
    pub fn own_sizes(&self) -> std::collections::HashMap<String, u64> {
        self.logs
            .iter()
            .filter_map(|l| Some((l.origin.clone(), l.own?)))
            .collect()
    }

    /// Whether every ancestor of every log holds at least the size in `sizes` (logs not
    /// named there count as reached): what "caught up to that moment" means while load
    /// keeps the logs growing.
    pub fn reached(&self, sizes: &std::collections::HashMap<String, u64>) -> bool {
        self.logs
            .iter()
            .all(|l| sizes.get(&l.origin).is_none_or(|&size| l.reached(size)))
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

/// How long after the last chaos recovery (heal or restart) the testnet converged.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterRecovery {
    pub event: crate::chaos::ChaosEvent,
    /// Seconds from the event to the first scrape that found every log converged.
    pub seconds: f64,
    /// The first scrape of this report was already converged: `seconds` is only an upper
    /// bound (run `report --wait` right after the heal for the figure).
    pub upper_bound: bool,
}

impl std::fmt::Display for AfterRecovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "full convergence {}{:.1} s after the {} of {}",
            if self.upper_bound { "≤ " } else { "" },
            self.seconds,
            self.event.action,
            self.event.targets.join(", ")
        )?;
        if self.upper_bound {
            f.write_str(" (already converged when the report started)")?;
        }
        Ok(())
    }
}

/// [`wait_converged`], also timing convergence against the last chaos event of the testnet
/// in `dir` when that event was a heal or restart.
pub async fn wait_converged_after_recovery(
    client: &reqwest::Client,
    manifest: &Manifest,
    dir: &std::path::Path,
    limit: Duration,
) -> (Report, bool, Option<AfterRecovery>) {
    let last = crate::chaos::events(dir)
        .pop()
        .filter(crate::chaos::ChaosEvent::is_recovery);
    let first = collect(client, manifest).await;
    let (report, converged, upper_bound) = if first.converged() {
        (first, true, true)
    } else {
        let (report, converged) = wait_converged(client, manifest, limit).await;
        (report, converged, false)
    };
    let now = crate::process::unix_ms();
    let after = last.filter(|_| converged).map(|event| AfterRecovery {
        seconds: now.saturating_sub(event.unix_ms) as f64 / 1e3,
        event,
        upper_bound,
    });
    (report, converged, after)
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
        "{:<14} {:<8} {:>9} {:>10} {:>15} {:>13} {:>13} {:>9} {:>10}  name",
        "node",
        "level",
        "own log",
        "received",
        "resent verified",
        "upload ok/err",
        "recv ok/err",
        "behind",
        "lag",
    );
    for node in &report.nodes {
        let lag = report.lag_at(&node.origin);
        let (behind, entries) = if lag.logs == 0 {
            ("-".to_owned(), "-".to_owned())
        } else if lag.unknown > 0 {
            (format!("{}+?/{}", lag.behind, lag.logs), "?".to_owned())
        } else {
            (
                format!("{}/{}", lag.behind, lag.logs),
                lag.entries.to_string(),
            )
        };
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:>9} {:>10} {:>15} {:>13} {:>13} {:>9} {:>10}  {}",
            node.origin,
            node.level,
            opt(node.own_log()),
            opt(node.received()),
            opt(node.resent_verified()),
            sessions(node.sessions("upload")),
            sessions(node.sessions("receive")),
            behind,
            entries,
            node.name,
        );
    }
    let _ = writeln!(
        out,
        "(behind: logs of the nodes below not fully held here / logs below; lag: their entries not here yet)"
    );
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
            .map(|(a, s)| match log.lag_at(a) {
                Some(lag) if lag > 0 => format!("{a} {} (-{lag})", opt(*s)),
                _ => format!("{a} {}", opt(*s)),
            })
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
