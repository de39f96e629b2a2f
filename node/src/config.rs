//! The node's TOML configuration: parsed strictly (unknown keys are errors), then validated
//! so that every refusal names the key and says what to put there.
//!
//! Two steps, both run by `credx-node check-config` and at every start:
//! * [`Config::load`]: syntax and values (addresses, ranges, relations between keys);
//! * [`Config::load_identity`]: the files the config points at — the node's credentials,
//!   the signed roster (verified against `root.vkey`), and that they agree with the
//!   config (origin, parent, keys listed in the roster).
//!
//! Relative paths are taken relative to the directory of the config file, so a node's
//! directory can be moved as a whole. `docs/examples/node.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use credx_protocol::roster::VerifiedRoster;
use credx_storage::api::MAX_APPEND_ENTRIES;
use credx_storage::{AnchorPolicy, SequencerConfig};
use serde::Deserialize;

use crate::federation::{check_origin, unix_now, NodeCredentials, RosterFile};
use crate::health::{EdgeRules, HealthSettings};
use crate::sync::SyncLimits;
use crate::transport::TransportLimits;

/// Name of the file, in `data_dir`, where rosters adopted from the parent are kept.
pub const ADOPTED_ROSTER_FILE: &str = "roster.adopted.note";
/// Directory, in `data_dir`, of the RocksDB database.
pub const DATABASE_DIR: &str = "db";
/// Default directory, in `data_dir`, of the signing guard's checkpoint file. It must stay
/// outside the database directory: restoring a database backup must not roll it back.
pub const DEFAULT_SIGNING_DIR: &str = "signing";

/// Why a configuration was refused. Every variant names the file, and where a key is at
/// fault, the key (dotted, e.g. `sync.interval_ms`) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key, a missing key or a value of the wrong type; the
    /// parser's message names the key and shows the line.
    #[error("config file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config file {path}: key `{key}`: {problem}; {fix}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        problem: String,
        fix: String,
    },
}

impl ConfigError {
    /// The key at fault, when one is known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    origin: String,
    data_dir: PathBuf,
    credentials_dir: PathBuf,
    roster_file: PathBuf,
    #[serde(default)]
    tokens_file: Option<PathBuf>,
    #[serde(default)]
    signing_dir: Option<PathBuf>,
    #[serde(default)]
    listen_quic: Option<String>,
    listen_http: String,
    #[serde(default)]
    parent: Option<RawParent>,
    #[serde(default)]
    sync: RawSync,
    #[serde(default)]
    sequencer: RawSequencer,
    #[serde(default)]
    anchor: RawAnchor,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    health: RawHealth,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParent {
    origin: String,
    address: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSync {
    interval_ms: u64,
    max_delta_entries: u64,
    backoff_max_ms: u64,
    peer_timeout_ms: u64,
}

impl Default for RawSync {
    fn default() -> Self {
        RawSync {
            interval_ms: 250,
            max_delta_entries: SyncLimits::default().max_delta_entries,
            backoff_max_ms: 30_000,
            peer_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSequencer {
    max_batch_entries: usize,
    max_batch_delay_ms: u64,
}

impl Default for RawSequencer {
    fn default() -> Self {
        let defaults = SequencerConfig::new("");
        RawSequencer {
            max_batch_entries: defaults.max_batch_entries,
            max_batch_delay_ms: u64::try_from(defaults.max_batch_delay.as_millis()).unwrap_or(50),
        }
    }
}

/// Without an `[anchor]` table both triggers take their defaults; with one, a key left out
/// switches that trigger off (so either can be disabled, but not both).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnchor {
    #[serde(default)]
    every_entries: Option<u64>,
    #[serde(default)]
    every_ms: Option<u64>,
}

impl Default for RawAnchor {
    fn default() -> Self {
        RawAnchor {
            every_entries: Some(10_000),
            every_ms: Some(10_000),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHealth {
    report_interval_ms: u64,
    silence_limit_ms: u64,
    stop_limit_ms: u64,
    window_ms: u64,
}

impl Default for RawHealth {
    fn default() -> Self {
        let defaults = HealthSettings::default();
        RawHealth {
            report_interval_ms: millis(defaults.report_interval),
            silence_limit_ms: millis(defaults.silence_limit),
            stop_limit_ms: defaults.edge.stop_limit_ms,
            window_ms: defaults.edge.window_ms,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLog {
    format: LogFormat,
    level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// Where the parent is and who it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentConfig {
    /// The parent's origin: its certificate must name it and the roster must list it as
    /// this node's parent.
    pub origin: String,
    /// `host:port` of its QUIC endpoint, resolved again at every connection attempt.
    pub address: String,
}

/// Upward sync settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// Pause between sessions while the last one had nothing to send.
    pub interval: Duration,
    /// Most entries in one delta, sent or received.
    pub max_delta_entries: u64,
    /// Longest pause between attempts while the parent is unreachable.
    pub backoff_max: Duration,
    /// A peer silent this long is gone: the session ends (it resumes from the cursor)
    /// and the QUIC connection is dropped. Bounds how long a crashed parent holds up
    /// the next session.
    pub peer_timeout: Duration,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,credx_node::sync=debug`.
    pub level: String,
}

/// A validated configuration; paths are absolute or relative to the working directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (for messages).
    pub path: PathBuf,
    pub origin: String,
    pub data_dir: PathBuf,
    pub credentials_dir: PathBuf,
    pub roster_file: PathBuf,
    /// Department tokens; absent: no department may submit.
    pub tokens_file: Option<PathBuf>,
    /// Directory of the checkpoint file of the signing guard.
    pub signing_dir: PathBuf,
    /// Where children connect; absent: this node only dials out.
    pub listen_quic: Option<SocketAddr>,
    pub listen_http: SocketAddr,
    /// Absent only for the national node.
    pub parent: Option<ParentConfig>,
    pub sync: SyncSettings,
    pub max_batch_entries: usize,
    pub max_batch_delay: Duration,
    pub anchor: AnchorPolicy,
    pub log: LogSettings,
    /// Health reporting and edge status limits (`[health]`).
    pub health: HealthSettings,
}

/// Bounds of the numeric keys (inclusive).
mod bounds {
    pub const INTERVAL_MS: (u64, u64) = (10, 3_600_000);
    pub const BACKOFF_MAX_MS: u64 = 86_400_000;
    /// A parent holds one delta per child in memory; a million entries is far above the
    /// default and still bounded by the 32 MiB byte limit of a delta.
    pub const MAX_DELTA_ENTRIES: u64 = 1_000_000;
    pub const BATCH_DELAY_MS: u64 = 10_000;
    pub const ANCHOR_MS: (u64, u64) = (100, 86_400_000);
    /// Below a second, a parent busy writing a large delta could be taken for dead.
    pub const PEER_TIMEOUT_MS: (u64, u64) = (1_000, 300_000);
    /// Health reports go up at most every 100 ms and at least every 10 minutes.
    pub const REPORT_INTERVAL_MS: (u64, u64) = (100, 600_000);
    /// Silence, stop and window limits: from a second to a day.
    pub const HEALTH_LIMIT_MS: (u64, u64) = (1_000, 86_400_000);
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates `text` as if read from `path` (relative paths resolve against its
    /// directory).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        Validator { path }.validate(raw)
    }

    /// The sequencer settings this config asks for.
    pub fn sequencer_config(&self) -> SequencerConfig {
        let mut config = SequencerConfig::new(&self.signing_dir);
        config.max_batch_entries = self.max_batch_entries;
        config.max_batch_delay = self.max_batch_delay;
        config.anchor = self.anchor.clone();
        config
    }

    /// The sync limits this config asks for (the rest at their defaults).
    pub fn sync_limits(&self) -> SyncLimits {
        SyncLimits {
            max_delta_entries: self.sync.max_delta_entries,
            frame_timeout: self.sync.peer_timeout,
            ..SyncLimits::default()
        }
    }

    /// The transport limits: a connection silent for `sync.peer_timeout_ms` is closed,
    /// with keep-alives three times as often so a quiet but live link never is.
    pub fn transport_limits(&self) -> TransportLimits {
        TransportLimits {
            idle_timeout: self.sync.peer_timeout,
            keep_alive_interval: self.sync.peer_timeout / 3,
            ..TransportLimits::default()
        }
    }

    /// The RocksDB directory.
    pub fn database_dir(&self) -> PathBuf {
        self.data_dir.join(DATABASE_DIR)
    }

    /// Where rosters adopted from the parent are written.
    pub fn adopted_roster_file(&self) -> PathBuf {
        self.data_dir.join(ADOPTED_ROSTER_FILE)
    }

    fn invalid(&self, key: &'static str, problem: String, fix: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone(),
            key,
            problem,
            fix,
        }
    }

    /// Loads the credentials and the roster the config names and checks that they agree
    /// with it and with each other. The roster in force is the newest valid one of
    /// `roster_file` and the one adopted earlier from the parent (in `data_dir`).
    pub fn load_identity(&self) -> Result<NodeIdentity, ConfigError> {
        let credentials = NodeCredentials::load(&self.credentials_dir).map_err(|e| {
            self.invalid(
                "credentials_dir",
                e.to_string(),
                "point it at the directory `credx node issue` wrote for this node".to_owned(),
            )
        })?;
        if credentials.origin() != self.origin {
            return Err(self.invalid(
                "credentials_dir",
                format!(
                    "{} holds the credentials of {:?}, not of origin {:?}",
                    self.credentials_dir.display(),
                    credentials.origin(),
                    self.origin
                ),
                "point it at this node's credentials, or fix `origin`".to_owned(),
            ));
        }
        let now = unix_now();
        let initial = RosterFile::new(&self.roster_file)
            .load_verified(credentials.root_vkey(), now)
            .map_err(|e| e.to_string());
        let adopted_path = self.adopted_roster_file();
        let adopted = if adopted_path.exists() {
            match RosterFile::new(&adopted_path).load_verified(credentials.root_vkey(), now) {
                Ok(roster) => Some(roster),
                Err(e) => {
                    tracing::warn!(
                        file = %adopted_path.display(),
                        "ignoring the roster adopted earlier: {e}"
                    );
                    None
                }
            }
        } else {
            None
        };
        let roster = match (initial, adopted) {
            (Ok(initial), Some(adopted)) if adopted.version() > initial.version() => adopted,
            (Ok(initial), _) => initial,
            (Err(_), Some(adopted)) => adopted,
            (Err(problem), None) => {
                return Err(self.invalid(
                    "roster_file",
                    problem,
                    "install a current roster signed by the trust root (`credx roster sign`)"
                        .to_owned(),
                ))
            }
        };
        self.check_against_roster(&credentials, &roster)?;
        Ok(NodeIdentity {
            credentials,
            roster,
        })
    }

    fn check_against_roster(
        &self,
        credentials: &NodeCredentials,
        roster: &VerifiedRoster,
    ) -> Result<(), ConfigError> {
        let version = roster.version();
        let Some(node) = roster.node(&self.origin) else {
            return Err(self.invalid(
                "origin",
                format!("{:?} is not in roster v{version}", self.origin),
                "use the origin the roster lists for this node, or install a roster that lists it"
                    .to_owned(),
            ));
        };
        let own_vkey = credentials.checkpoint_signer().verifier_key().to_string();
        if node.checkpoint_key.trim() != own_vkey.trim() {
            return Err(self.invalid(
                "credentials_dir",
                format!(
                    "the log key in {} is not the checkpoint key roster v{version} lists for {}",
                    self.credentials_dir.display(),
                    self.origin
                ),
                "use the credentials the roster was signed with, or have the roster re-signed"
                    .to_owned(),
            ));
        }
        match (&node.parent, &self.parent) {
            (None, None) => {}
            (None, Some(parent)) => {
                return Err(self.invalid(
                    "parent",
                    format!(
                        "roster v{version} lists {} as the national node (no parent), but the \
                         config names parent {:?}",
                        self.origin, parent.origin
                    ),
                    "remove the [parent] table".to_owned(),
                ))
            }
            (Some(expected), None) => {
                return Err(self.invalid(
                    "parent",
                    format!(
                        "roster v{version} lists {expected} as the parent of {}",
                        self.origin
                    ),
                    format!("add [parent] with origin = {expected:?} and its address"),
                ))
            }
            (Some(expected), Some(parent)) if *expected != parent.origin => {
                return Err(self.invalid(
                    "parent.origin",
                    format!(
                        "roster v{version} lists {expected} as the parent of {}, not {:?}",
                        self.origin, parent.origin
                    ),
                    format!("set it to {expected:?}"),
                ))
            }
            (Some(_), Some(_)) => {}
        }
        let children = roster.children(&self.origin);
        if self.listen_quic.is_none() && !children.is_empty() {
            let names: Vec<&str> = children.iter().map(|c| c.origin.as_str()).collect();
            return Err(self.invalid(
                "listen_quic",
                format!(
                    "roster v{version} lists children of {} ({}) that sync to it, but it does \
                     not listen",
                    self.origin,
                    names.join(", ")
                ),
                "set it, e.g. listen_quic = \"0.0.0.0:7400\"".to_owned(),
            ));
        }
        Ok(())
    }
}

/// What [`Config::load_identity`] found: the node's credentials and the roster in force.
#[derive(Debug)]
pub struct NodeIdentity {
    pub credentials: NodeCredentials,
    pub roster: VerifiedRoster,
}

struct Validator<'a> {
    path: &'a Path,
}

impl Validator<'_> {
    fn invalid(
        &self,
        key: &'static str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key,
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// `value` relative to the config file's directory.
    fn resolve(&self, key: &'static str, value: PathBuf) -> Result<PathBuf, ConfigError> {
        if value.as_os_str().is_empty() {
            return Err(self.invalid(key, "is empty", "give a directory or file path"));
        }
        if value.is_absolute() {
            return Ok(value);
        }
        let base = self.path.parent().unwrap_or_else(|| Path::new(""));
        Ok(base.join(value))
    }

    fn socket(&self, key: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
        value.trim().parse().map_err(|_| {
            self.invalid(
                key,
                format!("{value:?} is not an IP address with a port"),
                "write it like \"0.0.0.0:7400\" or \"[::1]:8080\"",
            )
        })
    }

    fn range(
        &self,
        key: &'static str,
        value: u64,
        (low, high): (u64, u64),
    ) -> Result<u64, ConfigError> {
        if value < low || value > high {
            return Err(self.invalid(
                key,
                format!("{value} is outside {low}..={high}"),
                format!("choose a value from {low} to {high}"),
            ));
        }
        Ok(value)
    }

    fn validate(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        check_origin(&raw.origin).map_err(|e| {
            self.invalid(
                "origin",
                e.to_string(),
                "use the node's origin as the roster lists it, e.g. \"440106.credx\"",
            )
        })?;
        let data_dir = self.resolve("data_dir", raw.data_dir)?;
        let signing_dir = match raw.signing_dir {
            Some(dir) => self.resolve("signing_dir", dir)?,
            None => data_dir.join(DEFAULT_SIGNING_DIR),
        };
        if signing_dir.starts_with(data_dir.join(DATABASE_DIR)) {
            return Err(self.invalid(
                "signing_dir",
                format!(
                    "{} lies inside the database directory {}",
                    signing_dir.display(),
                    data_dir.join(DATABASE_DIR).display()
                ),
                "choose a directory outside it: restoring a database backup must not roll \
                 the signing guard's checkpoint file back",
            ));
        }
        let credentials_dir = self.resolve("credentials_dir", raw.credentials_dir)?;
        let roster_file = self.resolve("roster_file", raw.roster_file)?;
        let tokens_file = raw
            .tokens_file
            .map(|p| self.resolve("tokens_file", p))
            .transpose()?;
        let listen_quic = raw
            .listen_quic
            .as_deref()
            .map(|a| self.socket("listen_quic", a))
            .transpose()?;
        let listen_http = self.socket("listen_http", &raw.listen_http)?;
        let parent = raw.parent.map(|p| self.parent(p)).transpose()?;
        if parent.as_ref().is_some_and(|p| p.origin == raw.origin) {
            return Err(self.invalid(
                "parent.origin",
                "names this node itself",
                "set it to the origin of the node above this one",
            ));
        }

        let interval_ms = self.range(
            "sync.interval_ms",
            raw.sync.interval_ms,
            bounds::INTERVAL_MS,
        )?;
        let backoff_max_ms = self.range(
            "sync.backoff_max_ms",
            raw.sync.backoff_max_ms,
            (interval_ms, bounds::BACKOFF_MAX_MS),
        )?;
        let peer_timeout_ms = self.range(
            "sync.peer_timeout_ms",
            raw.sync.peer_timeout_ms,
            bounds::PEER_TIMEOUT_MS,
        )?;
        let batch_limit = (MAX_APPEND_ENTRIES - 1) as u64;
        let max_batch_entries = self.range(
            "sequencer.max_batch_entries",
            raw.sequencer.max_batch_entries as u64,
            (1, batch_limit),
        )?;
        // A delta ends on a checkpoint the origin signed; the sequencer signs after every
        // batch (plus one anchor entry), so deltas must be able to hold one batch.
        let min_delta = max_batch_entries + 1;
        let max_delta_entries = self.range(
            "sync.max_delta_entries",
            raw.sync.max_delta_entries,
            (min_delta, bounds::MAX_DELTA_ENTRIES),
        )?;
        let max_batch_delay_ms = self.range(
            "sequencer.max_batch_delay_ms",
            raw.sequencer.max_batch_delay_ms,
            (0, bounds::BATCH_DELAY_MS),
        )?;
        let anchor = self.anchor(raw.anchor)?;
        let log = self.log(raw.log)?;
        let health = self.health(raw.health)?;
        Ok(Config {
            path: self.path.to_owned(),
            origin: raw.origin,
            data_dir,
            credentials_dir,
            roster_file,
            tokens_file,
            signing_dir,
            listen_quic,
            listen_http,
            parent,
            sync: SyncSettings {
                interval: Duration::from_millis(interval_ms),
                max_delta_entries,
                backoff_max: Duration::from_millis(backoff_max_ms),
                peer_timeout: Duration::from_millis(peer_timeout_ms),
            },
            max_batch_entries: max_batch_entries as usize,
            max_batch_delay: Duration::from_millis(max_batch_delay_ms),
            anchor,
            log,
            health,
        })
    }

    fn health(&self, raw: RawHealth) -> Result<HealthSettings, ConfigError> {
        let report_interval_ms = self.range(
            "health.report_interval_ms",
            raw.report_interval_ms,
            bounds::REPORT_INTERVAL_MS,
        )?;
        // A node is silent when no report arrived for this long: it must leave room for
        // a few report intervals per level of relay.
        let silence_limit_ms = self.range(
            "health.silence_limit_ms",
            raw.silence_limit_ms,
            (
                report_interval_ms
                    .saturating_mul(2)
                    .max(bounds::HEALTH_LIMIT_MS.0),
                bounds::HEALTH_LIMIT_MS.1,
            ),
        )?;
        let stop_limit_ms = self.range(
            "health.stop_limit_ms",
            raw.stop_limit_ms,
            bounds::HEALTH_LIMIT_MS,
        )?;
        let window_ms = self.range("health.window_ms", raw.window_ms, bounds::HEALTH_LIMIT_MS)?;
        Ok(HealthSettings {
            report_interval: Duration::from_millis(report_interval_ms),
            silence_limit: Duration::from_millis(silence_limit_ms),
            edge: EdgeRules {
                window_ms,
                stop_limit_ms,
                ..EdgeRules::default()
            },
        })
    }

    fn parent(&self, raw: RawParent) -> Result<ParentConfig, ConfigError> {
        check_origin(&raw.origin).map_err(|e| {
            self.invalid(
                "parent.origin",
                e.to_string(),
                "use the parent's origin as the roster lists it, e.g. \"440100.credx\"",
            )
        })?;
        let address = raw.address.trim().to_owned();
        let port_ok = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(self.invalid(
                "parent.address",
                format!("{:?} is not host:port", raw.address),
                "write the parent's QUIC endpoint like \"city.example.gov.cn:7400\" or \"10.0.0.2:7400\"",
            ));
        }
        Ok(ParentConfig {
            origin: raw.origin,
            address,
        })
    }

    fn anchor(&self, raw: RawAnchor) -> Result<AnchorPolicy, ConfigError> {
        if raw.every_entries.is_none() && raw.every_ms.is_none() {
            return Err(self.invalid(
                "anchor",
                "neither every_entries nor every_ms is set, so the status-map root would never be \
                 committed to the log",
                "set at least one, e.g. every_entries = 10000 and every_ms = 10000",
            ));
        }
        let every_entries = raw
            .every_entries
            .map(|n| self.range("anchor.every_entries", n, (1, u64::MAX)))
            .transpose()?;
        let every = raw
            .every_ms
            .map(|ms| self.range("anchor.every_ms", ms, bounds::ANCHOR_MS))
            .transpose()?
            .map(Duration::from_millis);
        Ok(AnchorPolicy {
            every_entries,
            every,
        })
    }

    fn log(&self, raw: RawLog) -> Result<LogSettings, ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&raw.level).map_err(|e| {
            self.invalid(
                "log.level",
                format!("{:?} is not a log filter: {e}", raw.level),
                "use error, warn, info, debug or trace, optionally per module \
                 (\"info,credx_node::sync=debug\")",
            )
        })?;
        Ok(LogSettings {
            format: raw.format,
            level: raw.level,
        })
    }
}
