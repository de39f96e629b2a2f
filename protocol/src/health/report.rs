//! One node's description of itself, as it signs and sends it up the tree.

use serde::{Deserialize, Serialize};

use super::status::EdgeStatus;
use super::{MAX_HEALTH_REPORT_BYTES, MAX_SOFTWARE_BYTES};
use crate::codec;
use crate::roster::is_valid_origin;

use super::signed::HealthReportError;

/// The format version of [`HealthReport`]; a report of another version is refused.
pub const HEALTH_REPORT_VERSION: u16 = 1;

/// What a node says about itself. Ages are measured by the node at `generated_at_ms`;
/// a reader adds the report's own age to them, so no absolute time of another node's clock
/// is ever compared with the reader's (except `generated_at_ms` itself, for freshness).
///
/// Fields are in wire order (bincode, canonical); the struct is versioned as a whole by
/// [`HealthReport::format`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// [`HEALTH_REPORT_VERSION`].
    pub format: u16,
    /// The reporting node; the report must verify with this origin's log key.
    pub origin: String,
    /// When the node built the report (its clock, Unix ms). Newer reports replace older.
    pub generated_at_ms: u64,
    /// The roster version the node holds.
    pub roster_version: u64,
    /// The credx-node version it runs.
    pub software: String,
    /// Entries in its own log.
    pub log_size: u64,
    /// Size of its latest signed checkpoint of its own log, if any.
    pub checkpoint_size: Option<u64>,
    /// Age of that checkpoint at `generated_at_ms` (as far as the node observed it).
    pub checkpoint_age_ms: Option<u64>,
    /// Its link to its parent; `None` for the national node.
    pub upstream: Option<UpstreamEdge>,
    /// Proof and verification failures it counted since it started, all kinds.
    pub proof_failures: u64,
    /// Fork records it holds that no operator has cleared.
    pub forks: u64,
    /// When its TLS certificate expires (Unix ms).
    pub cert_expires_at_ms: Option<u64>,
    /// When the roster it holds expires (Unix ms).
    pub roster_expires_at_ms: Option<u64>,
}

/// The reporting node's view of its edge to its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamEdge {
    pub parent: String,
    pub status: EdgeStatus,
    /// Entries of its own log and its mirrors that the parent has not acknowledged.
    pub lag_entries: u64,
    /// Age of the oldest checkpoint not acknowledged by the parent; 0 when caught up.
    pub lag_ms: u64,
    /// Since its last successful upload session, at `generated_at_ms`; `None`: never.
    pub last_success_age_ms: Option<u64>,
}

impl HealthReport {
    /// The canonical bytes that get signed (bounded).
    pub fn to_bytes(&self) -> Result<Vec<u8>, HealthReportError> {
        self.check()?;
        Ok(codec::encode_with_limit::<_, MAX_HEALTH_REPORT_BYTES>(
            self,
        )?)
    }

    /// Decodes canonical bytes and checks every field.
    pub fn from_bytes(bytes: &[u8]) -> Result<HealthReport, HealthReportError> {
        let report: HealthReport = codec::decode_with_limit::<_, MAX_HEALTH_REPORT_BYTES>(bytes)?;
        report.check()?;
        Ok(report)
    }

    /// The rules every report must follow, on sending and on receiving.
    pub fn check(&self) -> Result<(), HealthReportError> {
        if self.format != HEALTH_REPORT_VERSION {
            return Err(HealthReportError::Invalid {
                field: "format",
                reason: "unknown report format version",
            });
        }
        if !is_valid_origin(&self.origin) {
            return Err(HealthReportError::Invalid {
                field: "origin",
                reason: "not a valid origin",
            });
        }
        if self.software.len() > MAX_SOFTWARE_BYTES || self.software.chars().any(char::is_control) {
            return Err(HealthReportError::Invalid {
                field: "software",
                reason: "longer than 64 bytes or holds control characters",
            });
        }
        if let Some(up) = &self.upstream {
            if !is_valid_origin(&up.parent) || up.parent == self.origin {
                return Err(HealthReportError::Invalid {
                    field: "upstream.parent",
                    reason: "not a valid origin other than the reporting node",
                });
            }
        }
        if self.checkpoint_size.is_some_and(|s| s > self.log_size) {
            return Err(HealthReportError::Invalid {
                field: "checkpoint_size",
                reason: "above log_size",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(origin: &str) -> HealthReport {
        HealthReport {
            format: HEALTH_REPORT_VERSION,
            origin: origin.to_owned(),
            generated_at_ms: 1_764_480_000_000,
            roster_version: 7,
            software: "0.1.0".to_owned(),
            log_size: 12_345,
            checkpoint_size: Some(12_340),
            checkpoint_age_ms: Some(800),
            upstream: Some(UpstreamEdge {
                parent: "440100.credx".to_owned(),
                status: EdgeStatus::Ok,
                lag_entries: 5,
                lag_ms: 300,
                last_success_age_ms: Some(900),
            }),
            proof_failures: 0,
            forks: 0,
            cert_expires_at_ms: Some(1_790_000_000_000),
            roster_expires_at_ms: Some(1_790_000_000_000),
        }
    }

    #[test]
    fn round_trips_canonically() {
        let report = sample("440106.credx");
        let bytes = report.to_bytes().unwrap();
        assert!(bytes.len() < MAX_HEALTH_REPORT_BYTES);
        assert_eq!(HealthReport::from_bytes(&bytes).unwrap(), report);
    }

    #[test]
    fn a_report_at_every_bound_still_fits() {
        let mut report = sample(&"a".repeat(64));
        report.software = "v".repeat(MAX_SOFTWARE_BYTES);
        report.generated_at_ms = u64::MAX;
        report.log_size = u64::MAX;
        report.checkpoint_size = Some(u64::MAX);
        report.checkpoint_age_ms = Some(u64::MAX);
        report.proof_failures = u64::MAX;
        report.forks = u64::MAX;
        report.cert_expires_at_ms = Some(u64::MAX);
        report.roster_expires_at_ms = Some(u64::MAX);
        if let Some(up) = report.upstream.as_mut() {
            up.parent = "b".repeat(64);
            up.lag_entries = u64::MAX;
            up.lag_ms = u64::MAX;
            up.last_success_age_ms = Some(u64::MAX);
        }
        assert!(report.to_bytes().is_ok());
    }

    #[test]
    fn refuses_bad_fields() {
        let mut report = sample("440106.credx");
        report.origin = "Not An Origin".to_owned();
        assert!(matches!(
            report.to_bytes(),
            Err(HealthReportError::Invalid {
                field: "origin",
                ..
            })
        ));
        let mut report = sample("440106.credx");
        report.software = "x".repeat(65);
        assert!(report.to_bytes().is_err());
        let mut report = sample("440106.credx");
        report.format = 2;
        assert!(report.to_bytes().is_err());
        let mut report = sample("440100.credx");
        assert!(report.to_bytes().is_err(), "its own parent");
        report.upstream = None;
        assert!(report.to_bytes().is_ok());
    }
}
