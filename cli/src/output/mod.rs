//! Printing results: readable reports ([`human`]) and the JSON contract ([`json`]).

pub mod human;
pub mod json;

use std::io::IsTerminal as _;

use canarylint::{LintRun, Severity};

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
}

impl Summary {
    pub fn of(run: &LintRun) -> Summary {
        let mut s = Summary {
            files: run.files.len(),
            documents: run.files.iter().map(|f| f.documents.len()).sum(),
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
        format!(
            "{problems} in {} ({})",
            plural(self.files, "file"),
            plural(self.documents, "document")
        )
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
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_pluralises() {
        let s = Summary {
            files: 12,
            documents: 40,
            errors: 3,
            warnings: 1,
            infos: 2,
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
    }
}
