//! The one file collector: command-line paths (files, directories, `-` for standard input) and
//! workspace folders turned into the manifest files to read, the same way for `check`, `plan`,
//! the language server and `serve --context`.
//!
//! Directories are walked with the `ignore` crate, as ruff, oxc and biome do: `.gitignore`,
//! `.ignore` and `.git/info/exclude` are honoured (inside a Git repository or not), hidden files
//! and folders are skipped, and only `.yaml`, `.yml` and `.json` files are taken. A file named on
//! the command line is always read, whatever its name or what an ignore file says.

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canarylint::SourceFile;
use rayon::prelude::*;

/// The name standard input is shown under.
pub const STDIN_NAME: &str = "<stdin>";

/// The extensions looked for when walking a directory.
pub const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// A path that could not be read, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct InputError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// What has been read so far, so that no file is read twice (as input and as context, or
/// through two overlapping directories).
#[derive(Debug, Default)]
pub struct Seen {
    files: HashSet<PathBuf>,
    stdin: bool,
}

/// The sources read from a list of paths, and the paths that could not be read.
#[derive(Debug, Default)]
pub struct Inputs {
    pub sources: Vec<Arc<SourceFile>>,
    /// The file of each source, resolved (`None` for standard input): where its
    /// kustomizations are looked for.
    pub paths: Vec<Option<PathBuf>>,
    pub errors: Vec<InputError>,
}

/// Reads the files of a set of inputs again, by the name they are shown under: what lets a
/// run keep no text between its passes. Standard input is not a file and cannot be read again.
#[derive(Debug, Default)]
pub struct Reader {
    paths: HashMap<Arc<str>, PathBuf>,
}

impl Reader {
    pub fn of(inputs: &Inputs) -> Reader {
        let paths = inputs
            .sources
            .iter()
            .zip(&inputs.paths)
            .filter_map(|(s, p)| Some((s.name.clone(), p.clone()?)))
            .collect();
        Reader { paths }
    }
}

impl canarylint::Reread for Reader {
    fn can_reread(&self, name: &str) -> bool {
        self.paths.contains_key(name)
    }

    fn reread(&self, name: &str) -> Option<String> {
        String::from_utf8(std::fs::read(self.paths.get(name)?).ok()?).ok()
    }
}

/// A file found but not read yet.
#[derive(Clone, Debug)]
pub struct Found {
    /// As shown in findings: relative as given (`examples/bad.yaml`, not `./examples/…`).
    pub display: String,
    pub path: PathBuf,
    /// The resolved path, once known to be unseen.
    pub id: PathBuf,
}

/// What a walk of workspace folders may take (the language server's bounds).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_files: usize,
    pub max_bytes: u64,
    /// Larger files are passed over: generated bundles, not manifests someone edits.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: 10_000,
            max_bytes: 50 * 1024 * 1024,
            max_file_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One command-line argument's share of the work, in command-line order.
#[derive(Debug)]
pub enum Slot {
    Stdin,
    Files(Vec<Found>),
    Error(InputError),
}

/// Finds the files behind every path without reading them: `-` is standard input, a
/// directory is walked, anything else is taken as a file whatever its extension. Slots come
/// out in command-line order, each directory's files sorted by name.
pub fn find(paths: &[PathBuf], seen: &mut Seen) -> Vec<Slot> {
    let mut slots = Vec::new();
    for arg in paths {
        if arg.as_os_str() == "-" {
            if !std::mem::replace(&mut seen.stdin, true) {
                slots.push(Slot::Stdin);
            }
            continue;
        }
        let mut pending = Vec::new();
        match std::fs::metadata(arg) {
            Err(source) => slots.push(Slot::Error(InputError {
                path: arg.clone(),
                source,
            })),
            Ok(meta) if meta.is_dir() => {
                for found in walk(arg, has_manifest_extension) {
                    match found {
                        Ok(p) => pending.push(p),
                        Err(e) => {
                            let files = unseen(std::mem::take(&mut pending), seen);
                            slots.push(Slot::Files(files));
                            slots.push(Slot::Error(e));
                        }
                    }
                }
            }
            Ok(_) => pending.push(Found {
                display: arg.display().to_string(),
                path: arg.clone(),
                id: PathBuf::new(),
            }),
        }
        slots.push(Slot::Files(unseen(pending, seen)));
    }
    slots
}

/// Finds and reads every path (files in parallel), keeping command-line order.
pub fn collect(paths: &[PathBuf], seen: &mut Seen) -> Inputs {
    let mut inputs = Inputs::default();
    for slot in find(paths, seen) {
        let results = match slot {
            Slot::Stdin => vec![read_stdin().map(|s| (s, None))],
            Slot::Error(e) => vec![Err(e)],
            Slot::Files(files) => files
                .into_par_iter()
                .map(|p| Ok((read_file(&p.path, p.display)?, Some(p.id))))
                .collect(),
        };
        for r in results {
            match r {
                Ok((s, path)) => {
                    inputs.sources.push(s);
                    inputs.paths.push(path);
                }
                Err(e) => inputs.errors.push(e),
            }
        }
    }
    inputs
}

/// The manifest files under workspace folders, within `limits`: what the language server
/// indexes. Unreadable entries are passed over; an empty list when `cancel` is set.
/// `accept` says which files are taken (the language server also reads kustomizations).
pub fn walk_folders(
    roots: &[PathBuf],
    limits: Limits,
    accept: fn(&Path) -> bool,
    cancel: &AtomicBool,
) -> (Vec<PathBuf>, bool) {
    let mut paths = Vec::new();
    let mut bytes = 0u64;
    for root in roots {
        for found in walk(root, accept).flatten() {
            if cancel.load(Ordering::Relaxed) {
                return (Vec::new(), false);
            }
            let Ok(meta) = std::fs::metadata(&found.path) else {
                continue;
            };
            if meta.len() > limits.max_file_bytes {
                continue;
            }
            if paths.len() >= limits.max_files || bytes + meta.len() > limits.max_bytes {
                return (paths, true);
            }
            bytes += meta.len();
            paths.push(found.path);
        }
    }
    (paths, false)
}

/// Drops the files already read, and records the others as read.
fn unseen(mut files: Vec<Found>, seen: &mut Seen) -> Vec<Found> {
    files.retain_mut(|p| {
        p.id = identity(&p.path);
        seen.files.insert(p.id.clone())
    });
    files
}

/// The files of a directory worth linting, sorted, hidden and ignored entries skipped.
fn walk(root: &Path, accept: fn(&Path) -> bool) -> impl Iterator<Item = Result<Found, InputError>> {
    // `canarylint check` (root `.`) shows `examples/bad.yaml`, not `./examples/bad.yaml`.
    let strip_dot = root.as_os_str() == ".";
    let shown = move |p: &Path| -> PathBuf {
        if strip_dot {
            p.strip_prefix(".").unwrap_or(p).to_path_buf()
        } else {
            p.to_path_buf()
        }
    };
    let root_owned = root.to_path_buf();
    ignore::WalkBuilder::new(root)
        .standard_filters(true)
        // Ignore files apply where they are, in a Git checkout or not (a copied chart).
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
        .filter_map(move |entry| match entry {
            Ok(e) => {
                if e.depth() == 0 {
                    return None;
                }
                let is_link = e.path_is_symlink();
                // A link named like a manifest whose target cannot be reached (dangling, a
                // loop) is a manifest the user expects linted: an error, not a silent skip.
                if is_link
                    && accept(e.path())
                    && let Err(source) = std::fs::metadata(e.path())
                {
                    return Some(Err(InputError {
                        path: shown(e.path()),
                        source,
                    }));
                }
                let is_file =
                    e.file_type().is_some_and(|t| t.is_file()) || (is_link && e.path().is_file());
                if !is_file || !accept(e.path()) {
                    return None;
                }
                Some(Ok(Found {
                    display: shown(e.path()).display().to_string(),
                    path: e.into_path(),
                    id: PathBuf::new(),
                }))
            }
            Err(err) => {
                let path = error_path(&err).unwrap_or_else(|| root_owned.clone());
                let message = err.to_string();
                let source = err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other(message));
                Some(Err(InputError {
                    path: shown(&path),
                    source,
                }))
            }
        })
}

/// The path an error of the walk is about.
fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Whether a file name ends in one of [`EXTENSIONS`] (any case).
pub fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The same file reached through different paths has one identity.
pub fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads one file into a source shown as `display`.
pub fn read_file(path: &Path, display: String) -> Result<Arc<SourceFile>, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError {
        path: PathBuf::from(&display),
        source,
    })?;
    source_from_bytes(display, bytes)
}

fn read_stdin() -> Result<Arc<SourceFile>, InputError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|source| InputError {
            path: PathBuf::from(STDIN_NAME),
            source,
        })?;
    source_from_bytes(STDIN_NAME.to_string(), bytes)
}

/// Builds a source from raw bytes; the text must be UTF-8.
pub fn source_from_bytes(display: String, bytes: Vec<u8>) -> Result<Arc<SourceFile>, InputError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Arc::new(SourceFile::new(display, text))),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(InputError {
                path: PathBuf::from(display),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the file is not valid UTF-8 (line {line})"),
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_extensions() {
        assert!(has_manifest_extension(Path::new("a/b.yaml")));
        assert!(has_manifest_extension(Path::new("b.YML")));
        assert!(has_manifest_extension(Path::new("b.json")));
        assert!(!has_manifest_extension(Path::new("b.txt")));
        assert!(!has_manifest_extension(Path::new("yaml")));
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = source_from_bytes("x.yaml".into(), b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read x.yaml: the file is not valid UTF-8 (line 2)"
        );
    }

    fn names(slots: &[Slot], root: &Path) -> Vec<String> {
        slots
            .iter()
            .flat_map(|s| match s {
                Slot::Files(f) => f.clone(),
                _ => Vec::new(),
            })
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap_or(&f.path)
                    .display()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn walks_honour_ignore_files_and_skip_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["apps", "rendered", ".hidden", "charts/x"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in [
            "apps/b.yaml",
            "apps/a.yml",
            "apps/notes.txt",
            "rendered/all.yaml",
            ".hidden/c.yaml",
            ".d.yaml",
            "charts/x/values.json",
            "charts/x/skip.yaml",
        ] {
            std::fs::write(root.join(f), "a: 1\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "rendered/\n").unwrap();
        std::fs::write(root.join("charts/.ignore"), "x/skip.yaml\n").unwrap();
        let slots = find(&[root.to_path_buf()], &mut Seen::default());
        assert_eq!(
            names(&slots, root),
            ["apps/a.yml", "apps/b.yaml", "charts/x/values.json"]
        );
        // Named on the command line, an ignored file is read all the same.
        let ignored = root.join("rendered/all.yaml");
        let slots = find(std::slice::from_ref(&ignored), &mut Seen::default());
        assert_eq!(names(&slots, root), ["rendered/all.yaml"]);
        // Bounded walks of workspace folders see the same files.
        let (paths, truncated) = walk_folders(
            &[root.to_path_buf()],
            Limits::default(),
            has_manifest_extension,
            &AtomicBool::new(false),
        );
        assert_eq!(paths.len(), 3);
        assert!(!truncated);
        let one = Limits {
            max_files: 1,
            ..Limits::default()
        };
        let (paths, truncated) = walk_folders(
            &[root.to_path_buf()],
            one,
            has_manifest_extension,
            &AtomicBool::new(false),
        );
        assert_eq!((paths.len(), truncated), (1, true));
    }

    #[test]
    fn a_file_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "a: 1\n").unwrap();
        let mut seen = Seen::default();
        let first = collect(&[dir.path().to_path_buf()], &mut seen);
        let again = collect(&[dir.path().join("a.yaml")], &mut seen);
        assert_eq!((first.sources.len(), again.sources.len()), (1, 0));
    }

    #[test]
    fn a_reader_reads_the_files_again_as_they_are_now() {
        use canarylint::Reread as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "a: 1\n").unwrap();
        let mut inputs = collect(std::slice::from_ref(&file), &mut Seen::default());
        // Standard input, as `collect` gives it: no file behind it.
        inputs
            .sources
            .push(Arc::new(SourceFile::new(STDIN_NAME, "b: 2\n")));
        inputs.paths.push(None);
        let reader = Reader::of(&inputs);
        let name = inputs.sources[0].name.clone();
        assert!(reader.can_reread(&name));
        assert!(!reader.can_reread(STDIN_NAME));
        assert_eq!(reader.reread(&name).as_deref(), Some("a: 1\n"));
        std::fs::write(&file, "a: 2\n").unwrap();
        assert_eq!(reader.reread(&name).as_deref(), Some("a: 2\n"));
        std::fs::write(&file, b"a: \xff\n").unwrap();
        assert_eq!(reader.reread(&name), None, "not UTF-8 any more");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(reader.reread(&name), None);
        assert_eq!(reader.reread(STDIN_NAME), None);
    }
}
