//! What a `kustomization.yaml` says about the files around it: which are resources (objects),
//! which are patches (fragments of objects, never objects themselves), and the namespace it
//! gives every object. Text in, facts out: callers find and read the files.

use crate::yaml::{Budget, Node, parse_stream};

/// The names kustomize looks for in a directory, in its order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether a file name is one kustomize reads as a kustomization.
pub fn is_kustomization_file(name: &str) -> bool {
    FILE_NAMES.contains(&name)
}

/// The facts of one kustomization (a `Kustomization` or a `Component`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// `namespace:`: kustomize sets it on every object of the build, replacing the one
    /// written.
    pub namespace: Option<String>,
    /// Local entries of `resources` and `bases`, as written (files or directories).
    pub resources: Vec<String>,
    /// Local entries of `components`.
    pub components: Vec<String>,
    /// Patch files: `patches[].path`, `patchesStrategicMerge` entries that are paths,
    /// `patchesJson6902[].path`. Inline patches are text of the kustomization itself.
    pub patches: Vec<String>,
    /// Whether the build holds objects from elsewhere: remote resources, Helm charts,
    /// generator plugins.
    pub external: bool,
}

/// Reads a kustomization. An error says why the text is not one.
pub fn parse(text: &str) -> Result<Kustomization, String> {
    let stream = parse_stream(text, &Budget::default());
    if let Some(e) = stream.errors.first() {
        return Err(e.message.clone());
    }
    let Some(root) = stream.documents.into_iter().next().map(|d| d.root) else {
        return Ok(Kustomization::default());
    };
    if !root.is_map() {
        return Err("a kustomization is a mapping".into());
    }
    let mut k = Kustomization {
        namespace: root
            .get("namespace")
            .and_then(Node::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        ..Kustomization::default()
    };
    let strings = |key: &str| -> Vec<&str> {
        root.get(key)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect()
    };
    for key in ["resources", "bases"] {
        for entry in strings(key) {
            if is_remote(entry) {
                k.external = true;
            } else {
                k.resources.push(entry.to_string());
            }
        }
    }
    for entry in strings("components") {
        if is_remote(entry) {
            k.external = true;
        } else {
            k.components.push(entry.to_string());
        }
    }
    // An entry of patchesStrategicMerge is a path, or a whole patch written inline.
    for entry in strings("patchesStrategicMerge") {
        if !entry.contains('\n') && !is_remote(entry) {
            k.patches.push(entry.to_string());
        }
    }
    for key in ["patches", "patchesJson6902"] {
        for item in root.get(key).map(Node::items).unwrap_or_default() {
            let path = item
                .get("path")
                .and_then(Node::as_str)
                .or_else(|| item.as_str().filter(|s| !s.contains('\n')));
            if let Some(p) = path.filter(|p| !is_remote(p)) {
                k.patches.push(p.to_string());
            }
        }
    }
    let non_empty = |key: &str| root.get(key).is_some_and(|n| !n.items().is_empty());
    if non_empty("helmCharts")
        || non_empty("helmChartInflationGenerator")
        || non_empty("generators")
    {
        k.external = true;
    }
    Ok(k)
}

/// Whether a kustomization entry names something outside the local tree: a URL, a git
/// address, or a repository path on a well-known host (`github.com/org/repo//dir?ref=v1`).
pub fn is_remote(entry: &str) -> bool {
    const HOSTS: [&str; 3] = ["github.com/", "gitlab.com/", "bitbucket.org/"];
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
        || entry.contains(".git//")
        || HOSTS.iter().any(|h| entry.starts_with(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_patch_is_a_patch_and_inline_ones_are_not_files() {
        let k = parse(
            "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: test
resources:
  - canary.yaml
  - ../../base
  - https://github.com/org/repo//deploy?ref=v1
bases:
  - ../common
components:
  - ../../components/tls
patchesStrategicMerge:
  - hpa-patch.yaml
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: podinfo
patchesJson6902:
  - target: {group: apps, version: v1, kind: Deployment, name: podinfo}
    path: deployment.patch.yaml
patches:
  - path: patches/canary.yaml
    target: {kind: Canary}
  - patch: |-
      - op: replace
        path: /spec/analysis/maxWeight
        value: 30
    target: {kind: Canary, name: podinfo}
",
        )
        .unwrap();
        assert_eq!(k.namespace.as_deref(), Some("test"));
        assert_eq!(k.resources, ["canary.yaml", "../../base", "../common"]);
        assert_eq!(k.components, ["../../components/tls"]);
        assert_eq!(
            k.patches,
            [
                "hpa-patch.yaml",
                "patches/canary.yaml",
                "deployment.patch.yaml"
            ]
        );
        assert!(k.external);
    }

    #[test]
    fn a_plain_kustomization_without_header() {
        let k = parse("namespace: test\nresources:\n  - hpa.yaml\n  - deployment.yaml\n").unwrap();
        assert_eq!(k.resources, ["hpa.yaml", "deployment.yaml"]);
        assert!(k.patches.is_empty() && !k.external);
        assert_eq!(parse("").unwrap(), Kustomization::default());
        assert!(parse("- a\n").is_err());
        assert!(parse("resources: [a\n").is_err());
        let charts = parse("helmCharts:\n  - name: podinfo\n    repo: https://x\n").unwrap();
        assert!(charts.external);
    }

    #[test]
    fn remote_entries() {
        for remote in [
            "https://github.com/fluxcd/flagger//kustomize/podinfo?ref=main",
            "github.com/fluxcd/flagger/kustomize/tester",
            "git@github.com:org/repo.git//deploy",
            "ssh://git@example.com/repo.git",
        ] {
            assert!(is_remote(remote), "{remote}");
        }
        for local in [
            "../base",
            "deployment.yaml",
            "config.d/app.yaml",
            "./github",
        ] {
            assert!(!is_remote(local), "{local}");
        }
        assert!(is_kustomization_file("kustomization.yml"));
        assert!(!is_kustomization_file("kustomize.yaml"));
    }
}
