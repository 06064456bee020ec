//! Where each input lands: the kustomizations around the inputs are found and read here, and
//! lib's `bundle` module decides which files are patches, which bundle each file belongs to,
//! and the namespace a kustomization gives its objects.

use std::path::{Path, PathBuf};

use canarylint::bundle::{Grouping, Layout, Placement, assign};
use canarylint::kustomize::FILE_NAMES;
use canarylint::{Bundle, Input, Unit};

use crate::collect::Inputs;

/// Inputs ready to lint.
#[derive(Debug, Default)]
pub struct Placed {
    pub inputs: Vec<Input>,
    /// Bundles not read whole.
    pub partial: Vec<Bundle>,
    /// Files set aside as kustomize patches: (file shown, kustomization directory).
    pub patches: Vec<(String, String)>,
}

/// The path as `bundle` functions take it: `/`-separated.
fn key(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Reads the kustomizations that may list the inputs (see lib's `bundle::discover`): those of
/// their directories and parents, up to a repository's root.
pub fn discover<'a>(files: impl IntoIterator<Item = &'a Path>) -> Layout {
    let keys: Vec<String> = files.into_iter().map(key).collect();
    discover_keys(&keys)
}

/// [`discover`] for paths already `/`-separated.
pub fn discover_keys(keys: &[String]) -> Layout {
    canarylint::bundle::discover(
        keys.iter().map(String::as_str),
        |dir| {
            FILE_NAMES
                .iter()
                .map(|n| Path::new(dir).join(n))
                .find(|p| p.is_file())
                .and_then(|p| std::fs::read_to_string(p).ok())
        },
        |dir| Path::new(dir).join(".git").exists(),
    )
}

/// Places the files to lint in their bundles, patches set aside.
pub fn place(inputs: Inputs, grouping: Grouping) -> Placed {
    let layout = discover(inputs.paths.iter().flatten().map(PathBuf::as_path));
    let keys: Vec<Option<String>> = inputs.paths.iter().map(|p| p.as_deref().map(key)).collect();
    let refs: Vec<Option<&str>> = keys.iter().map(Option::as_deref).collect();
    let assignment = assign(&refs, &layout, grouping);
    let mut placed = Placed {
        partial: assignment.partial,
        ..Placed::default()
    };
    for (source, placement) in inputs.sources.into_iter().zip(assignment.placements) {
        match placement {
            Placement::Objects(unit) => placed.inputs.push(Input { source, unit }),
            Placement::Patch { kustomization } => placed
                .patches
                .push((source.name.to_string(), kustomization)),
        }
    }
    placed
}

/// Places `--context` files: objects that exist whatever is linted, patches set aside.
pub fn place_context(inputs: Inputs) -> Vec<Input> {
    place(inputs, Grouping::All)
        .inputs
        .into_iter()
        .map(|i| Input {
            source: i.source,
            unit: Unit {
                bundle: Bundle::Context,
                namespace: i.unit.namespace,
            },
        })
        .collect()
}
