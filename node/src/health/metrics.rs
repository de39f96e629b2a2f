//! Health metrics: reports accepted and refused, proof failures by kind, and gauges of the
//! upward edge read at every scrape (`credx_sync_lag_*`, `credx_health_*`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EdgeLabels {
    pub peer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EdgeOriginLabels {
    pub peer: String,
    pub origin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OriginLabels {
    pub origin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

/// Everything the health layer exposes. Cheap to clone (families are shared).
#[derive(Debug, Clone, Default)]
pub struct HealthMetrics {
    pub reports_accepted: Counter,
    pub reports_refused: Family<KindLabels, Counter>,
    pub proof_failures: Family<KindLabels, Counter>,
    pub lag_entries: Family<EdgeOriginLabels, Gauge>,
    pub lag_seconds: Family<EdgeOriginLabels, Gauge<f64, AtomicU64>>,
    pub last_success: Family<EdgeLabels, Gauge<f64, AtomicU64>>,
    pub edge_status: Family<EdgeLabels, Gauge>,
    pub checkpoint_age: Family<OriginLabels, Gauge<f64, AtomicU64>>,
    pub certificate_expiry: Gauge<f64, AtomicU64>,
    pub roster_expiry: Gauge<f64, AtomicU64>,
    pub nodes_by_status: Family<StatusLabels, Gauge>,
}

impl HealthMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "credx_health_reports_accepted",
            "Signed health reports from the subtree verified and kept",
            self.reports_accepted.clone(),
        );
        registry.register(
            "credx_health_reports_refused",
            "Health reports from children refused, by reason",
            self.reports_refused.clone(),
        );
        registry.register(
            "credx_proof_failures",
            "Proof and signature verification failures, by sync failure kind",
            self.proof_failures.clone(),
        );
        registry.register(
            "credx_sync_lag_entries",
            "Entries under signed checkpoints not yet acknowledged by the parent, by peer and origin",
            self.lag_entries.clone(),
        );
        registry.register(
            "credx_sync_lag_seconds",
            "Age of the oldest checkpoint not acknowledged by the parent (0: caught up), by peer and origin",
            self.lag_seconds.clone(),
        );
        registry.register(
            "credx_sync_last_success_timestamp_seconds",
            "When the last upload session to the peer completed (Unix seconds; 0: never)",
            self.last_success.clone(),
        );
        registry.register(
            "credx_health_edge_status",
            "Burrow-style status of the edge to the peer: 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP, 5 ERR",
            self.edge_status.clone(),
        );
        registry.register(
            "credx_checkpoint_age_seconds",
            "Since this node first saw the latest signed checkpoint of a log it holds, by origin",
            self.checkpoint_age.clone(),
        );
        registry.register(
            "credx_certificate_expiry_timestamp_seconds",
            "When this node's TLS certificate expires (Unix seconds; 0: unknown)",
            self.certificate_expiry.clone(),
        );
        registry.register(
            "credx_roster_expiry_timestamp_seconds",
            "When the roster in force expires (Unix seconds)",
            self.roster_expiry.clone(),
        );
        registry.register(
            "credx_health_nodes",
            "Nodes of this node's subtree (itself included) by health status",
            self.nodes_by_status.clone(),
        );
    }
}
