//! One place that turns a door's flags and the discovered `.canarylint.yaml` into the settings
//! and the [`Linter`] every door runs: `check`, `plan`, the language server and the webhook
//! call [`Workspace::load`], so a flag or a configuration key means the same everywhere.

use std::path::{Path, PathBuf};

use canarylint::bundle::Grouping;
use canarylint::config::{Config, ConfigError};
use canarylint::source::LineCol;
use canarylint::{Linter, Settings, Severity};

/// The file name looked for, from a folder upward.
pub const CONFIG_FILE: &str = ".canarylint.yaml";

/// Where the configuration comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ConfigSource {
    /// `.canarylint.yaml` in this folder or the nearest parent that has one.
    Discover(PathBuf),
    /// This file (`--config`).
    File(PathBuf),
    /// None (`--no-config`): every rule at its default.
    #[default]
    None,
}

/// What a door's flags say about the run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub config: ConfigSource,
    /// Flagger's `-mesh-provider` (`--provider`): wins over the configuration's.
    pub provider: Option<String>,
    /// The namespace the manifests are applied to (`-n/--namespace`): wins over the
    /// configuration's `namespace`. Without either, objects that set none are only assumed to
    /// be in `default`.
    pub namespace: Option<String>,
    /// Which inputs outside a kustomization are applied together (`--bundle`): wins over the
    /// configuration's `bundle`.
    pub bundle: Option<Grouping>,
}

/// The settings of a run, and where they came from.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// The configuration file read, as found (relative to the folder searched from when it is
    /// under it).
    pub config_file: Option<PathBuf>,
    pub config: Config,
    pub settings: Settings,
    /// How inputs outside a kustomization are grouped into bundles.
    pub grouping: Grouping,
}

impl Workspace {
    /// Reads the configuration the options point at and applies the flags over it.
    pub fn load(options: &Options) -> Result<Workspace, Vec<ConfigError>> {
        let rules = canarylint_rules::all_meta();
        let file = match &options.config {
            ConfigSource::None => None,
            ConfigSource::File(p) => Some(p.clone()),
            ConfigSource::Discover(dir) => discover(dir).map(|found| {
                found
                    .strip_prefix(dir)
                    .map_or_else(|_| found.clone(), Path::to_path_buf)
            }),
        };
        let config = match &file {
            None => Config::default(),
            Some(p) => {
                // Relative to the folder searched from, which need not be the working one.
                let at = match &options.config {
                    ConfigSource::Discover(dir) if p.is_relative() => dir.join(p),
                    _ => p.clone(),
                };
                load(&at, p, &rules)?
            }
        };
        Ok(Workspace::with_config(file, config, options))
    }

    /// The settings of a configuration already read, with the flags applied over it.
    pub fn with_config(config_file: Option<PathBuf>, config: Config, options: &Options) -> Self {
        let mut settings = Settings::default();
        if let Some(p) = &config.default_provider {
            settings.default_provider = p.clone();
            settings.provider_configured = true;
        }
        if let Some(l) = &config.selector_labels {
            settings.selector_labels = l.clone();
        }
        if let Some(p) = &options.provider {
            settings.default_provider = p.clone();
            settings.provider_configured = true;
        }
        if let Some(ns) = options.namespace.as_ref().or(config.namespace.as_ref()) {
            settings.default_namespace = ns.clone();
            settings.namespace_assumed = false;
        }
        Workspace {
            config_file,
            grouping: options.bundle.or(config.bundle).unwrap_or_default(),
            config,
            settings,
        }
    }

    /// The linter of the run: every rule, the configuration's levels and ignores, the settings.
    pub fn linter(&self) -> Linter {
        Linter::new(canarylint_rules::ALL)
            .with_config(self.config.clone())
            .with_settings(self.settings.clone())
    }

    /// The severity that fails a run (`failOn`, error by default).
    pub fn fail_on(&self) -> Severity {
        self.config.fail_on.unwrap_or(Severity::Error)
    }
}

/// Finds `.canarylint.yaml` in `dir` or an ancestor.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(CONFIG_FILE))
        .find(|candidate| candidate.is_file())
}

/// Whether a file is a configuration file (by name).
pub fn is_config(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == CONFIG_FILE)
}

/// Reads and parses a configuration file; errors name it as `shown`.
fn load(
    path: &Path,
    shown: &Path,
    rules: &[&'static canarylint::RuleMeta],
) -> Result<Config, Vec<ConfigError>> {
    let name = shown.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: name.clone(),
            at: LineCol { line: 1, column: 1 },
            message: format!("cannot read: {e}"),
        }]
    })?;
    Config::parse(&name, &text, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_configuration_and_the_configuration_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("apps/podinfo")).unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "defaultProvider: linkerd\nselectorLabels: [team]\nfailOn: warning\n",
        )
        .unwrap();
        let from = dir.path().join("apps/podinfo");
        let ws = Workspace::load(&Options {
            config: ConfigSource::Discover(from.clone()),
            ..Options::default()
        })
        .unwrap();
        assert_eq!(ws.config_file, Some(dir.path().join(CONFIG_FILE)));
        assert_eq!(ws.settings.default_provider, "linkerd");
        assert!(ws.settings.provider_configured);
        assert_eq!(ws.settings.selector_labels, ["team"]);
        assert_eq!(ws.fail_on(), Severity::Warning);
        let ws = Workspace::load(&Options {
            config: ConfigSource::Discover(from),
            provider: Some("istio".into()),
            namespace: Some("prod".into()),
            bundle: None,
        })
        .unwrap();
        assert_eq!(ws.settings.default_provider, "istio");
        assert_eq!(ws.settings.default_namespace, "prod");
        assert!(!ws.settings.namespace_assumed);
        assert_eq!(ws.linter().settings.selector_labels, ["team"]);
        let none = Workspace::load(&Options::default()).unwrap();
        assert_eq!(none.settings.default_provider, "istio");
        assert!(!none.settings.provider_configured);
        assert!(none.settings.namespace_assumed);
        assert_eq!(none.grouping, Grouping::File);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let errors = Workspace::load(&Options {
            config: ConfigSource::File("no-such.yaml".into()),
            ..Options::default()
        })
        .unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .starts_with("no-such.yaml:1:1: cannot read")
        );
    }
}
