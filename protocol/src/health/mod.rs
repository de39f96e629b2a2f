//! Signed health summaries that travel up the federation tree.
//!
//! Every node periodically describes itself in a [`HealthReport`] (its log, its latest
//! checkpoint, its link to its parent, integrity counters, expiry dates), signs it with its
//! checkpoint key under a fixed context prefix ([`SignedHealthReport`]) and sends it to its
//! parent together with the latest reports of its own subtree. A parent accepts a report
//! only if it verifies with the roster's log key of the origin it names, so the national
//! node holds an authentic picture of every node, and a node that stops reporting shows
//! up as silent.
//!
//! * [`status`]: [`EdgeStatus`], the Burrow-style verdict on one upward edge.
//! * [`report`]: [`HealthReport`] and [`UpstreamEdge`], their limits and canonical bytes.
//! * [`signed`]: [`SignedHealthReport`], signing and verification.
//!
//! Pure: no clocks, no I/O. Times are Unix milliseconds supplied by the caller.

pub mod report;
pub mod signed;
pub mod status;

pub use report::{HealthReport, UpstreamEdge, HEALTH_REPORT_VERSION};
pub use signed::{HealthReportError, SignedHealthReport, HEALTH_SIGNATURE_CONTEXT};
pub use status::EdgeStatus;

/// Largest canonical encoding of one [`HealthReport`].
pub const MAX_HEALTH_REPORT_BYTES: usize = 768;

/// Largest canonical encoding of one [`SignedHealthReport`] (the report, a 64-byte
/// signature and two length prefixes).
pub const MAX_SIGNED_HEALTH_REPORT_BYTES: usize = 1024;

/// Longest `software` string (the build version) in a report.
pub const MAX_SOFTWARE_BYTES: usize = 64;

/// Most signed reports in one `HealthReports` wire message: 2,048 × 1 KiB stays far below
/// the 8 MiB frame cap; a larger subtree is sent in several messages.
pub const MAX_HEALTH_REPORTS_PER_MESSAGE: usize = 2048;

const _: () = assert!(
    MAX_HEALTH_REPORTS_PER_MESSAGE * MAX_SIGNED_HEALTH_REPORT_BYTES < crate::codec::MAX_FRAME_BYTES
);
