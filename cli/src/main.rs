//! The `canarylint` binary.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    canarylint_cli::run(std::env::args_os())
}
