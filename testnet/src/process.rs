//! `credx-node` processes: finding the binary, starting a node detached from the
//! terminal, telling whether it still runs, waiting for `/healthz`, stopping it.
//!
//! A pid from the manifest is only signalled while `/proc/<pid>/cmdline` still names the
//! node's config file: a pid the system has since given to another process is left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::TestnetError;
use crate::manifest::NodeEntry;

/// Environment variable naming the `credx-node` binary to run.
pub const NODE_BIN_ENV: &str = "CREDX_NODE_BIN";
const NODE_BIN: &str = "credx-node";

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `$CREDX_NODE_BIN`, else `credx-node` beside the running executable (or one directory
/// up, where cargo puts binaries when the executable is a test in `deps/`).
pub fn find_node_bin() -> Result<PathBuf, TestnetError> {
    let mut tried = Vec::new();
    if let Some(path) = std::env::var_os(NODE_BIN_ENV) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        tried.push(path);
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(2) {
            let candidate = dir.join(NODE_BIN);
            if candidate.is_file() {
                return Ok(candidate);
            }
            tried.push(candidate);
        }
    }
    Err(TestnetError::NodeBinary {
        tried: tried
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Starts `node` in its own process group (a Ctrl-C in the terminal that ran `up` does not
/// reach it), logging to its `node.log`; returns the pid. The process outlives the caller.
pub fn spawn(node: &NodeEntry, bin: &Path) -> Result<u32, TestnetError> {
    use std::os::unix::process::CommandExt;
    let spawn_error = |source| TestnetError::Spawn {
        origin: node.origin.clone(),
        source,
    };
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log)
        .map_err(TestnetError::io(&node.log))?;
    let log_err = log.try_clone().map_err(TestnetError::io(&node.log))?;
    let child = Command::new(bin)
        .arg("--config")
        .arg(&node.config)
        .current_dir(&node.dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(spawn_error)?;
    // Dropping the handle neither kills nor waits: the node runs on after `up` exits.
    Ok(child.id())
}

/// Whether `pid` is a live (not zombie) process running `node`'s config.
pub fn is_running(node: &NodeEntry, pid: u32) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may itself hold spaces.
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']));
    if zombie {
        return false;
    }
    let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let config = node.config.as_os_str().as_encoded_bytes();
    cmdline.split(|&b| b == 0).any(|arg| arg == config)
}

/// The node's pid if it is running.
pub fn running_pid(node: &NodeEntry) -> Option<u32> {
    node.pid.filter(|&pid| is_running(node, pid))
}

/// Sends `signal` (`TERM`, `KILL`) with kill(1).
pub fn signal(node: &NodeEntry, pid: u32, signal: &str) -> Result<(), TestnetError> {
    let signal_error = |message: String| TestnetError::Signal {
        origin: node.origin.clone(),
        pid,
        message,
    };
    let output = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .output()
        .map_err(|e| signal_error(format!("cannot run kill: {e}")))?;
    if output.status.success() || !is_running(node, pid) {
        Ok(())
    } else {
        Err(signal_error(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

/// The last `lines` lines of the node's log.
pub fn log_tail(node: &NodeEntry, lines: usize) -> String {
    let text = std::fs::read_to_string(&node.log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Waits until every node answers `/healthz` with a success status; fails early, with the
/// end of its log, if a node exits.
pub async fn wait_healthy(
    client: &reqwest::Client,
    nodes: &[NodeEntry],
    limit: Duration,
) -> Result<(), TestnetError> {
    let deadline = Instant::now() + limit;
    for node in nodes {
        let url = node.url("/healthz");
        loop {
            let healthy = client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if healthy {
                break;
            }
            if node.pid.is_some_and(|pid| !is_running(node, pid)) {
                return Err(TestnetError::Died {
                    origin: node.origin.clone(),
                    log: node.log.clone(),
                    tail: log_tail(node, 20),
                });
            }
            if Instant::now() > deadline {
                return Err(TestnetError::Unhealthy {
                    origin: node.origin.clone(),
                    url,
                    seconds: limit.as_secs(),
                    log: node.log.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// What [`stop_all`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// Stopped by SIGTERM.
    pub terminated: Vec<String>,
    /// Still running `grace` after SIGTERM, then killed.
    pub killed: Vec<String>,
    /// Not running when asked.
    pub not_running: Vec<String>,
}

/// SIGTERM to every running node, a wait of up to `grace` for all of them, then SIGKILL
/// to the ones still running. Children first, so a parent does not log their departure
/// as failures while it still runs.
pub fn stop_all(nodes: &[NodeEntry], grace: Duration) -> Result<Stopped, TestnetError> {
    let mut stopped = Stopped::default();
    let mut waiting = Vec::new();
    for node in nodes.iter().rev() {
        match running_pid(node) {
            Some(pid) => {
                signal(node, pid, "TERM")?;
                waiting.push((node, pid));
            }
            None => stopped.not_running.push(node.origin.clone()),
        }
    }
    let deadline = Instant::now() + grace;
    while !waiting.is_empty() && Instant::now() < deadline {
        waiting.retain(|(node, pid)| {
            let running = is_running(node, *pid);
            if !running {
                stopped.terminated.push(node.origin.clone());
            }
            running
        });
        std::thread::sleep(Duration::from_millis(50));
    }
    for (node, pid) in waiting {
        signal(node, pid, "KILL")?;
        stopped.killed.push(node.origin.clone());
    }
    Ok(stopped)
}
