//! `credx status [--tree] --node URL`: sync health of a node, or of its whole subtree, from
//! `GET /v1/health` / `GET /v1/health/tree` (no token needed, no personal data).

use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;

use clap::Args;
use serde::Deserialize;

use crate::node_client::{NodeClient, NodeError};
use crate::text_table::{age, print_out, TextTable};

#[derive(Debug, Args)]
#[command(after_long_help = STATUS_HELP)]
pub struct StatusArgs {
    /// The node's HTTP address (its listen_http), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub node: String,
    /// The whole subtree the node knows from its roster, as an indented tree.
    #[arg(long)]
    pub tree: bool,
    /// With --tree: a flat table, worst status first, instead of the tree.
    #[arg(long, requires = "tree")]
    pub worst_first: bool,
    /// With --tree: only the subtree under this origin.
    #[arg(long, value_name = "ORIGIN", requires = "tree")]
    pub root: Option<String>,
    /// Print the node's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
}

const STATUS_HELP: &str = "\
Examples:
  credx status --node http://127.0.0.1:8080
  credx status --tree --node http://10.0.0.1:8080
  credx status --tree --worst-first --node http://10.0.0.1:8080 || alert-the-operator

Status per node (worst of its upstream edge and the freshness of its signed reports):
  OK caught up or catching up; WARN lag growing while it still advances; STALL lag but
  nothing acknowledged; STOP no successful session (or no report) for too long; REWIND the
  parent's acknowledged size went back; ERR sessions end in errors (refused, proof failure,
  fork, certificate).

Exit codes: 0 every node shown is OK; 1 some node is not OK (useful in scripts and
monitoring); 2 the node could not be asked or its answer not read.";

/// `GET /v1/health/tree`.
#[derive(Debug, Deserialize)]
pub struct HealthTree {
    pub node: String,
    pub nodes: Vec<NodeHealth>,
    #[serde(default)]
    pub integrity: Option<Integrity>,
}

/// One node's health (also the whole answer of `GET /v1/health`).
#[derive(Debug, Clone, Deserialize)]
pub struct NodeHealth {
    pub origin: String,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    pub status: String,
    #[serde(default)]
    pub report_age_ms: Option<u64>,
    #[serde(default)]
    pub log_size: Option<u64>,
    #[serde(default)]
    pub checkpoint_age_ms: Option<u64>,
    #[serde(default)]
    pub proof_failures: Option<u64>,
    #[serde(default)]
    pub forks: Option<u64>,
    #[serde(default)]
    pub upstream: Option<Upstream>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Upstream {
    #[serde(default)]
    pub lag_entries: Option<u64>,
    #[serde(default)]
    pub lag_ms: Option<u64>,
    #[serde(default)]
    pub last_success_age_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Integrity {
    #[serde(default)]
    pub proof_failures_by_kind: BTreeMap<String, u64>,
    #[serde(default)]
    pub forks: Vec<Fork>,
}

#[derive(Debug, Deserialize)]
pub struct Fork {
    pub origin: String,
}

/// Statuses from worst to best.
const SEVERITY: [&str; 6] = ["ERR", "STOP", "STALL", "REWIND", "WARN", "OK"];

fn rank(status: &str) -> usize {
    SEVERITY.iter().position(|s| *s == status).unwrap_or(0)
}

pub fn run(args: &StatusArgs) -> ExitCode {
    match run_inner(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("credx status: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Returns whether every node shown is OK.
fn run_inner(args: &StatusArgs) -> Result<bool, NodeError> {
    let client = NodeClient::new(&args.node, None)?;
    if !args.tree {
        let raw: serde_json::Value = client.get_json("/v1/health", "the health request")?;
        let one: NodeHealth =
            serde_json::from_value(raw.clone()).map_err(|e| NodeError::BadAnswer {
                what: "the health request".to_owned(),
                reason: e.to_string(),
            })?;
        if args.json {
            print_out(&(serde_json::to_string_pretty(&raw).unwrap_or_default() + "\n"));
        } else {
            print_out(&table(&[(0, &one)]));
        }
        return Ok(one.status == "OK");
    }
    let raw: serde_json::Value = client.get_json("/v1/health/tree", "the health tree request")?;
    let tree: HealthTree =
        serde_json::from_value(raw.clone()).map_err(|e| NodeError::BadAnswer {
            what: "the health tree request".to_owned(),
            reason: e.to_string(),
        })?;
    let shown = select(&tree, args.root.as_deref());
    if args.root.is_some() && shown.is_empty() {
        eprintln!(
            "credx status: {} knows no node {:?} in its subtree",
            tree.node,
            args.root.as_deref().unwrap_or_default()
        );
        return Ok(false);
    }
    if args.json {
        print_out(&(serde_json::to_string_pretty(&raw).unwrap_or_default() + "\n"));
    } else {
        let rows = if args.worst_first {
            let mut flat: Vec<(usize, &NodeHealth)> = shown.iter().map(|n| (0, *n)).collect();
            flat.sort_by(|a, b| {
                rank(&a.1.status)
                    .cmp(&rank(&b.1.status))
                    .then_with(|| a.1.origin.cmp(&b.1.origin))
            });
            flat
        } else {
            tree_order(&shown)
        };
        print_out(&(table(&rows) + &summary(&tree, &shown)));
    }
    Ok(shown.iter().all(|n| n.status == "OK"))
}

/// The nodes to show: all, or the subtree under `root`.
fn select<'a>(tree: &'a HealthTree, root: Option<&str>) -> Vec<&'a NodeHealth> {
    let Some(root) = root else {
        return tree.nodes.iter().collect();
    };
    let mut inside: HashSet<&str> = HashSet::from([root]);
    // Parents may come after children in the answer: repeat until nothing is added.
    loop {
        let before = inside.len();
        for n in &tree.nodes {
            if n.parent.as_deref().is_some_and(|p| inside.contains(p)) {
                inside.insert(&n.origin);
            }
        }
        if inside.len() == before {
            break;
        }
    }
    tree.nodes
        .iter()
        .filter(|n| inside.contains(n.origin.as_str()))
        .collect()
}

/// Depth-first order: each node followed by its children (by origin); nodes whose parent
/// is not shown start a tree of their own.
fn tree_order<'a>(nodes: &[&'a NodeHealth]) -> Vec<(usize, &'a NodeHealth)> {
    let shown: HashSet<&str> = nodes.iter().map(|n| n.origin.as_str()).collect();
    let mut children: BTreeMap<&str, Vec<&'a NodeHealth>> = BTreeMap::new();
    let mut roots = Vec::new();
    for n in nodes {
        match n.parent.as_deref().filter(|p| shown.contains(p)) {
            Some(p) => children.entry(p).or_default().push(n),
            None => roots.push(*n),
        }
    }
    roots.sort_by(|a, b| a.origin.cmp(&b.origin));
    let mut out = Vec::with_capacity(nodes.len());
    let mut stack: Vec<(usize, &NodeHealth)> = roots.into_iter().rev().map(|n| (0, n)).collect();
    let mut visited = HashSet::new();
    while let Some((depth, n)) = stack.pop() {
        if !visited.insert(n.origin.as_str()) {
            continue;
        }
        out.push((depth, n));
        if let Some(kids) = children.get(n.origin.as_str()) {
            let mut kids = kids.clone();
            kids.sort_by(|a, b| b.origin.cmp(&a.origin));
            stack.extend(kids.into_iter().map(|k| (depth + 1, k)));
        }
    }
    out
}

fn table(rows: &[(usize, &NodeHealth)]) -> String {
    let mut t = TextTable::new(&[
        "ORIGIN",
        "LEVEL",
        "STATUS",
        "LAG",
        "LAG AGE",
        "LAST OK",
        "REPORT",
        "CHECKPOINT",
        "LOG SIZE",
        "INTEGRITY",
    ]);
    let opt_age = |ms: Option<u64>, none: &str| ms.map_or_else(|| none.to_owned(), age);
    for (depth, n) in rows {
        let up = n.upstream.as_ref();
        t.push(vec![
            format!("{}{}", "  ".repeat(*depth), n.origin),
            n.level.clone().unwrap_or_else(|| "-".to_owned()),
            n.status.clone(),
            up.and_then(|u| u.lag_entries)
                .map_or_else(|| "-".to_owned(), |l| l.to_string()),
            opt_age(up.and_then(|u| u.lag_ms), "-"),
            match up {
                Some(u) => opt_age(u.last_success_age_ms, "never"),
                None => "-".to_owned(),
            },
            opt_age(n.report_age_ms, "never"),
            opt_age(n.checkpoint_age_ms, "-"),
            n.log_size.map_or_else(|| "-".to_owned(), |s| s.to_string()),
            integrity(n),
        ]);
    }
    t.render()
}

/// Proof failures and forks a node counted, when there are any.
fn integrity(n: &NodeHealth) -> String {
    let mut parts = Vec::new();
    if let Some(p) = n.proof_failures.filter(|p| *p > 0) {
        parts.push(format!("{p} proof failures"));
    }
    if let Some(f) = n.forks.filter(|f| *f > 0) {
        parts.push(format!("{f} forks"));
    }
    parts.join(", ")
}

fn summary(tree: &HealthTree, shown: &[&NodeHealth]) -> String {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for n in shown {
        *counts.entry(rank(&n.status)).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(r, c)| format!("{c} {}", SEVERITY.get(*r).unwrap_or(&"?")))
        .collect();
    let mut out = format!(
        "{} nodes as seen by {}: {}\n",
        shown.len(),
        tree.node,
        parts.join(", ")
    );
    if let Some(integrity) = &tree.integrity {
        let failures: Vec<String> = integrity
            .proof_failures_by_kind
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if !failures.is_empty() {
            out.push_str(&format!(
                "proof failures at {}: {}\n",
                tree.node,
                failures.join(", ")
            ));
        }
        if !integrity.forks.is_empty() {
            let origins: Vec<&str> = integrity.forks.iter().map(|f| f.origin.as_str()).collect();
            out.push_str(&format!(
                "FORKS detected at {}: {} (fork evidence is kept by that node)\n",
                tree.node,
                origins.join(", ")
            ));
        }
    }
    out
}
