//! The `canarylint` command line: reads manifests, runs the rules, prints the findings.
//!
//! `main.rs` only calls [`run`]; everything else lives here so it can be tested.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod args;
pub mod commands;
pub mod docs;
pub mod error;
pub mod fix;
#[cfg(feature = "lsp")]
pub mod lsp;
pub mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

pub use args::{Cli, Command};
pub use error::{CliError, Status};

/// The name kubectl looks for on `PATH` to run `kubectl canarylint`.
pub const KUBECTL_PLUGIN: &str = "kubectl-canarylint";

/// Whether the program was started as the kubectl plugin (`kubectl-canarylint`, or
/// `kubectl-canarylint.exe`), whatever the directory.
fn invoked_as_kubectl_plugin(argv0: &OsString) -> bool {
    std::path::Path::new(argv0)
        .file_stem()
        .is_some_and(|stem| stem == KUBECTL_PLUGIN)
}

/// Parses the command line, runs the command and returns the process's exit status.
pub fn run<I, T>(argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let mut command = Cli::command();
    if argv.first().is_some_and(invoked_as_kubectl_plugin) {
        // kubectl runs `kubectl-canarylint` for `kubectl canarylint …`: help and usage errors
        // should name the command the user typed.
        command = command.bin_name("kubectl canarylint");
    }
    let parsed = command
        .try_get_matches_from(&argv)
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .map_err(|e| e.format(&mut Cli::command()));
    let cli = match parsed {
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
        return canarylint_server::run(args.into());
    }
    match commands::dispatch(cli.command) {
        Ok(status) => status.into(),
        Err(e) => {
            e.report();
            Status::Error.into()
        }
    }
}
