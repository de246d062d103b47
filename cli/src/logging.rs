//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default: info for fishchat).
//!
//! While [`crate::progress`] draws spinners on the terminal, a log line would tear them;
//! so the writer hides the spinners for the moment it writes, then they are drawn again.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;

use indicatif::MultiProgress;
use tracing_subscriber::EnvFilter;

/// What is shown when `RUST_LOG` is unset: info for fishchat, warnings for the rest.
/// A line per channel subscription and per link coming up (twenty at every start) would
/// bury the start-up display, so those two modules show warnings only unless asked.
pub const DEFAULT_FILTER: &str = "warn,fishchat=info,fishchat_cluster=info,\
    fishchat_cluster::link=warn,fishchat_cluster::roles::msg_server::channels=warn";

/// The spinners being drawn, if any.
static PROGRESS: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Installs the global subscriber. Call once, before anything logs.
pub fn init() {
    init_with(DEFAULT_FILTER);
}

/// [`init`], showing what `default_filter` lets through when `RUST_LOG` is unset (tools
/// that report in their own words keep the library's log lines quieter).
pub fn init_with(default_filter: &str) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(s) if !s.trim().is_empty() => EnvFilter::try_new(&s).unwrap_or_else(|e| {
            eprintln!("warning: ignoring RUST_LOG={s:?}: {e}");
            EnvFilter::new(default_filter)
        }),
        _ => EnvFilter::new(default_filter),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ProgressAwareStderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}

/// Routes log lines around `progress` until [`clear_progress`].
pub fn set_progress(progress: MultiProgress) {
    *PROGRESS.lock().unwrap_or_else(|p| p.into_inner()) = Some(progress);
}

pub fn clear_progress() {
    *PROGRESS.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// stderr, suspending the spinners while a line is written.
struct ProgressAwareStderr;

impl Write for ProgressAwareStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Clone out of the lock: `suspend` redraws, and must not run under our mutex.
        let progress = PROGRESS.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match progress {
            Some(p) => p.suspend(|| io::stderr().write_all(buf))?,
            None => io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
