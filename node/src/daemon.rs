//! The running node: storage, the sequencer of its own log, the QUIC endpoint serving its
//! children, the upstream loop to its parent, and the HTTP server (department API,
//! `/metrics`, `/healthz`).
//!
//! "Degrade, don't stop": ingestion never waits for the parent. The upstream loop runs a
//! session as soon as a log it ships grows (a signed checkpoint, a written delta), one per
//! interval while idle, the next one at once while sessions still send entries, and backs
//! off exponentially (with jitter, up to `sync.backoff_max_ms`) while the parent is
//! unreachable; the API keeps accepting records meanwhile.
//!
//! Shutdown ([`Daemon::shutdown`]): stop accepting HTTP requests and let those in flight
//! finish, stop the upstream loop (an interrupted session resumes from the parent's cursor
//! next time), close the QUIC endpoint, let the sequencer finish the batch it holds, flush
//! the database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use credx_protocol::roster::{JurisdictionSpec, RosterStatus};
use credx_storage::{
    EntryPlanner, LogRole, LogStore, RocksStorage, Sequencer, SignedHook, Storage, StorageError,
    StorageOptions,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rand::Rng;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{ApiState, TokenError, TokenStore};
use crate::config::{Config, ConfigError, ParentConfig, SyncSettings};
use crate::health::{certificate_expiry_ms, HealthBook, Outcome};
use crate::sync::context::now_ms;
use crate::sync::{
    serve, upload_on, RosterAuthorizer, SharedRoster, SyncContext, SyncFailure, SyncMetrics,
    Unacknowledged, UploadReport,
};
use crate::transport::tls::{client_config, server_config};
use crate::transport::{PeerConnection, TlsError, Transport, TransportError};
use crate::warm::ProofCacheWarmer;

/// How long shutdown waits for HTTP requests in flight before dropping them.
const HTTP_DRAIN: Duration = Duration::from_secs(30);
/// How long shutdown waits for QUIC connections to tell their peers they are closed.
const QUIC_DRAIN: Duration = Duration::from_secs(5);
/// How long shutdown waits for the last users of the sequencer to let go of it.
const SEQUENCER_RELEASE: Duration = Duration::from_secs(30);

/// Why the daemon did not start. Each names the key or path concerned.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("key `data_dir`: cannot create {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "key `data_dir`: cannot open the database {path}: {source} (is another credx-node \
         running on this data directory?)"
    )]
    Storage { path: PathBuf, source: StorageError },
    #[error("cannot start the sequencer of {origin}: {source}")]
    Sequencer {
        origin: String,
        source: StorageError,
    },
    #[error("key `credentials_dir`: the TLS identity cannot be used: {0}")]
    Tls(#[from] TlsError),
    #[error("key `listen_quic`: cannot bind the QUIC endpoint on {addr}: {source}")]
    Quic {
        addr: SocketAddr,
        source: TransportError,
    },
    #[error("key `listen_http`: cannot listen on {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Where the link to the parent stands (for `/healthz` and metrics).
#[derive(Debug, Default)]
struct UpstreamStatus {
    consecutive_failures: AtomicU64,
    /// Unix milliseconds of the last session that completed; 0: none yet.
    last_success_ms: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl UpstreamStatus {
    fn succeeded(&self) {
        self.consecutive_failures.store(0, Ordering::Relaxed);
        self.last_success_ms.store(now_ms(), Ordering::Relaxed);
        if let Ok(mut error) = self.last_error.lock() {
            *error = None;
        }
    }

    fn failed(&self, error: String) -> u64 {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error);
        }
        self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1
    }
}

fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    origin: String,
    level: String,
    git_commit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PropertyLabels {
    cf: String,
    property: String,
}

/// RocksDB health read at every scrape: properties of the `hashes` column family (the
/// largest, written by every append), the one the storage engine exposes properties of.
#[derive(Debug, Clone, Default)]
struct RocksGauges {
    properties: Family<PropertyLabels, Gauge>,
}

impl RocksGauges {
    /// Integer properties worth alerting on: compaction debt, size, write stalls.
    const PROPERTIES: [&'static str; 5] = [
        "rocksdb.estimate-pending-compaction-bytes",
        "rocksdb.live-sst-files-size",
        "rocksdb.num-running-compactions",
        "rocksdb.is-write-stopped",
        "rocksdb.actual-delayed-write-rate",
    ];

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "credx_rocksdb_property",
            "Integer RocksDB properties (compaction debt, live SST bytes, running compactions, \
             write stop and delay), by column family",
            self.properties.clone(),
        );
    }

    fn refresh(&self, store: &RocksStorage) {
        for property in Self::PROPERTIES {
            let Ok(Some(text)) = store.hashes_cf_property(property) else {
                continue;
            };
            if let Ok(value) = text.trim().parse::<u64>() {
                self.properties
                    .get_or_create(&PropertyLabels {
                        cf: "hashes".to_owned(),
                        property: property.to_owned(),
                    })
                    .set(gauge_value(value));
            }
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OriginLabel {
    origin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LogLabels {
    origin: String,
    role: String,
}

/// Gauges read from the node's state at every scrape.
#[derive(Debug, Clone, Default)]
struct NodeGauges {
    log_entries: Family<LogLabels, Gauge>,
    index_backlog: Family<OriginLabel, Gauge>,
    roster_version: Gauge,
    roster_expires: Gauge,
    upstream_failures: Gauge,
    upstream_last_success: Gauge,
}

impl NodeGauges {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "credx_log_entries",
            "Entries in each log this node holds, by origin and role (own or mirror)",
            self.log_entries.clone(),
        );
        registry.register(
            "credx_mirror_index_backlog_entries",
            "Entries of each mirrored log not indexed yet: queries, the status map and the \
             list feed of this node lag the mirror by this many (indexing yields to receive \
             sessions)",
            self.index_backlog.clone(),
        );
        registry.register(
            "credx_roster_version",
            "Version of the roster in force",
            self.roster_version.clone(),
        );
        registry.register(
            "credx_roster_expires_unix_seconds",
            "When the roster in force expires (Unix seconds)",
            self.roster_expires.clone(),
        );
        registry.register(
            "credx_upstream_consecutive_failures",
            "Upload sessions to the parent that failed since the last one that completed",
            self.upstream_failures.clone(),
        );
        registry.register(
            "credx_upstream_last_success_unix_ms",
            "When the last upload session to the parent completed (Unix ms; 0: never)",
            self.upstream_last_success.clone(),
        );
    }
}

/// What `/metrics` and `/healthz` read.
#[derive(Clone)]
struct OpsState {
    origin: Arc<str>,
    parent: Option<Arc<str>>,
    registry: Arc<Registry>,
    gauges: NodeGauges,
    store: Arc<dyn Storage>,
    roster: Arc<SharedRoster>,
    sequencer: Arc<Sequencer>,
    upstream: Arc<UpstreamStatus>,
    health: Arc<HealthBook>,
    rocks: Arc<RocksStorage>,
    rocksdb: RocksGauges,
}

impl OpsState {
    fn refresh(&self) {
        self.health.refresh_gauges(now_ms());
        self.rocksdb.refresh(&self.rocks);

        if let Ok(logs) = self.store.logs() {
            for log in logs {
                if log.role == LogRole::Mirror {
                    if let Ok(indexed) = self.store.indexed_size(&log.origin) {
                        self.gauges
                            .index_backlog
                            .get_or_create(&OriginLabel {
                                origin: log.origin.clone(),
                            })
                            .set(gauge_value(log.size.saturating_sub(indexed)));
                    }
                }
                let labels = LogLabels {
                    origin: log.origin,
                    role: log.role.as_str().to_owned(),
                };
                self.gauges
                    .log_entries
                    .get_or_create(&labels)
                    .set(gauge_value(log.size));
            }
        }
        let roster = self.roster.current();
        self.gauges
            .roster_version
            .set(gauge_value(roster.version()));
        self.gauges
            .roster_expires
            .set(gauge_value(roster.expires_at()));
        self.gauges.upstream_failures.set(gauge_value(
            self.upstream.consecutive_failures.load(Ordering::Relaxed),
        ));
        self.gauges.upstream_last_success.set(gauge_value(
            self.upstream.last_success_ms.load(Ordering::Relaxed),
        ));
    }
}

async fn metrics(State(ops): State<OpsState>) -> Response {
    // Store reads (logs, checkpoints, RocksDB properties): off the async workers.
    let ops = match tokio::task::spawn_blocking(move || {
        ops.refresh();
        ops
    })
    .await
    {
        Ok(ops) => ops,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("reading metrics failed: {e}"),
            )
                .into_response()
        }
    };
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &ops.registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics failed: {e}"),
        )
            .into_response(),
    }
}

/// The `/healthz` answer.
#[derive(Debug, Serialize)]
struct Health {
    /// `ok`; `degraded` (parent unreachable, roster expiring); `refusing` (the own log
    /// does not accept entries: signing refused or roster expired).
    status: &'static str,
    origin: String,
    own_log_size: u64,
    signing: String,
    roster_version: u64,
    roster_status: String,
    parent: Option<ParentHealth>,
}

#[derive(Debug, Serialize)]
struct ParentHealth {
    origin: String,
    consecutive_failures: u64,
    last_success_unix_ms: Option<u64>,
    last_error: Option<String>,
}

async fn healthz(State(ops): State<OpsState>) -> Response {
    let signing = match ops.sequencer.signing_state() {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("refused: {e}"),
    };
    let roster = ops.roster.current();
    let roster_status = roster.status(now_ms() / 1000);
    let failures = ops.upstream.consecutive_failures.load(Ordering::Relaxed);
    let last_success = ops.upstream.last_success_ms.load(Ordering::Relaxed);
    let parent = ops.parent.as_ref().map(|origin| ParentHealth {
        origin: origin.to_string(),
        consecutive_failures: failures,
        last_success_unix_ms: (last_success > 0).then_some(last_success),
        last_error: ops.upstream.last_error.lock().ok().and_then(|e| e.clone()),
    });
    let refusing = signing != "ok" || roster_status == RosterStatus::Expired;
    let degraded = failures > 0 || matches!(roster_status, RosterStatus::ExpiringSoon { .. });
    let status = if refusing {
        "refusing"
    } else if degraded {
        "degraded"
    } else {
        "ok"
    };
    let health = Health {
        status,
        origin: ops.origin.to_string(),
        own_log_size: ops.store.log_size(&ops.origin).unwrap_or(0),
        signing,
        roster_version: roster.version(),
        roster_status: match roster_status {
            RosterStatus::Valid => "valid".to_owned(),
            RosterStatus::ExpiringSoon { seconds_left } => {
                format!("expiring in {seconds_left} s")
            }
            RosterStatus::Expired => "expired".to_owned(),
        },
        parent,
    };
    let code = if refusing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(health)).into_response()
}

/// A running node.
pub struct Daemon {
    origin: String,
    http_addr: SocketAddr,
    quic_addr: SocketAddr,
    store: Arc<RocksStorage>,
    sequencer: Arc<Sequencer>,
    transport: Transport,
    ctx: Arc<SyncContext>,
    stop: watch::Sender<bool>,
    http: JoinHandle<()>,
    serve: Option<JoinHandle<()>>,
    upstream: Option<JoinHandle<()>>,
    warmer: Option<ProofCacheWarmer>,
    /// The department tokens the API checks, and the file they come from.
    tokens: Arc<TokenStore>,
    tokens_file: Option<PathBuf>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("origin", &self.origin)
            .field("http_addr", &self.http_addr)
            .field("quic_addr", &self.quic_addr)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// Starts the node `config` describes. Must run inside a multi-threaded tokio runtime
    /// (storage work in sync sessions uses `block_in_place`).
    pub async fn start(config: Config) -> Result<Daemon, DaemonError> {
        let identity = config.load_identity()?;
        let origin = config.origin.clone();
        for dir in [&config.data_dir, &config.signing_dir] {
            std::fs::create_dir_all(dir).map_err(|source| DaemonError::DataDir {
                path: dir.clone(),
                source,
            })?;
        }
        let db_path = config.database_dir();
        let store = Arc::new(
            RocksStorage::open(&db_path, &StorageOptions::default()).map_err(|source| {
                DaemonError::Storage {
                    path: db_path.clone(),
                    source,
                }
            })?,
        );
        store
            .register_log(&origin, LogRole::Own)
            .map_err(|source| DaemonError::Storage {
                path: db_path.clone(),
                source,
            })?;
        let warmer = match ProofCacheWarmer::start(Arc::clone(&store)) {
            Ok(warmer) => Some(warmer),
            Err(e) => {
                tracing::warn!("proof cache not warmed: cannot start its thread: {e}");
                None
            }
        };
        let log_advanced = Arc::new(tokio::sync::Notify::new());
        let mut sequencer_config = config.sequencer_config();
        let signalled = Arc::clone(&log_advanced);
        sequencer_config.on_signed = Some(SignedHook::new(move |_size| signalled.notify_one()));
        let sequencer = Arc::new(
            Sequencer::start(
                Arc::clone(&store),
                identity.credentials.checkpoint_signer().clone(),
                EntryPlanner::new(origin.as_str()),
                sequencer_config,
            )
            .map_err(|source| DaemonError::Sequencer {
                origin: origin.clone(),
                source,
            })?,
        );
        if let Err(e) = sequencer.signing_state() {
            tracing::error!(origin, "the own log refuses new entries: {e}");
        }
        let tokens = match &config.tokens_file {
            Some(path) => TokenStore::load(path).map_err(|e| ConfigError::Invalid {
                path: config.path.clone(),
                key: "tokens_file",
                problem: e.to_string(),
                fix: "point it at the department token file (JSON, version 1), or remove the \
                      key to run without departments"
                    .to_owned(),
            })?,
            None => {
                tracing::warn!("no tokens_file: no department can submit records");
                TokenStore::new()
            }
        };
        let jurisdiction =
            identity
                .roster
                .node(&origin)
                .and_then(|node| match node.jurisdiction.as_slice() {
                    [JurisdictionSpec::Division(j)] => Some(*j),
                    _ => None,
                });

        let roster = Arc::new(SharedRoster::new(
            identity.roster,
            Some(config.adopted_roster_file()),
        ));
        let credentials = &identity.credentials;
        let roots = credentials.roots().map_err(|e| ConfigError::Invalid {
            path: config.path.clone(),
            key: "credentials_dir",
            problem: e.to_string(),
            fix: "install the federation CA certificate (ca.crt) next to the node's keys"
                .to_owned(),
        })?;
        let server = match config.listen_quic {
            Some(_) => Some(server_config(credentials.tls(), &roots)?),
            None => None,
        };
        let client = client_config(credentials.tls(), &roots)?;
        let authorizer = Arc::new(RosterAuthorizer::new(origin.as_str(), Arc::clone(&roster)));
        let bind_addr = match config.listen_quic {
            Some(addr) => addr,
            None => dial_only_address(config.parent.as_ref()).await,
        };
        // The reset key is derived from the node's TLS key, so it survives a restart.
        let transport = Transport::bind_with_reset_secret(
            bind_addr,
            server,
            client,
            authorizer,
            config.transport_limits(),
            credentials.tls().to_pem().private_key_pem.as_bytes(),
        )
        .map_err(|source| DaemonError::Quic {
            addr: bind_addr,
            source,
        })?;
        let quic_addr = transport.local_addr().map_err(|source| DaemonError::Quic {
            addr: bind_addr,
            source: TransportError::Bind {
                addr: bind_addr,
                source,
            },
        })?;

        let dyn_store: Arc<dyn Storage> = store.clone();
        let sync_metrics = SyncMetrics::default();
        let indexer =
            crate::sync::MirrorIndexer::start(Arc::clone(&dyn_store)).map_err(|source| {
                DaemonError::DataDir {
                    path: config.data_dir.clone(),
                    source,
                }
            })?;
        let health = Arc::new(
            HealthBook::new(
                origin.clone(),
                Arc::clone(&dyn_store),
                Arc::clone(&roster),
                credentials.checkpoint_signer().clone(),
                config.health.clone(),
                now_ms(),
            )
            .with_certificate_expiry(certificate_expiry_ms(credentials.tls())),
        );
        let ctx = Arc::new(SyncContext {
            origin: origin.clone(),
            store: Arc::clone(&dyn_store),
            roster: Arc::clone(&roster),
            cosigner: credentials.cosigner().clone(),
            limits: config.sync_limits(),
            metrics: sync_metrics.clone(),
            indexer: Arc::new(indexer),
            health: Arc::clone(&health),
            log_advanced,
        });

        let mut registry = Registry::default();
        sync_metrics.register(&mut registry);
        health.metrics().register(&mut registry);
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                origin: origin.clone(),
                level: roster
                    .current()
                    .node(&origin)
                    .map_or("unknown", |n| n.level.as_str())
                    .to_owned(),
                git_commit: option_env!("CREDX_GIT_COMMIT")
                    .unwrap_or("unknown")
                    .to_owned(),
            })
            .set(1);
        registry.register(
            "credx_build_info",
            "The credx-node version running (git commit when built with CREDX_GIT_COMMIT), \
             its origin and roster level",
            build_info,
        );

        let rocksdb = RocksGauges::default();
        rocksdb.register(&mut registry);
        let gauges = NodeGauges::default();
        gauges.register(&mut registry);
        let upstream_status = Arc::new(UpstreamStatus::default());

        let listener = tokio::net::TcpListener::bind(config.listen_http)
            .await
            .map_err(|source| DaemonError::Http {
                addr: config.listen_http,
                source,
            })?;
        let http_addr = listener.local_addr().map_err(|source| DaemonError::Http {
            addr: config.listen_http,
            source,
        })?;

        let (stop, stopped) = watch::channel(false);
        let ops = OpsState {
            origin: origin.as_str().into(),
            parent: config.parent.as_ref().map(|p| p.origin.as_str().into()),
            registry: Arc::new(registry),
            gauges,
            store: Arc::clone(&dyn_store),
            roster: Arc::clone(&roster),
            sequencer: Arc::clone(&sequencer),
            upstream: Arc::clone(&upstream_status),
            health: Arc::clone(&health),
            rocks: Arc::clone(&store),
            rocksdb,
        };
        let tokens = Arc::new(tokens);
        let mut api = ApiState::new(
            origin.clone(),
            dyn_store,
            Arc::clone(&sequencer),
            Arc::clone(&tokens),
        )
        .with_max_submission(config.max_batch_entries)
        .with_roster(Arc::clone(&roster));
        if let Some(jurisdiction) = jurisdiction {
            api = api.with_jurisdiction(jurisdiction);
        }
        let app = Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .with_state(ops)
            .merge(crate::health::api::router(Arc::clone(&health)))
            .merge(crate::dashboard::router())
            .merge(crate::api::router(api));
        let http = tokio::spawn(run_http(listener, app, stopped.clone()));

        let serve_task = config
            .listen_quic
            .is_some()
            .then(|| tokio::spawn(serve(transport.clone(), Arc::clone(&ctx))));
        let upstream = config.parent.clone().map(|parent| {
            tokio::spawn(
                Upstream {
                    transport: transport.clone(),
                    ctx: Arc::clone(&ctx),
                    parent,
                    settings: config.sync.clone(),
                    unacked: Arc::new(Unacknowledged::default()),
                    status: upstream_status,
                    connection: None,
                }
                .run(stopped),
            )
        });
        tracing::info!(
            origin,
            http = %http_addr,
            quic = %quic_addr,
            listening = config.listen_quic.is_some(),
            parent = config.parent.as_ref().map(|p| p.origin.as_str()).unwrap_or("none"),
            roster_version = roster.current().version(),
            own_log_size = store.log_size(&origin).unwrap_or(0),
            "credx-node started"
        );
        Ok(Daemon {
            origin,
            http_addr,
            quic_addr,
            store,
            sequencer,
            transport,
            ctx,
            stop,
            http,
            serve: serve_task,
            upstream,
            warmer,
            tokens,
            tokens_file: config.tokens_file.clone(),
        })
    }

    /// Reads the department token file again (on SIGHUP), so an issued token works and a
    /// revoked one stops working without a restart. All or nothing: a file that does not
    /// load leaves the tokens in force as they were. `Ok(None)`: no `tokens_file` is
    /// configured.
    pub fn reload_tokens(&self) -> Result<Option<usize>, TokenError> {
        let Some(path) = &self.tokens_file else {
            return Ok(None);
        };
        self.tokens.reload(path).map(Some)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The HTTP address (the API, `/metrics`, `/healthz`).
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The local address of the QUIC endpoint (ephemeral when the node only dials out).
    pub fn quic_addr(&self) -> SocketAddr {
        self.quic_addr
    }

    /// The sync counters (shared with `/metrics`).
    pub fn sync_metrics(&self) -> &SyncMetrics {
        &self.ctx.metrics
    }

    /// This node's health book (`/v1/health`, `/v1/health/tree`).
    pub fn health(&self) -> &Arc<HealthBook> {
        &self.ctx.health
    }

    /// The store (tests and tools in the same process).
    pub fn store(&self) -> &Arc<RocksStorage> {
        &self.store
    }

    /// Graceful shutdown; see the module documentation for the order.
    pub async fn shutdown(self) {
        let Daemon {
            origin,
            store,
            sequencer,
            transport,
            ctx,
            stop,
            http,
            serve,
            upstream,
            warmer,
            ..
        } = self;
        tracing::info!(origin, "shutting down");
        let _ = stop.send(true);
        await_task("HTTP server", http, HTTP_DRAIN).await;
        tracing::debug!("HTTP server stopped");
        if let Some(task) = upstream {
            await_task("upstream loop", task, QUIC_DRAIN).await;
            tracing::debug!("upstream loop stopped");
        }
        transport.close("node shutting down");
        if let Some(task) = serve {
            await_task("QUIC server", task, QUIC_DRAIN).await;
        }
        if tokio::time::timeout(QUIC_DRAIN, transport.wait_idle())
            .await
            .is_err()
        {
            tracing::warn!("QUIC connections did not close within {QUIC_DRAIN:?}");
        }
        tracing::debug!("QUIC endpoint closed");
        drop(ctx);
        stop_sequencer(sequencer).await;
        tracing::debug!("sequencer stopped");
        if let Some(warmer) = warmer {
            let _ = tokio::task::spawn_blocking(move || warmer.stop()).await;
        }
        let flushed = tokio::task::spawn_blocking(move || store.flush()).await;
        match flushed {
            Ok(Ok(())) => tracing::info!(origin, "stopped"),
            Ok(Err(e)) => tracing::warn!(
                origin,
                "flushing the database failed (the WAL holds every write): {e}"
            ),
            Err(e) => tracing::warn!(origin, "flushing the database panicked: {e}"),
        }
    }
}

/// Waits for `task`, aborting it after `limit`.
async fn await_task(name: &str, mut task: JoinHandle<()>, limit: Duration) {
    if tokio::time::timeout(limit, &mut task).await.is_err() {
        tracing::warn!("{name} did not stop within {limit:?}; aborting it");
        task.abort();
        let _ = task.await;
    }
}

/// Lets the sequencer finish its current batch and stops it, once the HTTP handlers that
/// shared it are gone.
async fn stop_sequencer(mut sequencer: Arc<Sequencer>) {
    let deadline = Instant::now() + SEQUENCER_RELEASE;
    loop {
        match Arc::try_unwrap(sequencer) {
            Ok(sequencer) => {
                let _ = tokio::task::spawn_blocking(move || sequencer.shutdown()).await;
                return;
            }
            Err(shared) if Instant::now() < deadline => {
                sequencer = shared;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => {
                tracing::warn!(
                    "the sequencer is still shared after {SEQUENCER_RELEASE:?}; it stops when \
                     its last user lets go"
                );
                return;
            }
        }
    }
}

async fn run_http(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("the HTTP server failed: {e}");
    }
}

/// The local address of a node that only dials out: an ephemeral port of the address
/// family the parent's address resolves to (IPv4 when it cannot be resolved yet).
async fn dial_only_address(parent: Option<&ParentConfig>) -> SocketAddr {
    let v4 = SocketAddr::from(([0, 0, 0, 0], 0));
    let Some(parent) = parent else {
        return v4;
    };
    match tokio::net::lookup_host(parent.address.as_str()).await {
        Ok(mut addrs) => match addrs.next() {
            Some(addr) if addr.is_ipv6() => SocketAddr::from(([0u16; 8], 0)),
            _ => v4,
        },
        Err(e) => {
            tracing::warn!(
                address = parent.address,
                "cannot resolve the parent yet: {e}"
            );
            v4
        }
    }
}

/// Why one upstream attempt failed.
#[derive(Debug, thiserror::Error)]
enum UpstreamError {
    #[error("key `parent.address`: cannot resolve {address}: {reason}")]
    Resolve { address: String, reason: String },
    #[error(transparent)]
    Sync(#[from] SyncFailure),
}

/// The loop that keeps the parent up to date.
struct Upstream {
    transport: Transport,
    ctx: Arc<SyncContext>,
    parent: ParentConfig,
    settings: SyncSettings,
    unacked: Arc<Unacknowledged>,
    status: Arc<UpstreamStatus>,
    /// Kept between sessions: one QUIC handshake per link, not per session.
    connection: Option<PeerConnection>,
}

impl Upstream {
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let mut delay = Duration::ZERO;
        let mut backoff = self.settings.interval;
        let mut wake_on_growth = false;
        loop {
            // Wait out the delay, or less if a log grew meanwhile (a signal that came
            // during the last session is kept by the Notify and ends this wait at once).
            // Backing off from a failing parent ignores growth: the link is the problem,
            // not the lack of news.
            let advanced = self.ctx.log_advanced.notified();
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(delay) => {}
                () = advanced, if wake_on_growth => {}
            }
            let reused = self.connection.is_some();
            let outcome = tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => break,
                outcome = self.session() => outcome,
            };
            match outcome {
                Ok(report) => {
                    let failures = self.status.consecutive_failures.load(Ordering::Relaxed);
                    if failures > 0 {
                        tracing::info!(
                            parent = self.parent.origin,
                            failures,
                            "the parent is reachable again"
                        );
                    }
                    self.status.succeeded();
                    backoff = self.settings.interval;
                    for (origin, code, detail) in &report.refused {
                        tracing::warn!(origin, ?code, "the parent refused the log: {detail}");
                    }
                    for (origin, parent_size, ours) in &report.behind_parent {
                        tracing::error!(
                            origin,
                            parent_size,
                            ours,
                            "the parent holds more of this log than this node; it was skipped"
                        );
                    }
                    if report.roster_adopted {
                        tracing::info!(
                            version = self.ctx.roster.current().version(),
                            "adopted a newer roster from the parent"
                        );
                    }
                    // Sessions end when the parent holds our latest checkpoint; entries may
                    // have arrived meanwhile, so keep going while there is traffic.
                    delay = if report.entries_sent > 0 && report.refused.is_empty() {
                        Duration::ZERO
                    } else {
                        self.settings.interval
                    };
                    wake_on_growth = true;
                }
                Err(error) if reused => {
                    // A connection kept from an earlier session may simply have gone stale
                    // (parent restarted, idle timeout): try a fresh one at once.
                    tracing::debug!(
                        parent = self.parent.origin,
                        "reused connection failed: {error}"
                    );
                    delay = Duration::ZERO;
                    wake_on_growth = false;
                }
                Err(error) => {
                    let failures = self.status.failed(error.to_string());
                    if failures == 1 {
                        tracing::warn!(
                            parent = self.parent.origin,
                            "upload to the parent failed; ingestion goes on, retrying with \
                             backoff: {error}"
                        );
                    } else {
                        tracing::debug!(
                            parent = self.parent.origin,
                            failures,
                            "upload failed again: {error}"
                        );
                    }
                    // Half the backoff plus up to half again: peers that lost the same
                    // parent do not all come back in the same instant.
                    let half = backoff / 2;
                    let jitter = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
                    delay = half + Duration::from_millis(jitter);
                    wake_on_growth = false;
                    backoff = (backoff * 2).min(self.settings.backoff_max);
                }
            }
        }
        if let Some(connection) = self.connection.take() {
            connection.close("node shutting down");
        }
    }

    /// One upload session, on the kept connection or a new one.
    async fn session(&mut self) -> Result<UploadReport, UpstreamError> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => {
                let connected = match self.resolve().await {
                    Ok(addr) => self
                        .transport
                        .connect(addr, &self.parent.origin)
                        .await
                        .map_err(|error| UpstreamError::Sync(SyncFailure::from(error))),
                    Err(error) => Err(error),
                };
                match connected {
                    Ok(connection) => connection,
                    Err(error) => {
                        if let UpstreamError::Sync(failure) = &error {
                            self.ctx.metrics.session_ended("upload", failure.kind());
                        }
                        // Sessions on a connection record themselves; this attempt never
                        // got one.
                        let health = Arc::clone(&self.ctx.health);
                        tokio::task::block_in_place(|| {
                            health.attempt_ended(Outcome::Unreachable, now_ms())
                        });
                        return Err(error);
                    }
                }
            }
        };
        let result = upload_on(
            &connection,
            Arc::clone(&self.ctx),
            &self.parent.origin,
            Arc::clone(&self.unacked),
        )
        .await;
        match result {
            Ok(report) => {
                self.ctx.metrics.session_ended("upload", "ok");
                self.connection = Some(connection);
                Ok(report)
            }
            Err(failure) => {
                self.ctx.metrics.session_ended("upload", failure.kind());
                connection.close("sync session failed");
                Err(failure.into())
            }
        }
    }

    /// The parent's address, resolved now (DNS may have moved it), in the family of the
    /// local socket.
    async fn resolve(&self) -> Result<SocketAddr, UpstreamError> {
        let address = &self.parent.address;
        let resolve_error = |reason: String| UpstreamError::Resolve {
            address: address.clone(),
            reason,
        };
        let local_v6 = self
            .transport
            .local_addr()
            .map(|a| a.is_ipv6())
            .unwrap_or(false);
        let addrs = tokio::net::lookup_host(address.as_str())
            .await
            .map_err(|e| resolve_error(e.to_string()))?;
        let mut first = None;
        for addr in addrs {
            if addr.is_ipv6() == local_v6 {
                return Ok(addr);
            }
            first.get_or_insert(addr);
        }
        Err(resolve_error(match first {
            Some(other) => format!(
                "it resolves to {other}, another address family than this node's QUIC socket; \
                 set listen_quic to an address of that family"
            ),
            None => "no address".to_owned(),
        }))
    }
}
