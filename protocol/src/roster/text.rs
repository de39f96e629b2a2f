//! The roster's canonical text: what the trust root signs.
//!
//! ```text
//! credx roster v1
//! federation credx-federation
//! version 7
//! issued 1767225600
//! expires 1769817600
//! node 420000.credx level=province parent=cn.credx juris=div:420000 ckey=<vkey> cosigner=<vkey> tls=-
//! node cn.credx level=national parent=- juris=national ckey=<vkey> cosigner=<vkey> tls=<64 hex>
//! ```
//!
//! One `node` line per node, sorted by origin (byte order), fields in this fixed order,
//! separated by single spaces; jurisdiction items comma-separated and sorted by their text.
//! Numbers are decimal without leading zeros. Every value has exactly one spelling, and
//! parsing re-renders the text and compares, so a signed roster has exactly one reading
//! and `parse_text(to_text(r)) == r.canonicalize()`. Line-oriented and human-readable so
//! an operator can `diff` two rosters.

use std::fmt::Write as _;

use super::error::{InvalidReason, RosterError};
use super::model::{
    is_valid_label, is_valid_origin, JurisdictionSpec, NodeLevel, Roster, RosterNode,
    MAX_FEDERATION_LEN, MAX_NODES, MAX_SECTOR_LEN,
};
use crate::ident::{DivisionCode, Jurisdiction};

/// The first line of every roster text.
pub const ROSTER_MAGIC: &str = "credx roster v1";

/// Line number (1-based) of the first `node` line.
pub(crate) const FIRST_NODE_LINE: usize = 6;

impl Roster {
    /// The canonical text (see the module docs). Nodes and jurisdiction items are written in
    /// canonical order whatever their order in `self`.
    pub fn to_text(&self) -> String {
        let mut nodes: Vec<&RosterNode> = self.nodes.iter().collect();
        nodes.sort_by(|a, b| a.origin.cmp(&b.origin));
        let mut out = String::with_capacity(128 + nodes.len() * 320);
        let _ = write!(
            out,
            "{ROSTER_MAGIC}\nfederation {}\nversion {}\nissued {}\nexpires {}\n",
            self.federation, self.version, self.issued_at, self.expires_at
        );
        for node in nodes {
            write_node(&mut out, node);
        }
        out
    }

    /// Parses a roster text strictly. Checks the format and the canonical spelling only; the
    /// federation rules (parents, keys, jurisdictions) are checked by validation, which
    /// [`SignedRoster::verify`](super::SignedRoster::verify) runs.
    pub fn parse_text(text: &str) -> Result<Roster, RosterError> {
        let body = text.strip_suffix('\n').ok_or(RosterError::invalid(
            text.matches('\n').count() + 1,
            InvalidReason::MalformedNode {
                detail: "the text must end with a newline",
            },
        ))?;
        let mut lines = body.split('\n');
        if lines.next() != Some(ROSTER_MAGIC) {
            return Err(RosterError::invalid(1, InvalidReason::Magic));
        }
        let federation = header(lines.next(), 2, "federation")?;
        if !is_valid_label(federation, MAX_FEDERATION_LEN) {
            return Err(RosterError::invalid(2, InvalidReason::BadFederationName));
        }
        let version = number(header(lines.next(), 3, "version")?, 3, "version")?;
        let issued_at = number(header(lines.next(), 4, "issued")?, 4, "issued")?;
        let expires_at = number(header(lines.next(), 5, "expires")?, 5, "expires")?;

        let mut nodes: Vec<RosterNode> = Vec::new();
        for (i, line) in lines.enumerate() {
            let line_no = FIRST_NODE_LINE + i;
            // Counted before parsing, so an oversized roster costs no key parsing.
            if nodes.len() >= MAX_NODES {
                return Err(RosterError::invalid(
                    0,
                    InvalidReason::TooManyNodes {
                        count: nodes.len() + 1,
                        max: MAX_NODES,
                    },
                ));
            }
            let node = parse_node(line).map_err(|reason| RosterError::invalid(line_no, reason))?;
            if let Some(previous) = nodes.last() {
                if previous.origin == node.origin {
                    return Err(RosterError::invalid(
                        line_no,
                        InvalidReason::DuplicateOrigin {
                            origin: node.origin,
                        },
                    ));
                }
                if previous.origin > node.origin {
                    return Err(RosterError::invalid(
                        line_no,
                        InvalidReason::NotSorted {
                            previous: previous.origin.clone(),
                            origin: node.origin,
                        },
                    ));
                }
            }
            nodes.push(node);
        }
        let roster = Roster {
            version,
            issued_at,
            expires_at,
            federation: federation.to_owned(),
            nodes,
        };
        // Belt and braces: whatever the field parsers let through, the signed bytes must be
        // exactly the canonical rendering of the value they parse to.
        let again = roster.to_text();
        if again != text {
            let (line, expected) = first_difference(text, &again);
            return Err(RosterError::invalid(
                line,
                InvalidReason::NonCanonical { expected },
            ));
        }
        Ok(roster)
    }
}

fn write_node(out: &mut String, node: &RosterNode) {
    let mut items: Vec<String> = node
        .jurisdiction
        .iter()
        .map(JurisdictionSpec::to_text)
        .collect();
    items.sort();
    let tls = node
        .tls_fingerprint
        .map_or_else(|| "-".to_owned(), hex::encode);
    let _ = writeln!(
        out,
        "node {} level={} parent={} juris={} ckey={} cosigner={} tls={}",
        node.origin,
        node.level,
        node.parent.as_deref().unwrap_or("-"),
        items.join(","),
        node.checkpoint_key,
        node.cosigner_key,
        tls
    );
}

fn header<'a>(
    line: Option<&'a str>,
    line_no: usize,
    keyword: &'static str,
) -> Result<&'a str, RosterError> {
    let line = line.ok_or(RosterError::invalid(
        line_no,
        InvalidReason::MissingLine { expected: keyword },
    ))?;
    line.strip_prefix(keyword)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(RosterError::invalid(
            line_no,
            InvalidReason::ExpectedKeyword { expected: keyword },
        ))
}

/// Decimal without sign or leading zeros (except `0`): one spelling per number.
fn number(s: &str, line_no: usize, field: &'static str) -> Result<u64, RosterError> {
    let bad = || RosterError::invalid(line_no, InvalidReason::BadNumber { field });
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(bad());
    }
    s.parse::<u64>().map_err(|_| bad())
}

fn field<'a>(
    fields: &mut std::str::Split<'a, char>,
    key: &'static str,
    detail: &'static str,
) -> Result<&'a str, InvalidReason> {
    fields
        .next()
        .and_then(|f| f.strip_prefix(key))
        .ok_or(InvalidReason::MalformedNode { detail })
}

fn parse_node(line: &str) -> Result<RosterNode, InvalidReason> {
    let mut fields = line.split(' ');
    if fields.next() != Some("node") {
        return Err(InvalidReason::ExpectedKeyword { expected: "node" });
    }
    let origin = fields.next().ok_or(InvalidReason::MalformedNode {
        detail: "missing origin",
    })?;
    if !is_valid_origin(origin) {
        return Err(InvalidReason::BadOrigin {
            origin: truncate(origin),
        });
    }
    let level = field(&mut fields, "level=", "expected level=")?;
    let level = NodeLevel::parse(level).ok_or_else(|| InvalidReason::UnknownLevel {
        found: truncate(level),
    })?;
    let parent = match field(&mut fields, "parent=", "expected parent=")? {
        "-" => None,
        p if is_valid_origin(p) => Some(p.to_owned()),
        p => {
            return Err(InvalidReason::BadOrigin {
                origin: truncate(p),
            })
        }
    };
    let juris = field(&mut fields, "juris=", "expected juris=")?;
    let jurisdiction = parse_jurisdiction(juris)?;
    let checkpoint_key = field(&mut fields, "ckey=", "expected ckey=")?.to_owned();
    let cosigner_key = field(&mut fields, "cosigner=", "expected cosigner=")?.to_owned();
    let tls_fingerprint = match field(&mut fields, "tls=", "expected tls=")? {
        "-" => None,
        hex_text => Some(parse_fingerprint(hex_text).ok_or(InvalidReason::BadTlsFingerprint)?),
    };
    if fields.next().is_some() {
        return Err(InvalidReason::MalformedNode {
            detail: "unexpected text after tls=",
        });
    }
    Ok(RosterNode {
        origin: origin.to_owned(),
        level,
        parent,
        jurisdiction,
        checkpoint_key,
        cosigner_key,
        tls_fingerprint,
    })
}

fn parse_jurisdiction(text: &str) -> Result<Vec<JurisdictionSpec>, InvalidReason> {
    if text.is_empty() {
        return Err(InvalidReason::EmptyJurisdiction);
    }
    let mut items = Vec::new();
    let mut previous: Option<&str> = None;
    for item in text.split(',') {
        if items.len() >= super::model::MAX_JURISDICTION_SPECS {
            return Err(InvalidReason::TooManyJurisdictionItems {
                count: text.split(',').count(),
                max: super::model::MAX_JURISDICTION_SPECS,
            });
        }
        if let Some(prev) = previous {
            if prev == item {
                return Err(InvalidReason::DuplicateJurisdiction {
                    item: truncate(item),
                });
            }
            if prev > item {
                return Err(InvalidReason::BadJurisdiction {
                    item: truncate(item),
                    detail: "items must be sorted",
                });
            }
        }
        items.push(parse_spec(item)?);
        previous = Some(item);
    }
    Ok(items)
}

/// Parses one jurisdiction item, insisting on its canonical spelling.
pub(crate) fn parse_spec(item: &str) -> Result<JurisdictionSpec, InvalidReason> {
    let bad = |detail| InvalidReason::BadJurisdiction {
        item: truncate(item),
        detail,
    };
    let spec = if item == "national" {
        JurisdictionSpec::Division(Jurisdiction::National)
    } else if let Some(code) = item.strip_prefix("div:") {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("a division must be 6 ASCII digits"));
        }
        let code = DivisionCode::parse(code).map_err(|_| bad("not a division code"))?;
        JurisdictionSpec::Division(Jurisdiction::of(code))
    } else if let Some(name) = item.strip_prefix("sector:") {
        if !is_valid_label(name, MAX_SECTOR_LEN) {
            return Err(bad(
                "a sector name is 1 to 32 lower-case letters, digits or '-'",
            ));
        }
        JurisdictionSpec::Sector(name.to_owned())
    } else {
        return Err(bad("expected national, div:<code> or sector:<name>"));
    };
    // `div:100000` means national, and a historical code maps to its successor
    // (`div:422327` is 阳新县 `420222` today): both have another canonical spelling.
    if spec.to_text() != item {
        return Err(bad(
            "not canonical: write `national` or the current 6-digit code",
        ));
    }
    Ok(spec)
}

fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// At most 80 characters of untrusted text, for error messages.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The 1-based line where `a` and `b` first differ, and `b`'s version of that line.
fn first_difference(a: &str, b: &str) -> (usize, String) {
    let mut bl = b.split('\n');
    for (i, al) in a.split('\n').enumerate() {
        let expected = bl.next().unwrap_or_default();
        if al != expected {
            return (i + 1, truncate(expected));
        }
    }
    (a.split('\n').count(), String::new())
}
