//! Bounds of one sync session, on both ends. Every one of them is a promise about memory
//! or time: a parent holds at most one delta per child in memory, and a silent peer is
//! dropped after `frame_timeout`.

use std::time::Duration;

/// Limits of the sync protocol layer (the transport has its own frame and stream limits).
#[derive(Debug, Clone)]
pub struct SyncLimits {
    /// Most entries in one delta (one checkpoint step). The parent buffers a delta until
    /// the recomputed root matches the checkpoint, so this bounds its memory per child.
    pub max_delta_entries: u64,
    /// Most bytes of entries in one delta.
    pub max_delta_bytes: usize,
    /// Longest wait for the peer's next frame before the session ends as stalled.
    pub frame_timeout: Duration,
    /// Most entries per `PushEntries` frame (at most the wire limit).
    pub push_batch_entries: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            max_delta_entries: 16_384,
            max_delta_bytes: 32 * 1024 * 1024,
            frame_timeout: Duration::from_secs(30),
            push_batch_entries: credx_protocol::wire::limits::MAX_PUSH_ENTRIES,
        }
    }
}
