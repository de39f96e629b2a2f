//! The subcommands: `up`, `load`, `report`, `down`, `demo` (`chaos` and `partition` are
//! in [`crate::chaos`] and [`crate::partition`]).

use std::path::Path;
use std::time::Duration;

use crate::error::TestnetError;
use crate::load::LoadSummary;
use crate::manifest::Manifest;
use crate::process;
use crate::report::{self, Report};
use crate::setup;
use crate::topology::Topology;

/// How long `up` waits for every node's `/healthz`.
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);
/// How long `down` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long `demo` waits for convergence after the load.
const DEMO_CONVERGE_WITHIN: Duration = Duration::from_secs(60);

pub fn client() -> Result<reqwest::Client, TestnetError> {
    reqwest::Client::builder()
        .build()
        .map_err(|e| TestnetError::Client(e.to_string()))
}

/// Starts the testnet in `dir` with a fault-injecting relay on every edge: a new one, or
/// the one already there if none of its nodes runs (its data kept). Returns the manifest
/// with the pids.
pub async fn up(dir: &Path, topology: Topology) -> Result<Manifest, TestnetError> {
    up_with(dir, topology, true).await
}

/// [`up`], choosing whether a new testnet gets relays (`relays`; an existing testnet keeps
/// what it was generated with). Without relays children dial their parents directly and
/// `chaos` can only kill and restart nodes.
pub async fn up_with(
    dir: &Path,
    topology: Topology,
    relays: bool,
) -> Result<Manifest, TestnetError> {
    let mut manifest = if Manifest::exists(dir) {
        let manifest = Manifest::load(dir)?;
        let mut running: Vec<String> = manifest
            .nodes
            .iter()
            .filter_map(|n| process::running_pid(n).map(|pid| format!("{} pid {pid}", n.origin)))
            .collect();
        if let Some(pid) = relay_pid(dir, &manifest) {
            running.push(format!("relay pid {pid}"));
        }
        if !running.is_empty() {
            return Err(TestnetError::AlreadyRunning {
                dir: dir.to_owned(),
                running: running.join(", "),
            });
        }
        if manifest.topology != topology.name() {
            return Err(TestnetError::TopologyMismatch {
                dir: dir.to_owned(),
                found: manifest.topology.clone(),
                asked: topology.name().to_owned(),
            });
        }
        println!(
            "up: restarting the {} testnet in {}",
            manifest.topology,
            dir.display()
        );
        manifest
    } else {
        let bin = process::find_node_bin()?;
        println!(
            "up: generating a {} testnet ({} nodes) in {}",
            topology.name(),
            topology.nodes().len(),
            dir.display()
        );
        setup::generate(dir, topology, &bin, relays)?
    };
    // The binary may have been rebuilt or moved since the manifest was written.
    if !manifest.node_bin.is_file() {
        manifest.node_bin = process::find_node_bin()?;
    }
    let dir = dir.canonicalize().map_err(TestnetError::io(dir))?;
    let started = start_all(&dir, &mut manifest).await;
    if let Err(e) = started {
        // Leave nothing half-started behind.
        let _ = process::stop_all(&manifest.nodes, STOP_GRACE);
        for node in &mut manifest.nodes {
            node.pid = None;
        }
        let _ = stop_relay(&dir, &mut manifest);
        let _ = manifest.save(&dir);
        return Err(e);
    }
    print_nodes(&manifest);
    println!("up: all {} nodes healthy", manifest.nodes.len());
    Ok(manifest)
}

async fn start_all(dir: &Path, manifest: &mut Manifest) -> Result<(), TestnetError> {
    // The relays first, so a child's first connection already goes through its relay.
    if manifest.relays.is_some() {
        start_relay(dir, manifest).await?;
    }
    let bin = manifest.node_bin.clone();
    for i in 0..manifest.nodes.len() {
        let pid = process::spawn(&manifest.nodes[i], &bin)?;
        manifest.nodes[i].pid = Some(pid);
        // Saved after every start, so `down` finds whatever did start.
        manifest.save(dir)?;
    }
    process::wait_healthy(&client()?, &manifest.nodes, HEALTHY_WITHIN).await
}

/// How long `up` waits for the relay's control socket.
const RELAY_READY_WITHIN: Duration = Duration::from_secs(10);

async fn start_relay(dir: &Path, manifest: &mut Manifest) -> Result<(), TestnetError> {
    let bin = process::find_testnet_bin()?;
    // The relay reads its edges from the manifest: on a fresh testnet nothing has saved it
    // yet, and a relay that starts first finds no testnet (seen in CI).
    manifest.save(dir)?;
    let Some(relays) = manifest.relays.as_mut() else {
        return Ok(());
    };
    let pid = process::spawn_relay(dir, &bin, &relays.log)?;
    relays.pid = Some(pid);
    let (control, log) = (relays.control.clone(), relays.log.clone());
    manifest.save(dir)?;
    let deadline = std::time::Instant::now() + RELAY_READY_WITHIN;
    loop {
        let status =
            crate::relay_control::request(&control, &crate::relay_control::ControlRequest::Status);
        match status {
            Ok(_) => return Ok(()),
            Err(e) if std::time::Instant::now() > deadline => return Err(e),
            Err(_) => {}
        }
        if process::has_exited(pid) {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            return Err(TestnetError::RelayDied {
                pid,
                log,
                tail: lines[lines.len().saturating_sub(20)..].join("\n"),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kills the relay process if it runs (it holds nothing worth a clean stop).
fn stop_relay(dir: &Path, manifest: &mut Manifest) -> Result<(), TestnetError> {
    if let Some(pid) = relay_pid(dir, manifest) {
        let dir = dir.canonicalize().map_err(TestnetError::io(dir))?;
        process::signal_with("relay", pid, &dir, "KILL")?;
    }
    if let Some(relays) = manifest.relays.as_mut() {
        relays.pid = None;
    }
    Ok(())
}

/// The relay's pid, if it is running.
pub fn relay_pid(dir: &Path, manifest: &Manifest) -> Option<u32> {
    let pid = manifest.relays.as_ref()?.pid?;
    let dir = dir.canonicalize().ok()?;
    process::is_running_with(pid, &dir).then_some(pid)
}

fn print_nodes(manifest: &Manifest) {
    println!(
        "{:<14} {:<8} {:<22} {:<16} {:>8}  name",
        "node", "level", "http", "quic", "pid"
    );
    for node in &manifest.nodes {
        println!(
            "{:<14} {:<8} {:<22} {:<16} {:>8}  {}",
            node.origin,
            node.level,
            node.url(""),
            node.quic.map_or_else(|| "-".to_owned(), |q| q.to_string()),
            node.pid.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            node.name,
        );
    }
    if let Some(relays) = &manifest.relays {
        println!(
            "relays (pid {}; faults: credx-testnet chaos ...; control socket {}):",
            relays.pid.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            relays.control.display()
        );
        for edge in &relays.edges {
            println!(
                "  {:<14} → {:<14} relay {} → {}",
                edge.child, edge.parent, edge.listen, edge.upstream
            );
        }
    }
}

/// Drives the load; an error when some record was not stored.
pub async fn load(dir: &Path, rate: f64, seconds: f64) -> Result<LoadSummary, TestnetError> {
    let manifest = Manifest::load(dir)?;
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(TestnetError::LoadParameters { rate, seconds });
    }
    let summary = crate::load::run(&manifest, rate, Duration::from_secs_f64(seconds)).await?;
    keep_load_result(dir, rate, seconds, &summary.result);
    let failed = summary.sent.saturating_sub(summary.accepted);
    if failed > 0 {
        return Err(TestnetError::LoadFailed {
            sent: summary.sent,
            failed,
            first: summary.first_problem.clone().unwrap_or_default(),
        });
    }
    if summary.workflow_failed > 0 {
        return Err(TestnetError::WorkflowFailed {
            failed: summary.workflow_failed,
            first: summary.first_problem.clone().unwrap_or_default(),
        });
    }
    Ok(summary)
}

/// The file in the testnet directory that keeps the last load's result for `report`.
pub const LAST_LOAD_FILE: &str = "last-load.txt";

/// Keeps a load's result lines for `report` (written whole or not at all; a failure to
/// keep them only costs the report that section, so it is printed, not returned).
fn keep_load_result(dir: &Path, rate: f64, seconds: f64, result: &[String]) {
    let mut text = format!(
        "load of {rate} records/s for {seconds} s, finished {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    );
    for line in result {
        text.push_str(line);
        text.push('\n');
    }
    let path = dir.join(LAST_LOAD_FILE);
    let partial = dir.join(format!("{LAST_LOAD_FILE}.partial"));
    if let Err(e) = std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, &path)) {
        eprintln!(
            "load: cannot keep the result in {} ({e}); `report` will not show it",
            path.display()
        );
    }
}

/// The last load's result as kept by `load`, if any.
fn last_load_result(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(LAST_LOAD_FILE)).ok()
}

/// Prints the report; with `wait`, first waits up to that long for convergence, and then
/// not converging is an error (and when the last chaos action was a heal or restart, says
/// how long after it the testnet converged). Re-sent verified entries are always an error.
pub async fn report(dir: &Path, wait: Option<Duration>) -> Result<Report, TestnetError> {
    let manifest = Manifest::load(dir)?;
    let client = client()?;
    let (report, converged, after) = match wait {
        Some(limit) => report::wait_converged_after_recovery(&client, &manifest, dir, limit).await,
        None => {
            let report = report::collect(&client, &manifest).await;
            let converged = report.converged();
            (report, converged, None)
        }
    };
    print!("{}", report::render(&report));
    if let Some(after) = after {
        println!("{after}");
    }
    match last_load_result(dir) {
        Some(last) => print!("\nlast {last}"),
        None => println!("\nno load has run on this testnet yet (`credx-testnet load`)"),
    }
    print_faults(dir, &manifest);
    report::check_resent_verified(&report)?;
    if let (Some(limit), false) = (wait, converged) {
        return Err(TestnetError::NotConverged {
            seconds: limit.as_secs(),
            detail: report.lagging().join("; "),
        });
    }
    Ok(report)
}

/// The links with a fault set and the nodes not running, so a report that does not
/// converge says why.
fn print_faults(dir: &Path, manifest: &Manifest) {
    if manifest.relays.is_some() {
        match crate::chaos::status(dir) {
            Ok(edges) => {
                for edge in edges.iter().filter(|e| !e.fault.is_clear()) {
                    println!("fault on {} → {}: {}", edge.child, edge.parent, edge.fault);
                }
            }
            Err(e) => println!("relay: {e}"),
        }
    }
    let stopped: Vec<&str> = manifest
        .nodes
        .iter()
        .filter(|n| process::running_pid(n).is_none())
        .map(|n| n.origin.as_str())
        .collect();
    if !stopped.is_empty() {
        println!("not running: {}", stopped.join(", "));
    }
}

/// Stops every node (SIGTERM, then SIGKILL after the grace period), then the relay; data
/// is kept.
pub fn down(dir: &Path) -> Result<(), TestnetError> {
    let mut manifest = Manifest::load(dir)?;
    let stopped = process::stop_all(&manifest.nodes, STOP_GRACE)?;
    for node in &mut manifest.nodes {
        node.pid = None;
    }
    stop_relay(dir, &mut manifest)?;
    manifest.save(dir)?;
    println!(
        "down: {} stopped by SIGTERM, {} killed after {} s, {} not running; data kept in {}",
        stopped.terminated.len(),
        stopped.killed.len(),
        STOP_GRACE.as_secs(),
        stopped.not_running.len(),
        dir.display()
    );
    if !stopped.killed.is_empty() {
        println!("down: killed: {}", stopped.killed.join(", "));
    }
    Ok(())
}

/// `up` (default topology), 200 records/s for 20 s, the report once converged, the
/// addresses and the national node's dashboard; the federation is left running.
pub async fn demo(dir: &Path) -> Result<(), TestnetError> {
    let manifest = up(dir, Topology::Default).await?;
    println!();
    load(dir, 200.0, 20.0).await?;
    println!(
        "\nreport (waiting up to {} s for convergence):",
        DEMO_CONVERGE_WITHIN.as_secs()
    );
    let started = std::time::Instant::now();
    let outcome = report(dir, Some(DEMO_CONVERGE_WITHIN)).await;
    if outcome.is_ok() {
        println!(
            "converged {:.1} s after the load ended",
            started.elapsed().as_secs_f64()
        );
    }
    println!("\nnodes (HTTP: department API /v1/..., /metrics, /healthz, /openapi.json):");
    for node in &manifest.nodes {
        println!("  {:<14} {:<24} {}", node.origin, node.url(""), node.name);
    }
    if let Some(root) = manifest.nodes.iter().find(|node| node.parent.is_none()) {
        println!(
            "\ndashboard (the whole tree's sync health): {}\n  every node serves its \
             subtree's at /dashboard; `credx status --tree --node {}` prints it",
            root.url("/dashboard"),
            root.url("")
        );
    }
    println!(
        "\ntokens: {}/tokens/<origin>.token; logs: {}/nodes/<origin>/node.log",
        dir.display(),
        dir.display()
    );
    println!(
        "the federation keeps running; stop it with: credx-testnet down --dir {}",
        dir.display()
    );
    outcome.map(|_| ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_load_result_is_kept_whole_for_the_report_and_replaced_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(last_load_result(dir.path()), None);
        keep_load_result(dir.path(), 5000.0, 30.0, &["first".into(), "  p99".into()]);
        let kept = last_load_result(dir.path()).unwrap();
        assert!(
            kept.starts_with("load of 5000 records/s for 30 s, finished "),
            "{kept}"
        );
        assert!(kept.ends_with("first\n  p99\n"), "{kept}");
        keep_load_result(dir.path(), 200.0, 20.0, &["second".into()]);
        let kept = last_load_result(dir.path()).unwrap();
        assert!(kept.starts_with("load of 200 records/s for 20 s"), "{kept}");
        assert!(
            kept.ends_with("second\n") && !kept.contains("first"),
            "{kept}"
        );
        assert!(!dir
            .path()
            .join(format!("{LAST_LOAD_FILE}.partial"))
            .exists());
    }
}
