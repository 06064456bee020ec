//! Turning command-line paths into source files: files, walked directories and stdin.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use canarylint::SourceFile;
use rayon::prelude::*;
use walkdir::{DirEntry, WalkDir};

use crate::error::CliError;

/// The name standard input is shown under.
pub const STDIN_NAME: &str = "<stdin>";

/// The extensions looked for when walking a directory.
pub const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

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
    /// The file of each source, resolved (`None` for standard input).
    pub paths: Vec<Option<PathBuf>>,
    pub errors: Vec<CliError>,
}

/// A file found but not read yet.
struct Pending {
    display: String,
    path: PathBuf,
    /// The resolved path, once known to be unseen.
    id: PathBuf,
}

/// Reads every path: `-` is standard input, a directory is walked, anything else is read as
/// a file whatever its extension. Sources come out in command-line order, each directory's
/// files sorted by name.
pub fn collect(paths: &[PathBuf], seen: &mut Seen) -> Inputs {
    // Each slot is either stdin's text or a run of files, so that output keeps the order of
    // the command line while files are read in parallel.
    enum Slot {
        Ready(Result<(Arc<SourceFile>, Option<PathBuf>), CliError>),
        Files(Vec<Pending>),
    }
    let mut slots = Vec::new();
    for arg in paths {
        if arg.as_os_str() == "-" {
            if !std::mem::replace(&mut seen.stdin, true) {
                slots.push(Slot::Ready(read_stdin().map(|s| (s, None))));
            }
            continue;
        }
        let mut pending = Vec::new();
        match std::fs::metadata(arg) {
            Err(source) => slots.push(Slot::Ready(Err(CliError::Read {
                path: arg.clone(),
                source,
            }))),
            Ok(meta) if meta.is_dir() => {
                for found in walk(arg) {
                    match found {
                        Ok(p) => pending.push(p),
                        Err(e) => {
                            let files = unseen(std::mem::take(&mut pending), seen);
                            slots.push(Slot::Files(files));
                            slots.push(Slot::Ready(Err(e)));
                        }
                    }
                }
            }
            Ok(_) => pending.push(Pending {
                display: arg.display().to_string(),
                path: arg.clone(),
                id: PathBuf::new(),
            }),
        }
        slots.push(Slot::Files(unseen(pending, seen)));
    }

    let mut inputs = Inputs::default();
    for slot in slots {
        let results = match slot {
            Slot::Ready(r) => vec![r],
            Slot::Files(files) => files
                .into_par_iter()
                .map(|p| read_file(&p.path, p.display).map(|s| (s, Some(p.id))))
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

/// Drops the files already read, and records the others as read.
fn unseen(mut files: Vec<Pending>, seen: &mut Seen) -> Vec<Pending> {
    files.retain_mut(|p| {
        p.id = identity(&p.path);
        seen.files.insert(p.id.clone())
    });
    files
}

/// The files of a directory worth linting, sorted, hidden entries skipped.
fn walk(root: &Path) -> impl Iterator<Item = Result<Pending, CliError>> {
    // `canarylint check` (root `.`) shows `examples/bad.yaml`, not `./examples/bad.yaml`.
    let strip_dot = root.as_os_str() == ".";
    WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e))
        .filter_map(move |entry| match entry {
            Ok(e) => {
                let shown = if strip_dot {
                    e.path().strip_prefix(".").unwrap_or(e.path())
                } else {
                    e.path()
                };
                // A link named like a manifest whose target cannot be reached (dangling, a
                // loop) is a manifest the user expects linted: an error, not a silent skip.
                if e.depth() > 0
                    && e.path_is_symlink()
                    && has_manifest_extension(e.path())
                    && let Err(source) = std::fs::metadata(e.path())
                {
                    return Some(Err(CliError::Read {
                        path: shown.to_path_buf(),
                        source,
                    }));
                }
                let is_file =
                    e.file_type().is_file() || (e.path_is_symlink() && e.path().is_file());
                if e.depth() == 0 || !is_file || !has_manifest_extension(e.path()) {
                    return None;
                }
                Some(Ok(Pending {
                    display: shown.display().to_string(),
                    path: e.path().to_path_buf(),
                    id: PathBuf::new(),
                }))
            }
            Err(err) => {
                let path = err
                    .path()
                    .map_or_else(|| root.to_path_buf(), Path::to_path_buf);
                let message = err.to_string();
                let source = err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other(message));
                Some(Err(CliError::Read { path, source }))
            }
        })
}

fn is_hidden(entry: &DirEntry) -> bool {
    entry
        .file_name()
        .to_str()
        .is_some_and(|n| n.starts_with('.') && n != "." && n != "..")
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

fn read_file(path: &Path, display: String) -> Result<Arc<SourceFile>, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read {
        path: PathBuf::from(&display),
        source,
    })?;
    source_from_bytes(display, bytes)
}

fn read_stdin() -> Result<Arc<SourceFile>, CliError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|source| CliError::Read {
            path: PathBuf::from(STDIN_NAME),
            source,
        })?;
    source_from_bytes(STDIN_NAME.to_string(), bytes)
}

/// Builds a source from raw bytes; the text must be UTF-8.
pub fn source_from_bytes(display: String, bytes: Vec<u8>) -> Result<Arc<SourceFile>, CliError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Arc::new(SourceFile::new(display, text))),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(CliError::Read {
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
}
