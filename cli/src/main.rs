//! `fishchat`: run a FishChat cluster and (later) talk to it.
//!
//! The binary is thin: parse arguments ([`cmd`], one file per subcommand), set up logging
//! ([`logging`]), run the subcommand on a tokio runtime, and turn its error into a message
//! and an exit code. Everything that serves or speaks the protocol is in `fishchat-cluster`.

use fishchat_cli::{cmd, logging, report};

use std::process::ExitCode;

use clap::Parser;

/// fishchat: a Rust rebuild of FishChatServer, wire-compatible with its clients.
///
/// Logs go to stderr; set RUST_LOG to change what is shown (default: info for fishchat).
#[derive(Debug, Parser)]
#[command(name = "fishchat", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: cmd::Cmd,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.cmd.logs_to_stderr() {
        logging::init();
    }
    report::run(cli.cmd.run())
}
