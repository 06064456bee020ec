//! `canarylint schema`: the JSON schema of a Flagger kind, from the embedded CRD schema.

use std::io::Write as _;

use crate::args::SchemaArgs;
use crate::error::{CliError, Status};

pub fn run(args: &SchemaArgs) -> Result<Status, CliError> {
    let name = args.kind.name();
    let schema = canarylint::schema::schema_for(name).ok_or_else(|| {
        CliError::Output(std::io::Error::other(format!(
            "no embedded schema for {name}"
        )))
    })?;
    let mut text = serde_json::to_string_pretty(schema)
        .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    text.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?,
        None => super::finish(
            std::io::stdout().lock().write_all(text.as_bytes()),
            Status::Clean,
        )
        .map(|_| ())?,
    }
    Ok(Status::Clean)
}
