//! How the federation subcommands end: exit code 0 on success, 1 when the input broke a
//! rule (nothing was written, or the roster was refused), 2 when a file could not be read
//! or written — the same split as `credx validate`.

use std::fmt;
use std::process::ExitCode;

use credx_node::federation::FederationError;

/// Why a federation subcommand failed.
#[derive(Debug)]
pub enum Failure {
    /// A rule was broken: bad name, existing file, roster refused... Exit code 1.
    Refused(String),
    /// A file could not be read or written. Exit code 2.
    Io(String),
}

impl Failure {
    pub fn refused(message: impl Into<String>) -> Failure {
        Failure::Refused(message.into())
    }

    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Refused(_) => ExitCode::from(1),
            Failure::Io(_) => ExitCode::from(2),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(m) | Failure::Io(m) => f.write_str(m),
        }
    }
}

impl From<FederationError> for Failure {
    fn from(e: FederationError) -> Failure {
        let message = error_chain(&e);
        if e.is_io() {
            Failure::Io(message)
        } else {
            Failure::Refused(message)
        }
    }
}

/// The error and its sources, `: `-separated, skipping a source whose text the outer
/// message already contains.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// Prints the failure as `credx <command>: error: …` and maps it to the exit code.
pub fn finish(command: &str, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("credx {command}: error: {failure}");
            failure.exit_code()
        }
    }
}
