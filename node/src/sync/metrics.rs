//! Sync counters, registered in a Prometheus registry (`credx_sync_*`). Counters only
//! here: lag and edge status are derived from them and from cursors by the monitoring
//! layer.

use credx_protocol::wire::ErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SessionLabels {
    /// `upload` (child side) or `receive` (parent side).
    pub role: String,
    /// `ok`, or the error kind that ended the session.
    pub result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OriginLabels {
    pub origin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    /// The wire error code name, e.g. `OutOfJurisdiction`.
    pub kind: String,
}

/// Everything the sync layer counts. Cheap to clone (the families are shared).
#[derive(Debug, Clone, Default)]
pub struct SyncMetrics {
    pub sessions: Family<SessionLabels, Counter>,
    /// Entries a parent verified and stored, per origin.
    pub entries_received: Family<OriginLabels, Counter>,
    /// Entries a child sent, per origin.
    pub entries_sent: Family<OriginLabels, Counter>,
    /// Entries a child sent again because an earlier send was never acknowledged.
    pub entries_resent: Family<OriginLabels, Counter>,
    /// Entries a parent received that it had already verified and stored. The protocol
    /// resumes from the parent's cursor, so this stays 0; anything else is a bug.
    pub entries_resent_verified: Family<OriginLabels, Counter>,
    /// Deltas or sessions refused, by reason.
    pub rejections: Family<RejectionLabels, Counter>,
    /// Forks detected (evidence stored, origin frozen).
    pub forks: Family<OriginLabels, Counter>,
    /// Cosignatures received from the parent and stored.
    pub cosignatures_stored: Family<OriginLabels, Counter>,
    /// Rosters adopted from the parent.
    pub rosters_adopted: Counter,
}

impl SyncMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "credx_sync_sessions",
            "Sync sessions ended, by role and result",
            self.sessions.clone(),
        );
        registry.register(
            "credx_sync_entries_received",
            "Entries verified and stored from a child, by origin",
            self.entries_received.clone(),
        );
        registry.register(
            "credx_sync_entries_sent",
            "Entries sent to the parent, by origin",
            self.entries_sent.clone(),
        );
        registry.register(
            "credx_sync_entries_resent",
            "Entries sent to the parent again after an unacknowledged send, by origin",
            self.entries_resent.clone(),
        );
        registry.register(
            "credx_sync_entries_resent_verified",
            "Entries received that were already verified and stored (should stay 0)",
            self.entries_resent_verified.clone(),
        );
        registry.register(
            "credx_sync_rejections",
            "Deltas and sessions refused, by reason",
            self.rejections.clone(),
        );
        registry.register(
            "credx_sync_forks",
            "Forks detected (evidence kept, origin frozen), by origin",
            self.forks.clone(),
        );
        registry.register(
            "credx_sync_cosignatures_stored",
            "Cosignatures received from the parent and stored, by origin",
            self.cosignatures_stored.clone(),
        );
        registry.register(
            "credx_sync_rosters_adopted",
            "Newer rosters adopted from the parent",
            self.rosters_adopted.clone(),
        );
    }

    pub fn origin(origin: &str) -> OriginLabels {
        OriginLabels {
            origin: origin.to_owned(),
        }
    }

    pub fn rejected(&self, kind: &str) {
        self.rejections
            .get_or_create(&RejectionLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn session_ended(&self, role: &str, result: &str) {
        self.sessions
            .get_or_create(&SessionLabels {
                role: role.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// Sum of a per-origin counter over all origins (tests, status pages).
    pub fn total(family: &Family<OriginLabels, Counter>, origins: &[&str]) -> u64 {
        origins
            .iter()
            .map(|o| family.get_or_create(&SyncMetrics::origin(o)).get())
            .sum()
    }
}

/// Whether a session ending with `code` means something failed verification (a signature,
/// a proof, a root, a jurisdiction, an entry, a fork): the failures health reports count.
pub fn is_verification_failure(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::BadSignature
            | ErrorCode::InconsistentCheckpoint
            | ErrorCode::BadConsistencyProof
            | ErrorCode::RootMismatch
            | ErrorCode::OutOfJurisdiction
            | ErrorCode::InvalidEntry
    )
}
