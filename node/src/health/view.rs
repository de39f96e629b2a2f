//! The JSON of `GET /v1/health` and `GET /v1/health/tree` (the contract the dashboard and
//! `credx status --tree` read). Fields may be added, never renamed or removed.

use std::collections::BTreeMap;

use credx_protocol::health::{EdgeStatus, HealthReport};
use serde::{Deserialize, Serialize};

/// One node of the subtree, as the answering node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    pub origin: String,
    /// Roster level, lower case (`national`, `province`, `city`, `county`, `sector`).
    pub level: String,
    /// Roster parent; `None` for the root of the federation.
    pub parent: Option<String>,
    /// Worst of the node's upstream edge status and the freshness of its report.
    pub status: EdgeStatus,
    /// Age of its latest signed report; `None`: never heard from.
    pub report_age_ms: Option<u64>,
    pub log_size: Option<u64>,
    pub checkpoint_age_ms: Option<u64>,
    pub proof_failures: u64,
    pub forks: u64,
    pub cert_expires_at_ms: Option<u64>,
    pub roster_expires_at_ms: Option<u64>,
    pub upstream: Option<UpstreamView>,
    /// Added: the credx-node version it reported.
    pub software: Option<String>,
    /// Added: the roster version it reported.
    pub roster_version: Option<u64>,
}

/// A node's edge to its parent, as it reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamView {
    pub parent: String,
    pub status: EdgeStatus,
    pub lag_entries: u64,
    pub lag_ms: u64,
    pub last_success_age_ms: Option<u64>,
}

/// The answer of `GET /v1/health/tree`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHealth {
    /// The answering node.
    pub node: String,
    pub generated_at_ms: u64,
    /// Worst status first, then by origin.
    pub nodes: Vec<NodeHealth>,
    pub integrity: Integrity,
}

/// Integrity facts held by the answering node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrity {
    /// Proof and verification failures this node counted since it started, by sync kind.
    pub proof_failures_by_kind: BTreeMap<String, u64>,
    /// Uncleared fork records this node holds.
    pub forks: Vec<ForkView>,
    /// The latest verified checkpoint of every log this node holds.
    pub origins: Vec<OriginView>,
    /// Added: health reports from children refused since start, by reason.
    pub health_reports_refused_by_kind: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkView {
    pub origin: String,
    pub detected_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginView {
    pub origin: String,
    pub size: u64,
    /// Since this node first saw that checkpoint; `None` if it holds none or has not
    /// looked yet.
    pub checkpoint_age_ms: Option<u64>,
}

/// Roster facts of one node.
#[derive(Debug, Clone)]
pub struct Placement {
    pub origin: String,
    pub level: String,
    pub parent: Option<String>,
}

impl NodeHealth {
    /// A roster node nothing was heard from: STOP.
    pub fn silent(place: Placement) -> NodeHealth {
        NodeHealth {
            origin: place.origin,
            level: place.level,
            parent: place.parent,
            status: EdgeStatus::Stop,
            report_age_ms: None,
            log_size: None,
            checkpoint_age_ms: None,
            proof_failures: 0,
            forks: 0,
            cert_expires_at_ms: None,
            roster_expires_at_ms: None,
            upstream: None,
            software: None,
            roster_version: None,
        }
    }

    /// A node as its report says, `age_ms` after the report was made; a report older than
    /// `silence_limit_ms` makes the node STOP.
    pub fn from_report(
        place: Placement,
        report: &HealthReport,
        age_ms: u64,
        silence_limit_ms: u64,
    ) -> NodeHealth {
        let upstream = report.upstream.as_ref().map(|up| UpstreamView {
            parent: up.parent.clone(),
            status: up.status,
            lag_entries: up.lag_entries,
            lag_ms: up.lag_ms,
            last_success_age_ms: up.last_success_age_ms.map(|a| a.saturating_add(age_ms)),
        });
        let mut status = upstream.as_ref().map_or(EdgeStatus::Ok, |up| up.status);
        if age_ms > silence_limit_ms {
            status = status.worst(EdgeStatus::Stop);
        }
        NodeHealth {
            origin: place.origin,
            level: place.level,
            parent: place.parent,
            status,
            report_age_ms: Some(age_ms),
            log_size: Some(report.log_size),
            checkpoint_age_ms: report.checkpoint_age_ms.map(|a| a.saturating_add(age_ms)),
            proof_failures: report.proof_failures,
            forks: report.forks,
            cert_expires_at_ms: report.cert_expires_at_ms,
            roster_expires_at_ms: report.roster_expires_at_ms,
            upstream,
            software: Some(report.software.clone()),
            roster_version: Some(report.roster_version),
        }
    }
}

/// Worst status first, then by origin (the contract's order).
pub fn sort_worst_first(nodes: &mut [NodeHealth]) {
    nodes.sort_by(|a, b| {
        b.status
            .severity()
            .cmp(&a.status.severity())
            .then_with(|| a.origin.cmp(&b.origin))
    });
}
