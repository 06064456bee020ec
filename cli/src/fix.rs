//! `canarylint check --fix` and `--diff`: the rules' fixes, applied to the files.
//!
//! Every fix is a rule's own [`Fix`]: the same edits the language server offers as quick
//! fixes, so a file fixed here is byte for byte the file an editor would produce. A pass
//! lints every input, takes each file's fixes in the order of its findings, keeps those
//! whose edits neither overlap nor touch an edit already kept (the others wait for the next
//! pass, when they are made again against the changed text) and applies them at once. Passes
//! repeat until no fix applies, at most [`MAX_PASSES`] times.
//!
//! A fix that would make a file unreadable (a YAML syntax error it did not have) is a bug in
//! its rule: it is left out, said on standard error, and the file keeps the other fixes.
//!
//! Files are replaced whole: the fixed text goes to a temporary file in the same folder,
//! which takes the original's permissions and then its place by a rename, so a reader never
//! sees half a file and an interrupted run leaves the original as it was.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use canarylint::{Applicability, Budget, Edit, Finding, Fix, Input, LintRun, SourceFile, Unit};

use crate::error::CliError;
use canarylint_workspace::collect::{Inputs, STDIN_NAME};

/// How many times the inputs are fixed and linted again before giving up on more changes.
/// Fixes rarely chain (one fix's result raising another's finding); ten passes leave room for
/// that and bound a pair of rules that would undo each other.
pub const MAX_PASSES: usize = 10;

/// What becomes of the fixed texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Files are replaced; standard input is written, fixed, to standard output.
    Write,
    /// A unified diff of every change goes to standard output; nothing is written.
    Diff,
}

/// What to fix and how.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub mode: Mode,
    /// Also apply the fixes marked [`Applicability::Unsafe`].
    pub unsafe_fixes: bool,
}

/// What the summary line says about fixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Findings fixed (written, or that `--diff` would fix).
    pub fixed: usize,
    /// Findings of the final run whose fix is unsafe and was not applied.
    pub unsafe_left: usize,
    /// `--diff`: nothing was written.
    pub dry_run: bool,
}

impl Counts {
    /// `fixed 3 findings (1 more with --unsafe-fixes)`, `would fix 1 finding`, `nothing fixed`.
    pub fn phrase(&self) -> String {
        let mut s = match (self.fixed, self.dry_run) {
            (0, false) => "nothing fixed".to_string(),
            (0, true) => "nothing to fix".to_string(),
            (n, false) => format!("fixed {}", crate::output::plural(n, "finding")),
            (n, true) => format!("would fix {}", crate::output::plural(n, "finding")),
        };
        if self.unsafe_left > 0 {
            s.push_str(&format!(" ({} more with --unsafe-fixes)", self.unsafe_left));
        }
        s
    }
}

/// The result of fixing: the run that describes the texts as they now are (or, with
/// `--diff`, would be), and what was done.
pub struct Outcome {
    pub run: LintRun,
    pub done: Done,
}

/// What fixing did, for the summary, the exit status and where the report goes.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    pub counts: Counts,
    /// Standard output carries the fixed stream or the diff: the report goes elsewhere.
    pub stdout_taken: bool,
    /// `--diff`: at least one input would change.
    pub would_change: bool,
    /// A fixed file could not be written (already reported on standard error).
    pub write_failed: bool,
}

/// Where each source read is written back to: its file, found again by the source itself
/// (placing the inputs in their bundles sets some aside as patches).
pub struct Paths(HashMap<*const SourceFile, PathBuf>);

impl Paths {
    pub fn of(inputs: &Inputs) -> Paths {
        Paths(
            inputs
                .sources
                .iter()
                .zip(&inputs.paths)
                .filter_map(|(s, p)| Some((Arc::as_ptr(s), p.clone()?)))
                .collect(),
        )
    }

    /// `None`: standard input.
    fn get(&self, source: &Arc<SourceFile>) -> Option<&PathBuf> {
        self.0.get(&Arc::as_ptr(source))
    }
}

/// Lints the inputs with fixes applied, writes the result as `options.mode` says, and
/// returns the final run. `lint` lints a set of inputs (with the context and inventory of
/// the command); it is called once per pass.
pub fn run(
    inputs: Vec<Input>,
    paths: &Paths,
    options: Options,
    lint: &dyn Fn(Vec<Input>) -> LintRun,
) -> Result<Outcome, CliError> {
    let paths: Vec<Option<PathBuf>> = inputs
        .iter()
        .map(|i| paths.get(&i.source).cloned())
        .collect();
    let units: Vec<Unit> = inputs.iter().map(|i| i.unit.clone()).collect();
    let sources: Vec<Arc<SourceFile>> = inputs.into_iter().map(|i| i.source).collect();
    let lint = |texts: Vec<Arc<SourceFile>>| {
        lint(
            texts
                .into_iter()
                .zip(units.iter().cloned())
                .map(|(source, unit)| Input { source, unit })
                .collect(),
        )
    };
    let originals = sources.clone();
    let mut fixing = fix_passes(sources, options.unsafe_fixes, &lint);
    for note in &fixing.notes {
        eprintln!("canarylint: {note}");
    }
    let stdin =
        (0..originals.len()).find(|&i| paths[i].is_none() && &*originals[i].name == STDIN_NAME);
    let changed: Vec<usize> = (0..originals.len())
        .filter(|&i| fixing.texts[i].text != originals[i].text)
        .collect();
    let mut fixed = 0;
    let mut write_failed = false;
    match options.mode {
        Mode::Diff => {
            let mut out = io::stdout().lock();
            for &i in &changed {
                let name = &*originals[i].name;
                let diff =
                    similar::TextDiff::from_lines(&*originals[i].text, &*fixing.texts[i].text);
                write!(
                    out,
                    "{}",
                    diff.unified_diff().context_radius(3).header(name, name)
                )
                .map_err(CliError::Output)?;
                fixed += fixing.fixed[i];
            }
            out.flush().map_err(CliError::Output)?;
        }
        Mode::Write => {
            let mut failed = Vec::new();
            for &i in &changed {
                let written = match &paths[i] {
                    Some(path) => {
                        replace_file(path, originals[i].text.as_bytes(), &fixing.texts[i].text)
                    }
                    // Standard input: written below, whatever happens to the files.
                    None => Ok(()),
                };
                match written {
                    Ok(()) => fixed += fixing.fixed[i],
                    Err(source) => {
                        CliError::Write {
                            path: PathBuf::from(&*originals[i].name),
                            source,
                        }
                        .report();
                        failed.push(i);
                    }
                }
            }
            if let Some(i) = stdin {
                let mut out = io::stdout().lock();
                out.write_all(fixing.texts[i].text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(CliError::Output)?;
            }
            if !failed.is_empty() {
                // What remains is what is on disk: the files not written keep their findings.
                write_failed = true;
                for &i in &failed {
                    fixing.texts[i] = originals[i].clone();
                }
                fixing.run = lint(fixing.texts.clone());
            }
        }
    }
    let unsafe_left = if options.unsafe_fixes {
        0
    } else {
        fixing
            .run
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == Applicability::Unsafe)
            })
            .count()
    };
    Ok(Outcome {
        run: fixing.run,
        done: Done {
            counts: Counts {
                fixed,
                unsafe_left,
                dry_run: options.mode == Mode::Diff,
            },
            stdout_taken: options.mode == Mode::Diff || stdin.is_some(),
            would_change: options.mode == Mode::Diff && !changed.is_empty(),
            write_failed,
        },
    })
}

/// The texts after every pass, and the run that lints them.
struct Fixing {
    run: LintRun,
    texts: Vec<Arc<SourceFile>>,
    /// Findings fixed in each input.
    fixed: Vec<usize>,
    /// Fixes left out, and passes that did not settle: for standard error.
    notes: Vec<String>,
}

/// A fix left out for good: its file, rule, object path and title. Spans move as other
/// fixes apply; these stay.
type FixKey = (usize, &'static str, String, String);

fn fix_passes(
    sources: Vec<Arc<SourceFile>>,
    unsafe_fixes: bool,
    lint: &dyn Fn(Vec<Arc<SourceFile>>) -> LintRun,
) -> Fixing {
    // Findings name their file; a name given to two inputs cannot tell them apart.
    let mut index: HashMap<Arc<str>, usize> = HashMap::new();
    let mut ambiguous = HashSet::new();
    for (i, s) in sources.iter().enumerate() {
        if index.insert(s.name.clone(), i).is_some() {
            ambiguous.insert(s.name.clone());
        }
    }
    for name in &ambiguous {
        index.remove(name);
    }
    let mut texts = sources;
    let mut fixed = vec![0; texts.len()];
    let mut notes = Vec::new();
    let mut refused: HashSet<FixKey> = HashSet::new();
    let mut pass = 0;
    loop {
        let run = lint(texts.clone());
        let mut by_file: HashMap<usize, Vec<&Finding>> = HashMap::new();
        for f in &run.findings {
            let Some(fix) = &f.fix else { continue };
            if fix.applicability == Applicability::Unsafe && !unsafe_fixes {
                continue;
            }
            if let Some(&i) = index.get(&f.file) {
                by_file.entry(i).or_default().push(f);
            }
        }
        let mut files: Vec<usize> = by_file.keys().copied().collect();
        files.sort_unstable();
        let mut changed = false;
        if pass == MAX_PASSES {
            if !files.is_empty() {
                let names: Vec<&str> = files.iter().map(|&i| &*texts[i].name).collect();
                notes.push(format!(
                    "fixes still changed {} after {MAX_PASSES} passes; stopped there (a bug in \
                     canarylint: two fixes undo each other; please report it)",
                    names.join(", ")
                ));
            }
        } else {
            for i in files {
                let source = texts[i].clone();
                let chosen = choose(i, &by_file[&i], &source, &mut refused, &mut notes);
                if let Some((text, count)) =
                    apply_checked(i, &source, chosen, &mut refused, &mut notes)
                {
                    texts[i] = Arc::new(SourceFile::new(source.name.clone(), text));
                    fixed[i] += count;
                    changed = true;
                }
            }
        }
        if !changed {
            return Fixing {
                run,
                texts,
                fixed,
                notes,
            };
        }
        pass += 1;
    }
}

/// The fixes of one file that apply together, in the order of their findings: those whose
/// edits do not overlap or touch the edits kept before them. Each entry counts the findings
/// it fixes (two findings may carry the same fix).
fn choose<'a>(
    file: usize,
    findings: &[&'a Finding],
    source: &SourceFile,
    refused: &mut HashSet<FixKey>,
    notes: &mut Vec<String>,
) -> Vec<(&'a Finding, usize)> {
    let text = &*source.text;
    let mut chosen: Vec<(&Finding, usize)> = Vec::new();
    for &f in findings {
        let Some(fix) = &f.fix else { continue };
        let key = key(file, f, fix);
        if refused.contains(&key) {
            continue;
        }
        if !is_applicable(text, fix) {
            notes.push(format!(
                "{}:{}:{}: the fix of {} ({}) does not fit the file; not applied (a bug in \
                 canarylint; please report it)",
                f.file, f.start.line, f.start.column, f.rule.code, fix.title
            ));
            refused.insert(key);
            continue;
        }
        if let Some(same) = chosen
            .iter_mut()
            .find(|(g, _)| g.fix.as_ref().is_some_and(|x| x.edits == fix.edits))
        {
            same.1 += 1;
            continue;
        }
        let clashes = chosen.iter().any(|(g, _)| {
            g.fix.as_ref().is_some_and(|x| {
                x.edits
                    .iter()
                    .any(|a| fix.edits.iter().any(|b| touch(a, b)))
            })
        });
        if !clashes {
            chosen.push((f, 1));
        }
    }
    chosen
}

fn key(file: usize, f: &Finding, fix: &Fix) -> FixKey {
    (file, f.rule.code, f.path.clone(), fix.title.clone())
}

/// Whether two edits overlap or meet: applied in one pass, their order would be a guess.
fn touch(a: &Edit, b: &Edit) -> bool {
    a.span.start <= b.span.end && b.span.start <= a.span.end
}

/// Whether a fix's edits lie on character boundaries of the text, do not overlap one
/// another, and change something.
fn is_applicable(text: &str, fix: &Fix) -> bool {
    let mut spans: Vec<_> = fix.edits.iter().map(|e| e.span.range()).collect();
    spans.sort_by_key(|r| r.start);
    let fits = fix.edits.iter().all(|e| {
        let r = e.span.range();
        r.start <= r.end && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
    });
    let apart = spans.windows(2).all(|w| w[0].end <= w[1].start);
    let changes = fix
        .edits
        .iter()
        .any(|e| text.get(e.span.range()) != Some(e.replacement.as_str()));
    fits && apart && changes
}

/// Applies the chosen fixes; a fix that would add a syntax error is left out (and remembered),
/// the others still apply. The new text and the number of findings fixed, if anything changed.
fn apply_checked(
    file: usize,
    source: &SourceFile,
    chosen: Vec<(&Finding, usize)>,
    refused: &mut HashSet<FixKey>,
    notes: &mut Vec<String>,
) -> Option<(String, usize)> {
    if chosen.is_empty() {
        return None;
    }
    let text = &*source.text;
    let before = syntax_errors(&source.name, text);
    let edits = |fixes: &[(&Finding, usize)]| -> Vec<Edit> {
        fixes
            .iter()
            .filter_map(|(f, _)| f.fix.as_ref())
            .flat_map(|x| x.edits.iter().cloned())
            .collect()
    };
    let all = canarylint::edit::apply(text, &edits(&chosen))?;
    let (kept, new) = if syntax_errors(&source.name, &all) <= before {
        (chosen, all)
    } else {
        // One at a time, to find the fix at fault and keep the others.
        let mut kept: Vec<(&Finding, usize)> = Vec::new();
        let mut new = text.to_string();
        for c in chosen {
            let mut trial = kept.clone();
            trial.push(c);
            let Some(t) = canarylint::edit::apply(text, &edits(&trial)) else {
                continue;
            };
            if syntax_errors(&source.name, &t) <= before {
                kept = trial;
                new = t;
            } else if let Some(fix) = &c.0.fix {
                let f = c.0;
                notes.push(format!(
                    "{}:{}:{}: the fix of {} ({}) would break the file's syntax; not applied (a \
                     bug in canarylint; please report it)",
                    f.file, f.start.line, f.start.column, f.rule.code, fix.title
                ));
                refused.insert(key(file, f, fix));
            }
        }
        (kept, new)
    };
    if new == text {
        return None;
    }
    Some((new, kept.iter().map(|(_, n)| n).sum()))
}

/// How many syntax problems (unparsable YAML, duplicate keys…) a text has.
fn syntax_errors(name: &Arc<str>, text: &str) -> usize {
    let source = Arc::new(SourceFile::new(name.clone(), text));
    canarylint::read(source, &Budget::GENEROUS).problems.len()
}

/// Replaces a file's content at once, as a rename of a temporary file written beside it, with
/// the original's permissions (and owner, where allowed). A link is followed: the file it
/// points to is replaced, the link stays. Refused when the file is read-only or changed since
/// it was read.
fn replace_file(path: &Path, original: &[u8], text: &str) -> io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&target)?;
    // A rename needs only the folder to be writable: the file's own mode is checked here, so
    // that a read-only file stays as it is, as an in-place write would leave it.
    if meta.permissions().readonly() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    std::fs::OpenOptions::new().write(true).open(&target)?;
    if std::fs::read(&target)? != original {
        return Err(io::Error::other(
            "the file changed while it was being fixed; it was left as it is",
        ));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".canarylint-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().set_permissions(meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // Only the owner or root may give a file away; anyone else keeps the file as theirs.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use canarylint::Span;

    fn edit(s: u32, e: u32, r: &str) -> Edit {
        Edit {
            span: Span::new(s, e),
            replacement: r.into(),
        }
    }

    #[test]
    fn touching_edits_wait_for_the_next_pass() {
        assert!(touch(&edit(0, 2, "x"), &edit(2, 4, "y")));
        assert!(touch(&edit(3, 3, "x"), &edit(3, 3, "y")));
        assert!(!touch(&edit(0, 2, "x"), &edit(3, 4, "y")));
    }

    #[test]
    fn fixes_outside_the_text_or_changing_nothing_are_refused() {
        let fix = |edits| Fix {
            title: "t".into(),
            edits,
            applicability: Applicability::Safe,
        };
        assert!(is_applicable("abc", &fix(vec![edit(0, 1, "x")])));
        assert!(!is_applicable("abc", &fix(vec![edit(0, 1, "a")])));
        assert!(!is_applicable("abc", &fix(vec![edit(2, 9, "x")])));
        assert!(!is_applicable("é", &fix(vec![edit(1, 2, "x")])));
        assert!(!is_applicable(
            "abcd",
            &fix(vec![edit(0, 2, "x"), edit(1, 3, "y")])
        ));
    }

    #[test]
    fn counts_read_as_a_phrase() {
        let c = |fixed, unsafe_left, dry_run| {
            Counts {
                fixed,
                unsafe_left,
                dry_run,
            }
            .phrase()
        };
        assert_eq!(c(0, 0, false), "nothing fixed");
        assert_eq!(c(1, 0, false), "fixed 1 finding");
        assert_eq!(
            c(3, 2, false),
            "fixed 3 findings (2 more with --unsafe-fixes)"
        );
        assert_eq!(c(0, 0, true), "nothing to fix");
        assert_eq!(c(2, 0, true), "would fix 2 findings");
    }
}
