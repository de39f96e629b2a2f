//! The downward list feed: pages served by the parent, verified by the child.
//!
//! A page covers feed positions `[start, start + items.len())`. Each item carries its
//! entry's exact bytes and an inclusion proof against a checkpoint of its origin in the
//! page's checkpoint table. The child accepts an item only if that checkpoint is signed
//! by the origin's log key in the roster, is cosigned by the parent when the origin lies
//! below the parent (the parent verified that log), and the proof leads from the entry to
//! the checkpoint's root.

use std::collections::HashMap;

use credx_protocol::entry::Entry;
use credx_protocol::merkle::{leaf_hash, verify_inclusion};
use credx_protocol::note::SignedCheckpoint;
use credx_protocol::roster::VerifiedRoster;
use credx_protocol::wire::limits::MAX_FEED_CHECKPOINTS;
use credx_protocol::wire::{ErrorCode, FeedItem, Message};
use credx_storage::{ReceivedListEntry, Storage};

use super::checkpoints::latest_with_cosignatures;
use super::error::SessionEnd;

/// Bytes of entries and proofs in one page, well inside the frame limit.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The parent's answer to `FeedRequest{after, max}`. The page stops early at an item not
/// yet covered by a stored checkpoint (it will be in a later page) or at the byte bound.
pub fn serve_page(store: &dyn Storage, after: u64, max: u32) -> Result<Message, SessionEnd> {
    let feed_size = store
        .feed_size()
        .map_err(|e| SessionEnd::internal(e.to_string()))?;
    serve_page_as_of(store, feed_size, after, max)
}

/// [`serve_page`] as of a feed size read before (the feed may have grown since): the page
/// states that size and stops at it.
pub fn serve_page_as_of(
    store: &dyn Storage,
    feed_size: u64,
    after: u64,
    max: u32,
) -> Result<Message, SessionEnd> {
    let internal = |e: credx_storage::StorageError| SessionEnd::internal(e.to_string());
    let start = after.min(feed_size);
    // The feed grows while the page is built (own appends, mirror indexing, received
    // items): a page read up to a later size would carry items past the `feed_size` it
    // states, which the encoder refuses, ending the child's session (seen in the testnet
    // as multi-second propagation stalls). The page stops at the size it states.
    let room = usize::try_from(feed_size - start).unwrap_or(usize::MAX);
    let locations = store
        .feed_page(start, (max as usize).min(room))
        .map_err(internal)?;
    let mut checkpoints: Vec<Vec<u8>> = Vec::new();
    let mut by_bytes: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut latest: HashMap<String, Option<(u32, u64)>> = HashMap::new();
    let mut items = Vec::with_capacity(locations.len());
    let mut bytes = 0usize;
    for location in locations {
        let origin = location.origin;
        let index = location.index;
        let held = store.log_size(&origin).unwrap_or(0) > index;
        let (entry, inclusion, checkpoint_bytes) = if held {
            // An entry of a log this node holds: prove it against the latest checkpoint.
            let slot = match latest.get(&origin) {
                Some(slot) => *slot,
                None => {
                    let slot = match latest_with_cosignatures(store, &origin)? {
                        Some(cp) => {
                            let size = cp.checkpoint().size;
                            let bytes = cp.to_bytes();
                            let position = intern(&mut checkpoints, &mut by_bytes, bytes);
                            position.map(|p| (p, size))
                        }
                        None => None,
                    };
                    latest.insert(origin.clone(), slot);
                    slot
                }
            };
            let Some((position, size)) = slot else { break };
            if index >= size {
                break;
            }
            let mut read = store.read_entries(&origin, index, 1).map_err(internal)?;
            let Some(entry) = read.pop() else { break };
            let proof = store
                .inclusion_proof(&origin, index, size)
                .map_err(internal)?;
            (entry, proof.hashes, position)
        } else {
            // An item this node received from its own parent: pass on its proof.
            let Some(received) = store.received_entry(&origin, index).map_err(internal)? else {
                return Err(SessionEnd::internal(format!(
                    "feed item {origin}/{index} is neither in a log nor received"
                )));
            };
            let Some(position) = intern(&mut checkpoints, &mut by_bytes, received.checkpoint)
            else {
                break;
            };
            (received.entry, received.inclusion, position)
        };
        bytes = bytes.saturating_add(entry.len() + 32 * inclusion.len());
        if bytes > MAX_PAGE_BYTES && !items.is_empty() {
            break;
        }
        items.push(FeedItem {
            origin,
            index,
            entry,
            inclusion,
            checkpoint: checkpoint_bytes,
        });
    }
    // Drop checkpoints no kept item refers to (a page cut short).
    let used: Vec<u32> = {
        let mut used: Vec<u32> = items.iter().map(|i| i.checkpoint).collect();
        used.sort_unstable();
        used.dedup();
        used
    };
    let mut renumber = HashMap::new();
    let mut kept = Vec::with_capacity(used.len());
    for (new, old) in used.iter().enumerate() {
        renumber.insert(*old, new as u32);
        kept.push(std::mem::take(&mut checkpoints[*old as usize]));
    }
    for item in &mut items {
        item.checkpoint = renumber.get(&item.checkpoint).copied().unwrap_or(0);
    }
    Ok(Message::FeedPage {
        start,
        feed_size,
        checkpoints: kept,
        items,
    })
}

fn intern(
    checkpoints: &mut Vec<Vec<u8>>,
    by_bytes: &mut HashMap<Vec<u8>, u32>,
    bytes: Vec<u8>,
) -> Option<u32> {
    if let Some(position) = by_bytes.get(&bytes) {
        return Some(*position);
    }
    if checkpoints.len() >= MAX_FEED_CHECKPOINTS {
        return None;
    }
    let position = checkpoints.len() as u32;
    by_bytes.insert(bytes.clone(), position);
    checkpoints.push(bytes);
    Some(position)
}

/// The child's check of a page. Returns the items to keep (those of origins outside this
/// node's own subtree; its own and its descendants' entries come back as echoes) and the
/// feed position after the page. Any item that fails ends the session: the parent is
/// serving something it cannot prove.
pub fn verify_page(
    roster: &VerifiedRoster,
    own_origin: &str,
    parent: &str,
    start: u64,
    checkpoints: &[Vec<u8>],
    items: Vec<FeedItem>,
) -> Result<(Vec<ReceivedListEntry>, u64), SessionEnd> {
    let bad = |detail: String| SessionEnd::new(ErrorCode::BadSignature, "feed_proof", detail);
    let mut parsed: Vec<SignedCheckpoint> = Vec::with_capacity(checkpoints.len());
    for (position, bytes) in checkpoints.iter().enumerate() {
        let cp = SignedCheckpoint::parse(bytes)
            .map_err(|e| bad(format!("feed checkpoint {position}: {e}")))?;
        let origin = cp.checkpoint().origin.clone();
        let key = roster.checkpoint_key(&origin).ok_or_else(|| {
            bad(format!(
                "feed checkpoint {position}: {origin} has no log key in roster v{}",
                roster.version()
            ))
        })?;
        cp.verify(key)
            .map_err(|e| bad(format!("feed checkpoint {position} of {origin}: {e}")))?;
        // The parent verified and cosigned the logs below it; entries that came from
        // above carry the signature of their origin (and whatever cosignatures they got).
        if origin != parent && roster.is_within(&origin, parent) {
            let cosigner = roster.cosigner_key(parent).ok_or_else(|| {
                bad(format!(
                    "{parent} has no cosigner key in roster v{}",
                    roster.version()
                ))
            })?;
            let cosignature = cp.cosignature_by(cosigner).ok_or_else(|| {
                bad(format!(
                    "feed checkpoint {position} of {origin} size {} is not cosigned by {parent}",
                    cp.checkpoint().size
                ))
            })?;
            cosignature.verify(cp.checkpoint(), cosigner).map_err(|e| {
                bad(format!(
                    "feed checkpoint {position}: cosignature of {parent}: {e}"
                ))
            })?;
        }
        parsed.push(cp);
    }
    let end = start.saturating_add(items.len() as u64);
    let mut keep = Vec::with_capacity(items.len());
    for (offset, item) in items.into_iter().enumerate() {
        let position = start + offset as u64;
        let Some(cp) = parsed.get(item.checkpoint as usize) else {
            return Err(bad(format!(
                "feed item {position}: no checkpoint {}",
                item.checkpoint
            )));
        };
        let c = cp.checkpoint();
        if c.origin != item.origin {
            return Err(bad(format!(
                "feed item {position}: entry of {} proven against a checkpoint of {}",
                item.origin, c.origin
            )));
        }
        verify_inclusion(
            &leaf_hash(&item.entry),
            item.index,
            c.size,
            &item.inclusion,
            &c.root,
        )
        .map_err(|e| {
            bad(format!(
                "feed item {position}: {}/{} is not in checkpoint size {}: {e}",
                item.origin, item.index, c.size
            ))
        })?;
        let entry = Entry::decode(&item.entry).map_err(|e| {
            SessionEnd::new(
                ErrorCode::InvalidEntry,
                "invalid_entry",
                format!("feed item {position}: {}/{}: {e}", item.origin, item.index),
            )
        })?;
        if entry.origin != item.origin {
            return Err(SessionEnd::new(
                ErrorCode::InvalidEntry,
                "invalid_entry",
                format!("feed item {position}: entry names origin {}", entry.origin),
            ));
        }
        if roster.is_within(&item.origin, own_origin) {
            continue; // our own subtree's entry coming back down
        }
        keep.push(ReceivedListEntry {
            origin: item.origin,
            index: item.index,
            entry: item.entry,
            checkpoint: cp.to_bytes(),
            inclusion: item.inclusion,
        });
    }
    Ok((keep, end))
}
