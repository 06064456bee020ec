//! `canarylint lsp`: the language server, for editors.

use crate::args::LspArgs;
use crate::error::{CliError, Status};

pub fn run(_args: &LspArgs) -> Result<Status, CliError> {
    crate::lsp::run().map_err(CliError::Server)?;
    Ok(Status::Clean)
}
