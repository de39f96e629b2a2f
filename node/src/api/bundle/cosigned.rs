//! The checkpoint a bundle is proven against: one of this node's checkpoints that covers the
//! anchor and carries what a verifier in another region requires by default — a
//! cosignature of every ancestor up to the national node (`trust_policy_for`).
//!
//! Cosignatures of this node's own checkpoints arrive only from its parent, in the answer to
//! an upload (docs/protocol.md §6.2). So a province (parent: the national node) or a node
//! attached directly to the national node gathers a full quorum after its next upload, and
//! the national node needs none; a city or county never holds its grandparents'
//! cosignatures, and is told which ancestor can answer instead.

use std::sync::Mutex;

use credx_protocol::note::{Cosignature, SignedCheckpoint, TrustPolicy};
use credx_protocol::roster::VerifiedRoster;
use credx_storage::Storage;

use super::anchor::lock;
use super::BundleBuildError;
use crate::sync::checkpoints::{latest_with_cosignatures, with_stored_cosignatures};

/// Checkpoints read per page when looking past the latest one.
const SCAN_PAGE: usize = 256;
/// Most checkpoints looked at after the anchor before telling the caller to wait.
const MAX_SCANNED: usize = 4_096;

/// The newest checkpoint known to meet the quorum under a roster version, so a request
/// whose anchor it covers needs no signature check.
#[derive(Debug, Default)]
pub struct CosignedCache(Mutex<Option<(u64, SignedCheckpoint)>>);

impl CosignedCache {
    fn covering(&self, roster_version: u64, index: u64) -> Option<SignedCheckpoint> {
        lock(&self.0)
            .as_ref()
            .filter(|(version, cp)| *version == roster_version && cp.checkpoint().size > index)
            .map(|(_, cp)| cp.clone())
    }

    fn same_size(&self, roster_version: u64, size: u64) -> Option<SignedCheckpoint> {
        lock(&self.0)
            .as_ref()
            .filter(|(version, cp)| *version == roster_version && cp.checkpoint().size == size)
            .map(|(_, cp)| cp.clone())
    }

    fn offer(&self, roster_version: u64, checkpoint: &SignedCheckpoint) {
        let mut guard = lock(&self.0);
        let newer = guard.as_ref().is_none_or(|(version, cp)| {
            *version != roster_version || cp.checkpoint().size < checkpoint.checkpoint().size
        });
        if newer {
            *guard = Some((roster_version, checkpoint.clone()));
        }
    }
}

/// A checkpoint of `origin` covering entry `index` whose cosignatures meet the roster's
/// policy for `origin`: the latest one when it does, else the newest known one, else the
/// first such among the checkpoints after the anchor.
pub fn cosigned_checkpoint(
    store: &dyn Storage,
    roster: &VerifiedRoster,
    origin: &str,
    index: u64,
    cache: &CosignedCache,
) -> Result<SignedCheckpoint, BundleBuildError> {
    let version = roster.version();
    let latest_size = store
        .latest_signed_checkpoint(origin)?
        .map(|cp| cp.checkpoint().size);
    // The common case on a quiet node: the latest checkpoint is the one already checked.
    if let Some(cp) = latest_size.and_then(|size| cache.same_size(version, size)) {
        if cp.checkpoint().size > index {
            return Ok(cp);
        }
    }
    let policy = roster
        .trust_policy_for(origin)
        .map_err(|e| BundleBuildError::NotInRoster {
            origin: origin.to_owned(),
            version,
            reason: e.to_string(),
        })?;
    let latest = latest_with_cosignatures(store, origin)
        .map_err(|e| BundleBuildError::Cosignatures(e.to_string()))?
        .filter(|cp| cp.checkpoint().size > index)
        .ok_or_else(|| BundleBuildError::NoCheckpoint {
            origin: origin.to_owned(),
            index,
        })?;
    if policy.verify_cosignatures(&latest).is_ok() {
        cache.offer(version, &latest);
        return Ok(latest);
    }
    if let Some(cp) = cache.covering(version, index) {
        return Ok(cp);
    }
    if let Some(cp) = scan(store, &policy, origin, index)? {
        cache.offer(version, &cp);
        return Ok(cp);
    }
    Err(not_cosigned(roster, origin, index, &latest))
}

/// The first checkpoint after `index` (at most [`MAX_SCANNED`]) that meets `policy`.
fn scan(
    store: &dyn Storage,
    policy: &TrustPolicy,
    origin: &str,
    index: u64,
) -> Result<Option<SignedCheckpoint>, BundleBuildError> {
    let mut from = index.saturating_add(1);
    let mut scanned = 0;
    while scanned < MAX_SCANNED {
        let page = store.signed_checkpoints(origin, from, SCAN_PAGE)?;
        let Some(last) = page.last().map(|cp| cp.checkpoint().size) else {
            return Ok(None);
        };
        scanned += page.len();
        for cp in page {
            let cp = with_stored_cosignatures(store, origin, cp)
                .map_err(|e| BundleBuildError::Cosignatures(e.to_string()))?;
            if policy.verify_cosignatures(&cp).is_ok() {
                return Ok(Some(cp));
            }
        }
        from = last.saturating_add(1);
    }
    Ok(None)
}

/// Why no checkpoint meets the quorum, and what the caller can do about it.
fn not_cosigned(
    roster: &VerifiedRoster,
    origin: &str,
    index: u64,
    latest: &SignedCheckpoint,
) -> BundleBuildError {
    let ancestors = roster.ancestors(origin);
    let missing: Vec<String> = ancestors
        .iter()
        .filter(|a| !has_cosignature(roster, &a.origin, latest))
        .map(|a| a.origin.clone())
        .collect();
    let parent = ancestors.first().map(|p| p.origin.clone());
    let beyond_parent: Vec<String> = missing
        .iter()
        .filter(|m| Some(*m) != parent.as_ref())
        .cloned()
        .collect();
    if beyond_parent.is_empty() {
        return BundleBuildError::AwaitingCosignature {
            origin: origin.to_owned(),
            anchor_index: index,
            checkpoint_size: latest.checkpoint().size,
            parent: parent.unwrap_or_default(),
        };
    }
    quorum_out_of_reach(roster, origin, beyond_parent)
}

/// The refusal of a node below a province: the cosignatures of its ancestors above its
/// parent never reach it, so it should not even anchor (that would be a write for nothing).
pub fn out_of_reach(roster: &VerifiedRoster, origin: &str) -> Option<BundleBuildError> {
    let ancestors = roster.ancestors(origin);
    let beyond_parent: Vec<String> = ancestors.iter().skip(1).map(|a| a.origin.clone()).collect();
    (!beyond_parent.is_empty()).then(|| quorum_out_of_reach(roster, origin, beyond_parent))
}

fn quorum_out_of_reach(
    roster: &VerifiedRoster,
    origin: &str,
    missing: Vec<String>,
) -> BundleBuildError {
    // The nearest ancestor whose own checkpoints need at most its parent's cosignature.
    let ask = roster
        .ancestors(origin)
        .iter()
        .find(|a| roster.ancestors(&a.origin).len() <= 1)
        .map(|a| a.origin.clone());
    BundleBuildError::QuorumOutOfReach {
        origin: origin.to_owned(),
        missing,
        ask,
    }
}

/// Whether `checkpoint` carries a valid cosignature by `cosigner`'s roster key.
fn has_cosignature(roster: &VerifiedRoster, cosigner: &str, checkpoint: &SignedCheckpoint) -> bool {
    let Some(key) = roster.cosigner_key(cosigner) else {
        return false;
    };
    checkpoint.note().signatures.iter().any(|line| {
        line.key_id == key.key_id()
            && line.name == *key.name()
            && Cosignature::from_note_signature(line)
                .is_ok_and(|c| c.verify(checkpoint.checkpoint(), key).is_ok())
    })
}
