//! Quick fixes: the rule's own fix, and the two ways to silence a finding.
//!
//! Both come from lib (the fix from the rule that found the problem, the suppression edits
//! from its suppression module), so the CLI's SARIF output carries the same fixes; this module
//! only turns them into editor actions.

use canarylint::suppress::silencing_edits;
use canarylint::{Applicability, Edit, Finding, ParsedFile};

/// A quick fix of one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub edits: Vec<Edit>,
    /// The fix to apply when the editor applies "the" fix of a diagnostic.
    pub preferred: bool,
}

/// Every quick fix for a finding. `json`: the document is JSON (no comments).
pub fn for_finding(f: &Finding, file: &ParsedFile, json: bool) -> Vec<Action> {
    let mut out = Vec::new();
    if let Some(fix) = &f.fix {
        out.push(Action {
            title: fix.title.clone(),
            edits: fix.edits.clone(),
            preferred: fix.applicability == Applicability::Safe,
        });
    }
    out.extend(silencing_edits(f, file, !json).into_iter().map(|s| Action {
        title: s.title,
        edits: vec![s.edit],
        preferred: false,
    }));
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use canarylint::{Budget, Inventory, Linter, SourceFile, read};

    use super::*;

    /// Every manifest of the bundled examples and the CLI fixtures, as (name, text).
    fn corpus() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in [root.join("../examples"), root.join("tests/fixtures")] {
            for e in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let e = e.unwrap();
                if e.file_type().is_file()
                    && canarylint_workspace::collect::has_manifest_extension(e.path())
                {
                    let text = std::fs::read_to_string(e.path()).unwrap();
                    out.push((e.path().display().to_string(), text));
                }
            }
        }
        // Shapes the files above do not have.
        let base = "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: a\n  namespace: test\nspec:\n  provider: istio\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: a\n  service:\n    port: 80\n  analysis:\n    interval: 1m\n    threshold: 5\n    maxWeight: 50\n    stepWeight: 10\n";
        let extra = [
            (
                "api-version.yaml",
                base.replace("apiVersion: apps/v1", "apiVersion: v1"),
            ),
            (
                "flow-annotations.yaml",
                base.replace(
                    "  namespace: test\n",
                    "  namespace: test\n  annotations: {team: x}\n",
                )
                .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "empty-annotations.yaml",
                base.replace("  namespace: test\n", "  namespace: test\n  annotations:\n")
                    .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "quoted-ignore.yaml",
                base.replace(
                    "  namespace: test\n",
                    "  namespace: test\n  annotations:\n    canarylint.io/ignore: 'CL103'\n",
                )
                .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "flow-metadata.yaml",
                base.replace(
                    "metadata:\n  name: a\n  namespace: test\n",
                    "metadata: {name: a, namespace: test}\n",
                )
                .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "step-weights.yaml",
                base.replace(
                    "    maxWeight: 50\n    stepWeight: 10\n",
                    "    stepWeights:\n      - 10\n      - 40\n    mirror: true\n",
                ),
            ),
            (
                "canary-analysis.yaml",
                base.replace("  analysis:", "  canaryAnalysis:"),
            ),
            (
                "crlf.yaml",
                base.replace("stepWeight: 10", "stepWeight: 70 # too big")
                    .replace('\n', "\r\n"),
            ),
            (
                "list.yaml",
                format!(
                    "apiVersion: v1\nkind: List\nitems:\n  - {}",
                    base.replace("stepWeight: 10", "stepWeight: 70")
                        .replace('\n', "\n    ")
                        .trim_end()
                ),
            ),
        ];
        for (name, text) in extra {
            out.push((format!("/extra/{name}"), text));
        }
        out
    }

    fn lint(files: &[(String, String)], index: usize) -> (ParsedFile, Vec<Finding>) {
        let parsed: Vec<ParsedFile> = files
            .iter()
            .map(|(n, t)| {
                read(
                    Arc::new(SourceFile::new(n.as_str(), t.as_str())),
                    &Budget::GENEROUS,
                )
            })
            .collect();
        let mut inv = Inventory::new();
        for p in &parsed {
            inv.add_file(p, "default", true);
        }
        let findings = Linter::new(canarylint_rules::ALL).lint_file(&parsed[index], &inv);
        let file = parsed.into_iter().nth(index).unwrap();
        (file, findings)
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        canarylint::edit::apply(text, edits).expect("overlapping edits")
    }

    fn key(f: &Finding) -> (String, String, Option<canarylint::ResourceRef>) {
        (f.rule.code.to_string(), f.path.clone(), f.resource.clone())
    }

    /// Each action, applied, removes its finding and adds no parse or schema error.
    #[test]
    fn every_action_removes_its_finding() {
        let files = corpus();
        let mut checked = 0;
        for i in 0..files.len() {
            let (file, findings) = lint(&files, i);
            let json = files[i].0.ends_with(".json");
            for f in &findings {
                for a in for_finding(f, &file, json) {
                    let mut edited = files.clone();
                    edited[i].1 = apply(&files[i].1, &a.edits);
                    let (_, after) = lint(&edited, i);
                    let name = &files[i].0;
                    assert!(
                        !after.iter().any(|g| key(g) == key(f)),
                        "{name}: {:?} left {} {}:\n{}",
                        a.title,
                        f.rule.code,
                        f.message,
                        edited[i].1
                    );
                    for g in &after {
                        let broken = matches!(g.rule.code, "CL000" | "CL001" | "CL002");
                        assert!(
                            !broken || findings.iter().any(|h| key(h) == key(g)),
                            "{name}: {:?} introduced {} {}:\n{}",
                            a.title,
                            g.rule.code,
                            g.message,
                            edited[i].1
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "only {checked} actions checked");
    }
}
