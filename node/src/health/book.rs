//! `HealthBook`: this node's own health and the latest verified report of every node of
//! its subtree.
//!
//! * Its own report is built on demand from the store (log size, latest checkpoint), the
//!   upstream tracker (lag per origin, last success, edge status), integrity counters and
//!   expiry dates, and signed with the node's log key when it goes up.
//! * Reports of the subtree arrive from the direct children (each forwards its own and its
//!   subtree's). One is kept only if its origin lies in the sending child's subtree in the
//!   roster and its signature verifies with that origin's log key; an older report never
//!   replaces a newer one. At most one report per roster node is held.
//! * A roster node of the subtree whose latest report is older than the silence limit, or
//!   that never reported, is STOP.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use credx_protocol::health::{
    EdgeStatus, HealthReport, HealthReportError, SignedHealthReport, UpstreamEdge,
    HEALTH_REPORT_VERSION,
};
use credx_protocol::note::NoteSigner;
use credx_protocol::roster::VerifiedRoster;
use credx_storage::Storage;

use super::edge_status::{EdgeRules, Outcome};
use super::metrics::{EdgeLabels, EdgeOriginLabels, HealthMetrics, KindLabels, OriginLabels};
use super::upstream::{OriginLag, UpstreamTracker};
use super::view::{
    sort_worst_first, ForkView, Integrity, NodeHealth, OriginView, Placement, TreeHealth,
};
use crate::sync::SharedRoster;

/// The version every report names.
const SOFTWARE: &str = env!("CARGO_PKG_VERSION");

/// A report dated further ahead of this node's clock is refused (clock skew allowance).
pub const MAX_REPORT_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Limits of health reporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSettings {
    /// A child sends its reports up at least this often (on a kept connection, even with
    /// nothing to upload).
    pub report_interval: Duration,
    /// A node whose latest report is older than this is STOP.
    pub silence_limit: Duration,
    /// The edge evaluator's window and stop limit.
    pub edge: EdgeRules,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            report_interval: Duration::from_secs(2),
            silence_limit: Duration::from_secs(30),
            edge: EdgeRules::default(),
        }
    }
}

/// Why a report from a child was not kept.
#[derive(Debug, thiserror::Error)]
pub enum HealthRefusal {
    #[error(transparent)]
    Report(#[from] HealthReportError),
    #[error(
        "{child} sent the health report of {origin}, which is not in its subtree in roster \
         v{roster_version}"
    )]
    OutsideSubtree {
        child: String,
        origin: String,
        roster_version: u64,
    },
    #[error("{child} sent a health report in the name of this node ({origin})")]
    OwnOrigin { child: String, origin: String },
    #[error("the health report of {origin} is dated {ahead_ms} ms ahead of this node's clock")]
    FromTheFuture { origin: String, ahead_ms: u64 },
}

impl HealthRefusal {
    /// A short stable name, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            HealthRefusal::Report(e) => e.kind(),
            HealthRefusal::OutsideSubtree { .. } => "outside_subtree",
            HealthRefusal::OwnOrigin { .. } => "own_origin",
            HealthRefusal::FromTheFuture { .. } => "from_the_future",
        }
    }
}

/// A verified report of another node.
#[derive(Debug, Clone)]
struct Held {
    /// The exact signed bytes, forwarded up verbatim.
    signed: Vec<u8>,
    report: HealthReport,
}

/// See the module documentation.
pub struct HealthBook {
    origin: String,
    store: Arc<dyn Storage>,
    roster: Arc<SharedRoster>,
    signer: NoteSigner,
    settings: HealthSettings,
    cert_expires_at_ms: Option<u64>,
    upstream: Mutex<UpstreamTracker>,
    held: Mutex<BTreeMap<String, Held>>,
    last_sent_ms: AtomicU64,
    proof_failures: Mutex<BTreeMap<String, u64>>,
    refused: Mutex<BTreeMap<String, u64>>,
    metrics: HealthMetrics,
}

impl std::fmt::Debug for HealthBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthBook")
            .field("origin", &self.origin)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn placement(roster: &VerifiedRoster, origin: &str) -> Placement {
    let node = roster.node(origin);
    Placement {
        origin: origin.to_owned(),
        level: node.map_or("unknown", |n| n.level.as_str()).to_owned(),
        parent: node.and_then(|n| n.parent.clone()),
    }
}

impl HealthBook {
    /// The book of `origin`, signing its reports with `signer` (its log key).
    pub fn new(
        origin: impl Into<String>,
        store: Arc<dyn Storage>,
        roster: Arc<SharedRoster>,
        signer: NoteSigner,
        settings: HealthSettings,
        now_ms: u64,
    ) -> HealthBook {
        HealthBook {
            origin: origin.into(),
            store,
            roster,
            signer,
            upstream: Mutex::new(UpstreamTracker::new(settings.edge, now_ms)),
            settings,
            cert_expires_at_ms: None,
            held: Mutex::new(BTreeMap::new()),
            last_sent_ms: AtomicU64::new(0),
            proof_failures: Mutex::new(BTreeMap::new()),
            refused: Mutex::new(BTreeMap::new()),
            metrics: HealthMetrics::default(),
        }
    }

    /// Reports this TLS certificate expiry (Unix ms).
    pub fn with_certificate_expiry(mut self, expires_at_ms: Option<u64>) -> HealthBook {
        self.cert_expires_at_ms = expires_at_ms;
        self
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn settings(&self) -> &HealthSettings {
        &self.settings
    }

    pub fn metrics(&self) -> &HealthMetrics {
        &self.metrics
    }

    // ---- the child's side of the edge ----

    /// Notes the signed size of every log this node holds (for lag and checkpoint ages).
    pub fn observe_local(&self, now_ms: u64) {
        let Ok(logs) = self.store.logs() else { return };
        let mut sizes = Vec::with_capacity(logs.len());
        for log in &logs {
            if let Ok(Some(cp)) = self.store.latest_signed_checkpoint(&log.origin) {
                sizes.push((log.origin.as_str(), cp.checkpoint().size));
            }
        }
        let held: std::collections::HashSet<&str> =
            logs.iter().map(|l| l.origin.as_str()).collect();
        let mut tracker = lock(&self.upstream);
        for (origin, size) in sizes {
            tracker.signed(origin, size, now_ms);
        }
        tracker.retain(|origin| held.contains(origin));
    }

    /// The parent holds `origin` up to `size`.
    pub fn acknowledged(&self, origin: &str, size: u64) {
        lock(&self.upstream).acknowledged(origin, size);
    }

    /// An upload attempt ended.
    pub fn attempt_ended(&self, outcome: Outcome, now_ms: u64) {
        self.observe_local(now_ms);
        lock(&self.upstream).attempt_ended(outcome, now_ms);
    }

    /// The status of the edge to the parent now.
    pub fn edge_status(&self, now_ms: u64) -> EdgeStatus {
        lock(&self.upstream).window().status(now_ms)
    }

    /// Lag per origin sent up.
    pub fn lags(&self, now_ms: u64) -> Vec<(String, OriginLag)> {
        lock(&self.upstream).lags(now_ms)
    }

    /// Counts a proof or signature verification failure of `kind`.
    pub fn proof_failure(&self, kind: &str) {
        *lock(&self.proof_failures)
            .entry(kind.to_owned())
            .or_default() += 1;
        self.metrics
            .proof_failures
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    // ---- reports ----

    /// This node's report now.
    pub fn own_report(&self, now_ms: u64) -> HealthReport {
        self.observe_local(now_ms);
        let roster = self.roster.current();
        let log_size = self.store.log_size(&self.origin).unwrap_or(0);
        let tracker = lock(&self.upstream);
        let latest = tracker.latest_checkpoint(&self.origin);
        let upstream = roster.parent(&self.origin).map(|parent| {
            let (lag_entries, lag_ms) = tracker.total_lag(now_ms);
            let window = tracker.window();
            UpstreamEdge {
                parent: parent.origin.clone(),
                status: window.status(now_ms),
                lag_entries,
                lag_ms,
                last_success_age_ms: window.last_success_ms().map(|at| now_ms.saturating_sub(at)),
            }
        });
        drop(tracker);
        HealthReport {
            format: HEALTH_REPORT_VERSION,
            origin: self.origin.clone(),
            generated_at_ms: now_ms,
            roster_version: roster.version(),
            software: SOFTWARE.to_owned(),
            log_size,
            checkpoint_size: latest.map(|(size, _)| size.min(log_size)),
            checkpoint_age_ms: latest.map(|(_, seen)| now_ms.saturating_sub(seen)),
            upstream,
            proof_failures: lock(&self.proof_failures).values().sum(),
            forks: self.forks().len() as u64,
            cert_expires_at_ms: self.cert_expires_at_ms,
            roster_expires_at_ms: Some(roster.expires_at().saturating_mul(1000)),
        }
    }

    /// Whether reports are due to go up at `now_ms`.
    pub fn report_due(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.last_sent_ms.load(Ordering::Relaxed))
            >= millis(self.settings.report_interval)
    }

    /// What goes up: this node's freshly signed report, then the held reports of its
    /// subtree, verbatim. Marks reports as sent.
    pub fn outgoing(&self, now_ms: u64) -> Result<Vec<Vec<u8>>, HealthReportError> {
        let own = SignedHealthReport::sign(&self.own_report(now_ms), &self.signer)?.to_bytes()?;
        let roster = self.roster.current();
        let mut out = vec![own];
        let held = lock(&self.held);
        out.extend(
            held.iter()
                .filter(|(origin, _)| roster.is_within(origin, &self.origin))
                .map(|(_, h)| h.signed.clone()),
        );
        self.last_sent_ms.store(now_ms, Ordering::Relaxed);
        Ok(out)
    }

    /// A signed report `child` sent. `Ok(true)`: kept (newer than what was held);
    /// `Ok(false)`: valid but not newer.
    pub fn accept(&self, child: &str, bytes: &[u8], now_ms: u64) -> Result<bool, HealthRefusal> {
        let result = self.check(child, bytes, now_ms);
        match &result {
            Ok(_) => {
                self.metrics.reports_accepted.inc();
            }
            Err(refusal) => {
                let kind = refusal.kind();
                *lock(&self.refused).entry(kind.to_owned()).or_default() += 1;
                self.metrics
                    .reports_refused
                    .get_or_create(&KindLabels {
                        kind: kind.to_owned(),
                    })
                    .inc();
            }
        }
        result
    }

    fn check(&self, child: &str, bytes: &[u8], now_ms: u64) -> Result<bool, HealthRefusal> {
        let signed = SignedHealthReport::from_bytes(bytes)?;
        let roster = self.roster.current();
        let report = signed.verify(&roster)?;
        if report.origin == self.origin {
            return Err(HealthRefusal::OwnOrigin {
                child: child.to_owned(),
                origin: report.origin,
            });
        }
        let child_is_ours = roster
            .parent(child)
            .is_some_and(|p| p.origin == self.origin);
        if !child_is_ours || !roster.is_within(&report.origin, child) {
            return Err(HealthRefusal::OutsideSubtree {
                child: child.to_owned(),
                origin: report.origin,
                roster_version: roster.version(),
            });
        }
        let ahead = report.generated_at_ms.saturating_sub(now_ms);
        if ahead > millis(MAX_REPORT_CLOCK_SKEW) {
            return Err(HealthRefusal::FromTheFuture {
                origin: report.origin,
                ahead_ms: ahead,
            });
        }
        let mut held = lock(&self.held);
        if held
            .get(&report.origin)
            .is_some_and(|h| h.report.generated_at_ms >= report.generated_at_ms)
        {
            return Ok(false);
        }
        held.insert(
            report.origin.clone(),
            Held {
                signed: bytes.to_vec(),
                report,
            },
        );
        Ok(true)
    }

    // ---- views ----

    /// This node's entry of the tree.
    pub fn own_view(&self, now_ms: u64) -> NodeHealth {
        let roster = self.roster.current();
        let report = self.own_report(now_ms);
        NodeHealth::from_report(
            placement(&roster, &self.origin),
            &report,
            0,
            millis(self.settings.silence_limit),
        )
    }

    /// Every roster node of this node's subtree, worst first, and integrity facts.
    pub fn tree(&self, now_ms: u64) -> TreeHealth {
        let roster = self.roster.current();
        let silence = millis(self.settings.silence_limit);
        let mut nodes = vec![self.own_view(now_ms)];
        {
            let mut held = lock(&self.held);
            // Nodes that left the subtree (a new roster) are forgotten.
            held.retain(|origin, _| roster.is_within(origin, &self.origin));
            for node in &roster.roster().nodes {
                if node.origin == self.origin || !roster.is_within(&node.origin, &self.origin) {
                    continue;
                }
                let place = placement(&roster, &node.origin);
                nodes.push(match held.get(&node.origin) {
                    Some(h) => {
                        let age = now_ms.saturating_sub(h.report.generated_at_ms);
                        NodeHealth::from_report(place, &h.report, age, silence)
                    }
                    None => NodeHealth::silent(place),
                });
            }
        }
        sort_worst_first(&mut nodes);
        TreeHealth {
            node: self.origin.clone(),
            generated_at_ms: now_ms,
            nodes,
            integrity: self.integrity(now_ms),
        }
    }

    fn forks(&self) -> Vec<ForkView> {
        let Ok(logs) = self.store.logs() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for log in logs {
            if let Ok(records) = self.store.forks(&log.origin) {
                out.extend(
                    records
                        .into_iter()
                        .filter(|r| r.cleared.is_none())
                        .map(|r| ForkView {
                            origin: log.origin.clone(),
                            detected_at_ms: r.evidence.observed_at_ms,
                        }),
                );
            }
        }
        out
    }

    fn integrity(&self, now_ms: u64) -> Integrity {
        let mut origins = Vec::new();
        if let Ok(logs) = self.store.logs() {
            let tracker = lock(&self.upstream);
            for log in logs {
                let size = match self.store.latest_signed_checkpoint(&log.origin) {
                    Ok(Some(cp)) => cp.checkpoint().size,
                    _ => continue,
                };
                let checkpoint_age_ms = tracker
                    .latest_checkpoint(&log.origin)
                    .filter(|&(seen_size, _)| seen_size == size)
                    .map(|(_, seen)| now_ms.saturating_sub(seen));
                origins.push(OriginView {
                    origin: log.origin,
                    size,
                    checkpoint_age_ms,
                });
            }
        }
        Integrity {
            proof_failures_by_kind: lock(&self.proof_failures).clone(),
            forks: self.forks(),
            origins,
            health_reports_refused_by_kind: lock(&self.refused).clone(),
        }
    }

    /// Sets the scrape-time gauges (lag, last success, edge status, checkpoint ages,
    /// certificate expiry, nodes by status).
    pub fn refresh_gauges(&self, now_ms: u64) {
        let roster = self.roster.current();
        let tree = self.tree(now_ms);
        if let Some(parent) = roster.parent(&self.origin) {
            let peer = parent.origin.clone();
            for (origin, lag) in self.lags(now_ms) {
                let labels = EdgeOriginLabels {
                    peer: peer.clone(),
                    origin,
                };
                self.metrics
                    .lag_entries
                    .get_or_create(&labels)
                    .set(i64::try_from(lag.entries).unwrap_or(i64::MAX));
                self.metrics
                    .lag_seconds
                    .get_or_create(&labels)
                    .set(lag.ms as f64 / 1000.0);
            }
            let tracker = lock(&self.upstream);
            let edge = EdgeLabels { peer };
            let last = tracker.window().last_success_ms().unwrap_or(0);
            self.metrics
                .last_success
                .get_or_create(&edge)
                .set(last as f64 / 1000.0);
            self.metrics
                .edge_status
                .get_or_create(&edge)
                .set(i64::from(tracker.window().status(now_ms).severity()));
        }
        for origin in &tree.integrity.origins {
            if let Some(age) = origin.checkpoint_age_ms {
                self.metrics
                    .checkpoint_age
                    .get_or_create(&OriginLabels {
                        origin: origin.origin.clone(),
                    })
                    .set(age as f64 / 1000.0);
            }
        }
        self.metrics
            .certificate_expiry
            .set(self.cert_expires_at_ms.unwrap_or(0) as f64 / 1000.0);
        self.metrics.roster_expiry.set(roster.expires_at() as f64);
        for status in EdgeStatus::ALL_BY_SEVERITY {
            let count = tree.nodes.iter().filter(|n| n.status == status).count();
            self.metrics
                .nodes_by_status
                .get_or_create(&super::metrics::StatusLabels {
                    status: status.as_str().to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
}
