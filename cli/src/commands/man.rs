//! `canarylint man`: the manual pages, rendered from the command line's own definition.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::args::{Cli, ManArgs};
use crate::error::{CliError, Status};

pub fn run(args: &ManArgs) -> Result<Status, CliError> {
    let command = Cli::command();
    match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
                path: dir.clone(),
                source,
            })?;
            clap_mangen::generate_to(command, dir).map_err(|source| CliError::Write {
                path: dir.clone(),
                source,
            })?;
            Ok(Status::Clean)
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(CliError::Output)?;
            super::finish(std::io::stdout().lock().write_all(&page), Status::Clean)
        }
    }
}
