//! `credx`: command line for operators, departments and verifiers.
//!
//! `credx validate FILE` checks a file of 双公示 records (JSON array / object / JSON Lines, or
//! CSV with the standard column codes as header) against the rule set of
//! `credx_protocol::validate` and prints every finding.
//!
//! Exit codes: 0 nothing rejected, 1 some record rejected, 2 the file could not be read.

mod validate_cmd;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate_cmd::run(&args),
    }
}
