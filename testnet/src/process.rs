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
/// Environment variable naming the `credx-testnet` binary that runs the relays.
pub const TESTNET_BIN_ENV: &str = "CREDX_TESTNET_BIN";
const TESTNET_BIN: &str = "credx-testnet";

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `$CREDX_NODE_BIN`, else `credx-node` beside the running executable (or one directory
/// up, where cargo puts binaries when the executable is a test in `deps/`).
pub fn find_node_bin() -> Result<PathBuf, TestnetError> {
    find_bin(NODE_BIN_ENV, NODE_BIN)
}

/// The `credx-testnet` binary, to run the relay process: `$CREDX_TESTNET_BIN`, the running
/// executable if it is `credx-testnet`, else found like [`find_node_bin`].
pub fn find_testnet_bin() -> Result<PathBuf, TestnetError> {
    if std::env::var_os(TESTNET_BIN_ENV).is_none() {
        if let Ok(exe) = std::env::current_exe() {
            if exe.file_name().is_some_and(|n| n == TESTNET_BIN) {
                return Ok(exe);
            }
        }
    }
    find_bin(TESTNET_BIN_ENV, TESTNET_BIN)
}

fn find_bin(env: &str, name: &str) -> Result<PathBuf, TestnetError> {
    let mut tried = Vec::new();
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        tried.push(path);
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(2) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
            tried.push(candidate);
        }
    }
    Err(TestnetError::NodeBinary {
        name: name.to_owned(),
        env: env.to_owned(),
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
    let mut command = Command::new(bin);
    command
        .arg("--config")
        .arg(&node.config)
        .current_dir(&node.dir);
    spawn_detached(command, &node.origin, &node.log)
}

/// Starts the relay process of the testnet in `dir` (`credx-testnet relay --dir DIR`),
/// logging to `log`; returns the pid.
pub fn spawn_relay(dir: &Path, bin: &Path, log: &Path) -> Result<u32, TestnetError> {
    let mut command = Command::new(bin);
    command.arg("relay").arg("--dir").arg(dir).current_dir(dir);
    spawn_detached(command, "relay", log)
}

fn spawn_detached(mut command: Command, what: &str, log_path: &Path) -> Result<u32, TestnetError> {
    use std::os::unix::process::CommandExt;
    let spawn_error = |source| TestnetError::Spawn {
        origin: what.to_owned(),
        source,
    };
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(TestnetError::io(log_path))?;
    let log_err = log.try_clone().map_err(TestnetError::io(log_path))?;
    let child = command
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
    is_running_with(pid, &node.config)
}

/// Whether the process `pid`, which this process just spawned, has exited (gone or a
/// zombie). Unlike [`is_running_with`] it does not read the command line: right after
/// `spawn` returns, the kernel may not have set up the new program's arguments yet, and an
/// empty command line would read as "not running" (seen under load as a relay that "died"
/// with an empty log).
pub fn has_exited(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
}

/// Whether `pid` is a live (not zombie) process with `marker` as one of its arguments.
pub fn is_running_with(pid: u32, marker: &Path) -> bool {
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
    let marker = marker.as_os_str().as_encoded_bytes();
    cmdline.split(|&b| b == 0).any(|arg| arg == marker)
}

/// The node's pid if it is running.
pub fn running_pid(node: &NodeEntry) -> Option<u32> {
    node.pid.filter(|&pid| is_running(node, pid))
}

/// Sends `signal` (`TERM`, `KILL`) with kill(1).
pub fn signal(node: &NodeEntry, pid: u32, signal: &str) -> Result<(), TestnetError> {
    signal_with(&node.origin, pid, &node.config, signal)
}

/// Sends `signal` to `pid`, which runs with `marker` among its arguments (`what` names it
/// in errors).
pub fn signal_with(what: &str, pid: u32, marker: &Path, signal: &str) -> Result<(), TestnetError> {
    let signal_error = |message: String| TestnetError::Signal {
        origin: what.to_owned(),
        pid,
        message,
    };
    let output = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .output()
        .map_err(|e| signal_error(format!("cannot run kill: {e}")))?;
    if output.status.success() || !is_running_with(pid, marker) {
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
            if node.pid.is_some_and(has_exited) {
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
