//! The one way entries enter a log together with what they cause: plan the index rows and
//! status-map changes from the committed state, then append everything in one atomic
//! write. Used by the sequencer (own log) and by mirror writes (verified deltas).
//!
//! The status map is shared by every log of the node, so another log's append may move
//! its root between planning and writing; the engine then refuses the write
//! (`StatusRootMismatch`, nothing written) and the batch is planned again.

use credx_protocol::merkle::{leaf_hash, Hash};

use crate::api::{AppendBatch, AppendOutcome, CursorUpdate, Storage};
use crate::error::{Result, StorageError};
use crate::sequencer::{BatchPlanner, PlanView, PlannedEntry};

/// How often a batch is re-planned after losing a status-map race.
const STATUS_RETRIES: usize = 8;

/// The planner's view of `entries` with their leaf hashes.
pub(crate) fn planned_entries<'a>(
    entries: &'a [Vec<u8>],
    leaves: &[Hash],
) -> Vec<PlannedEntry<'a>> {
    entries
        .iter()
        .zip(leaves)
        .map(|(bytes, leaf)| PlannedEntry {
            bytes,
            leaf_hash: *leaf,
        })
        .collect()
}

/// Plans `entries` (to get indexes `size..`) with `planner` and appends them to `origin`
/// with the planned index rows and status changes, `expected_root` and `cursor`.
pub(crate) fn plan_and_append(
    store: &dyn Storage,
    planner: &dyn BatchPlanner,
    origin: &str,
    size: u64,
    mut entries: Vec<Vec<u8>>,
    expected_root: Option<Hash>,
    cursor: Option<CursorUpdate>,
) -> Result<AppendOutcome> {
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let mut attempt = 0;
    loop {
        let planned = planned_entries(&entries, &leaves);
        let plan = planner
            .plan(&planned, size, &PlanView::new(store))
            .map_err(|reason| StorageError::Planner {
                origin: origin.to_owned(),
                reason,
            })?;
        drop(planned);
        let status = if plan.status.is_empty() {
            None
        } else {
            Some(store.plan_status_update(&plan.status)?)
        };
        // Only a status-map race is retried; keep a copy of the entries just for that.
        let retry = status.is_some() && attempt < STATUS_RETRIES;
        let batch = AppendBatch {
            entries: if retry {
                entries.clone()
            } else {
                std::mem::take(&mut entries)
            },
            // Hashed above from exactly these bytes.
            leaf_hashes: Some(leaves.clone()),
            expected_root,
            index: plan.index,
            status,
            cursor: cursor.clone(),
            checkpoint: None,
        };
        match store.append(origin, size, batch) {
            Err(StorageError::StatusRootMismatch { .. }) if retry => attempt += 1,
            other => return other,
        }
    }
}
