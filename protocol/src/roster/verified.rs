//! A roster whose signature and rules have been checked: the lookups every node makes from
//! it, its validity status over time, and the rules for replacing it with a newer one.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::error::RosterError;
use super::model::{NodeLevel, Roster, RosterNode};
use super::signed::{SignedRoster, MAX_CLOCK_SKEW_SECS};
use super::validate::Checked;
use crate::ident::DivisionCode;
use crate::merkle::Hash;
use crate::note::{TrustPolicy, VerifierKey};

/// Default warning window before expiry: three days leaves a weekend's margin for the
/// trust root to issue a new roster while the status is still "expiring soon".
pub const EXPIRY_WARNING_SECS: u64 = 3 * 24 * 60 * 60;

/// Where a verified roster stands at a given instant. "Degrade, don't stop": a node keeps
/// working on its last valid roster, raises an alert while it is [`RosterStatus::ExpiringSoon`],
/// and only refuses roster-dependent work once it is [`RosterStatus::Expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterStatus {
    Valid,
    ExpiringSoon { seconds_left: u64 },
    Expired,
}

/// A roster verified against the trust root (see [`SignedRoster::verify`]).
#[derive(Debug, Clone)]
pub struct VerifiedRoster {
    roster: Roster,
    signed: SignedRoster,
    root: VerifierKey,
    checked: Checked,
    /// Position of each origin in `roster.nodes`.
    index: BTreeMap<String, usize>,
    /// Children of each origin, sorted by origin.
    children: BTreeMap<String, Vec<usize>>,
    digest: Hash,
}

impl VerifiedRoster {
    pub(crate) fn new(
        roster: Roster,
        signed: SignedRoster,
        root: VerifierKey,
        checked: Checked,
    ) -> VerifiedRoster {
        let roster = roster.canonicalize();
        let index: BTreeMap<String, usize> = roster
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.origin.clone(), i))
            .collect();
        let mut children: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        // Nodes are sorted by origin, so each child list comes out sorted too.
        for (i, node) in roster.nodes.iter().enumerate() {
            if let Some(parent) = &node.parent {
                children.entry(parent.clone()).or_default().push(i);
            }
        }
        let digest = Hash(Sha256::digest(signed.text().as_bytes()).into());
        VerifiedRoster {
            roster,
            signed,
            root,
            checked,
            index,
            children,
            digest,
        }
    }

    pub(crate) fn check_time(&self, now: u64) -> Result<(), RosterError> {
        if now.saturating_add(MAX_CLOCK_SKEW_SECS) < self.roster.issued_at {
            return Err(RosterError::NotYetValid {
                issued_at: self.roster.issued_at,
                now,
            });
        }
        if now >= self.roster.expires_at {
            return Err(RosterError::Expired {
                expires_at: self.roster.expires_at,
                now,
            });
        }
        Ok(())
    }

    /// The roster, nodes in canonical order (sorted by origin).
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The signed form, to pass on verbatim to the nodes below (`RosterOffer`).
    pub fn signed(&self) -> &SignedRoster {
        &self.signed
    }

    /// The trust root this roster was verified with.
    pub fn root_key(&self) -> &VerifierKey {
        &self.root
    }

    pub fn version(&self) -> u64 {
        self.roster.version
    }

    pub fn expires_at(&self) -> u64 {
        self.roster.expires_at
    }

    /// SHA-256 of the signed roster text: what a `RosterAdopted` log entry commits to.
    pub fn digest(&self) -> Hash {
        self.digest
    }

    /// [`RosterStatus`] at `now` with the default [`EXPIRY_WARNING_SECS`] window.
    pub fn status(&self, now: u64) -> RosterStatus {
        self.status_with_warning(now, EXPIRY_WARNING_SECS)
    }

    /// [`RosterStatus`] at `now`, "expiring soon" within `warning_secs` of expiry.
    pub fn status_with_warning(&self, now: u64, warning_secs: u64) -> RosterStatus {
        match self.roster.expires_at.checked_sub(now) {
            None | Some(0) => RosterStatus::Expired,
            Some(left) if left <= warning_secs => RosterStatus::ExpiringSoon { seconds_left: left },
            Some(_) => RosterStatus::Valid,
        }
    }

    /// Decides whether `offered` replaces this roster. It must verify with the same trust
    /// root, name the same federation, and never go back: a lower version is a rollback,
    /// and the same version must carry the same text (extra signatures are fine). Checked
    /// in that order, before the validity window, so a replayed old roster is reported as
    /// the rollback it is rather than merely as expired.
    pub fn accept_update(
        &self,
        offered: SignedRoster,
        now: u64,
    ) -> Result<VerifiedRoster, RosterError> {
        let next = offered.verify_ignoring_time(&self.root)?;
        if next.roster.federation != self.roster.federation {
            return Err(RosterError::FederationMismatch {
                current: self.roster.federation.clone(),
                offered: next.roster.federation.clone(),
            });
        }
        if next.version() < self.version() {
            return Err(RosterError::VersionRollback {
                current: self.version(),
                offered: next.version(),
            });
        }
        if next.version() == self.version() && next.signed.text() != self.signed.text() {
            return Err(RosterError::SameVersionDiffers {
                version: self.version(),
            });
        }
        next.check_time(now)?;
        Ok(next)
    }

    /// The node with this origin.
    pub fn node(&self, origin: &str) -> Option<&RosterNode> {
        self.index
            .get(origin)
            .and_then(|&i| self.roster.nodes.get(i))
    }

    /// Like [`VerifiedRoster::node`], as an error naming the origin.
    pub fn require(&self, origin: &str) -> Result<&RosterNode, RosterError> {
        self.node(origin).ok_or_else(|| RosterError::UnknownOrigin {
            origin: origin.chars().take(255).collect(),
        })
    }

    /// The national node (validation guarantees exactly one).
    pub fn national(&self) -> Option<&RosterNode> {
        self.roster
            .nodes
            .iter()
            .find(|n| n.level == NodeLevel::National)
    }

    /// The parent of `origin`, if it has one.
    pub fn parent(&self, origin: &str) -> Option<&RosterNode> {
        self.node(origin)
            .and_then(|n| n.parent.as_deref())
            .and_then(|p| self.node(p))
    }

    /// The direct children of `origin`, sorted by origin.
    pub fn children(&self, origin: &str) -> Vec<&RosterNode> {
        self.children
            .get(origin)
            .map(|ids| {
                ids.iter()
                    .filter_map(|&i| self.roster.nodes.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The chain above `origin`: its parent first, the national node last. Empty for the
    /// national node and for unknown origins.
    pub fn ancestors(&self, origin: &str) -> Vec<&RosterNode> {
        let mut chain = Vec::new();
        let mut current = self.parent(origin);
        // Levels strictly rise towards the national node, so a chain has at most 4 links;
        // the bound only guards against a bug ever letting a cycle through validation.
        while let Some(node) = current {
            if chain.len() > 8 {
                break;
            }
            chain.push(node);
            current = node.parent.as_deref().and_then(|p| self.node(p));
        }
        chain
    }

    /// Whether `origin` is `ancestor` itself or lies below it: the logs `ancestor` mirrors.
    pub fn is_within(&self, origin: &str, ancestor: &str) -> bool {
        self.node(origin).is_some()
            && (origin == ancestor || self.ancestors(origin).iter().any(|n| n.origin == ancestor))
    }

    /// The log (checkpoint) key of `origin`.
    pub fn checkpoint_key(&self, origin: &str) -> Option<&VerifierKey> {
        self.checked.keys.get(origin).map(|k| &k.checkpoint)
    }

    /// The cosigner key of `origin`.
    pub fn cosigner_key(&self, origin: &str) -> Option<&VerifierKey> {
        self.checked.keys.get(origin).map(|k| &k.cosigner)
    }

    /// Whether `origin`'s log may hold an entry from an authority registered in
    /// `authority_division` (USCC positions 3–8): the division lies in the origin's area.
    /// A sector node's area is its own division items or, without any, its parent's.
    /// Unknown origins may hold nothing.
    pub fn may_hold(&self, origin: &str, authority_division: DivisionCode) -> bool {
        self.checked
            .geography
            .get(origin)
            .is_some_and(|areas| areas.iter().any(|a| a.contains(authority_division)))
    }

    /// What another region requires of `origin`'s checkpoints: the origin's log signature,
    /// and cosignatures by every ancestor up to the national node (design brief §3). For the
    /// national log itself no cosignature is required.
    pub fn trust_policy_for(&self, origin: &str) -> Result<TrustPolicy, RosterError> {
        let log = self
            .checkpoint_key(origin)
            .ok_or_else(|| RosterError::UnknownOrigin {
                origin: origin.chars().take(255).collect(),
            })?;
        let cosigners: Vec<VerifierKey> = self
            .ancestors(origin)
            .iter()
            .filter_map(|n| self.cosigner_key(&n.origin).cloned())
            .collect();
        TrustPolicy::new(std::slice::from_ref(log), &cosigners, cosigners.len()).map_err(|source| {
            RosterError::Policy {
                origin: origin.to_owned(),
                source,
            }
        })
    }
}
