//! `credx-testnet chaos`: faults on a running testnet.
//!
//! - links: `cut`, `heal`, `delay`, `drop` on an edge, named by its child node (`440000` or
//!   `440000.credx` is the link from 广东省 up to the national node; `all` is every edge),
//!   sent to the relay's control socket ([`crate::relay_control`]);
//! - nodes: `kill` (SIGKILL) and `restart` (SIGKILL if running, then the same binary, config
//!   and data directory; waits for `/healthz`).
//!
//! Every action is appended to `D/chaos.jsonl` with its time, so `report` can tell how long
//! convergence took after the last heal or restart.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::TestnetError;
use crate::manifest::Manifest;
use crate::process;
use crate::relay::{EdgeStatus, FaultChange};
use crate::relay_control::{self, ControlRequest};

/// File, in the testnet directory, of the chaos events.
pub const EVENTS_FILE: &str = "chaos.jsonl";
/// How long `kill` waits for the process to be gone.
const GONE_WITHIN: Duration = Duration::from_secs(10);
/// How long `restart` waits for `/healthz`.
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);

/// One chaos action, as recorded in `chaos.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaosEvent {
    pub unix_ms: u64,
    /// `cut`, `heal`, `delay`, `drop`, `kill` or `restart`.
    pub action: String,
    /// Edges (by child) or the node acted on.
    pub targets: Vec<String>,
    pub detail: String,
}

impl ChaosEvent {
    /// Whether the action ends a fault (after it, the testnet should converge again).
    pub fn is_recovery(&self) -> bool {
        matches!(self.action.as_str(), "heal" | "restart")
    }
}

/// The events recorded so far, oldest first (lines that do not parse are skipped).
pub fn events(dir: &Path) -> Vec<ChaosEvent> {
    std::fs::read_to_string(dir.join(EVENTS_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn record(
    dir: &Path,
    action: &str,
    targets: Vec<String>,
    detail: String,
) -> Result<(), TestnetError> {
    use std::io::Write;
    let event = ChaosEvent {
        unix_ms: process::unix_ms(),
        action: action.to_owned(),
        targets,
        detail,
    };
    let path = dir.join(EVENTS_FILE);
    let mut line = serde_json::to_string(&event).map_err(|e| TestnetError::Manifest {
        path: path.clone(),
        message: e.to_string(),
    })?;
    line.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(TestnetError::io(&path))
}

/// Cuts the edge(s) named `edge`: every datagram dropped, both ways.
pub fn cut(dir: &Path, edge: &str) -> Result<Vec<EdgeStatus>, TestnetError> {
    change(dir, edge, "cut", FaultChange::Cut, String::new())
}

/// Clears every fault of the edge(s) named `edge`.
pub fn heal(dir: &Path, edge: &str) -> Result<Vec<EdgeStatus>, TestnetError> {
    change(dir, edge, "heal", FaultChange::Heal, String::new())
}

/// Delays every datagram of the edge(s) by `delay` plus a random 0..=`jitter`.
pub fn delay(
    dir: &Path,
    edge: &str,
    delay: Duration,
    jitter: Duration,
) -> Result<Vec<EdgeStatus>, TestnetError> {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let change_to = FaultChange::Delay {
        ms: ms(delay),
        jitter_ms: ms(jitter),
    };
    let detail = format!("{} ms ± {} ms", ms(delay), ms(jitter));
    change(dir, edge, "delay", change_to, detail)
}

/// Drops `fraction` (0–1) of the edge(s)' datagrams at random.
pub fn drop_fraction(
    dir: &Path,
    edge: &str,
    fraction: f64,
) -> Result<Vec<EdgeStatus>, TestnetError> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(TestnetError::ChaosParameter {
            what: "the fraction of datagrams to drop",
            rule: "between 0 and 1",
            value: fraction.to_string(),
        });
    }
    let detail = format!("{:.0} %", fraction * 100.0);
    change(dir, edge, "drop", FaultChange::Drop { fraction }, detail)
}

/// Every edge and its fault, from the relay.
pub fn status(dir: &Path) -> Result<Vec<EdgeStatus>, TestnetError> {
    let manifest = Manifest::load(dir)?;
    let relays = relays_of(dir, &manifest)?;
    relay_control::request(&relays, &ControlRequest::Status)
}

fn relays_of(dir: &Path, manifest: &Manifest) -> Result<std::path::PathBuf, TestnetError> {
    manifest
        .relays
        .as_ref()
        .map(|r| r.control.clone())
        .ok_or_else(|| TestnetError::NoRelays {
            dir: dir.to_owned(),
        })
}

fn change(
    dir: &Path,
    edge: &str,
    action: &str,
    change: FaultChange,
    detail: String,
) -> Result<Vec<EdgeStatus>, TestnetError> {
    let manifest = Manifest::load(dir)?;
    let control = relays_of(dir, &manifest)?;
    let edges = edges_named(&manifest, edge)?;
    let statuses = relay_control::request(
        &control,
        &ControlRequest::Change {
            edges: edges.clone(),
            change,
        },
    )?;
    record(dir, action, edges, detail)?;
    Ok(statuses)
}

/// The edges (by child origin) `name` means: `all`, or a node's origin or division code.
pub fn edges_named(manifest: &Manifest, name: &str) -> Result<Vec<String>, TestnetError> {
    let all: Vec<String> = manifest
        .relays
        .as_ref()
        .map(|r| r.edges.iter().map(|e| e.child.clone()).collect())
        .unwrap_or_default();
    if name == "all" {
        return Ok(all);
    }
    match manifest.find(name) {
        Some(node) if all.contains(&node.origin) => Ok(vec![node.origin.clone()]),
        _ => Err(TestnetError::UnknownTarget {
            name: name.to_owned(),
            known: format!("all, {}", all.join(", ")),
        }),
    }
}

/// SIGKILLs the node named `name` and waits until it is gone; returns the pid it had.
pub fn kill(dir: &Path, name: &str) -> Result<u32, TestnetError> {
    let mut manifest = Manifest::load(dir)?;
    let index = node_index(&manifest, name)?;
    let node = &manifest.nodes[index];
    let origin = node.origin.clone();
    let Some(pid) = process::running_pid(node) else {
        return Err(TestnetError::NotRunning { origin });
    };
    kill_and_wait(node, pid)?;
    manifest.nodes[index].pid = None;
    manifest.save(dir)?;
    record(dir, "kill", vec![origin], format!("SIGKILL pid {pid}"))?;
    Ok(pid)
}

fn kill_and_wait(node: &crate::manifest::NodeEntry, pid: u32) -> Result<(), TestnetError> {
    process::signal(node, pid, "KILL")?;
    let deadline = Instant::now() + GONE_WITHIN;
    while process::is_running(node, pid) {
        if Instant::now() > deadline {
            return Err(TestnetError::Unkillable {
                origin: node.origin.clone(),
                seconds: GONE_WITHIN.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Starts the node named `name` again with its config and data directory (SIGKILL first if
/// it still runs) and waits for its `/healthz`; returns the new pid.
pub async fn restart(dir: &Path, name: &str) -> Result<u32, TestnetError> {
    let mut manifest = Manifest::load(dir)?;
    let index = node_index(&manifest, name)?;
    let killed = match process::running_pid(&manifest.nodes[index]) {
        Some(pid) => {
            kill_and_wait(&manifest.nodes[index], pid)?;
            format!("SIGKILL pid {pid}, then ")
        }
        None => String::new(),
    };
    let bin = if manifest.node_bin.is_file() {
        manifest.node_bin.clone()
    } else {
        process::find_node_bin()?
    };
    let pid = process::spawn(&manifest.nodes[index], &bin)?;
    manifest.nodes[index].pid = Some(pid);
    manifest.save(dir)?;
    let node = manifest.nodes[index].clone();
    let client = crate::commands::client()?;
    process::wait_healthy(&client, std::slice::from_ref(&node), HEALTHY_WITHIN).await?;
    record(
        dir,
        "restart",
        vec![node.origin.clone()],
        format!("{killed}started pid {pid}"),
    )?;
    Ok(pid)
}

fn node_index(manifest: &Manifest, name: &str) -> Result<usize, TestnetError> {
    manifest
        .find(name)
        .and_then(|n| manifest.nodes.iter().position(|m| m.origin == n.origin))
        .ok_or_else(|| TestnetError::UnknownTarget {
            name: name.to_owned(),
            known: manifest
                .nodes
                .iter()
                .map(|n| n.origin.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The edges as a table.
pub fn render_status(edges: &[EdgeStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<14} {:<22} {:>10} {:>10} {:>9} {:>9} {:>8}",
        "edge (child)", "parent", "fault", "up", "down", "dropped", "delayed", "sessions"
    );
    for e in edges {
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:<22} {:>10} {:>10} {:>9} {:>9} {:>8}",
            e.child,
            e.parent,
            e.fault.to_string(),
            e.up,
            e.down,
            e.dropped,
            e.delayed,
            e.sessions
        );
    }
    out
}
