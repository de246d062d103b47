//! How both binaries end: a subcommand's result becomes an exit code, and its error one
//! line on stderr (`error: what failed: why`), never a backtrace.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

/// How long the runtime may take to wind down tasks that are still running once the
/// subcommand has returned, so an exit is never held up by a stuck task.
const RUNTIME_EXIT_GRACE: Duration = Duration::from_millis(500);

/// Runs a subcommand on a fresh tokio runtime and turns its result into the exit code.
pub fn run<F>(subcommand: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<ExitCode>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(subcommand);
    runtime.shutdown_timeout(RUNTIME_EXIT_GRACE);
    exit_code(result)
}

/// The exit code for `result`, printing its error where there is one.
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, never a backtrace. A cause whose text its
/// parent's message already quotes is not repeated.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_cause_quoted_by_its_parent_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let e = anyhow::Error::new(io).context("cannot listen on :17000: Address already in use");
        let e = Err::<(), _>(e).context("cannot start").unwrap_err();
        assert_eq!(
            one_line(&e),
            "cannot start: cannot listen on :17000: Address already in use"
        );
    }
}
