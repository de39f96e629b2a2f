//! The parent's check of a pushed range: checkpoint, fork rules, consistency proof, every
//! entry, and the root recomputed over the parent's own frontier plus the received entries.
//!
//! The parent never trusts the child's root: the only root it accepts is one it computed
//! itself from the bytes it will store, and which the child's log key signed.

use super::error::{DeltaError, EntryRule, ForkEvidence, ForkKind, StateProblem};
use super::jurisdiction::JurisdictionCheck;
use super::state::{MirrorState, VerifiedBatch, VerifiedDelta};
use super::structure;
use crate::entry::Entry;
use crate::merkle::{leaf_hash, verify_consistency, CompactRange, Hash, ProofError, MAX_TREE_SIZE};
use crate::note::{SignedCheckpoint, VerifierKey};
use crate::wire::limits::MAX_PUSH_ENTRIES;

/// Verifies a range in bounded batches: [`DeltaVerifier::new`] checks the checkpoint and
/// the proof, [`DeltaVerifier::push_batch`] each batch in order, [`DeltaVerifier::finish`]
/// the root. Memory holds the frontier (≤ 64 hashes) and the current batch, whatever the
/// length of the range.
pub struct DeltaVerifier<C> {
    origin: String,
    old_size: u64,
    new_size: u64,
    new_root: Hash,
    checkpoint: SignedCheckpoint,
    range: CompactRange,
    check: C,
}

/// Manual so that any check (closures included) can be used: the check itself is not shown.
impl<C> std::fmt::Debug for DeltaVerifier<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaVerifier")
            .field("origin", &self.origin)
            .field("old_size", &self.old_size)
            .field("new_size", &self.new_size)
            .field("next_index", &self.range.size())
            .finish_non_exhaustive()
    }
}

impl<C: JurisdictionCheck> DeltaVerifier<C> {
    /// Checks everything that does not need the entries, in this order:
    /// 1. the parent's own `state` is coherent (frontier shape and root, last checkpoint);
    /// 2. `checkpoint` is signed by `key`, the origin's log key, whose name is the origin;
    /// 3. the checkpoint does not go back: smaller, or the same size with another root, is
    ///    a [`DeltaError::Fork`] carrying both checkpoints;
    /// 4. `proof` proves the cursor's tree is a prefix of the checkpoint's tree. A proof of
    ///    the right length that fails, against a last checkpoint signed by the same key, is
    ///    a fork; any other failure is [`DeltaError::BadConsistencyProof`].
    pub fn new(
        state: MirrorState,
        checkpoint: SignedCheckpoint,
        proof: &[Hash],
        key: &VerifierKey,
        check: C,
    ) -> Result<Self, DeltaError> {
        let origin = key.name().to_string();
        let range = check_state(&origin, state.size, state.root, state.frontier)?;
        if let Some(last) = &state.last_checkpoint {
            let c = last.checkpoint();
            if c.origin != origin || c.size != state.size || c.root != state.root {
                return Err(DeltaError::State {
                    origin,
                    problem: StateProblem::LastCheckpoint {
                        origin: c.origin.chars().take(255).collect(),
                        size: c.size,
                    },
                });
            }
        }
        checkpoint
            .verify(key)
            .map_err(|reason| DeltaError::CheckpointSignature {
                origin: origin.clone(),
                reason,
            })?;
        let (old_size, old_root) = (state.size, state.root);
        let (new_size, new_root) = (checkpoint.checkpoint().size, checkpoint.checkpoint().root);
        if new_size > MAX_TREE_SIZE {
            return Err(DeltaError::SizeOutOfRange {
                origin,
                size: new_size,
            });
        }
        let fork = |kind| DeltaError::Fork {
            origin: origin.clone(),
            kind,
            evidence: ForkEvidence {
                ours: state
                    .last_checkpoint
                    .as_ref()
                    .map(SignedCheckpoint::to_bytes),
                ours_signed_by_same_key: state
                    .last_checkpoint
                    .as_ref()
                    .is_some_and(|c| c.verify(key).is_ok()),
                theirs: checkpoint.to_bytes(),
            },
        };
        if new_size < old_size {
            return Err(fork(ForkKind::Smaller));
        }
        if new_size == old_size && new_root != old_root {
            return Err(fork(ForkKind::SameSizeDifferentRoot));
        }
        if let Err(reason) = verify_consistency(old_size, &old_root, new_size, &new_root, proof) {
            let contradicts = matches!(
                reason,
                ProofError::OldRootMismatch | ProofError::RootMismatch
            );
            let ours_same_key = state
                .last_checkpoint
                .as_ref()
                .is_some_and(|c| c.verify(key).is_ok());
            if contradicts && ours_same_key {
                return Err(fork(ForkKind::InconsistentProof));
            }
            return Err(DeltaError::BadConsistencyProof {
                origin,
                old_size,
                new_size,
                reason,
            });
        }
        Ok(DeltaVerifier {
            origin,
            old_size,
            new_size,
            new_root,
            checkpoint,
            range,
            check,
        })
    }

    /// Verifies the next batch: it must start at [`DeltaVerifier::next_index`], hold at most
    /// [`MAX_PUSH_ENTRIES`] entries and not run past the checkpoint. Each entry must decode
    /// (canonical, bounded, known version), name this origin, pass the structural rules and
    /// the jurisdiction check. On error nothing is consumed, so the verifier still expects
    /// the same index.
    pub fn push_batch(
        &mut self,
        start: u64,
        entries: &[Vec<u8>],
    ) -> Result<VerifiedBatch, DeltaError> {
        if entries.len() > MAX_PUSH_ENTRIES {
            return Err(DeltaError::BatchTooLarge {
                origin: self.origin.clone(),
                count: entries.len(),
                max: MAX_PUSH_ENTRIES,
            });
        }
        let expected = self.range.size();
        if start != expected {
            return Err(DeltaError::StartMismatch {
                origin: self.origin.clone(),
                expected,
                found: start,
            });
        }
        // start ≤ new_size ≤ MAX_TREE_SIZE and the count ≤ 4096: no overflow.
        let end = start.saturating_add(entries.len() as u64);
        if end > self.new_size {
            return Err(DeltaError::ExtraEntries {
                origin: self.origin.clone(),
                new_size: self.new_size,
                end,
            });
        }
        let mut range = self.range.clone();
        let mut leaf_hashes = Vec::with_capacity(entries.len());
        let mut decoded = Vec::with_capacity(entries.len());
        for (index, bytes) in (start..).zip(entries) {
            let entry = self.check_entry(index, bytes)?;
            let leaf = leaf_hash(bytes);
            // Cannot fail: the range stays below new_size ≤ MAX_TREE_SIZE.
            range.append(leaf).map_err(|_| DeltaError::SizeOutOfRange {
                origin: self.origin.clone(),
                size: index.saturating_add(1),
            })?;
            leaf_hashes.push(leaf);
            decoded.push(entry);
        }
        self.range = range;
        Ok(VerifiedBatch {
            start,
            leaf_hashes,
            entries: decoded,
        })
    }

    fn check_entry(&self, index: u64, bytes: &[u8]) -> Result<Entry, DeltaError> {
        let fail = |rule| DeltaError::Entry {
            origin: self.origin.clone(),
            index,
            rule,
        };
        let entry = Entry::decode(bytes).map_err(|e| fail(EntryRule::Decode(e)))?;
        if entry.origin != self.origin {
            return Err(fail(EntryRule::WrongOrigin {
                found: entry.origin.chars().take(255).collect(),
            }));
        }
        structure::check(&entry).map_err(fail)?;
        if !self.check.allows(&entry) {
            return Err(fail(EntryRule::OutOfJurisdiction {
                authority: entry.authority.clone(),
            }));
        }
        Ok(entry)
    }

    /// Checks that every entry arrived and that the recomputed root is the signed one.
    pub fn finish(self) -> Result<VerifiedDelta, DeltaError> {
        let received = self.range.size();
        if received != self.new_size {
            return Err(DeltaError::MissingEntries {
                origin: self.origin,
                new_size: self.new_size,
                received,
            });
        }
        let computed = self.range.root();
        if computed != self.new_root {
            return Err(DeltaError::RootMismatch {
                origin: self.origin,
                size: self.new_size,
                expected: self.new_root,
                computed,
            });
        }
        Ok(VerifiedDelta {
            origin: self.origin,
            old_size: self.old_size,
            new_size: self.new_size,
            new_root: computed,
            leaf_hashes: Vec::new(),
            new_frontier: self.range.frontier().to_vec(),
            checkpoint: self.checkpoint,
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Index the next batch must start at.
    pub fn next_index(&self) -> u64 {
        self.range.size()
    }

    /// The cursor the delta started from.
    pub fn old_size(&self) -> u64 {
        self.old_size
    }

    /// The offered checkpoint's size, where the delta must end.
    pub fn new_size(&self) -> u64 {
        self.new_size
    }

    /// The offered (signature-verified) checkpoint.
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }
}

/// Verifies a whole delta held in memory: `entries` are `[start, checkpoint size)`.
/// Equivalent to [`DeltaVerifier`] fed in batches of [`MAX_PUSH_ENTRIES`]; the result
/// carries every leaf hash.
pub fn verify_delta<C: JurisdictionCheck>(
    state: MirrorState,
    checkpoint: SignedCheckpoint,
    proof: &[Hash],
    key: &VerifierKey,
    check: C,
    start: u64,
    entries: &[Vec<u8>],
) -> Result<VerifiedDelta, DeltaError> {
    let mut verifier = DeltaVerifier::new(state, checkpoint, proof, key, check)?;
    let mut leaf_hashes = Vec::with_capacity(entries.len());
    let mut next = start;
    for chunk in entries.chunks(MAX_PUSH_ENTRIES) {
        let batch = verifier.push_batch(next, chunk)?;
        next = next.saturating_add(chunk.len() as u64);
        leaf_hashes.extend(batch.leaf_hashes);
    }
    if entries.is_empty() && start != verifier.next_index() {
        return Err(DeltaError::StartMismatch {
            origin: verifier.origin,
            expected: verifier.range.size(),
            found: start,
        });
    }
    let mut delta = verifier.finish()?;
    delta.leaf_hashes = leaf_hashes;
    Ok(delta)
}

fn check_state(
    origin: &str,
    size: u64,
    root: Hash,
    frontier: Vec<Hash>,
) -> Result<CompactRange, DeltaError> {
    let found = frontier.len();
    let range = CompactRange::from_frontier(size, frontier).map_err(|_| DeltaError::State {
        origin: origin.to_owned(),
        problem: StateProblem::FrontierShape {
            size,
            expected: size.count_ones() as usize,
            found,
        },
    })?;
    if range.root() != root {
        return Err(DeltaError::State {
            origin: origin.to_owned(),
            problem: StateProblem::FrontierRoot,
        });
    }
    Ok(range)
}
