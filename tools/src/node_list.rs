//! The node list `credx roster sign` reads: a TOML file (`--nodes nodes.toml`) or repeated
//! `--node` options. Each node names its place in the tree and the credentials directory
//! its public keys are read from:
//!
//! ```toml
//! # Paths are relative to this file.
//! [[node]]
//! origin = "cn.credx"
//! level = "national"
//! jurisdiction = ["national"]
//! credentials = "nodes/cn.credx"
//!
//! [[node]]
//! origin = "440000.credx"
//! level = "province"                 # national, province, city, county or sector
//! parent = "cn.credx"
//! jurisdiction = ["div:440000"]      # national, div:<GB/T 2260 code>, sector:<name>
//! credentials = "nodes/440000.credx"
//! ```
//!
//! `--node origin=440106.credx,level=county,parent=440100.credx,juris=div:440106,credentials=DIR`
//! says the same on the command line (several jurisdiction items joined with `+`).

use std::path::{Path, PathBuf};

use credx_node::federation::parse_jurisdiction;
use credx_protocol::roster::{JurisdictionSpec, NodeLevel};
use serde::Deserialize;

use crate::failure::Failure;

/// One node to list in the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    pub origin: String,
    pub level: NodeLevel,
    pub parent: Option<String>,
    pub jurisdiction: Vec<JurisdictionSpec>,
    pub credentials: PathBuf,
    /// Where the entry came from, for error messages.
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodesFile {
    #[serde(default)]
    node: Vec<RawNode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    origin: String,
    level: String,
    parent: Option<String>,
    jurisdiction: Vec<String>,
    credentials: PathBuf,
}

/// Reads a nodes file; relative credential paths are resolved against its directory.
pub fn read_nodes_file(path: &Path) -> Result<Vec<NodeEntry>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
    let file: NodesFile = toml::from_str(&text).map_err(|e| {
        Failure::refused(format!("{} is not a valid nodes file: {e}", path.display()))
    })?;
    if file.node.is_empty() {
        return Err(Failure::refused(format!(
            "{} lists no [[node]] tables; see `credx roster sign --help` for the format",
            path.display()
        )));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    file.node
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let source = format!("{} node #{} ({})", path.display(), i + 1, raw.origin);
            entry(raw, base, source)
        })
        .collect()
}

/// Parses one `--node key=value,...` option.
pub fn parse_node_option(spec: &str) -> Result<NodeEntry, Failure> {
    let source = format!("--node {spec}");
    let bad = |reason: String| Failure::refused(format!("{source}: {reason}"));
    let (mut origin, mut level, mut parent, mut juris, mut credentials) =
        (None, None, None, None, None);
    for pair in spec.split(',') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("{pair:?} is not key=value")))?;
        let slot = match key.trim() {
            "origin" => &mut origin,
            "level" => &mut level,
            "parent" => &mut parent,
            "juris" | "jurisdiction" => &mut juris,
            "credentials" | "dir" => &mut credentials,
            other => {
                return Err(bad(format!(
                    "unknown key {other:?} (origin, level, parent, juris, credentials)"
                )))
            }
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(bad(format!("{key} is given twice")));
        }
    }
    let need =
        |value: Option<String>, key: &str| value.ok_or_else(|| bad(format!("{key}= is missing")));
    let raw = RawNode {
        origin: need(origin, "origin")?,
        level: need(level, "level")?,
        parent,
        jurisdiction: need(juris, "juris")?
            .split('+')
            .map(str::to_owned)
            .collect(),
        credentials: PathBuf::from(need(credentials, "credentials")?),
    };
    entry(raw, Path::new(""), source)
}

fn entry(raw: RawNode, base: &Path, source: String) -> Result<NodeEntry, Failure> {
    let bad = |reason: String| Failure::refused(format!("{source}: {reason}"));
    let level = NodeLevel::parse(&raw.level).ok_or_else(|| {
        bad(format!(
            "level {:?} is unknown (national, province, city, county or sector)",
            raw.level
        ))
    })?;
    let jurisdiction = raw
        .jurisdiction
        .iter()
        .map(|item| parse_jurisdiction(item).map_err(|r| bad(format!("jurisdiction {r}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let parent = raw.parent.filter(|p| !p.is_empty());
    Ok(NodeEntry {
        origin: raw.origin,
        level,
        parent,
        jurisdiction,
        credentials: base.join(raw.credentials),
        source,
    })
}

/// One node entry from its parts, checked like a nodes-file entry.
pub fn node_entry(
    origin: &str,
    level: &str,
    parent: Option<&str>,
    jurisdiction: &[String],
    credentials: PathBuf,
    source: String,
) -> Result<NodeEntry, Failure> {
    let raw = RawNode {
        origin: origin.to_owned(),
        level: level.to_owned(),
        parent: parent.map(str::to_owned),
        jurisdiction: jurisdiction.to_vec(),
        credentials,
    };
    entry(raw, Path::new(""), source)
}

/// The `[[node]]` table of a nodes file for one node (`credentials` relative to the file).
pub fn nodes_file_table(
    origin: &str,
    level: &str,
    parent: Option<&str>,
    jurisdiction: &[String],
    credentials: &str,
) -> String {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut out = format!(
        "\n[[node]]\norigin = {}\nlevel = {}\n",
        quote(origin),
        quote(level)
    );
    if let Some(parent) = parent {
        out.push_str(&format!("parent = {}\n", quote(parent)));
    }
    let items: Vec<String> = jurisdiction.iter().map(|j| quote(j)).collect();
    out.push_str(&format!(
        "jurisdiction = [{}]\ncredentials = {}\n",
        items.join(", "),
        quote(credentials)
    ));
    out
}
