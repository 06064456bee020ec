//! Exit statuses and the errors that end a command early.

use std::path::PathBuf;
use std::process::ExitCode;

use canarylint::config::ConfigError;
use canarylint_workspace::InputError;

/// The exit status of a command; the same in every output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Nothing at or above the failing severity.
    Clean = 0,
    /// At least one finding at or above the failing severity.
    Findings = 1,
    /// A usage error, or an input that could not be read.
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// An error that stops a command; it is reported on stderr and the exit status is 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("invalid configuration")]
    Config(Vec<ConfigError>),
    #[error("unknown rule `{name}`{hint}")]
    UnknownRule { name: String, hint: String },
    #[error("cannot start {threads} threads: {message}")]
    Threads { threads: usize, message: String },
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the language server stopped: {0}")]
    Server(std::io::Error),
    #[error("--cluster: {0}")]
    Cluster(String),
}

impl CliError {
    /// Prints the error on stderr, one line per problem.
    pub fn report(&self) {
        match self {
            CliError::Config(errors) => {
                for e in errors {
                    eprintln!("canarylint: {e}");
                }
            }
            // The reader went away (`canarylint check | head`): nothing left to say.
            CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => eprintln!("canarylint: {other}"),
        }
    }
}
