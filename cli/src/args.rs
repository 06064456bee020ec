//! The command line: commands, options and their help texts.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A linter for Flagger `Canary` resources and the objects they reference.
///
/// canarylint reads Kubernetes manifests (YAML or JSON) and reports Canary, MetricTemplate and
/// AlertProvider definitions that Flagger would reject, misread or run differently than written.
#[derive(Debug, Parser)]
#[command(
    name = "canarylint",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Run `canarylint check` in a directory of manifests to lint them, and \
                  `canarylint explain CODE` to read about a finding."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The commands. Each variant carries its own options.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint files, directories or standard input.
    Check(CheckArgs),
    /// List every rule with its code, slug, default severity and summary.
    Rules(RulesArgs),
    /// Print the documentation of a rule.
    Explain(ExplainArgs),
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable reports with source excerpts, and a summary line.
    #[default]
    Human,
    /// One JSON document, for scripts and other tools.
    Json,
}

/// Options of `canarylint check`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when no finding reaches the failing severity (error, or \
                        `failOn` in the configuration), 1 when one does, 2 on a usage error or \
                        an input that cannot be read."
)]
pub struct CheckArgs {
    /// Files or directories to lint, or `-` for standard input.
    ///
    /// Directories are searched recursively for `.yaml`, `.yml` and `.json` files; hidden
    /// files and folders (such as `.git`) are skipped.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// A file or directory whose objects exist in the cluster (Deployments, Services,
    /// Gateways, …): references to them resolve, but they are not linted. May be repeated.
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,

    /// The mesh provider Flagger runs with (its `-mesh-provider` flag), used for Canaries
    /// without `spec.provider`.
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// The namespace of objects that do not set `metadata.namespace`.
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,

    /// Print only findings of severity error, and the summary line (human format).
    #[arg(long, short)]
    pub quiet: bool,

    /// Configuration file to use instead of the `.canarylint.yaml` found in the working
    /// directory or one of its parents.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,

    /// Number of threads used to read and lint files (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
}

/// Options of `canarylint rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Options of `canarylint explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule's code (`CL201`) or slug (`step-weight-exceeds-max-weight`).
    #[arg(value_name = "RULE")]
    pub rule: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
