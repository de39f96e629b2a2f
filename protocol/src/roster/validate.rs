//! The federation rules a roster must satisfy before anyone acts on it.
//!
//! Run on every roster that is signed ([`SignedRoster::sign`](super::SignedRoster::sign))
//! or verified, so the trust root cannot sign, and no node can adopt, a roster that breaks
//! them. The rules: origins unique and well-formed; exactly one national node, without a
//! parent; every other parent listed and at the allowed level above; keys parse, have the
//! right type, are named like their origin and are never shared; jurisdictions well-formed
//! and inside the parent's; bounded counts.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use super::error::{InvalidReason, RosterError};
use super::model::{
    is_valid_label, is_valid_origin, JurisdictionSpec, NodeLevel, Roster, RosterNode,
    MAX_FEDERATION_LEN, MAX_JURISDICTION_SPECS, MAX_NODES,
};
use super::text::{parse_spec, truncate, FIRST_NODE_LINE};
use crate::ident::Jurisdiction;
use crate::note::{KeyType, VerifierKey};

/// The two keys of a node, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeKeys {
    pub checkpoint: VerifierKey,
    pub cosigner: VerifierKey,
}

/// What validation derived from a valid roster, so lookups need not redo it.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// Parsed keys per origin.
    pub keys: BTreeMap<String, NodeKeys>,
    /// The areas each origin's log may hold authorities from: its division items, or for a
    /// sector node without any, its parent's.
    pub geography: BTreeMap<String, Vec<Jurisdiction>>,
}

/// Checks every rule; the first broken one is reported, in text line order.
pub(crate) fn validate(roster: &Roster) -> Result<Checked, RosterError> {
    if !is_valid_label(&roster.federation, MAX_FEDERATION_LEN) {
        return Err(RosterError::invalid(2, InvalidReason::BadFederationName));
    }
    if roster.expires_at <= roster.issued_at {
        return Err(RosterError::invalid(
            5,
            InvalidReason::ExpiresBeforeIssued {
                issued_at: roster.issued_at,
                expires_at: roster.expires_at,
            },
        ));
    }
    if roster.nodes.len() > MAX_NODES {
        return Err(RosterError::invalid(
            0,
            InvalidReason::TooManyNodes {
                count: roster.nodes.len(),
                max: MAX_NODES,
            },
        ));
    }
    // Work in canonical (text) order so reported line numbers match the signed text.
    let mut nodes: Vec<&RosterNode> = roster.nodes.iter().collect();
    nodes.sort_by(|a, b| a.origin.cmp(&b.origin));

    let mut by_origin: BTreeMap<&str, (usize, &RosterNode)> = BTreeMap::new();
    let mut keys = BTreeMap::new();
    let mut seen_keys: HashMap<[u8; 32], (String, &'static str)> = HashMap::new();
    let mut national: Option<&str> = None;
    for (i, node) in nodes.iter().enumerate() {
        let line = FIRST_NODE_LINE + i;
        let fail = |reason| RosterError::invalid(line, reason);
        if !is_valid_origin(&node.origin) {
            return Err(fail(InvalidReason::BadOrigin {
                origin: truncate(&node.origin),
            }));
        }
        if by_origin.insert(&node.origin, (line, node)).is_some() {
            return Err(fail(InvalidReason::DuplicateOrigin {
                origin: node.origin.clone(),
            }));
        }
        if node.level == NodeLevel::National {
            if let Some(first) = national {
                return Err(fail(InvalidReason::SecondNational {
                    first: first.to_owned(),
                    origin: node.origin.clone(),
                }));
            }
            national = Some(&node.origin);
        }
        check_jurisdiction_items(node).map_err(fail)?;
        let node_keys = parse_keys(node).map_err(fail)?;
        for (field, key) in [
            ("ckey", &node_keys.checkpoint),
            ("cosigner", &node_keys.cosigner),
        ] {
            let bytes = *key.public_key().as_bytes();
            if let Some((other_origin, other_field)) = seen_keys.get(&bytes) {
                return Err(fail(InvalidReason::SharedKey {
                    field,
                    other_origin: other_origin.clone(),
                    other_field,
                }));
            }
            seen_keys.insert(bytes, (node.origin.clone(), field));
        }
        keys.insert(node.origin.clone(), node_keys);
    }
    if national.is_none() {
        return Err(RosterError::invalid(0, InvalidReason::NoNational));
    }

    // Parents, in line order.
    for (i, node) in nodes.iter().enumerate() {
        let line = FIRST_NODE_LINE + i;
        let fail = |reason| RosterError::invalid(line, reason);
        match (&node.parent, node.level) {
            (Some(_), NodeLevel::National) => return Err(fail(InvalidReason::NationalHasParent)),
            (None, NodeLevel::National) => {}
            (None, level) => return Err(fail(InvalidReason::MissingParent { level })),
            (Some(parent), level) => {
                let Some((_, parent_node)) = by_origin.get(parent.as_str()) else {
                    return Err(fail(InvalidReason::UnknownParent {
                        parent: parent.clone(),
                    }));
                };
                if !level.may_attach_to(parent_node.level) {
                    return Err(fail(InvalidReason::ParentLevel {
                        level,
                        parent: parent.clone(),
                        parent_level: parent_node.level,
                    }));
                }
            }
        }
    }

    // Geography: non-sector nodes first (their areas are their own items), then sector
    // nodes, whose parents are never sector nodes.
    let mut geography: BTreeMap<String, Vec<Jurisdiction>> = BTreeMap::new();
    for node in &nodes {
        if node.level != NodeLevel::Sector {
            geography.insert(node.origin.clone(), divisions(node));
        }
    }
    for node in &nodes {
        if node.level == NodeLevel::Sector {
            let own = divisions(node);
            let area = if own.is_empty() {
                node.parent
                    .as_ref()
                    .and_then(|p| geography.get(p))
                    .cloned()
                    .unwrap_or_default()
            } else {
                own
            };
            geography.insert(node.origin.clone(), area);
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        let Some(parent) = &node.parent else { continue };
        let parent_area = geography.get(parent).map(Vec::as_slice).unwrap_or_default();
        for item in &node.jurisdiction {
            if let JurisdictionSpec::Division(j) = item {
                if !parent_area.iter().any(|p| area_contains(p, j)) {
                    return Err(RosterError::invalid(
                        FIRST_NODE_LINE + i,
                        InvalidReason::OutsideParent {
                            item: item.to_text(),
                            parent: parent.clone(),
                        },
                    ));
                }
            }
        }
    }
    Ok(Checked { keys, geography })
}

/// Whether area `inner` lies entirely inside area `outer`.
pub(crate) fn area_contains(outer: &Jurisdiction, inner: &Jurisdiction) -> bool {
    match (outer, inner) {
        (Jurisdiction::National, _) => true,
        (_, Jurisdiction::National) => false,
        _ => inner.prefix().starts_with(outer.prefix()),
    }
}

fn divisions(node: &RosterNode) -> Vec<Jurisdiction> {
    node.jurisdiction
        .iter()
        .filter_map(|s| match s {
            JurisdictionSpec::Division(j) => Some(*j),
            JurisdictionSpec::Sector(_) => None,
        })
        .collect()
}

fn check_jurisdiction_items(node: &RosterNode) -> Result<(), InvalidReason> {
    if node.jurisdiction.is_empty() {
        return Err(InvalidReason::EmptyJurisdiction);
    }
    if node.jurisdiction.len() > MAX_JURISDICTION_SPECS {
        return Err(InvalidReason::TooManyJurisdictionItems {
            count: node.jurisdiction.len(),
            max: MAX_JURISDICTION_SPECS,
        });
    }
    let mut texts: Vec<String> = Vec::with_capacity(node.jurisdiction.len());
    let mut has_sector = false;
    for spec in &node.jurisdiction {
        let text = spec.to_text();
        // Same rules as the parser: a value built in code must have a canonical spelling.
        parse_spec(&text)?;
        if let JurisdictionSpec::Sector(_) = spec {
            if node.level != NodeLevel::Sector {
                return Err(InvalidReason::SectorOnNonSectorNode { item: text });
            }
            has_sector = true;
        }
        texts.push(text);
    }
    if node.level == NodeLevel::Sector && !has_sector {
        return Err(InvalidReason::SectorNodeWithoutSector);
    }
    texts.sort();
    if let Some(pair) = texts.windows(2).find(|w| w[0] == w[1]) {
        return Err(InvalidReason::DuplicateJurisdiction {
            item: pair[0].clone(),
        });
    }
    if let Some(parent) = &node.parent {
        if !is_valid_origin(parent) {
            return Err(InvalidReason::BadOrigin {
                origin: truncate(parent),
            });
        }
    }
    Ok(())
}

fn parse_keys(node: &RosterNode) -> Result<NodeKeys, InvalidReason> {
    let checkpoint = parse_key(node, "ckey", &node.checkpoint_key, KeyType::Ed25519)?;
    let cosigner = parse_key(node, "cosigner", &node.cosigner_key, KeyType::CosignatureV1)?;
    Ok(NodeKeys {
        checkpoint,
        cosigner,
    })
}

fn parse_key(
    node: &RosterNode,
    field: &'static str,
    text: &str,
    expected: KeyType,
) -> Result<VerifierKey, InvalidReason> {
    let key =
        VerifierKey::from_str(text).map_err(|source| InvalidReason::BadKey { field, source })?;
    if key.key_type() != expected {
        return Err(InvalidReason::KeyType {
            field,
            expected,
            found: key.key_type(),
        });
    }
    // Checkpoint verifiers require the log key to be named like the origin, and a cosigner
    // named like its node makes a cosignature line say which node vouched.
    if key.name().as_str() != node.origin {
        return Err(InvalidReason::KeyNameNotOrigin {
            field,
            name: key.name().to_string(),
            origin: node.origin.clone(),
        });
    }
    Ok(key)
}
