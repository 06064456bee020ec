//! `canarylint completions`: a shell completion script generated from the command line's own
//! definition, so it never falls behind a new command or option.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::args::{Cli, CompletionsArgs};
use crate::error::{CliError, Status};

pub fn run(args: &CompletionsArgs) -> Result<Status, CliError> {
    let mut script = Vec::new();
    // Completion is registered for the command users type, whatever name this binary was
    // started under (`kubectl-canarylint` completes through kubectl, not through the shell).
    clap_complete::generate(args.shell, &mut Cli::command(), "canarylint", &mut script);
    super::finish(std::io::stdout().lock().write_all(&script), Status::Clean)
}
