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
    /// Run the language server on standard input and output, for editors.
    #[cfg(feature = "lsp")]
    Lsp(LspArgs),
    /// Print the JSON schema of a Flagger kind, for YAML editors.
    Schema(SchemaArgs),
    /// Show what Flagger will do with each Canary: strategy, timeline, generated objects.
    Plan(PlanArgs),
    /// Run the validating admission webhook for Flagger Canaries (and Gateway changes).
    #[cfg(feature = "serve")]
    Serve(canarylint_server::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page, or write one page per command into a directory.
    Man(ManArgs),
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

/// How `canarylint check` prints its findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Readable reports with source excerpts, and a summary line.
    #[default]
    Human,
    /// One JSON document, for scripts and other tools.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions annotations (`::error file=…::…`), one line per finding.
    Github,
    /// A JUnit XML report: a testcase per Flagger object, for CI test report views.
    Junit,
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
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,

    /// Write the report to FILE instead of standard output; the summary line is still
    /// printed on standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// A file or directory whose objects exist in the cluster (Deployments, Services,
    /// Gateways, …): references to them resolve, but they are not linted. May be repeated.
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,

    /// The mesh provider Flagger runs with (its `-mesh-provider` flag), used for Canaries
    /// without `spec.provider`.
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// The namespace the manifests are applied to, as `kubectl apply -n NS`: objects without
    /// `metadata.namespace` land there. Without it (or `namespace` in the configuration) they
    /// are taken to be in `default`, an assumption that never makes a reference "missing".
    #[arg(long, short = 'n', value_name = "NS", value_parser = namespace_name)]
    pub namespace: Option<String>,

    /// Which files are applied together, the unit whose objects tell that something is
    /// missing: `file` (each file or stream), `directory` (the files of one directory, as
    /// `kubectl apply -f DIR`), `all` (everything given). A kustomization's resources are
    /// always one unit, and the files it lists as patches are never objects. Default: the
    /// configuration's `bundle`, else `file`.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub bundle: Option<BundleArg>,

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

    /// Treat the inputs and `--context` as the whole cluster: a referenced object they do not
    /// hold is reported as missing, not as unverifiable (CL100).
    #[arg(long)]
    pub complete: bool,

    /// Add the live cluster's objects to the inventory: `--cluster` for the current kubeconfig
    /// context, `--cluster=NAME` for another. Only reads (list); without this flag nothing
    /// touches the network.
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "CONTEXT", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub cluster: Option<String>,
}

/// Options of `canarylint rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Options of `canarylint lsp`.
#[cfg(feature = "lsp")]
#[derive(Debug, Args)]
#[command(after_help = "Editors start this command themselves; see docs/editors.md.")]
pub struct LspArgs {
    /// Accepted for editors that pass it; standard input and output are the only transport.
    #[arg(long)]
    pub stdio: bool,
}

/// The kinds `canarylint schema` has a schema for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    #[default]
    Canary,
    Metrictemplate,
    Alertprovider,
}

impl SchemaKind {
    /// The name of the embedded schema.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::Canary => "canary",
            SchemaKind::Metrictemplate => "metrictemplate",
            SchemaKind::Alertprovider => "alertprovider",
        }
    }
}

/// Options of `canarylint schema`.
#[derive(Debug, Args)]
#[command(
    after_help = "Point yaml-language-server at the file with a first line such as\n  \
                  # yaml-language-server: $schema=./canary.schema.json"
)]
pub struct SchemaArgs {
    /// The kind whose schema to print.
    #[arg(value_enum, default_value_t = SchemaKind::Canary)]
    pub kind: SchemaKind,

    /// Write the schema to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of `canarylint completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Load it in the current shell, or install it where the shell looks:\n  \
                  bash: source <(canarylint completions bash)\n        \
                  canarylint completions bash > ~/.local/share/bash-completion/completions/canarylint\n  \
                  zsh:  canarylint completions zsh > \"${fpath[1]}/_canarylint\"\n  \
                  fish: canarylint completions fish > ~/.config/fish/completions/canarylint.fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Options of `canarylint man`.
#[derive(Debug, Args)]
#[command(
    after_help = "Read it with `canarylint man | man -l -`, or install the pages:\n  \
                  canarylint man --output-dir /usr/local/share/man/man1"
)]
pub struct ManArgs {
    /// Write `canarylint.1` and a page per command (`canarylint-check.1`, …) into this
    /// directory, instead of printing the main page on standard output.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
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

/// Options of `canarylint plan`.
#[derive(Debug, Args)]
#[command(
    after_help = "The plan applies Flagger's defaults and silent rewrites and names each one, \
                  then lists the lint findings of the Canary, so the plan never hides a problem. \
                  Exit status: 0, 1 when a Canary has an error finding, 2 on unreadable input."
)]
pub struct PlanArgs {
    /// Files or directories holding Canaries (and the objects they reference), or `-`.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Only this Canary: `NAMESPACE/NAME` (or `NAME` in any namespace).
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub canary: Option<String>,

    /// Output format: a timeline for people, or JSON.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also print the Services, VirtualService, DestinationRules or HTTPRoute Flagger will
    /// generate, as Kubernetes YAML.
    #[arg(long)]
    pub render: bool,

    /// Files or directories of objects that exist in the cluster (Deployments, Gateways…).
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,

    /// The mesh provider Flagger runs with (its `-mesh-provider` flag).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// The namespace the manifests are applied to (`kubectl apply -n NS`); without it,
    /// objects without `metadata.namespace` are assumed to be in `default`.
    #[arg(long, short = 'n', value_name = "NS", value_parser = namespace_name)]
    pub namespace: Option<String>,

    /// Which files are applied together: `file`, `directory` or `all` (see `check --help`).
    #[arg(long, value_enum, value_name = "UNIT")]
    pub bundle: Option<BundleArg>,

    /// Configuration file to use instead of the `.canarylint.yaml` found in the working
    /// directory or one of its parents (`defaultProvider`, `selectorLabels`, rule levels).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,
}

/// The unit of files applied together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BundleArg {
    /// Each file, and standard input, on its own.
    File,
    /// The files of one directory together.
    Directory,
    /// Everything given together.
    All,
}

impl From<BundleArg> for canarylint::bundle::Grouping {
    fn from(b: BundleArg) -> Self {
        match b {
            BundleArg::File => canarylint::bundle::Grouping::File,
            BundleArg::Directory => canarylint::bundle::Grouping::Directory,
            BundleArg::All => canarylint::bundle::Grouping::All,
        }
    }
}

/// A namespace name, as the API server accepts it.
fn namespace_name(s: &str) -> Result<String, String> {
    if canarylint::config::is_namespace_name(s) {
        Ok(s.to_string())
    } else {
        Err("a namespace name has 1 to 63 lowercase letters, digits or `-`, and starts and ends with a letter or digit".into())
    }
}
