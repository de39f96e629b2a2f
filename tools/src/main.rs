//! `credx`: command line for operators, departments and verifiers (docs/cli.md).
//!
//! Operators: `credx init` (trust root, CA, national node, roster v1) and `credx node add`
//! (credentials, roster v+1, a node directory with its config), or the single steps
//! `federation init`, `node issue`, `roster sign|verify` (decision 0010); `credx token`
//! for department tokens; `credx status [--tree]` for sync health.
//!
//! Departments: `credx validate FILE` (local rules only) and `credx import FILE…` (CSV/XLSX
//! templates to a node, per-row report, resumable); `credx query CODE`.
//!
//! Verifiers: `credx verify BUNDLE` (offline).
//!
//! Exit codes: 0 done, 1 a rule was broken (rejected records, refused roster, a node not
//! OK), 2 a file, the node or the network could not be used.

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
#[command(
    name = "credx",
    version,
    about = "credx: federation setup, department imports, queries and sync health",
    after_help = "Start here:\n  credx init --name cn-credit --out fed        # a new federation\n  credx node add --federation fed --origin 440000.credx --level province --parent cn.credx --parent-address HOST:7400\n  credx import penalties.xlsx --node http://127.0.0.1:8080 --token-file dept.token\n  credx status --tree --node http://127.0.0.1:8080\n\nEach command's --help has examples; docs/cli.md has the whole story."
)]
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
