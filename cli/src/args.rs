//! The command line: commands, options and their help texts.

#[cfg(feature = "serve")]
use std::net::SocketAddr;
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
    Serve(ServeArgs),
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
                        an input that cannot be read. With --fix, the status is that of what \
                        remains; with --diff, it is also 1 when there is something to fix; a \
                        file that cannot be written gives 2.",
    group(clap::ArgGroup::new("fixing").args(["fix", "diff"]).multiple(true))
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

    /// Apply the safe fixes to the files, in place, then report what remains. Standard input
    /// (`-`) is written, fixed, to standard output.
    ///
    /// Only the edited spans change: comments, key order, quoting and line ends stay as they
    /// were. Files are linted again until no fix applies (at most 10 passes), and each file is
    /// replaced at once (a temporary file in the same folder, then a rename, with the file's
    /// permissions); a read-only file is left as it is and named on standard error.
    #[arg(long, help_heading = "Fixes")]
    pub fix: bool,

    /// With --fix or --diff, also apply the fixes marked unsafe: they change what the Canary
    /// does (a step weight, the strategy), so review them.
    #[arg(long, help_heading = "Fixes", requires = "fixing")]
    pub unsafe_fixes: bool,

    /// Print what --fix would change as a unified diff on standard output, and change no file
    /// (alone or with --fix). The report of what would remain goes to --output or standard error.
    #[arg(long, help_heading = "Fixes")]
    pub diff: bool,
}

impl CheckArgs {
    /// What to do with the fixes the findings carry, if anything.
    pub fn fix_mode(&self) -> Option<crate::fix::Mode> {
        use crate::fix::Mode;
        match (self.diff, self.fix) {
            (true, _) => Some(Mode::Diff),
            (false, true) => Some(Mode::Write),
            (false, false) => None,
        }
    }
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

/// What error-level findings do to a review (`canarylint serve --mode`).
#[cfg(feature = "serve")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ServeMode {
    /// Error-level findings deny the request; warnings come back as admission warnings.
    #[default]
    Deny,
    /// Nothing is denied: error-level findings come back as warnings too. For roll-outs.
    Warn,
}

#[cfg(feature = "serve")]
impl From<ServeMode> for canarylint_server::Mode {
    fn from(mode: ServeMode) -> canarylint_server::Mode {
        match mode {
            ServeMode::Deny => canarylint_server::Mode::Deny,
            ServeMode::Warn => canarylint_server::Mode::Warn,
        }
    }
}

/// Serve the validating admission webhook for Flagger Canaries.
///
/// Listens for AdmissionReview requests on `POST /validate` (TLS), lints every created or
/// updated Canary with the same rules as `canarylint check`, denies those with error-level
/// findings and returns warnings for the rest. Cross-resource checks (Gateways, Deployments,
/// Services, …) use an in-memory cache kept up to date by watching the cluster; reviews never
/// call the API server. `/healthz`, `/readyz` and `/metrics` are served on the same listener
/// (and on `--metrics-listen`, in plain HTTP).
#[cfg(feature = "serve")]
#[derive(Clone, Debug, Args)]
#[command(
    after_help = "Logs are JSON lines on standard error; set RUST_LOG (for example \
                        RUST_LOG=debug) to change the level. SIGTERM or SIGINT stops accepting \
                        connections, finishes the reviews in flight and exits with status 0."
)]
pub struct ServeArgs {
    /// Address and port of the webhook listener (TLS unless --insecure-http).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,

    /// PEM file with the serving certificate (chain). Reloaded when it changes, so a Secret
    /// rotated by cert-manager takes effect without a restart.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        required_unless_present = "insecure_http"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve plain HTTP instead of TLS. For local trials only: the API server only calls
    /// webhooks over HTTPS.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub insecure_http: bool,

    /// Also serve /healthz, /readyz and /metrics in plain HTTP on this address (for probes
    /// and Prometheus scrapes).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// `deny`: error-level findings reject the request. `warn`: never reject; errors come
    /// back as warnings too (use it to roll the webhook out before enforcing).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ServeMode::Deny)]
    pub mode: ServeMode,

    /// Kubeconfig file of the cluster to watch (default: $KUBECONFIG, ~/.kube/config, then the
    /// in-cluster service account).
    #[arg(long, value_name = "PATH", conflicts_with = "no_cluster")]
    pub kubeconfig: Option<PathBuf>,

    /// Run without a cluster: cross-resource checks only know the --context objects, and
    /// references to anything else are reported as unresolved (CL100), never denied.
    #[arg(long)]
    pub no_cluster: bool,

    /// A file or directory of manifests to seed the inventory with (trials, demos, tests).
    /// Each kind found is taken as complete for the namespaces it appears in. May be
    /// repeated.
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,

    /// Watch only these namespaces (comma-separated) instead of the whole cluster; references
    /// into other namespaces are then unresolved (CL100).
    #[arg(long, value_name = "NS,...", value_delimiter = ',')]
    pub watch_namespaces: Vec<String>,

    /// Deny (instead of warn about) an update or deletion of an Istio Gateway that would leave
    /// a Canary's gateway reference dangling or one of its hosts unbound.
    #[arg(long)]
    pub protect_gateways: bool,

    /// With a cluster: deny Canary changes while a watched kind has not finished its first
    /// list ("inventory not synced"), instead of letting references through as unresolved
    /// (CL100). Kinds whose CRD is not installed do not count.
    #[arg(long, conflicts_with = "no_cluster")]
    pub fail_closed_references: bool,

    /// Configuration file (rules, severities, ignores) instead of the `.canarylint.yaml`
    /// found in the working directory or one of its parents.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,

    /// Largest request body accepted, in bytes; larger requests get 413.
    #[arg(long, value_name = "BYTES", default_value_t = canarylint_server::options::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,

    /// Seconds a client has to send a request and receive the answer (headers, body and
    /// review); slower requests are cut off with 408.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = canarylint_server::options::DEFAULT_REQUEST_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub request_timeout: u64,

    /// The mesh provider Flagger runs with (its `-mesh-provider` flag), used for Canaries
    /// without `spec.provider`.
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// The namespace of objects that name none (context files, reviews without a namespace),
    /// as `kubectl apply -n NS`. Without it (or `namespace` in the configuration) they are
    /// taken to be in `default`, an assumption that never makes a namespace complete.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
}

#[cfg(feature = "serve")]
impl From<ServeArgs> for canarylint_server::ServeOptions {
    fn from(args: ServeArgs) -> canarylint_server::ServeOptions {
        canarylint_server::ServeOptions {
            listen: args.listen,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
            insecure_http: args.insecure_http,
            metrics_listen: args.metrics_listen,
            mode: args.mode.into(),
            kubeconfig: args.kubeconfig,
            no_cluster: args.no_cluster,
            context: args.context,
            watch_namespaces: args.watch_namespaces,
            protect_gateways: args.protect_gateways,
            fail_closed_references: args.fail_closed_references,
            config: args.config,
            no_config: args.no_config,
            body_limit: args.body_limit,
            request_timeout: std::time::Duration::from_secs(args.request_timeout),
            provider: args.provider,
            namespace: args.namespace,
        }
    }
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

    #[cfg(feature = "serve")]
    #[test]
    fn serve_needs_a_certificate_or_the_explicit_plain_http_flag() {
        let err = Cli::try_parse_from(["canarylint", "serve", "--no-cluster"])
            .expect_err("serve without a certificate or --insecure-http is refused");
        assert!(err.to_string().contains("--tls-cert"), "{err}");
        assert!(
            Cli::try_parse_from([
                "canarylint",
                "serve",
                "--insecure-http",
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem"
            ])
            .is_err()
        );
    }

    #[cfg(feature = "serve")]
    #[test]
    fn serve_flags_become_the_server_options() {
        let cli = Cli::try_parse_from([
            "canarylint",
            "serve",
            "--insecure-http",
            "--mode",
            "warn",
            "--request-timeout",
            "30",
            "--watch-namespaces",
            "a,b",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let options = canarylint_server::ServeOptions::from(args);
        assert_eq!(options.mode, canarylint_server::Mode::Warn);
        assert_eq!(options.request_timeout, std::time::Duration::from_secs(30));
        assert_eq!(options.watch_namespaces, ["a", "b"]);
        assert_eq!(
            options.listen.port(),
            canarylint_server::options::DEFAULT_PORT
        );
        assert_eq!(
            options.body_limit,
            canarylint_server::options::DEFAULT_BODY_LIMIT
        );
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
