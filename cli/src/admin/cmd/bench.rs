//! `fishchat-admin bench SCENARIO`: load any FishChat-compatible server and measure it.
//!
//! The engine is `fishchat_cli::bench`; this file turns flags into its options, draws a
//! progress bar while it runs (on a terminal only) and prints the result: a table for
//! people, one JSON object with `--json` or when stdout is not a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use fishchat_cli::bench::{self, Live, Options, Phase, Scenario, Target};
use fishchat_cli::target::TargetArgs;
use fishchat_cluster::protocol::Level;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Load a FishChat server and measure it: p2p, topic fanout, idle connections, or this
/// machine's floor.
///
/// Only the original FishChat's commands are used, so any FishChat-compatible server can be
/// measured. Give the server with --gateway ADDR (asked for its msg_servers as clients do),
/// or as for the other admin commands (--cluster FILE, --data-dir DIR, --server ADDR; by
/// default the local `fishchat up` cluster). `floor` needs no server: it measures the same
/// frames echoed by a minimal server inside the tool, the most this machine can do with
/// this tool driving it. See docs/benchmarks.md.
#[derive(Debug, Args)]
pub struct Bench {
    /// What to measure.
    #[arg(value_enum)]
    scenario: Scenario,

    /// Ask this gateway for the msg_servers (REQ_MSG_SERVER), instead of a cluster file.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["cluster", "data_dir", "servers"])]
    gateway: Option<String>,

    #[command(flatten)]
    target: TargetArgs,

    /// p2p and floor: connections, half of them sending to the other half; topic: members
    /// that send; connect: connections to log in and hold.
    #[arg(long, value_name = "N", default_value_t = 64)]
    clients: usize,

    /// How long to send (connect: to hold the connections once logged in), e.g. 10s,
    /// 500ms, 2m.
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    duration: Duration,

    /// Messages each sender keeps in flight (sent, not yet received by all its receivers);
    /// connect: logins under way at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    window: usize,

    /// Message body size in bytes (at least the ~30-byte stamp the tool puts in it).
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    size: usize,

    /// topic: members of the topic.
    #[arg(long, value_name = "M", default_value_t = 1000)]
    members: usize,

    /// p2p: receivers on other msg_servers than their senders (through the router);
    /// topic: members spread over every msg_server; connect: connections spread too.
    #[arg(long)]
    across: bool,

    /// The server's process id: connect reports its memory per connection (VmRSS from
    /// /proc), and a stalled setup is checked against its open-file limit.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,

    /// Spread client sockets over N source addresses 127.0.0.1, 127.0.0.2, ... [default:
    /// as many as the connections need, about 22,000 each]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=254))]
    sources: Option<u64>,

    /// How long one login may take, and how long messages still in flight are waited
    /// for after the run before they count as lost.
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,

    /// The protocol level the tool speaks: `original` (only the original's commands, so
    /// the original server can be measured the same way) or `fishchat` (`HELLO` first, as
    /// fishchat's own clients do; senders then also get receipts).
    #[arg(long, value_enum, default_value_t = LevelArg::Original)]
    level: LevelArg,

    /// One JSON object instead of a table (the default when stdout is not a terminal).
    #[arg(long)]
    json: bool,
}

impl Bench {
    pub async fn run(self) -> Result<ExitCode> {
        let json = self.json || !std::io::stdout().is_terminal();
        let target = if self.scenario == Scenario::Floor {
            None
        } else if let Some(gw) = &self.gateway {
            Some(Target::Gateway(gw.clone()))
        } else {
            let t = self.target.resolve()?;
            Some(Target::MsgServers {
                servers: t.msg_servers,
                from: format!("msg_servers from {}", t.servers_from),
            })
        };
        let mut opts = Options::new(self.scenario, target);
        opts.clients = self.clients;
        opts.duration = self.duration;
        opts.window = self.window;
        opts.size = self.size;
        opts.members = self.members;
        opts.across = self.across;
        opts.server_pid = self.server_pid;
        opts.sources = self.sources.map(|n| n as usize);
        opts.timeout = self.timeout;
        opts.level = match self.level {
            LevelArg::Original => Level::Original,
            LevelArg::Fishchat => Level::Fishchat,
        };

        let live = Arc::new(Live::new());
        let show = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
        let bar = show.then(|| progress(live.clone()));
        let result = bench::run(&opts, live).await;
        if let Some((bar, task)) = bar {
            task.abort();
            bar.finish_and_clear();
        }
        let report = result.with_context(|| format!("bench {}", self.scenario.name()))?;
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print!("{}", report.table());
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// A bar on stderr that follows the run's phase: logins done, seconds run, messages
/// delivered and the rate.
fn progress(live: Arc<Live>) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("  {prefix:>10} [{bar:30.cyan/dim}] {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let task = tokio::spawn(async move {
        let mut last = (std::time::Instant::now(), 0u64);
        let mut rate = 0.0;
        loop {
            let phase = live.phase();
            let (done, total) = (
                live.done.load(Ordering::Relaxed),
                live.total.load(Ordering::Relaxed),
            );
            let delivered = live.counters.delivered.load(Ordering::Relaxed);
            let now = std::time::Instant::now();
            let dt = now.duration_since(last.0).as_secs_f64();
            if dt >= 0.5 {
                rate = delivered.saturating_sub(last.1) as f64 / dt;
                last = (now, delivered);
            }
            b.set_prefix(phase.name());
            b.set_length(total.max(1));
            b.set_position(done.min(total));
            b.set_message(match phase {
                Phase::Preparing => String::new(),
                Phase::Connecting => format!("{done}/{total}"),
                Phase::Running | Phase::Holding => format!(
                    "{:.1}/{:.0} s  {delivered} delivered  {rate:.0}/s",
                    done as f64 / 1000.0,
                    total as f64 / 1000.0
                ),
                Phase::Draining => format!("{done}/{total} delivered"),
            });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (bar, task)
}

/// `10s`, `500ms`, `2m`, or a plain number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: use e.g. 10s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").unwrap_err().contains("10s"));
        assert!(parse_duration("5d").unwrap_err().contains("unknown unit"));
    }
}

/// `--level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LevelArg {
    Original,
    Fishchat,
}
