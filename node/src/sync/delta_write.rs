//! A verified, cosigned delta on its way to storage: the one piece of a receive session
//! that the driver may run beside the verification of the next delta.
//!
//! The receiver verifies delta k+1 while delta k is written (the two together take both
//! cores of a small machine; one after the other they left one idle). Nothing about what
//! is vouched for changes: the cosignature of delta k leaves this node only in the
//! `Accepted` that [`DeltaWrite::write`] returns after the write is durable, and the
//! driver sends answers strictly in the order the session produced them, so the child
//! sees the same sequence of messages as from a parent that writes inline.

use std::sync::Arc;

use credx_protocol::delta::VerifiedDelta;
use credx_protocol::wire::Message;
use credx_storage::write_verified_delta;

use super::context::{now_ms, SyncContext};
use super::error::SessionEnd;
use super::metrics::SyncMetrics;

/// What a receive session asks its driver to do, in this order.
#[derive(Debug)]
pub enum ReceiverOutput {
    /// Send this message to the child.
    Send(Message),
    /// Make this delta durable, then send the `Accepted` it returns.
    Write(Box<DeltaWrite>),
}

/// A delta that passed verification, with this node's cosignature of its checkpoint.
pub struct DeltaWrite {
    pub(super) ctx: Arc<SyncContext>,
    pub(super) peer: String,
    pub(super) session_id: String,
    pub(super) delta: VerifiedDelta,
    /// Exactly the bytes of `[delta.old_size, delta.new_size)`, as verified.
    pub(super) entries: Vec<Vec<u8>>,
    /// This node's cosignature line for `delta.checkpoint`.
    pub(super) cosignature: String,
}

impl std::fmt::Debug for DeltaWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaWrite")
            .field("origin", &self.delta.origin)
            .field("old_size", &self.delta.old_size)
            .field("new_size", &self.delta.new_size)
            .finish_non_exhaustive()
    }
}

impl DeltaWrite {
    /// Writes entries, hashes, cursor, checkpoint and cosignature in one atomic synced
    /// write (the engine checks the log still has `old_size` and the root), then returns
    /// the `Accepted` carrying the cosignature. Blocking: run it off the async threads.
    /// An error ends the session; the mirror is where it was, and the child offers the
    /// delta again in its next session.
    pub fn write(self) -> Result<Message, SessionEnd> {
        let DeltaWrite {
            ctx,
            peer,
            session_id,
            delta,
            entries,
            cosignature,
        } = self;
        let count = entries.len() as u64;
        let (origin, size) = (delta.origin.clone(), delta.new_size);
        if let Err(e) = write_verified_delta(
            ctx.store.as_ref(),
            &peer,
            &session_id,
            delta,
            entries,
            vec![cosignature.clone()],
            now_ms(),
        ) {
            let end = SessionEnd::internal(format!("{origin}: storing the delta: {e}"));
            ctx.metrics.rejected(end.kind);
            return Err(end);
        }
        ctx.indexer.notify();
        ctx.metrics
            .entries_received
            .get_or_create(&SyncMetrics::origin(&origin))
            .inc_by(count);
        // The checkpoint went up with this node's cosignature beside it: an upload woken
        // now passes both on (the grandparent, once it holds a size, never asks again).
        ctx.log_advanced.notify_one();
        Ok(Message::Accepted {
            origin,
            size,
            cosignature: cosignature.into_bytes(),
        })
    }
}
