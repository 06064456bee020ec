//! `canarylint check`: read, lint, print, and set the exit status.
//!
//! Where things go: the report in the chosen format goes to standard output, or to the file
//! of `--output`. The summary line (`1 error in 2 files (3 documents)`) ends the human report;
//! with a machine format on standard output it goes to standard error, so that standard
//! output holds nothing but the format; with `--output` it goes to standard output. The exit
//! status is the same in every format.

use std::io::Write;

use canarylint::{Budget, LintRun, Severity};
use canarylint_workspace::collect::{self, Seen};
use canarylint_workspace::units;
use canarylint_workspace::{ConfigSource, Options, Workspace};

use crate::args::{CheckArgs, CheckFormat};
use crate::error::{CliError, Status};
use crate::fix;
use crate::output::{self, Summary, github, human, json, junit, sarif};

pub fn run(args: &CheckArgs) -> Result<Status, CliError> {
    let workspace = Workspace::load(&options(
        args.config.as_deref(),
        args.no_config,
        args.provider.as_deref(),
        args.namespace.as_deref(),
        args.bundle.map(Into::into),
    )?)
    .map_err(CliError::Config)?;
    match args.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.get())
            .build()
            .map_err(|e| CliError::Threads {
                threads: n.get(),
                message: e.to_string(),
            })?
            .install(|| check(args, &workspace)),
        None => check(args, &workspace),
    }
}

/// The workspace options of `check` and `plan`: `--config FILE`, none with `--no-config`, else
/// the configuration discovered from the working directory upward; the flags over it.
pub(crate) fn options(
    config: Option<&std::path::Path>,
    no_config: bool,
    provider: Option<&str>,
    namespace: Option<&str>,
    bundle: Option<canarylint::bundle::Grouping>,
) -> Result<Options, CliError> {
    let config = match (config, no_config) {
        (_, true) => ConfigSource::None,
        (Some(p), false) => ConfigSource::File(p.to_path_buf()),
        (None, false) => {
            let cwd = std::env::current_dir().map_err(|source| {
                CliError::Input(collect::InputError {
                    path: ".".into(),
                    source,
                })
            })?;
            ConfigSource::Discover(cwd)
        }
    };
    Ok(Options {
        config,
        provider: provider.map(str::to_string),
        namespace: namespace.map(str::to_string),
        bundle,
    })
}

fn check(args: &CheckArgs, workspace: &Workspace) -> Result<Status, CliError> {
    let mut seen = Seen::default();
    // Outside `--fix` (which keeps the texts it edits), no text is kept between the passes:
    // each file is read again when it is linted. The texts are still all read here first:
    // letting each go as soon as it was read left the peak where it was (at the end of the
    // first pass) for one more read of every file.
    let reread = args.fix_mode().is_none();
    let mut inputs = collect::collect(&args.paths, &mut seen);
    // A file given both to lint and as context is linted, and its objects also exist in the
    // cluster: context is read on its own.
    let mut context = collect::collect(&args.context, &mut Seen::default());
    let input_errors: Vec<collect::InputError> = std::mem::take(&mut inputs.errors)
        .into_iter()
        .chain(std::mem::take(&mut context.errors))
        .collect();
    for e in &input_errors {
        super::report_input(e);
    }
    let unreadable = !input_errors.is_empty();

    let fail_on = workspace.fail_on();
    let mut linter = workspace.linter();
    let namespace = linter.settings.default_namespace.clone();
    // Findings carry their positions: only the formats that quote the source keep it.
    linter.retain = canarylint::Retain {
        trees: false,
        sources: matches!(args.format, CheckFormat::Human | CheckFormat::Sarif),
    };
    let mut base = cluster_inventory(args, &namespace)?;
    if args.complete {
        for kind in canarylint::Kind::ALL {
            base.set_coverage(kind, canarylint::Coverage::All);
        }
    }
    // Where each file is written back to, before placing takes the sources.
    let fix_paths = args.fix_mode().map(|_| fix::Paths::of(&inputs));
    let reader = reread.then(|| std::sync::Arc::new(collect::Reader::of(&inputs)));
    linter.reread = reader
        .clone()
        .map(|r| r as std::sync::Arc<dyn canarylint::Reread>);
    let placed = units::place(inputs, workspace.grouping);
    let context = units::place_context(context);
    let (run, fixed) = match (args.fix_mode(), fix_paths) {
        (Some(mode), Some(paths)) => {
            let lint = |inputs| {
                linter.lint_inputs(
                    base.clone(),
                    inputs,
                    context.clone(),
                    &placed.partial,
                    &Budget::GENEROUS,
                )
            };
            let options = fix::Options {
                mode,
                unsafe_fixes: args.unsafe_fixes,
            };
            let outcome = fix::run(placed.inputs, &paths, options, &lint)?;
            (outcome.run, Some(outcome.done))
        }
        _ => (
            linter.lint_inputs(
                base,
                placed.inputs,
                context,
                &placed.partial,
                &Budget::GENEROUS,
            ),
            None,
        ),
    };

    for name in &run.changed {
        eprintln!(
            "canarylint: {name} changed while it was checked: its findings are those of the \
             text read last (or none if it cannot be read); check it again"
        );
    }
    let mut summary = Summary::of(&run);
    summary.fixes = fixed.map(|d| d.counts);
    let stdout_taken = fixed.is_some_and(|d| d.stdout_taken);
    let status = if unreadable || !run.changed.is_empty() || fixed.is_some_and(|d| d.write_failed) {
        Status::Error
    } else if run.findings.iter().any(|f| f.severity >= fail_on)
        || fixed.is_some_and(|d| d.would_change)
    {
        Status::Findings
    } else {
        Status::Clean
    };

    let report = Report {
        run: &run,
        summary,
        fail_on,
        default_namespace: &namespace,
        input_errors: input_errors.iter().map(ToString::to_string).collect(),
        reread: reader.as_deref().map(|r| r as &dyn canarylint::Reread),
    };
    let written = match &args.output {
        // The report to the file, the summary line to the terminal.
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
            let mut file = std::io::BufWriter::new(file);
            report
                .write(&mut file, args.format, args.quiet, false)
                .map_err(|source| CliError::Write {
                    path: path.clone(),
                    source,
                })?;
            if stdout_taken {
                let mut err = std::io::stderr().lock();
                writeln!(err, "{}", summary.line()).and_then(|()| err.flush())
            } else {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", summary.line()).and_then(|()| out.flush())
            }
        }
        // Standard output holds the fixed stream or the diff: the report goes to stderr.
        None if stdout_taken => {
            let mut err = std::io::stderr().lock();
            let color = output::use_color_on(&std::io::stderr());
            let written = report.write(&mut err, args.format, args.quiet, color);
            if args.format != CheckFormat::Human && written.is_ok() {
                let _ = writeln!(err, "{}", summary.line());
            }
            written
        }
        None => {
            let mut out = std::io::stdout().lock();
            let written = report.write(&mut out, args.format, args.quiet, output::use_color());
            // Machine formats keep standard output to themselves: the summary goes to stderr.
            if args.format != CheckFormat::Human && written.is_ok() {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", summary.line());
            }
            written
        }
    };
    drop(report);
    // The process ends right after: freeing every finding and tree one by one would only
    // delay the exit (it took 5 % of a large run), the system takes the memory back at once.
    std::mem::forget(run);
    super::finish(written, status)
}

/// The live cluster's objects with `--cluster` (listed once, read-only), else nothing.
#[cfg(feature = "cluster")]
fn cluster_inventory(
    args: &CheckArgs,
    default_namespace: &str,
) -> Result<canarylint::Inventory, CliError> {
    let Some(context) = &args.cluster else {
        return Ok(canarylint::Inventory::new());
    };
    let context = (!context.is_empty()).then_some(context.as_str());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Cluster(e.to_string()))?;
    let (inventory, notes) = runtime
        .block_on(async {
            let client = canarylint_workspace::cluster::client_for_context(context).await?;
            canarylint_workspace::cluster::list_once(&client, None, default_namespace).await
        })
        .map_err(CliError::Cluster)?;
    for n in notes {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "canarylint: --cluster: not listed, references to it stay unverified: {n}"
        );
    }
    Ok(inventory)
}

#[cfg(not(feature = "cluster"))]
fn cluster_inventory(_: &CheckArgs, _: &str) -> Result<canarylint::Inventory, CliError> {
    Ok(canarylint::Inventory::new())
}

/// A finished run and what every format needs to print it.
struct Report<'a> {
    run: &'a LintRun,
    summary: Summary,
    fail_on: Severity,
    default_namespace: &'a str,
    /// Inputs that could not be read, as reported on stderr.
    input_errors: Vec<String>,
    /// Where the texts the run let go are read again, for the formats that quote them.
    reread: Option<&'a dyn canarylint::Reread>,
}

impl Report<'_> {
    fn write(
        &self,
        out: &mut impl Write,
        format: CheckFormat,
        quiet: bool,
        color: bool,
    ) -> std::io::Result<()> {
        let cwd = std::env::current_dir().ok();
        match format {
            CheckFormat::Human => human::write(
                out,
                self.run,
                &output::Texts::new(self.run, self.reread),
                &self.summary,
                human::Options { color, quiet },
            ),
            CheckFormat::Json => json::write(out, self.run, self.summary),
            CheckFormat::Sarif => {
                let rules = canarylint_rules::all_meta();
                sarif::write(
                    out,
                    self.run,
                    sarif::Options {
                        rules: &rules,
                        cwd: cwd.as_deref(),
                        input_errors: &self.input_errors,
                        reread: self.reread,
                    },
                )
            }
            CheckFormat::Github => github::write(out, self.run, cwd.as_deref()),
            CheckFormat::Junit => junit::write(
                out,
                self.run,
                junit::Options {
                    fail_on: self.fail_on,
                    default_namespace: self.default_namespace,
                    input_errors: &self.input_errors,
                },
            ),
        }
    }
}
