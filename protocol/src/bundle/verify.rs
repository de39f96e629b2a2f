//! Offline verification of a [`Bundle`]: the only trusted inputs are the national root key,
//! optionally an extra cosigner policy, and the verifier's clock.
//!
//! Order (each step only reads what the previous ones authenticated): roster signature and
//! validity → anchor checkpoint signature by the origin's log key from the roster →
//! cosigner quorum (the caller's policy, or the origin's ancestors up to the national node
//! from the roster) → anchor inclusion → anchor entry is a `StatusMapRoot` of that origin →
//! status proof (presence with the given status, or absence) under the anchored root →
//! each listed entry's tlog-proof under the same rules.

use super::model::unb64;
use super::{Bundle, BundleError, ProvenEntry};
use crate::entry::{Entry, Event, SubjectId};
use crate::merkle::{leaf_hash, verify_inclusion, Hash};
use crate::note::{TlogProof, TrustPolicy};
use crate::roster::{SignedRoster, VerifiedRoster};
use crate::statusmap::{verify_absence, verify_presence, StatusProof, SubjectStatus};

/// What a bundle proved.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub subject: SubjectId,
    /// The status, or `None` when the bundle proved the subject absent.
    pub status: Option<SubjectStatus>,
    pub origin: String,
    pub anchor_index: u64,
    pub status_root: Hash,
    pub checkpoint_size: u64,
    /// Key names of the cosigners whose cosignatures verified.
    pub cosigners: Vec<String>,
    pub roster_version: u64,
    /// The listed entries, each proven in its origin's log.
    pub entries: Vec<Entry>,
}

/// Checks `bundle` against the national `root_key` at `now_unix`. `policy`, when given, is
/// the cosigner policy to apply instead of the roster's (ancestors up to the national node).
pub fn verify_bundle(
    bundle: &Bundle,
    root_key: &crate::note::VerifierKey,
    policy: Option<&TrustPolicy>,
    now_unix: u64,
) -> Result<VerifiedBundle, BundleError> {
    let signed = SignedRoster::parse(bundle.roster.as_bytes()).map_err(BundleError::Roster)?;
    let roster = signed
        .verify(root_key, now_unix)
        .map_err(BundleError::Roster)?;

    let origin = &bundle.anchor.origin;
    let anchor_bytes = unb64("anchor.entry", &bundle.anchor.entry)?;
    let (proof, cosigners) = check_tlog_proof(
        &roster,
        policy,
        "anchor",
        origin,
        &bundle.anchor.tlog_proof,
        &anchor_bytes,
    )?;
    if proof.index != bundle.anchor.index {
        return Err(BundleError::AnchorIndexMismatch {
            claimed: bundle.anchor.index,
            proven: proof.index,
        });
    }
    let anchor = Entry::decode(&anchor_bytes).map_err(|source| BundleError::BadEntry {
        what: "anchor",
        source,
    })?;
    if anchor.origin != *origin {
        return Err(BundleError::AnchorEntryOrigin {
            expected: origin.clone(),
            found: anchor.origin,
        });
    }
    let root = match anchor.event {
        Event::StatusMapRoot { root, .. } => root,
        other => {
            return Err(BundleError::NotAnAnchor {
                kind: other.kind_name(),
            })
        }
    };

    let status = check_status(bundle, &root)?;

    let entries = bundle
        .entries
        .iter()
        .map(|e| check_entry(&roster, policy, e))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(VerifiedBundle {
        subject: bundle.subject.clone(),
        status,
        origin: origin.clone(),
        anchor_index: proof.index,
        status_root: root,
        checkpoint_size: proof.checkpoint.checkpoint().size,
        cosigners,
        roster_version: roster.version(),
        entries,
    })
}

/// The status proof under the anchored `root`: presence with the bundle's status, or
/// absence when the bundle carries none.
fn check_status(bundle: &Bundle, root: &Hash) -> Result<Option<SubjectStatus>, BundleError> {
    let proof_bytes = unb64("status_proof", &bundle.status_proof)?;
    let proof = StatusProof::decode(&proof_bytes).map_err(BundleError::BadStatusProof)?;
    let key = bundle.subject.map_key();
    match &bundle.status {
        None => {
            verify_absence(root, &key, &proof).map_err(BundleError::StatusProof)?;
            Ok(None)
        }
        Some(text) => {
            let bytes = unb64("status", text)?;
            let status = SubjectStatus::decode(&bytes).map_err(BundleError::BadStatus)?;
            if status.subject != bundle.subject {
                return Err(BundleError::SubjectMismatch);
            }
            let value_hash = status.value_hash().map_err(BundleError::BadStatus)?;
            verify_presence(root, &key, &value_hash, &proof).map_err(BundleError::StatusProof)?;
            Ok(Some(status))
        }
    }
}

/// One listed entry: its tlog-proof verifies for the origin its checkpoint names.
fn check_entry(
    roster: &VerifiedRoster,
    policy: Option<&TrustPolicy>,
    proven: &ProvenEntry,
) -> Result<Entry, BundleError> {
    let bytes = unb64("entries[].entry", &proven.entry)?;
    let entry = Entry::decode(&bytes).map_err(|source| BundleError::BadEntry {
        what: "listed",
        source,
    })?;
    check_tlog_proof(
        roster,
        policy,
        "listed",
        &entry.origin,
        &proven.tlog_proof,
        &bytes,
    )?;
    Ok(entry)
}

/// Parses a tlog-proof and checks, with a precise error for each step: the checkpoint is
/// `origin`'s, signed by its roster log key, cosigned per the policy, and includes
/// `entry_bytes`. Returns the proof and the names of the cosigners that verified.
fn check_tlog_proof(
    roster: &VerifiedRoster,
    policy: Option<&TrustPolicy>,
    what: &'static str,
    origin: &str,
    text: &str,
    entry_bytes: &[u8],
) -> Result<(TlogProof, Vec<String>), BundleError> {
    let proof = TlogProof::parse(text.as_bytes())
        .map_err(|source| BundleError::BadTlogProof { what, source })?;
    let cp = proof.checkpoint.checkpoint();
    if cp.origin != origin {
        return Err(BundleError::OriginMismatch {
            what,
            expected: origin.to_owned(),
            found: cp.origin.chars().take(256).collect(),
        });
    }
    let log_key = roster
        .checkpoint_key(origin)
        .ok_or_else(|| BundleError::OriginNotInRoster {
            origin: origin.to_owned(),
        })?;
    proof
        .checkpoint
        .verify(log_key)
        .map_err(|source| BundleError::CheckpointSignature {
            what,
            origin: origin.to_owned(),
            source,
        })?;
    let roster_policy;
    let policy = match policy {
        Some(p) => p,
        None => {
            roster_policy =
                roster
                    .trust_policy_for(origin)
                    .map_err(|source| BundleError::NoPolicy {
                        origin: origin.to_owned(),
                        source,
                    })?;
            &roster_policy
        }
    };
    let cosigners = policy
        .verify_cosignatures(&proof.checkpoint)
        .map_err(|source| BundleError::Cosignatures { what, source })?;
    if proof.index >= cp.size {
        return Err(BundleError::IndexOutOfRange {
            what,
            index: proof.index,
            size: cp.size,
        });
    }
    verify_inclusion(
        &leaf_hash(entry_bytes),
        proof.index,
        cp.size,
        &proof.inclusion,
        &cp.root,
    )
    .map_err(|source| BundleError::NotIncluded {
        what,
        index: proof.index,
        source,
    })?;
    Ok((proof, cosigners))
}
