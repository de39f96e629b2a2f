//! `credx-testnet`: a whole credx federation on one machine (see the crate docs).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use credx_testnet::topology::Topology;
use credx_testnet::{chaos, commands, partition, relay_host, TestnetError};

#[derive(Debug, Parser)]
#[command(
    name = "credx-testnet",
    version,
    about = "A whole credx federation on one machine: separate credx-node processes on loopback",
    after_help = "Example:\n  credx-testnet up --dir /tmp/tn\n  credx-testnet load --dir /tmp/tn \
                  --rate 200 --duration 20\n  credx-testnet report --dir /tmp/tn --wait 30\n  \
                  credx-testnet chaos cut 440000 --dir /tmp/tn\n  credx-testnet chaos heal all \
                  --dir /tmp/tn\n  credx-testnet partition --dir /tmp/tn --seconds 60 --rate 200\n  \
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
    /// there) and start the relays and every node; returns once every node answers /healthz.
    Up {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "default")]
        topology: Topology,
        /// Children dial their parents directly instead of through a fault-injecting relay
        /// per link (a new testnet only; then `chaos` can only kill and restart nodes).
        #[arg(long)]
        no_relays: bool,
    },
    /// Submit synthetic licences and penalties to every county through the department API,
    /// and every second per county a black-list entry followed by an objection (opened and
    /// dismissed) or a repair.
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
    /// Scrape every node's /metrics: per-node counters, lag and convergence of every log;
    /// then the last load's throughput and propagation percentiles per level.
    Report {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Wait up to this many seconds for convergence (then not converging is an error);
        /// after a chaos heal or restart, also says how long after it convergence came.
        #[arg(long, value_name = "SECONDS")]
        wait: Option<u64>,
    },
    /// Stop every node (SIGTERM, SIGKILL after 30 s) and the relays; the data stays in DIR.
    Down {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// up (default topology), load 200 records/s for 20 s, report; leaves it running.
    Demo {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Faults on the running testnet: links (named by their child node, e.g. 440000 is
    /// 广东省 → national; `all` is every link) and node processes.
    Chaos {
        #[command(subcommand)]
        action: ChaosAction,
    },
    /// With load running, cut one link, heal it, and measure the time until every node has
    /// caught up (target: 30 s after the heal) and until full convergence after the load.
    Partition {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The link to cut, by its child node (default: the first province's).
        #[arg(long)]
        edge: Option<String>,
        /// Seconds the link stays cut.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Records per second, in total over all counties.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Seconds of load before the cut.
        #[arg(long, default_value_t = 10.0)]
        before: f64,
        /// Seconds of load after the heal.
        #[arg(long, default_value_t = 40.0)]
        after: f64,
        /// Give up waiting for convergence after this many seconds.
        #[arg(long, default_value_t = 120)]
        limit: u64,
    },
    /// Runs the relays of the testnet in DIR (started by `up`, stopped by `down`).
    #[command(hide = true)]
    Relay {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct At {
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum ChaosAction {
    /// Drop every datagram of the link, both ways (a partition).
    Cut {
        edge: String,
        #[command(flatten)]
        at: At,
    },
    /// Clear every fault of the link (`all`: every link).
    Heal {
        edge: String,
        #[command(flatten)]
        at: At,
    },
    /// Delay every datagram of the link by MS milliseconds, plus up to --jitter.
    Delay {
        edge: String,
        ms: u64,
        #[arg(long, default_value_t = 0, value_name = "MS")]
        jitter: u64,
        #[command(flatten)]
        at: At,
    },
    /// Drop this fraction (0–1) of the link's datagrams at random.
    Drop {
        edge: String,
        fraction: f64,
        #[command(flatten)]
        at: At,
    },
    /// SIGKILL a node.
    Kill {
        node: String,
        #[command(flatten)]
        at: At,
    },
    /// Start a node again with the same config and data (SIGKILL first if it runs).
    Restart {
        node: String,
        #[command(flatten)]
        at: At,
    },
    /// Every link's fault and datagram counters.
    Status {
        #[command(flatten)]
        at: At,
    },
}

async fn run_chaos(action: ChaosAction) -> Result<(), TestnetError> {
    let edges = match action {
        ChaosAction::Cut { edge, at } => chaos::cut(&at.dir, &edge)?,
        ChaosAction::Heal { edge, at } => chaos::heal(&at.dir, &edge)?,
        ChaosAction::Delay {
            edge,
            ms,
            jitter,
            at,
        } => chaos::delay(
            &at.dir,
            &edge,
            Duration::from_millis(ms),
            Duration::from_millis(jitter),
        )?,
        ChaosAction::Drop { edge, fraction, at } => chaos::drop_fraction(&at.dir, &edge, fraction)?,
        ChaosAction::Kill { node, at } => {
            let pid = chaos::kill(&at.dir, &node)?;
            println!("chaos: {node} (pid {pid}) killed with SIGKILL");
            return Ok(());
        }
        ChaosAction::Restart { node, at } => {
            let pid = chaos::restart(&at.dir, &node).await?;
            println!("chaos: {node} restarted (pid {pid}) and healthy");
            return Ok(());
        }
        ChaosAction::Status { at } => chaos::status(&at.dir)?,
    };
    print!("{}", chaos::render_status(&edges));
    Ok(())
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
            Command::Up {
                dir,
                topology,
                no_relays,
            } => commands::up_with(&dir, topology, !no_relays)
                .await
                .map(drop),
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
            Command::Chaos { action } => run_chaos(action).await,
            Command::Partition {
                dir,
                edge,
                seconds,
                rate,
                before,
                after,
                limit,
            } => {
                let plan = partition::PartitionPlan {
                    edge,
                    seconds,
                    rate,
                    before,
                    after,
                    limit: Duration::from_secs(limit),
                };
                partition::run(&dir, &plan).await.map(drop)
            }
            Command::Relay { dir } => relay_host::run(&dir).await,
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
