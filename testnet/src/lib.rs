//! `credx-testnet`: a whole credx federation on one machine, as separate `credx-node`
//! processes on loopback (issue 6 item 2).
//!
//! - [`topology`]: which nodes, with their GB/T 2260 codes and parents;
//! - [`setup`]: credentials, roster, department tokens and node configs on disk;
//! - [`manifest`]: `testnet.json`, what `up` started (ports, pids) for the other commands;
//! - [`process`]: finding, spawning, watching and stopping `credx-node` processes;
//! - [`records`] and [`load`]: synthetic 双公示 records submitted through the department API;
//! - [`propagation`]: county → national latency of the batches of a load;
//! - [`metrics`] and [`report`]: `/metrics` scraped from every node, per-node counters and
//!   convergence of every log at every ancestor;
//! - [`commands`]: `up`, `load`, `report`, `down`, `demo`.

pub mod commands;
pub mod error;
pub mod load;
pub mod manifest;
pub mod metrics;
pub mod process;
pub mod propagation;
pub mod records;
pub mod report;
pub mod setup;
pub mod topology;

pub use error::TestnetError;
