//! `credx`: command line for operators, departments and verifiers.
//!
//! `credx validate FILE` checks a file of 双公示 records (JSON array / object / JSON Lines, or
//! CSV with the standard column codes as header) against the rule set of
//! `credx_protocol::validate` and prints every finding.
//!
//! Federation identity (decision 0010): `credx federation init` creates the trust root and
//! CA, `credx node issue` a node's credentials, `credx roster sign` / `verify` the signed
//! roster.
//!
//! Exit codes: 0 nothing rejected, 1 some record rejected (for the federation commands: a
//! rule was broken or the roster refused), 2 a file could not be read.

mod failure;
mod federation_cmd;
mod node_cmd;
mod node_list;
mod roster_cmd;
mod validate_cmd;
mod verify_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "credx", version, about = "credx node tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a file of 双公示 records (licences XK_*, penalties CF_*).
    Validate(validate_cmd::ValidateArgs),
    /// Federation trust root: `credx federation init --name N --out DIR`.
    #[command(subcommand)]
    Federation(federation_cmd::FederationCommand),
    /// Node credentials: `credx node issue --root DIR --origin O --out DIR`.
    #[command(subcommand)]
    Node(node_cmd::NodeCommand),
    /// Signed roster: `credx roster sign …` and `credx roster verify …`.
    #[command(subcommand)]
    Roster(roster_cmd::RosterCommand),
    /// Verification bundle, offline: `credx verify BUNDLE --root-vkey FILE [--policy FILE]`.
    Verify(verify_cmd::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate_cmd::run(&args),
        Command::Federation(command) => federation_cmd::run(&command),
        Command::Node(command) => node_cmd::run(&command),
        Command::Roster(command) => roster_cmd::run(&command),
        Command::Verify(args) => verify_cmd::run(&args),
    }
}
