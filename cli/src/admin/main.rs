//! `fishchat-admin`: for operators, in the spirit of `nats sub`, `redis-cli` and `kcat`.
//!
//! The binary is thin, like `fishchat`: parse arguments ([`cmd`], one file per subcommand),
//! set up logging, run the subcommand on a tokio runtime, and turn its error into one line
//! and an exit code. What it shares with `fishchat` (the roles, finding a cluster, tables)
//! is in the `fishchat_cli` library.

mod cmd;

use std::process::ExitCode;

use clap::Parser;
use fishchat_cli::{logging, report};

/// fishchat-admin: launch, watch and inspect a fishchat cluster; manage its accounts.
///
/// It finds the cluster from --cluster FILE, --data-dir DIR or --server ADDR, by default the
/// local `fishchat up` cluster's cluster.json; the secret from that file, --secret or
/// FISHCHAT_SECRET. Output is for people on a terminal and JSON when piped (or --json).
/// Logs go to stderr; set RUST_LOG to change what is shown.
#[derive(Debug, Parser)]
#[command(name = "fishchat-admin", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: cmd::Cmd,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init_with(cli.cmd.log_filter());
    report::run(cli.cmd.run())
}
