//! credx node daemon library: the parts of the node that the binary, the testnet and the
//! integration tests share.

pub mod admin;
pub mod api;
pub mod cases;
pub mod config;
pub mod daemon;
pub mod dashboard;
pub mod federation;
pub mod health;
pub mod sync;
pub mod synthetic;
pub mod transport;
pub mod warm;
