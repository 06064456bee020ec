//! Printing results: readable reports ([`human`]), the JSON contract ([`json`]), and the
//! formats CI systems read: [`sarif`] (code scanning), [`github`] (workflow annotations) and
//! [`junit`] (test reports); and the plan's timeline and YAML ([`plan`]).

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod plan;
pub mod sarif;

use std::collections::HashMap;
use std::path::{Component, Path};
use std::sync::Arc;

use canarylint::{LintRun, Reread, Severity, SourceFile};

/// The counts every format ends with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files read and linted.
    pub files: usize,
    /// Kubernetes objects parsed from them.
    pub documents: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// With `--fix` or `--diff`: what was (or would be) fixed. The summary line then says
    /// what is left; the JSON summary keeps its shape.
    #[serde(skip)]
    pub fixes: Option<crate::fix::Counts>,
}

impl Summary {
    pub fn of(run: &LintRun) -> Summary {
        let mut s = Summary {
            files: run.files.len(),
            documents: run.documents,
            ..Summary::default()
        };
        for f in &run.findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }

    /// `3 errors, 1 warning in 12 files (40 documents)`, or `no problems in …`.
    pub fn line(&self) -> String {
        let counts: Vec<String> = [
            (self.errors, "error"),
            (self.warnings, "warning"),
            (self.infos, "info"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| plural(n, word))
        .collect();
        let problems = if counts.is_empty() {
            "no problems".to_string()
        } else {
            counts.join(", ")
        };
        let (fixes, left) = match &self.fixes {
            Some(c) => (format!("{}; ", c.phrase()), " left"),
            None => (String::new(), ""),
        };
        format!(
            "{fixes}{problems}{left} in {} ({})",
            plural(self.files, "file"),
            plural(self.documents, "document")
        )
    }
}

/// The texts a report quotes: those the run kept, or, for a run that let them go, read again
/// and checked to be the texts linted.
pub struct Texts<'a> {
    sources: HashMap<&'a str, &'a Arc<SourceFile>>,
    reread: Option<&'a dyn Reread>,
}

impl<'a> Texts<'a> {
    pub fn new(run: &'a LintRun, reread: Option<&'a dyn Reread>) -> Self {
        let sources = run
            .files
            .iter()
            .map(|f| (&*f.source.name, &f.source))
            .collect();
        Texts { sources, reread }
    }

    /// The text of a file of the run; `None` for a name that is not one (the configuration
    /// file), or a text let go that cannot be read again as it was.
    pub fn get(&self, file: &str) -> Option<Arc<SourceFile>> {
        let source = self.sources.get(file)?;
        if !source.is_released() {
            return Some(Arc::clone(source));
        }
        let text = self.reread?.reread(file)?;
        source.restore(text).ok().map(Arc::new)
    }
}

/// `1 file`, `2 files`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Whether to colour output: stdout is a terminal and `NO_COLOR` is not set.
pub fn use_color() -> bool {
    use_color_on(&std::io::stdout())
}

/// Whether to colour what goes to `stream`: it is a terminal and `NO_COLOR` is not set.
pub fn use_color_on(stream: &impl std::io::IsTerminal) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && stream.is_terminal()
}

/// A finding's file as CI systems want it: relative to `cwd` when it is inside it, with
/// forward slashes and without `./`. Standard input (`<stdin>`) and paths outside `cwd` are
/// returned as they are (the latter with forward slashes).
pub fn repo_path(file: &str, cwd: Option<&Path>) -> String {
    if file == canarylint_workspace::collect::STDIN_NAME {
        return file.to_string();
    }
    let path = Path::new(file);
    let path = match cwd {
        Some(cwd) if path.is_absolute() => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let mut out = String::new();
    for c in path.components() {
        let part = match c {
            Component::CurDir => continue,
            Component::RootDir => {
                out.push('/');
                continue;
            }
            Component::Prefix(p) => {
                out.push_str(&p.as_os_str().to_string_lossy());
                continue;
            }
            Component::ParentDir => "..".into(),
            Component::Normal(n) => n.to_string_lossy(),
        };
        if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(&part);
    }
    if out.is_empty() {
        file.to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_relative_with_forward_slashes() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            repo_path("deploy/canary.yaml", Some(cwd)),
            "deploy/canary.yaml"
        );
        assert_eq!(
            repo_path("./deploy/canary.yaml", Some(cwd)),
            "deploy/canary.yaml"
        );
        assert_eq!(
            repo_path("/work/repo/deploy/canary.yaml", Some(cwd)),
            "deploy/canary.yaml"
        );
        assert_eq!(
            repo_path("/elsewhere/c.yaml", Some(cwd)),
            "/elsewhere/c.yaml"
        );
        assert_eq!(repo_path("../up/c.yaml", Some(cwd)), "../up/c.yaml");
        assert_eq!(repo_path("<stdin>", Some(cwd)), "<stdin>");
        assert_eq!(repo_path("a//b.yaml", None), "a/b.yaml");
    }

    #[test]
    fn summary_line_pluralises() {
        let s = Summary {
            files: 12,
            documents: 40,
            errors: 3,
            warnings: 1,
            infos: 2,
            ..Summary::default()
        };
        assert_eq!(
            s.line(),
            "3 errors, 1 warning, 2 infos in 12 files (40 documents)"
        );
        let clean = Summary {
            files: 1,
            documents: 1,
            ..Summary::default()
        };
        assert_eq!(clean.line(), "no problems in 1 file (1 document)");
        let one = Summary {
            files: 2,
            documents: 0,
            infos: 1,
            ..Summary::default()
        };
        assert_eq!(one.line(), "1 info in 2 files (0 documents)");
        let fixed = Summary {
            fixes: Some(crate::fix::Counts {
                fixed: 2,
                unsafe_left: 1,
                dry_run: false,
            }),
            ..s
        };
        assert_eq!(
            fixed.line(),
            "fixed 2 findings (1 more with --unsafe-fixes); 3 errors, 1 warning, 2 infos left in 12 files (40 documents)"
        );
    }
}
