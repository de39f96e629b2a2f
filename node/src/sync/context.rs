//! What both ends of a session need from the node: its identity and keys, its store, the
//! roster in force, limits, metrics and a clock.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use credx_protocol::note::CosignerKey;
use credx_storage::Storage;

use super::indexer::MirrorIndexer;
use super::limits::SyncLimits;
use super::metrics::SyncMetrics;
use super::roster::SharedRoster;
use crate::health::HealthBook;

/// A node's sync context, shared by all its sessions.
pub struct SyncContext {
    /// This node's origin (its log's name and its TLS identity).
    pub origin: String,
    pub store: Arc<dyn Storage>,
    pub roster: Arc<SharedRoster>,
    /// Cosigns the checkpoints of the logs below after verifying them.
    pub cosigner: CosignerKey,
    pub limits: SyncLimits,
    pub metrics: SyncMetrics,
    /// Builds indexes and status of the mirrors after their entries are stored.
    pub indexer: Arc<MirrorIndexer>,
    /// This node's health and the verified health reports of its subtree: children's
    /// reports go in, this node's report and its subtree's go up.
    pub health: Arc<HealthBook>,
    /// Signalled when a log this node ships upward grows: its own (a checkpoint was
    /// signed) or a mirror (a delta was written). The upload loop waits on it between
    /// sessions, so a new checkpoint leaves at once instead of at the next poll.
    pub log_advanced: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for SyncContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncContext")
            .field("origin", &self.origin)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(crate) fn now_secs() -> u64 {
    now_ms() / 1000
}
