//! The roster's data model: who the federation's nodes are, where they sit in the tree,
//! what they may publish and which keys speak for them.
//!
//! These are plain values. Nothing here is trusted until it has come out of
//! [`SignedRoster::verify`](super::SignedRoster::verify), which checks the trust root's
//! signature and every rule in [`super::validate`].

use std::fmt;

use crate::ident::Jurisdiction;

/// Most nodes a roster may list. China has ~2,850 county-level divisions, ~330 prefectures
/// and 34 provincial units; 10,000 leaves room for sector nodes while bounding the work a
/// verifier does on a roster it has not yet checked.
pub const MAX_NODES: usize = 10_000;

/// Most jurisdiction items on one node (a sector node may list a few sectors and areas).
pub const MAX_JURISDICTION_SPECS: usize = 16;

/// Longest origin name a roster accepts. Shorter than the 255 bytes a C2SP key name may
/// have, so that the largest roster stays inside one wire frame.
pub const MAX_ORIGIN_LEN: usize = 64;

/// Longest sector name.
pub const MAX_SECTOR_LEN: usize = 32;

/// Longest federation name.
pub const MAX_FEDERATION_LEN: usize = 64;

/// The signed roster: one national trust root vouches for every node of the federation.
///
/// X-Road's global configuration is the model (federation.md §1.4): a signed directory with a
/// version and an expiry, distributed down the tree and verified by everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// Strictly increasing across issues; a node never goes back to a lower version.
    pub version: u64,
    /// When the trust root issued it, Unix seconds (UTC).
    pub issued_at: u64,
    /// After this instant (Unix seconds) the roster is no longer valid. Nodes keep working on
    /// their last valid roster until then and alert as it nears ("degrade, don't stop").
    pub expires_at: u64,
    /// Name of the federation, e.g. `credx-federation`, so a roster of one federation cannot
    /// be replayed into another that happens to share a root key.
    pub federation: String,
    /// The nodes. Order carries no meaning: the canonical text lists them sorted by origin
    /// (see [`Roster::canonicalize`]).
    pub nodes: Vec<RosterNode>,
}

/// One node of the federation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterNode {
    /// The node's origin name, also the name of both of its keys (e.g. `420281.credx`).
    /// Lower-case ASCII letters, digits, `.` and `-`, at most [`MAX_ORIGIN_LEN`] bytes.
    pub origin: String,
    pub level: NodeLevel,
    /// The node it syncs up to; `None` only for the national node.
    pub parent: Option<String>,
    /// What the node's log may hold: division prefixes and/or sectors.
    pub jurisdiction: Vec<JurisdictionSpec>,
    /// The log key, vkey text of type 0x01 named like the origin: signs checkpoints.
    pub checkpoint_key: String,
    /// The cosigner key, vkey text of type 0x04 named like the origin: cosigns the
    /// checkpoints of the logs below. Must differ from the log key (tlog-cosignature: the
    /// signed message does not name the cosigner, so keys must never be shared).
    pub cosigner_key: String,
    /// SHA-256 of the node's TLS certificate (DER), when the federation pins certificates
    /// in addition to the CA chain.
    pub tls_fingerprint: Option<[u8; 32]>,
}

/// A node's place in the tree. Parents are exactly one level up, except that a county may
/// hang directly under a province (省直辖县级 `xx90xx` units and the districts of the four
/// municipalities have no prefecture node above them) and a sector node under a province or
/// the national node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeLevel {
    National,
    Province,
    City,
    County,
    Sector,
}

impl NodeLevel {
    /// The spelling in the roster text.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeLevel::National => "national",
            NodeLevel::Province => "province",
            NodeLevel::City => "city",
            NodeLevel::County => "county",
            NodeLevel::Sector => "sector",
        }
    }

    /// Inverse of [`NodeLevel::as_str`]; one spelling per level.
    pub fn parse(s: &str) -> Option<NodeLevel> {
        Some(match s {
            "national" => NodeLevel::National,
            "province" => NodeLevel::Province,
            "city" => NodeLevel::City,
            "county" => NodeLevel::County,
            "sector" => NodeLevel::Sector,
            _ => return None,
        })
    }

    /// Whether a node of this level may have a parent of level `parent`.
    pub fn may_attach_to(self, parent: NodeLevel) -> bool {
        matches!(
            (self, parent),
            (NodeLevel::Province, NodeLevel::National)
                | (NodeLevel::City, NodeLevel::Province)
                | (NodeLevel::County, NodeLevel::City)
                | (NodeLevel::County, NodeLevel::Province)
                | (NodeLevel::Sector, NodeLevel::Province)
                | (NodeLevel::Sector, NodeLevel::National)
        )
    }
}

impl fmt::Display for NodeLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item of a node's jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JurisdictionSpec {
    /// A GB/T 2260 area (credit-data.md §3.2): national, a province's 2-digit prefix, a
    /// prefecture's 4-digit prefix or a county's exact code. Written `national` or
    /// `div:<6-digit current code>`.
    Division(Jurisdiction),
    /// A sector (industry regulator), written `sector:<name>`; the name is lower-case ASCII
    /// letters, digits and `-`, at most [`MAX_SECTOR_LEN`] bytes. Only sector nodes carry
    /// sectors; which authorities belong to a sector is not decidable from a division code,
    /// so a sector node's geographic reach is its division items or, if it has none, its
    /// parent's.
    Sector(String),
}

impl JurisdictionSpec {
    /// The spelling in the roster text.
    pub fn to_text(&self) -> String {
        match self {
            JurisdictionSpec::Division(Jurisdiction::National) => "national".to_owned(),
            JurisdictionSpec::Division(
                Jurisdiction::Province(c) | Jurisdiction::Prefecture(c) | Jurisdiction::County(c),
            ) => format!("div:{}", c.as_str()),
            JurisdictionSpec::Sector(name) => format!("sector:{name}"),
        }
    }
}

impl fmt::Display for JurisdictionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl Roster {
    /// Puts the roster in its canonical order: nodes sorted by origin, each node's
    /// jurisdiction sorted by its text form. [`Roster::to_text`] writes this order and
    /// [`Roster::parse_text`] returns it, so `parse_text(to_text(r)) == r.canonicalize()`.
    #[must_use]
    pub fn canonicalize(mut self) -> Roster {
        self.nodes.sort_by(|a, b| a.origin.cmp(&b.origin));
        for node in &mut self.nodes {
            node.jurisdiction.sort_by_key(JurisdictionSpec::to_text);
        }
        self
    }
}

/// Whether `origin` is spelled the way a roster requires: lower-case ASCII letters, digits,
/// `.` and `-`, 1 to [`MAX_ORIGIN_LEN`] bytes, not starting or ending with `.`.
///
/// Stricter than a C2SP key name on purpose: origin names are written into text lines,
/// file names and metric labels, where anything else invites quoting bugs.
pub fn is_valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin.len() <= MAX_ORIGIN_LEN
        && !origin.starts_with('.')
        && !origin.ends_with('.')
        && origin
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// Whether `name` is a valid sector or federation name: lower-case ASCII letters, digits
/// and `-`, 1 to `max` bytes.
pub(crate) fn is_valid_label(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
