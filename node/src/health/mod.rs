//! Sync health: the Burrow-style status of the edge to the parent, this node's signed
//! health report, the reports of its subtree, and the HTTP views of them
//! (`/v1/health`, `/v1/health/tree`).
//!
//! * [`edge_status`]: the pure evaluator over a window of upload attempts.
//! * [`upstream`]: lag per origin and the edge window, on the child's side.
//! * [`book`]: [`HealthBook`], own report plus the verified reports of the subtree.
//! * [`view`]: the JSON contract; [`api`]: the routes; [`metrics`]: Prometheus.

pub mod api;
pub mod book;
pub mod edge_status;
pub mod metrics;
pub mod upstream;
pub mod view;

pub use book::{HealthBook, HealthRefusal, HealthSettings, MAX_REPORT_CLOCK_SKEW};
pub use edge_status::{EdgeRules, Outcome};
pub use metrics::HealthMetrics;
pub use view::{NodeHealth, TreeHealth};

use crate::sync::{SyncFailure, UploadReport};
use crate::transport::NodeTlsIdentity;

/// How a completed upload session counts for the edge window: a log the parent refused
/// (a frozen origin, a fork) or one this node holds less of than the parent (a restored
/// store) is an error.
pub fn report_outcome(report: &UploadReport) -> Outcome {
    if report.refused.is_empty() && report.behind_parent.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Error
    }
}

/// How a failed upload attempt counts: refusals, verification failures and protocol
/// errors are errors; a parent that cannot be reached, or a link that drops or stalls, is
/// unreachable (it becomes STOP after the stop limit).
pub fn failure_outcome(failure: &SyncFailure) -> Outcome {
    match failure.kind() {
        "transport" | "stalled" | "vanished" | "stream" => Outcome::Unreachable,
        _ => Outcome::Error,
    }
}

/// When the node's TLS certificate (the leaf) expires, in Unix ms.
pub fn certificate_expiry_ms(tls: &NodeTlsIdentity) -> Option<u64> {
    let leaf = tls.cert_chain_der.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    let secs = cert.validity().not_after.timestamp();
    u64::try_from(secs).ok().map(|s| s.saturating_mul(1000))
}
