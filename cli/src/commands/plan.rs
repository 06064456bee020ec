//! `canarylint plan`: what Flagger will do with each Canary, and the findings that go with it.

use std::io::Write;

use canarylint::model::CanaryView;
use canarylint::{Budget, Kind, Severity};
use canarylint_plan::plan;
use canarylint_workspace::Workspace;
use canarylint_workspace::collect::{self, Seen};
use canarylint_workspace::units;

use crate::args::{Format, PlanArgs};
use crate::error::{CliError, Status};
use crate::output::plan::{render_generated_yaml, render_human};
use crate::output::{self, human};

pub fn run(args: &PlanArgs) -> Result<Status, CliError> {
    // The same settings as `check`: the configuration's provider, selector labels and rule
    // levels, the flags over them.
    let workspace = Workspace::load(&super::check::options(
        args.config.as_deref(),
        args.no_config,
        args.provider.as_deref(),
        args.namespace.as_deref(),
        args.bundle.map(Into::into),
    )?)
    .map_err(CliError::Config)?;
    let mut seen = Seen::default();
    let mut inputs = collect::collect(&args.paths, &mut seen);
    // A file given both to lint and as context is linted, and its objects also exist in the
    // cluster: context is read on its own.
    let mut context = collect::collect(&args.context, &mut Seen::default());
    for e in inputs.errors.iter().chain(&context.errors) {
        super::report_input(e);
    }
    let unreadable = !inputs.errors.is_empty() || !context.errors.is_empty();
    inputs.errors.clear();
    context.errors.clear();
    let linter = workspace.linter();
    let default_ns = linter.settings.default_namespace.clone();
    let placed = units::place(inputs, workspace.grouping);
    let run = linter.lint_inputs(
        canarylint::Inventory::new(),
        placed.inputs,
        units::place_context(context),
        &placed.partial,
        &Budget::GENEROUS,
    );

    let mut plans = Vec::new();
    for file in &run.files {
        for doc in file.documents.iter().filter(|d| d.kind == Kind::Canary) {
            let Some(canary) = CanaryView::new(doc) else {
                continue;
            };
            let ns = doc.namespace_or(&default_ns);
            let name = doc.name.as_deref().unwrap_or("");
            if let Some(wanted) = &args.canary {
                let (wns, wname) = wanted.split_once('/').unwrap_or((ns, wanted.as_str()));
                if wns != ns || wname != name {
                    continue;
                }
            }
            let findings: Vec<_> = run
                .findings
                .iter()
                .filter(|f| {
                    f.file == file.source.name
                        && f.resource.as_ref().is_some_and(|r| {
                            r.kind == "Canary"
                                && r.name.as_deref() == Some(name)
                                && r.namespace.as_deref() == Some(ns)
                        })
                })
                .collect();
            plans.push((
                file,
                plan(
                    &canary,
                    &linter.settings,
                    Some(
                        run.inventory.view_from(
                            file.bundle,
                            (linter.settings.namespace_assumed && doc.namespace.is_none())
                                .then_some(default_ns.as_str()),
                        ),
                    ),
                ),
                findings,
            ));
        }
    }
    if plans.is_empty() {
        let what = args.canary.as_deref().map_or_else(
            || "no Canary found in the input".to_string(),
            |c| format!("no Canary {c} in the input"),
        );
        eprintln_safe(&format!("canarylint: {what}"));
        return Ok(Status::Error);
    }

    let mut out = std::io::stdout().lock();
    let written = (|| -> std::io::Result<()> {
        match args.format {
            Format::Json => {
                let items: Vec<serde_json::Value> = plans
                    .iter()
                    .map(|(_, p, findings)| {
                        let mut v = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
                        if let serde_json::Value::Object(m) = &mut v {
                            m.insert(
                                "findings".into(),
                                findings
                                    .iter()
                                    .map(|f| {
                                        serde_json::json!({
                                            "code": f.rule.code,
                                            "slug": f.rule.slug,
                                            "severity": f.severity.as_str(),
                                            "message": f.message,
                                            "line": f.start.line,
                                            "path": f.path,
                                        })
                                    })
                                    .collect(),
                            );
                        }
                        v
                    })
                    .collect();
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({"version": 1, "plans": items}),
                )?;
                writeln!(out)?;
            }
            Format::Human => {
                for (i, (file, p, findings)) in plans.iter().enumerate() {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    write!(out, "{}", render_human(p))?;
                    if args.render {
                        writeln!(
                            out,
                            "\n# Objects Flagger generates\n{}",
                            render_generated_yaml(p)
                        )?;
                    }
                    if findings.is_empty() {
                        writeln!(out, "\nFindings: none")?;
                    } else {
                        writeln!(out, "\nFindings:")?;
                        let theme = if output::use_color() {
                            miette::GraphicalTheme::unicode()
                        } else {
                            miette::GraphicalTheme::unicode_nocolor()
                        };
                        let handler = miette::GraphicalReportHandler::new_themed(theme);
                        for f in findings {
                            write!(out, "{}", human::render(&handler, f, Some(&file.source)))?;
                        }
                    }
                }
            }
        }
        out.flush()
    })();
    let status = if unreadable {
        Status::Error
    } else if plans
        .iter()
        .any(|(_, _, f)| f.iter().any(|f| f.severity == Severity::Error))
    {
        Status::Findings
    } else {
        Status::Clean
    };
    super::finish(written, status)
}

fn eprintln_safe(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}
