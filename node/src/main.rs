//! `credx-node`: the one binary every node of the federation runs (county, city, province,
//! national, sector). What it does is decided by its config file and the signed roster.
//!
//! Exit codes: 0 stopped cleanly (or the config is valid), 1 the node failed while
//! starting or running, 2 the config or a file it names was refused.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.config) {
        (Some(Command::CheckConfig { file }), _) => check_config(&file),
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
        match shutdown_signal().await {
            Ok(name) => tracing::info!("{name} received"),
            Err(e) => tracing::error!("cannot wait for signals ({e}); stopping"),
        }
        daemon.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT), with the signal's name.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map(|()| "Ctrl-C"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
    }
}
