//! `credx-testnet`: a whole credx federation on one machine (see the crate docs).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use credx_testnet::commands;
use credx_testnet::topology::Topology;

#[derive(Debug, Parser)]
#[command(
    name = "credx-testnet",
    version,
    about = "A whole credx federation on one machine: separate credx-node processes on loopback",
    after_help = "Example:\n  credx-testnet up --dir /tmp/tn\n  credx-testnet load --dir /tmp/tn \
                  --rate 200 --duration 20\n  credx-testnet report --dir /tmp/tn --wait 30\n  \
                  credx-testnet down --dir /tmp/tn\n\nThe credx-node binary is taken from \
                  $CREDX_NODE_BIN or from beside this executable."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate credentials, roster, tokens and configs in DIR (or reuse the testnet
    /// there) and start every node; returns once every node answers /healthz.
    Up {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "default")]
        topology: Topology,
    },
    /// Submit synthetic licences and penalties to every county through the department API.
    Load {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Records per second, in total over all counties.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Seconds.
        #[arg(long, default_value_t = 20.0)]
        duration: f64,
    },
    /// Scrape every node's /metrics: per-node counters and convergence of every log.
    Report {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Wait up to this many seconds for convergence (then not converging is an error).
        #[arg(long, value_name = "SECONDS")]
        wait: Option<u64>,
    },
    /// Stop every node (SIGTERM, SIGKILL after 30 s); the data stays in DIR.
    Down {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// up (default topology), load 200 records/s for 20 s, report; leaves it running.
    Demo {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("credx-testnet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Up { dir, topology } => commands::up(&dir, topology).await.map(drop),
            Command::Load {
                dir,
                rate,
                duration,
            } => commands::load(&dir, rate, duration).await.map(drop),
            Command::Report { dir, wait } => commands::report(&dir, wait.map(Duration::from_secs))
                .await
                .map(drop),
            Command::Down { dir } => commands::down(&dir),
            Command::Demo { dir } => commands::demo(&dir).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("credx-testnet: {e}");
            ExitCode::FAILURE
        }
    }
}
