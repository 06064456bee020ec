//! The plan for people: a timeline that fits 80 columns, and a one-paragraph summary.

use canarylint::tree::format_number;
use canarylint_plan::duration::fmt_seconds;
use canarylint_plan::{MetricKind, MetricPlan, NoteLevel, Plan, Stage, Step, StrategyKind};

const WIDTH: usize = 80;
const BAR: usize = 20;
/// `{index:>3} {at:>6} {pct:>4} {bar}  ` before a row's text.
const ROW_PREFIX: usize = 3 + 1 + 6 + 1 + 4 + 1 + BAR + 2;
/// Beyond this many runs, stretches of identical analysis runs are folded.
const FOLD_ABOVE: usize = 24;

/// Wraps `text` to `WIDTH`, the first line after `first` (already written, `first_width`
/// columns wide) and the others indented by `indent`.
fn wrap(out: &mut String, first_width: usize, indent: usize, text: &str) {
    let mut col = first_width;
    let mut line_start = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if !line_start && col + 1 + len > WIDTH {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
            line_start = true;
        }
        if !line_start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
        line_start = false;
    }
    out.push('\n');
}

fn bar(step: &Step) -> String {
    let cells = |pct: u32| (pct as usize * BAR).div_ceil(100).min(BAR);
    if step.weight == 0 && step.mirrored {
        let m = cells(step.mirror_weight.unwrap_or(100));
        return format!("{}{}", "▒".repeat(m), "░".repeat(BAR - m));
    }
    let f = cells(step.weight);
    format!("{}{}", "█".repeat(f), "░".repeat(BAR - f))
}

/// A plain weight move or iteration count says nothing the bar does not.
fn plain_action(step: &Step) -> bool {
    step.stage == Stage::Analysis
        && ((step.action.starts_with("route ") && step.action.ends_with("% to the canary"))
            || step.action.starts_with("iteration "))
}

fn row_text(step: &Step) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut types: Vec<&str> = Vec::new();
    for h in &step.hooks {
        if !types.contains(&h.type_.as_str()) {
            types.push(&h.type_);
        }
    }
    for t in types {
        let names: Vec<&str> = step
            .hooks
            .iter()
            .filter(|h| h.type_ == t)
            .map(|h| h.name.as_str())
            .collect();
        parts.push(format!("{t}: {}", names.join(", ")));
    }
    if !step.metrics.is_empty() {
        parts.push(format!(
            "{} check{}",
            step.metrics.len(),
            if step.metrics.len() == 1 { "" } else { "s" }
        ));
    }
    if step.stage == Stage::Analysis && step.action.starts_with("iteration ") {
        // A bare "iteration k/n" shrinks to "k/n" (the header says so); anything more is news.
        let rest = &step.action["iteration ".len()..];
        if rest.contains(' ') {
            parts.push(step.action.clone());
        } else {
            parts.push(rest.to_string());
        }
    } else if !plain_action(step) {
        parts.push(step.action.clone());
    }
    if parts.is_empty() {
        parts.push("—".into());
    }
    parts.join(" · ")
}

fn write_row(out: &mut String, step: &Step) {
    let head = format!(
        "{:>3} {:>6} {:>3}% {}  ",
        step.index,
        fmt_seconds(step.at_seconds),
        step.weight,
        bar(step)
    );
    out.push_str(&head);
    wrap(out, ROW_PREFIX, ROW_PREFIX, &row_text(step));
}

/// Analysis runs that read alike (same hooks and checks, a plain move).
fn same_kind(a: &Step, b: &Step) -> bool {
    a.stage == Stage::Analysis
        && b.stage == Stage::Analysis
        && plain_action(a)
        && plain_action(b)
        && a.hooks == b.hooks
        && a.metrics == b.metrics
        && a.mirrored == b.mirrored
}

fn metric_text(m: &MetricPlan) -> String {
    // The builtin checks have fixed units: a percentage and milliseconds.
    let unit = match (m.kind, m.name.as_str()) {
        (MetricKind::Builtin | MetricKind::BuiltinAndCustom, "request-success-rate") => "%",
        (MetricKind::Builtin | MetricKind::BuiltinAndCustom, "request-duration") => "ms",
        _ => "",
    };
    let mut range = Vec::new();
    if let Some(min) = m.min {
        range.push(format!("≥ {}{unit}", format_number(min)));
    }
    if let Some(max) = m.max {
        range.push(format!("≤ {}{unit}", format_number(max)));
    }
    let how = match m.kind {
        MetricKind::Builtin => "builtin".to_string(),
        MetricKind::BuiltinAndCustom => "builtin + custom".to_string(),
        MetricKind::Template => format!("template {}", m.template.as_deref().unwrap_or("")),
        MetricKind::Query => "query".to_string(),
        MetricKind::Unusable => "no template or query: always fails".to_string(),
    };
    let range = if range.is_empty() {
        String::new()
    } else {
        format!(" {}", range.join(" "))
    };
    format!("{}{range} over {} ({how})", m.name, m.interval)
}

/// The plan as a compact, 80-column report.
pub fn render_human(plan: &Plan) -> String {
    let mut out = String::new();
    let head = format!(
        "Canary {}/{} · provider {} ({})",
        plan.canary.namespace, plan.canary.name, plan.provider.name, plan.provider.source
    );
    wrap(&mut out, 0, 2, &head);
    let strategy = format!(
        "Strategy: {}{}",
        plan.strategy.name,
        if plan.strategy.skip_analysis {
            " (skipAnalysis: promoted without checks)"
        } else {
            ""
        }
    );
    wrap(&mut out, 0, 2, &strategy);
    for r in &plan.reasons {
        out.push_str("  • ");
        wrap(&mut out, 4, 4, &format!("{}: {}", r.field, r.text));
    }

    out.push('\n');
    wrap(
        &mut out,
        0,
        2,
        &format!(
            "Timeline: one run every {}; the bar is the canary's share of {} after the run (█ routed, ▒ mirrored copy)",
            fmt_seconds(plan.interval_seconds),
            if plan.strategy.kind == StrategyKind::AbTesting {
                "the requests that match analysis.match"
            } else {
                "live traffic"
            }
        ),
    );
    let analysis_hooks: Vec<String> = plan
        .steps
        .iter()
        .find(|s| s.stage == Stage::Analysis || s.stage == Stage::Promote)
        .map(|s| {
            s.hooks
                .iter()
                .filter(|h| h.type_ == "rollout")
                .map(|h| h.name.clone())
                .collect()
        })
        .unwrap_or_default();
    if !plan.metrics.is_empty() || !analysis_hooks.is_empty() {
        let mut each = Vec::new();
        if !analysis_hooks.is_empty() {
            each.push(format!("rollout hooks {}", analysis_hooks.join(", ")));
        }
        if !plan.metrics.is_empty() {
            let checks: Vec<String> = plan.metrics.iter().map(metric_text).collect();
            each.push(format!("checks {}", checks.join("; ")));
        }
        out.push_str("Each analysis: ");
        wrap(&mut out, 15, 2, &each.join("; "));
    }
    let what = if matches!(
        plan.strategy.kind,
        StrategyKind::BlueGreen | StrategyKind::BlueGreenMirroring | StrategyKind::AbTesting
    ) {
        "what happens (k/n: iteration)"
    } else {
        "what happens"
    };
    out.push_str(&format!(
        "{:>3} {:>6} {:<w$}  {what}\n",
        "#",
        "at",
        "canary",
        w = BAR + 5
    ));
    let steps = &plan.steps;
    let fold = steps.len() > FOLD_ABOVE;
    let mut i = 0;
    while i < steps.len() {
        if fold {
            let mut j = i;
            while j + 1 < steps.len() && same_kind(&steps[i], &steps[j + 1]) {
                j += 1;
            }
            let run = j - i + 1;
            if run > 4 {
                write_row(&mut out, &steps[i]);
                write_row(&mut out, &steps[i + 1]);
                out.push_str(&format!(
                    "{:>3} {:>6} {:>4} {:<w$}  {} more like these\n",
                    "⋮",
                    "",
                    "",
                    "",
                    run - 3,
                    w = BAR
                ));
                write_row(&mut out, &steps[j]);
                i = j + 1;
                continue;
            }
        }
        write_row(&mut out, &steps[i]);
        i += 1;
    }
    if let Some(s) = plan.stalls_at_step {
        out.push_str(&format!(
            "{:>3} {:>6} {:>4} {:<w$}  … step {s} again, every run\n",
            "",
            "",
            "",
            "",
            w = BAR
        ));
    }

    out.push('\n');
    let promotion = match (plan.promotion_after_seconds, plan.completed_after_seconds) {
        (Some(p), Some(c)) => format!(
            "Promotion: at the earliest {} after the run that detects a new revision (every check passing, every gate approving; that run comes up to one interval after the change); rollout complete at {}.",
            fmt_seconds(p),
            fmt_seconds(c)
        ),
        (Some(p), None) => format!(
            "Promotion: at the earliest {}; the rollout never completes.",
            fmt_seconds(p)
        ),
        _ => "Promotion: never; the timeline above does not reach it.".to_string(),
    };
    wrap(&mut out, 0, 2, &promotion);
    let rollback = format!(
        "Rollback: after {} failed check{} ({} × {} = {} once checks keep failing); failed pre-rollout and rollout hooks count too.",
        plan.threshold,
        if plan.threshold == 1 { "" } else { "s" },
        plan.threshold,
        fmt_seconds(plan.interval_seconds),
        fmt_seconds(plan.rollback_after_seconds)
    );
    wrap(&mut out, 0, 2, &rollback);
    for h in &plan.conditional_hooks {
        out.push_str("  • ");
        wrap(
            &mut out,
            4,
            4,
            &format!("{} `{}`: {}", h.type_, h.name, h.when),
        );
    }

    if !plan.defaults_applied.is_empty() {
        out.push('\n');
        out.push_str("Defaults and rewrites\n");
        for d in &plan.defaults_applied {
            out.push_str("  ");
            wrap(
                &mut out,
                2,
                6,
                &format!("{} = {} — {}", d.field, d.value, d.reason),
            );
        }
    }

    if !plan.generated.is_empty() {
        out.push('\n');
        out.push_str("Generated\n");
        for g in &plan.generated {
            out.push_str("  ");
            wrap(
                &mut out,
                2,
                6,
                &format!("{} {}: {}", g.kind, g.name, g.summary),
            );
        }
    }

    if !plan.notes.is_empty() {
        out.push('\n');
        out.push_str("Notes\n");
        for n in &plan.notes {
            let tag = match n.level {
                NoteLevel::Blocker => "blocker",
                NoteLevel::Warning => "warning",
                NoteLevel::Assumption => "assumed",
                NoteLevel::Info => "info",
            };
            let head = format!("  {tag}: ");
            out.push_str(&head);
            wrap(&mut out, head.chars().count(), 6, &n.text);
        }
    }
    out
}

/// One paragraph for an editor hover.
pub fn summary(plan: &Plan) -> String {
    let mut s = format!(
        "{} on {}{}.",
        plan.strategy.name,
        plan.provider.name,
        if plan.strategy.skip_analysis {
            " (skipAnalysis: promoted without checks)"
        } else {
            ""
        }
    );
    match plan.promotion_after_seconds {
        Some(p) => s.push_str(&format!(
            " Promotion at the earliest {} after a new revision",
            fmt_seconds(p)
        )),
        None => s.push_str(" Flagger never promotes it"),
    }
    let analyses = plan
        .steps
        .iter()
        .filter(|st| matches!(st.stage, Stage::Analysis | Stage::Promote))
        .count();
    if analyses > 0 && plan.promotion_after_seconds.is_some() {
        s.push_str(&format!(
            " ({analyses} analysis run{})",
            if analyses == 1 { "" } else { "s" }
        ));
    }
    s.push_str(&format!(
        "; rollback after {} failed check{} ({}).",
        plan.threshold,
        if plan.threshold == 1 { "" } else { "s" },
        fmt_seconds(plan.rollback_after_seconds)
    ));
    if !plan.defaults_applied.is_empty() {
        let fields: Vec<&str> = plan
            .defaults_applied
            .iter()
            .take(3)
            .map(|d| d.field.trim_start_matches("spec."))
            .collect();
        s.push_str(&format!(
            " Flagger fills in or rewrites {} value{} ({}{}).",
            plan.defaults_applied.len(),
            if plan.defaults_applied.len() == 1 {
                ""
            } else {
                "s"
            },
            fields.join(", "),
            if plan.defaults_applied.len() > 3 {
                ", …"
            } else {
                ""
            }
        ));
    }
    if let Some(b) = plan.notes.iter().find(|n| n.level == NoteLevel::Blocker) {
        s.push_str(&format!(" Blocker: {}", b.text));
        if !s.ends_with('.') {
            s.push('.');
        }
    }
    s
}
