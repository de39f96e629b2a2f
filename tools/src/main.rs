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

mod dates;
mod failure;
mod federation_cmd;
mod federation_dir;
mod import;
mod init_cmd;
mod node_client;
mod node_cmd;
mod node_list;
mod query_cmd;
mod roster_cmd;
mod status_cmd;
mod text_table;
mod token_cmd;
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
    /// Create a federation: trust root, CA, national node and first roster, in one step.
    Init(init_cmd::InitArgs),
    /// Validate a file of 双公示 records (licences XK_*, penalties CF_*).
    Validate(validate_cmd::ValidateArgs),
    /// Federation trust root: `credx federation init --name N --out DIR`.
    #[command(subcommand)]
    Federation(federation_cmd::FederationCommand),
    /// Node credentials: `credx node add --federation DIR …` (credentials, roster, config)
    /// or `credx node issue --root DIR --origin O --out DIR` (credentials only).
    #[command(subcommand)]
    Node(node_cmd::NodeCommand),
    /// Signed roster: `credx roster sign …` and `credx roster verify …`.
    #[command(subcommand)]
    Roster(roster_cmd::RosterCommand),
    /// Verification bundle, offline: `credx verify BUNDLE --root-vkey FILE [--policy FILE]`.
    Verify(verify_cmd::VerifyArgs),
    /// Upload 双公示 template files (CSV, XLSX) to a node: `credx import FILE… --node URL --token-file F`.
    Import(import::ImportArgs),
    /// What a node holds about a subject: `credx query CODE --node URL [--token-file F]`.
    Query(query_cmd::QueryArgs),
    /// Sync health of a node or its whole subtree: `credx status --tree --node URL`.
    Status(status_cmd::StatusArgs),
    /// Department tokens of a node: `credx token issue|list|revoke --tokens FILE …`.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate_cmd::run(&args),
        Command::Federation(command) => federation_cmd::run(&command),
        Command::Node(command) => node_cmd::run(&command),
        Command::Roster(command) => roster_cmd::run(&command),
        Command::Verify(args) => verify_cmd::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Init(args) => init_cmd::run(&args),
        Command::Query(args) => query_cmd::run(&args),
        Command::Status(args) => status_cmd::run(&args),
        Command::Token(command) => token_cmd::run(&command),
    }
}
