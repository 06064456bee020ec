//! `canarylint check`: read, lint, print, and set the exit status.

use std::path::{Path, PathBuf};

use canarylint::config::Config;
use canarylint::{Budget, Linter, Severity};

use crate::args::{CheckArgs, Format};
use crate::error::{CliError, Status};
use crate::input::{self, Seen};
use crate::output::{self, Summary, human, json};

pub fn run(args: &CheckArgs) -> Result<Status, CliError> {
    let config = load_config(args)?;
    match args.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.get())
            .build()
            .map_err(|e| CliError::Threads {
                threads: n.get(),
                message: e.to_string(),
            })?
            .install(|| check(args, config)),
        None => check(args, config),
    }
}

/// The configuration: `--config FILE`, none with `--no-config`, else the one discovered from
/// the working directory upward.
fn load_config(args: &CheckArgs) -> Result<Config, CliError> {
    if args.no_config {
        return Ok(Config::default());
    }
    let path = match &args.config {
        Some(p) => p.clone(),
        None => {
            let cwd = std::env::current_dir().map_err(|source| CliError::Read {
                path: PathBuf::from("."),
                source,
            })?;
            match Config::discover(&cwd) {
                // Shown relative to the working directory when it is in it.
                Some(found) => found
                    .strip_prefix(&cwd)
                    .map_or_else(|_| found.clone(), Path::to_path_buf),
                None => return Ok(Config::default()),
            }
        }
    };
    Config::load(&path, &canarylint_rules::all_meta()).map_err(CliError::Config)
}

fn check(args: &CheckArgs, config: Config) -> Result<Status, CliError> {
    let mut seen = Seen::default();
    let inputs = input::collect(&args.paths, &mut seen);
    let context = input::collect(&args.context, &mut seen);
    let mut unreadable = false;
    for e in inputs.errors.iter().chain(&context.errors) {
        e.report();
        unreadable = true;
    }

    let fail_on = config.fail_on.unwrap_or(Severity::Error);
    let mut linter = Linter::new(canarylint_rules::ALL).with_config(config);
    if let Some(provider) = &args.provider {
        linter.settings.default_provider = provider.clone();
        linter.settings.provider_configured = true;
    }
    linter.settings.default_namespace = args.namespace.clone();
    let run = linter.lint_sources(inputs.sources, context.sources, &Budget::GENEROUS);

    let summary = Summary::of(&run);
    let status = if unreadable {
        Status::Error
    } else if run.findings.iter().any(|f| f.severity >= fail_on) {
        Status::Findings
    } else {
        Status::Clean
    };

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Human => {
            let opts = human::Options {
                color: output::use_color(),
                quiet: args.quiet,
            };
            human::write(&mut out, &run, &summary, opts)
        }
        Format::Json => json::write(&mut out, &run, summary),
    };
    super::finish(written, status)
}
