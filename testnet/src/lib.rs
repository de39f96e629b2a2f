//! `credx-testnet`: a whole credx federation on one machine, as separate `credx-node`
//! processes on loopback (issue 6 item 2).
//!
//! - [`topology`]: which nodes, with their GB/T 2260 codes and parents;
//! - [`setup`]: credentials, roster, department tokens and node configs on disk;
//! - [`manifest`]: `testnet.json`, what `up` started (ports, pids) for the other commands;
//! - [`process`]: finding, spawning, watching and stopping `credx-node` processes;
//! - [`records`] and [`load`]: synthetic 双公示 records submitted through the department API;
//! - [`propagation`]: county → city, province and national latency of the batches of a load;
//! - [`metrics`] and [`report`]: `/metrics` scraped from every node, per-node counters and
//!   convergence of every log at every ancestor;
//! - [`relay`], [`relay_control`], [`relay_host`]: the fault-injecting UDP relay on every
//!   edge, its control socket, and the relay process `up` starts;
//! - [`chaos`]: cutting, delaying, dropping and healing links, killing and restarting nodes;
//! - [`partition`]: the scripted partition scenario;
//! - [`commands`]: `up`, `load`, `report`, `down`, `demo`.
//!
//! For tests driving a testnet from Rust (the API other test files may rely on):
//!
//! ```no_run
//! # async fn f(dir: &std::path::Path) -> Result<(), credx_testnet::TestnetError> {
//! use credx_testnet::{chaos, commands, report, topology::Topology};
//! let manifest = commands::up(dir, Topology::Small).await?; // 4 nodes, a relay on each edge
//! chaos::cut(dir, "440100")?; // the link 广州市 → 广东省 (a link is named by its child)
//! chaos::heal(dir, "440100")?;
//! chaos::kill(dir, "440100")?; // SIGKILL
//! chaos::restart(dir, "440100").await?;
//! let client = commands::client()?;
//! let (report, converged) =
//!     report::wait_converged(&client, &manifest, std::time::Duration::from_secs(30)).await;
//! commands::down(dir)?;
//! # Ok(()) }
//! ```
//!
//! `up` needs the `credx-node` and `credx-testnet` binaries beside the running executable
//! (a test's executable in `deps/` finds them one directory up), or `CREDX_NODE_BIN` and
//! `CREDX_TESTNET_BIN`.

pub mod chaos;
pub mod commands;
pub mod error;
pub mod load;
pub mod manifest;
pub mod metrics;
pub mod partition;
pub mod process;
pub mod propagation;
pub mod records;
pub mod relay;
pub mod relay_control;
pub mod relay_host;
pub mod report;
pub mod setup;
pub mod topology;

pub use error::TestnetError;
