//! Meta-tests over the whole catalogue: codes, names, documentation, examples, messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use canarylint::Severity;
use canarylint::testing::lint_text;
use canarylint_rules::ALL;

#[test]
fn codes_are_unique_and_sorted() {
    let codes: Vec<&str> = ALL.iter().map(|r| r.meta().code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        codes, sorted,
        "ALL must be sorted by code, without duplicates"
    );
}

fn camel(slug: &str) -> String {
    slug.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect()
}

#[test]
fn names_agree_with_slugs() {
    for r in ALL {
        let m = r.meta();
        assert!(
            m.code.len() == 5 && m.code.starts_with("CL"),
            "{}: bad code",
            m.code
        );
        assert!(
            m.slug.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}: slug must be kebab-case",
            m.code
        );
        assert_eq!(
            m.type_name,
            camel(m.slug),
            "{}: the type must be the slug in UpperCamelCase",
            m.code
        );
        let file = std::path::Path::new(m.file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        assert_eq!(
            file,
            m.slug.replace('-', "_"),
            "{}: the file must be the slug in snake_case",
            m.code
        );
        let group = match &m.code[2..3] {
            "0" => "schema",
            "1" => "routing",
            "2" => "traffic",
            "3" => "workload",
            "4" => "analysis",
            "5" => "policy",
            g => panic!("{}: unknown group {g}", m.code),
        };
        assert!(
            m.file.contains(&format!("/{group}/")),
            "{}: belongs in src/{group}/, is in {}",
            m.code,
            m.file
        );
    }
}

#[test]
fn every_rule_is_documented() {
    for r in ALL {
        let m = r.meta();
        for h in [
            "What it does",
            "Why is this bad?",
            "Example",
            "Use instead",
            "Flagger behaviour",
        ] {
            let s = m.section(h).unwrap_or_default();
            assert!(
                !s.is_empty(),
                "{}: the documentation needs a `### {h}` section",
                m.code
            );
        }
        assert!(
            !m.summary.ends_with('.'),
            "{}: the summary has no trailing period",
            m.code
        );
        assert!(
            m.summary.len() <= 120,
            "{}: the summary fits 120 characters",
            m.code
        );
    }
}

#[test]
fn examples_trigger_their_rule_and_fixes_are_clean() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in ALL {
        let m = r.meta();
        let Some(bad) = m.example("Example") else {
            failures.push(format!("{}: no yaml in Example", m.code));
            continue;
        };
        checked += 1;
        assert!(
            bad.contains("kind:"),
            "{}: the Example yaml was not extracted: {bad:?}",
            m.code
        );
        let (_, found) = lint_text(&[*r], "example.yaml", &bad);
        if !found
            .iter()
            .any(|f| f.rule.code == m.code || (m.code == "CL100" && f.rule.code == "CL100"))
        {
            // CL100 is reported by the reference rules on its behalf.
            let (_, all) = lint_text(ALL, "example.yaml", &bad);
            if !all.iter().any(|f| f.rule.code == m.code) {
                failures.push(format!("{}: the Example does not raise it", m.code));
            }
        }
        let Some(good) = m.example("Use instead") else {
            if m.code != "CL100" {
                failures.push(format!("{}: no yaml in Use instead", m.code));
            }
            continue;
        };
        let (_, found) = lint_text(ALL, "use-instead.yaml", &good);
        let loud: Vec<String> = found
            .iter()
            .filter(|f| f.severity > Severity::Info || f.rule.code == m.code)
            .map(|f| format!("{} line {}: {}", f.rule.code, f.start.line, f.message))
            .collect();
        if !loud.is_empty() {
            failures.push(format!(
                "{}: Use instead is not clean:\n  {}",
                m.code,
                loud.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, ALL.len());
}

#[test]
fn messages_follow_the_conventions() {
    // Lint every Example and check what the rules say.
    let mut failures = Vec::new();
    for r in ALL {
        let m = r.meta();
        let Some(bad) = m.example("Example") else {
            continue;
        };
        let (_, found) = lint_text(ALL, "example.yaml", &bad);
        for f in found {
            if f.message.ends_with('.') {
                failures.push(format!(
                    "{}: message ends with a period: {}",
                    f.rule.code, f.message
                ));
            }
            if f.message.chars().next().is_some_and(|c| c.is_uppercase())
                && !f.message.starts_with(|c: char| {
                    c.is_uppercase()
                        && f.message.split_whitespace().next().is_some_and(|w| {
                            w.chars()
                                .skip(1)
                                .any(|c| c.is_uppercase() || c.is_ascii_digit())
                        })
                })
                && ![
                    "Istio",
                    "Deployment",
                    "DaemonSet",
                    "Knative",
                    "Gateway",
                    "Service",
                ]
                .iter()
                .any(|k| f.message.starts_with(k))
            {
                failures.push(format!(
                    "{}: message starts upper-case: {}",
                    f.rule.code, f.message
                ));
            }
            match &f.help {
                None => failures.push(format!("{}: no help line for: {}", f.rule.code, f.message)),
                Some(h) if h.ends_with('.') => {
                    failures.push(format!("{}: help ends with a period: {h}", f.rule.code))
                }
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixes_remove_their_finding() {
    let mut failures = Vec::new();
    for r in ALL {
        let m = r.meta();
        let Some(bad) = m.example("Example") else {
            continue;
        };
        let (_, found) = lint_text(&[*r], "example.yaml", &bad);
        for f in found.iter().filter(|f| f.rule.code == m.code) {
            let Some(fix) = &f.fix else { continue };
            let mut text = bad.clone();
            let mut edits = fix.edits.clone();
            edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
            for e in edits {
                text.replace_range(e.span.range(), &e.replacement);
            }
            let (_, after) = lint_text(&[*r], "fixed.yaml", &text);
            if after
                .iter()
                .any(|g| g.rule.code == m.code && g.path == f.path)
            {
                failures.push(format!(
                    "{}: fix `{}` leaves the finding:\n{text}",
                    m.code, fix.title
                ));
            }
            let (_, parse) = lint_text(ALL, "fixed.yaml", &text);
            if parse.iter().any(|g| g.rule.code == "CL000") {
                failures.push(format!(
                    "{}: fix `{}` breaks the YAML:\n{text}",
                    m.code, fix.title
                ));
            }
        }
        if m.fix == canarylint::FixAvailability::Always
            && found
                .iter()
                .any(|f| f.rule.code == m.code && f.fix.is_none())
        {
            failures.push(format!(
                "{}: declared always fixable, but a finding has no fix",
                m.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn gates_are_consistent() {
    use canarylint::Kind;
    for r in ALL {
        let m = r.meta();
        assert!(
            m.kinds.iter().all(|k| k.is_flagger()),
            "{}: kinds lists only objects rules check (Flagger's)",
            m.code
        );
        // Only Canaries have a provider: a provider gate on anything else never opens.
        assert!(
            m.providers.is_empty() || m.kinds == [Kind::Canary],
            "{}: a rule gated on providers must declare kinds: [Canary]",
            m.code
        );
        if m.about_suppressions {
            assert!(
                m.kinds.is_empty() && m.providers.is_empty(),
                "{}: suppressions have no kind or provider",
                m.code
            );
        }
    }
    assert_eq!(
        ALL.iter().filter(|r| r.meta().about_suppressions).count(),
        1,
        "one rule reports unused suppressions"
    );
}
