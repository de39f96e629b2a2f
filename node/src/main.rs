//! `credx-node`: the one binary every node of the federation runs (county, city, province,
//! national, sector). What it does is decided by its config file and the signed roster.
//!
//! Exit codes: 0 stopped cleanly (or the config is valid), 1 the node failed while
//! starting or running, 2 the config or a file it names was refused.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: sync and indexing allocate per entry, and with
/// glibc's malloc about a quarter of their CPU went to allocation (docs/decisions/0019). Its
/// `no_thp` feature: it asks for no transparent huge pages (see `run`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use credx_node::admin::{self, AdminError};
use credx_node::config::{Config, ConfigError, LogFormat, LogSettings};
use credx_node::daemon::{Daemon, DaemonError};

const EXAMPLE: &str = "docs/examples/node.toml";

#[derive(Debug, Parser)]
#[command(
    name = "credx-node",
    version,
    about = "credx federation node: stores department records in a verifiable log, syncs \
             verified deltas to its parent over QUIC, serves the department API",
    long_about = None,
    after_help = "Examples:\n  credx-node --config /etc/credx/node.toml\n  credx-node \
                  check-config /etc/credx/node.toml\n\nEvery key of the config file is \
                  documented in docs/examples/node.toml. SIGTERM or Ctrl-C stops the node \
                  gracefully: requests in flight and the current batch finish first.\n\nExit \
                  codes: 0 stopped cleanly (or the config is valid), 1 failed while starting \
                  or running, 2 the config or a file it names was refused.",
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
struct Cli {
    /// Run the node described by this TOML config file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a config file and the credentials and roster it names, then exit
    /// (0: valid, 2: refused, with the key at fault and what to do).
    CheckConfig {
        /// The TOML config file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// List the fork evidence the node holds (two conflicting signed checkpoints of one
    /// log); a log with uncleared evidence is frozen. Run with the node stopped.
    Forks {
        /// The node's TOML config file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Only this log (origin name); default every log the node holds.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Clear the fork evidence of one log after the incident was resolved with its
    /// operator, which unfreezes the log; the evidence is kept with your note. Run with the
    /// node stopped.
    ClearFork {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The frozen log (origin name).
        #[arg(long)]
        origin: String,
        /// Who decided and why, e.g. "440106 restored from backup, ticket 1234 (Li Wei)".
        #[arg(long)]
        note: String,
    },
    /// Accept that this node's own log was restored from an older backup and its lost
    /// entries cannot be re-fetched: signing resumes from the store's latest checkpoint,
    /// and every node that saw a later checkpoint records a fork of this log. Last resort;
    /// run with the node stopped.
    AcknowledgeRestore {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Who decided and why; kept beside the refused checkpoint file.
        #[arg(long)]
        note: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.config) {
        (Some(Command::CheckConfig { file }), _) => check_config(&file),
        (Some(Command::Forks { config, origin }), _) => forks(&config, origin.as_deref()),
        (
            Some(Command::ClearFork {
                config,
                origin,
                note,
            }),
            _,
        ) => clear_fork(&config, &origin, &note),
        (Some(Command::AcknowledgeRestore { config, note }), _) => {
            acknowledge_restore(&config, &note)
        }
        (None, Some(file)) => run(&file),
        (None, None) => {
            eprintln!(
                "credx-node: give --config FILE (see {EXAMPLE}) or a subcommand; --help lists them"
            );
            ExitCode::from(2)
        }
    }
}

fn config_refused(error: &ConfigError) -> ExitCode {
    eprintln!("credx-node: {error}");
    ExitCode::from(2)
}

fn check_config(file: &std::path::Path) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(e) => return config_refused(&e),
    };
    let identity = match config.load_identity() {
        Ok(identity) => identity,
        Err(e) => return config_refused(&e),
    };
    println!(
        "{}: valid. origin {}, roster v{} (expires {}), parent {}, QUIC {}, HTTP {}",
        file.display(),
        config.origin,
        identity.roster.version(),
        credx_node::federation::format_unix(identity.roster.expires_at()),
        config
            .parent
            .as_ref()
            .map(|p| format!("{} at {}", p.origin, p.address))
            .unwrap_or_else(|| "none (national node)".to_owned()),
        config
            .listen_quic
            .map(|a| a.to_string())
            .unwrap_or_else(|| "not listening (dials out only)".to_owned()),
        config.listen_http,
    );
    ExitCode::SUCCESS
}

fn admin_failed(error: &AdminError) -> ExitCode {
    eprintln!("credx-node: {error}");
    match error {
        AdminError::Config(_) => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}

fn forks(file: &std::path::Path, origin: Option<&str>) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(e) => return config_refused(&e),
    };
    let logs = match admin::list_forks(&config, origin) {
        Ok(logs) => logs,
        Err(e) => return admin_failed(&e),
    };
    if logs.is_empty() {
        println!("no fork evidence");
    }
    for log in logs {
        for record in log.records {
            let state = match &record.cleared {
                Some(note) => format!("cleared: {note}"),
                None => "FROZEN".to_owned(),
            };
            println!(
                "{} #{}: {state}; reported by {} at {}\n  first:  {}\n  second: {}",
                log.origin,
                record.id,
                record.evidence.peer,
                credx_node::federation::format_unix(record.evidence.observed_at_ms / 1000),
                admin::describe_checkpoint(&record.evidence.first),
                admin::describe_checkpoint(&record.evidence.second),
            );
        }
    }
    ExitCode::SUCCESS
}

fn clear_fork(file: &std::path::Path, origin: &str, note: &str) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(e) => return config_refused(&e),
    };
    match admin::clear_fork(&config, origin, note) {
        Ok(cleared) => {
            println!(
                "{origin}: {cleared} fork record(s) cleared; the log syncs again when the node runs"
            );
            ExitCode::SUCCESS
        }
        Err(e) => admin_failed(&e),
    }
}

fn acknowledge_restore(file: &std::path::Path, note: &str) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(e) => return config_refused(&e),
    };
    match admin::acknowledge_restore(&config, note) {
        Ok(reason) => {
            println!(
                "{}: restore acknowledged (was refused: {reason}); signing resumes when the \
                 node runs. Tell the parent's operator: it will record a fork of this log.",
                config.origin
            );
            ExitCode::SUCCESS
        }
        Err(e) => admin_failed(&e),
    }
}

fn init_logging(settings: &LogSettings) {
    use tracing_subscriber::EnvFilter;
    // RUST_LOG, when set, overrides the config's level (handy for one-off debugging).
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match settings.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn run(file: &std::path::Path) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(e) => return config_refused(&e),
    };
    init_logging(&config.log);
    // No transparent huge pages for this process (memory of every thread, RocksDB's too):
    // each first touch of a 2 MiB region is zeroed at once, and a fresh node growing its
    // arenas and memtables spent most of its first seconds in the kernel doing so (decision
    // 0019). Before the runtime starts, so every thread's memory is covered.
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::warn!("transparent huge pages stay enabled for this process: prctl: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("credx-node")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let daemon = match Daemon::start(config).await {
            Ok(daemon) => daemon,
            Err(DaemonError::Config(e)) => {
                tracing::error!("{e}");
                return config_refused(&e);
            }
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("credx-node: {e}");
                return ExitCode::FAILURE;
            }
        };
        match wait_for_shutdown(&daemon).await {
            Ok(name) => tracing::info!("{name} received"),
            Err(e) => tracing::error!("cannot wait for signals ({e}); stopping"),
        }
        daemon.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Serves reload requests (SIGHUP: the department tokens) until SIGTERM or Ctrl-C
/// (SIGINT); returns the stopping signal's name.
async fn wait_for_shutdown(daemon: &Daemon) -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut hangup = Some(signal(SignalKind::hangup())?);
        loop {
            let next_hangup = async {
                match hangup.as_mut() {
                    Some(stream) => stream.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = tokio::signal::ctrl_c() => return result.map(|()| "Ctrl-C"),
                _ = term.recv() => return Ok("SIGTERM"),
                received = next_hangup => match received {
                    Some(()) => reload_tokens(daemon),
                    None => {
                        tracing::warn!("SIGHUP can no longer be received; restart to reload tokens");
                        hangup = None;
                    }
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = daemon;
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
    }
}

#[cfg(unix)]
fn reload_tokens(daemon: &Daemon) {
    match daemon.reload_tokens() {
        Ok(Some(count)) => tracing::info!(tokens = count, "SIGHUP: department tokens reloaded"),
        Ok(None) => tracing::warn!("SIGHUP: no tokens_file is configured; nothing to reload"),
        Err(e) => tracing::error!(
            "SIGHUP: department tokens NOT reloaded, the previous ones stay in force: {e}; \
             fix the file (credx token list --tokens FILE shows what it holds) and send SIGHUP again"
        ),
    }
}
