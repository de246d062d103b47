//! The client's log goes to a file (`DATA_DIR/chat/<id>/chat.log`), never to the screen
//! the UI is drawn on. `RUST_LOG` is respected.

use std::fs;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// A log bigger than this at start is moved aside to `chat.log.old`.
const ROTATE_AT: u64 = 8 * 1024 * 1024;

const DEFAULT_FILTER: &str = "warn,fishchat_tui=info,fishchat_cluster=warn";

/// Sends this process's log to `path`. Where a global subscriber is set already (tests,
/// or an embedding program) that one is kept.
pub fn init(path: &Path) -> std::io::Result<()> {
    if fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let _ = fs::rename(path, path.with_extension("log.old"));
    }
    let file = fishchat_cluster::private::options()
        .create(true)
        .append(true)
        .open(path)?;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}
