//! Why a testnet command failed; every variant names the node, file or address at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a testnet manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error(
        "{dir} holds no testnet (no testnet.json); start one with `credx-testnet up --dir {dir}`"
    )]
    NoTestnet { dir: PathBuf },
    #[error(
        "a testnet is already running in {dir} ({running}); stop it with `credx-testnet down --dir {dir}`"
    )]
    AlreadyRunning { dir: PathBuf, running: String },
    #[error(
        "{dir} holds a testnet of topology {found:?}, not {asked:?}; use another --dir or remove it"
    )]
    TopologyMismatch {
        dir: PathBuf,
        found: String,
        asked: String,
    },
    #[error("federation credentials: {0}")]
    Federation(#[from] credx_node::federation::FederationError),
    #[error("department tokens of {origin}: {source}")]
    Tokens {
        origin: String,
        #[source]
        source: credx_node::api::TokenError,
    },
    #[error("synthetic records for division {division}: {reason}")]
    Records { division: String, reason: String },
    #[error("cannot write the config of {origin}: {message}")]
    Config { origin: String, message: String },
    #[error("no free loopback {protocol} port: {source}")]
    Port {
        protocol: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the {name} binary was not found (looked at {tried}); build it with \
         `cargo build --release --workspace --bins` or set {env}"
    )]
    NodeBinary {
        name: String,
        env: String,
        tried: String,
    },
    #[error("cannot start the process of {origin}: {source}")]
    Spawn {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} exited while starting; the end of its log {log}:\n{tail}")]
    Died {
        origin: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{origin} did not answer /healthz at {url} within {seconds} s; its log is {log}")]
    Unhealthy {
        origin: String,
        url: String,
        seconds: u64,
        log: PathBuf,
    },
    #[error("cannot signal process {pid} ({origin}): {message}")]
    Signal {
        origin: String,
        pid: u32,
        message: String,
    },
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("the testnet has no county node to load")]
    NoCounty,
    #[error("--rate and --duration must be positive (got {rate} records/s for {seconds} s)")]
    LoadParameters { rate: f64, seconds: f64 },
    #[error("load: {failed} of {sent} records were not stored (first problem: {first})")]
    LoadFailed {
        sent: u64,
        failed: u64,
        first: String,
    },
    #[error("{failed} workflow steps (listings, objections, repairs) failed; first: {first}")]
    WorkflowFailed { failed: u64, first: String },
    #[error("not converged after {seconds} s: {detail}")]
    NotConverged { seconds: u64, detail: String },
    #[error(
        "{count} node(s) counted entries received again after verification (must be 0): {nodes}"
    )]
    ResentVerified { count: usize, nodes: String },
    #[error("relay control socket {socket}: {message}")]
    Relay {
        socket: std::path::PathBuf,
        message: String,
    },
    #[error(
        "the testnet in {dir} was generated without relays, so links cannot be cut, delayed \
         or dropped; generate one with relays (`credx-testnet up` without --no-relays)"
    )]
    NoRelays { dir: PathBuf },
    #[error("{0}")]
    RelayStart(#[from] crate::relay::RelayError),
    #[error("the relay (pid {pid}) exited while starting; its log {log}:\n{tail}")]
    RelayDied {
        pid: u32,
        log: PathBuf,
        tail: String,
    },
    #[error("no node or edge {name:?} in this testnet (known: {known})")]
    UnknownTarget { name: String, known: String },
    #[error("{origin} is not running; start it with `credx-testnet chaos restart {origin}`")]
    NotRunning { origin: String },
    #[error("{origin} did not stop within {seconds} s of SIGKILL")]
    Unkillable { origin: String, seconds: u64 },
    #[error("{what} must be {rule} (got {value})")]
    ChaosParameter {
        what: &'static str,
        rule: &'static str,
        value: String,
    },
    #[error("partition: {0}")]
    Partition(String),
}

impl TestnetError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TestnetError {
        let path = path.into();
        move |source| TestnetError::Io { path, source }
    }
}
