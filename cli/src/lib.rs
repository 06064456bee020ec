//! The `canarylint` command line: reads manifests, runs the rules, prints the findings.
//!
//! `main.rs` only calls [`run`]; everything else lives here so it can be tested.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod args;
pub mod commands;
pub mod docs;
pub mod error;
#[cfg(feature = "lsp")]
pub mod lsp;
pub mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use args::{Cli, Command};
pub use error::{CliError, Status};

/// Parses the command line, runs the command and returns the process's exit status.
pub fn run<I, T>(argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and succeed; usage errors go to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                Status::Error.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // The webhook runs its own runtime and returns its own status (0 after SIGTERM).
    #[cfg(feature = "serve")]
    if let Command::Serve(args) = cli.command {
        return canarylint_server::run(args);
    }
    match commands::dispatch(cli.command) {
        Ok(status) => status.into(),
        Err(e) => {
            e.report();
            Status::Error.into()
        }
    }
}
