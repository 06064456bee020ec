//! The commands, one module each.

pub mod check;
pub mod completions;
pub mod explain;
#[cfg(feature = "lsp")]
pub mod lsp;
pub mod man;
pub mod plan;
pub mod rules;
pub mod schema;

use crate::args::Command;
use crate::error::{CliError, Status};

/// Runs a parsed command.
pub fn dispatch(command: Command) -> Result<Status, CliError> {
    match command {
        Command::Check(args) => check::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Explain(args) => explain::run(&args),
        #[cfg(feature = "lsp")]
        Command::Lsp(args) => lsp::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
        // Handled before dispatch: it owns the process until shutdown.
        #[cfg(feature = "serve")]
        Command::Serve(_) => Ok(Status::Error),
    }
}

/// Reports an input that could not be read (the others are still checked).
pub(crate) fn report_input(e: &canarylint_workspace::InputError) {
    eprintln!("canarylint: {e}");
}

/// The status of a command once its output is written. A reader that went away early
/// (`canarylint rules | head`) does not change the status.
pub(crate) fn finish(written: std::io::Result<()>, status: Status) -> Result<Status, CliError> {
    match written {
        Ok(()) => Ok(status),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(status),
        Err(e) => Err(CliError::Output(e)),
    }
}
