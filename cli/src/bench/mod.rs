//! The benchmark engine behind `fishchat-admin bench`: it drives any server that speaks
//! the FishChat protocol, using only the original's commands (`REQ_MSG_SERVER`,
//! `SEND_CLIENT_ID`, `SEND_PING`, `SEND_MESSAGE_P2P`, `P2P_ACK`, `CREATE_TOPIC`,
//! `JOIN_TOPIC`, `SEND_MESSAGE_TOPIC`), so other FishChat-compatible servers can be
//! measured with it too.
//!
//! - [`p2p`], [`topic`], [`connect`], [`floor`]: the scenarios, one file each.
//! - [`flow`]: one task per connection; windows; receivers that count deliveries.
//! - [`wire`]: the lean client (frames, parsing, login without `SYNC`).
//! - [`net`]: open-file limit, source addresses, `/proc`, and which limit stopped a run.
//! - [`stats`]: latency histogram, counters, duplicate detection. [`report`]: the result.
//!
//! The command-line front (`cli/src/admin/cmd/bench.rs`) turns flags into [`Options`],
//! draws the progress from [`Live`] and prints the [`report::Report`].

pub mod connect;
pub mod floor;
pub mod flow;
pub mod net;
pub mod p2p;
pub mod report;
pub mod stats;
pub mod topic;
pub mod wire;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fishchat_cluster::protocol::Level;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use self::report::{load_average, Latency, Report};
use self::stats::{Clock, Counters, Histogram};
use self::wire::{Session, SetupError};

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Sender/receiver pairs; receivers ack every message.
    P2p,
    /// One topic of --members members; --clients of them send.
    Topic,
    /// --clients logged-in idle connections held open for --duration.
    Connect,
    /// The same frames echoed by a minimal server inside the tool: this machine's floor.
    Floor,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::P2p => "p2p",
            Scenario::Topic => "topic",
            Scenario::Connect => "connect",
            Scenario::Floor => "floor",
        }
    }
}

/// Where the server is.
#[derive(Debug, Clone)]
pub enum Target {
    /// Ask this gateway (`REQ_MSG_SERVER`) which msg_servers there are.
    Gateway(String),
    /// These msg_servers (from a cluster file); `from` says where they came from.
    MsgServers { servers: Vec<String>, from: String },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: Scenario,
    /// None for the floor, which needs no server.
    pub target: Option<Target>,
    /// p2p: connections (half send, half receive); topic: members that send; connect:
    /// connections to hold; floor: as p2p.
    pub clients: usize,
    pub duration: Duration,
    /// Messages in flight per sender; connect: logins under way at once.
    pub window: usize,
    /// Message body size in bytes.
    pub size: usize,
    /// Topic members.
    pub members: usize,
    /// Put receivers (topic: members) on other msg_servers than the senders.
    pub across: bool,
    /// Read this process's memory from /proc (connect).
    pub server_pid: Option<u32>,
    /// Spread client sockets over this many 127.0.0.x addresses (default: as needed).
    pub sources: Option<usize>,
    /// How long a login, or the drain after a run, may take.
    pub timeout: Duration,
    /// The protocol level of every connection: the original's (the default, so any
    /// FishChat server can be measured) or fishchat's (`HELLO` first; receipts come).
    pub level: Level,
}

impl Options {
    /// Options with the defaults of the command line.
    pub fn new(scenario: Scenario, target: Option<Target>) -> Options {
        Options {
            scenario,
            target,
            clients: 64,
            duration: Duration::from_secs(10),
            window: 32,
            size: 64,
            members: 1000,
            across: false,
            server_pid: None,
            sources: None,
            timeout: Duration::from_secs(10),
            level: Level::Original,
        }
    }

    fn check(&self) -> Result<()> {
        if self.clients == 0 {
            bail!("--clients must be at least 1");
        }
        if self.window == 0 {
            bail!("--window must be at least 1");
        }
        if matches!(self.scenario, Scenario::P2p | Scenario::Floor) && self.clients < 2 {
            bail!(
                "--clients must be at least 2 for {}: senders and receivers come in pairs",
                self.scenario.name()
            );
        }
        if self.scenario == Scenario::Topic && self.clients > self.members {
            bail!(
                "--clients ({}) is the number of members that send; it cannot exceed --members ({})",
                self.clients,
                self.members
            );
        }
        if self.scenario != Scenario::Floor && self.target.is_none() {
            bail!("no server to measure: pass --gateway ADDR or --cluster FILE");
        }
        Ok(())
    }
}

/// What a run is doing, for the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Preparing,
    /// Logging clients in: `done` of `total`.
    Connecting,
    /// Sending: `done` of `total` milliseconds.
    Running,
    /// Waiting for messages still in flight.
    Draining,
    /// Holding idle connections: `done` of `total` milliseconds.
    Holding,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Preparing => "preparing",
            Phase::Connecting => "logging in",
            Phase::Running => "running",
            Phase::Draining => "draining",
            Phase::Holding => "holding",
        }
    }
}

/// The live state of a run, shared by its connections and read by the progress bar.
pub struct Live {
    pub clock: Clock,
    pub latency: Histogram,
    pub counters: Counters,
    phase: Mutex<Phase>,
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live {
            clock: Clock::start(),
            latency: Histogram::new(),
            counters: Counters::default(),
            phase: Mutex::new(Phase::Preparing),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    pub fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_phase(&self, p: Phase, total: u64) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = p;
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }
}

/// Runs one scenario to the end.
pub async fn run(opts: &Options, live: Arc<Live>) -> Result<Report> {
    opts.check()?;
    match opts.scenario {
        Scenario::P2p => p2p::run(opts, live).await,
        Scenario::Topic => topic::run(opts, live).await,
        Scenario::Connect => connect::run(opts, live).await,
        Scenario::Floor => floor::run(opts, live).await,
    }
}

/// A short random tag for this run's ids, so runs never see each other's messages.
fn run_tag() -> String {
    format!("b{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// The most `REQ_MSG_SERVER`s sent to find enough msg_servers.
const MAX_GATEWAY_ASKS: usize = 256;

/// The msg_servers a scenario runs on: the first of `opts.target`'s, or with `--across` all
/// of them (at least two).
pub async fn scenario_servers(opts: &Options) -> Result<Vec<SocketAddr>> {
    let target = opts.target.as_ref().expect("checked by Options::check");
    let want = if opts.across { 2 } else { 1 };
    let mut servers = msg_servers(target, want, opts.level, opts.timeout).await?;
    if !opts.across {
        servers.truncate(1);
    }
    Ok(servers)
}

/// The msg_servers of `target`, resolved. A gateway is asked `REQ_MSG_SERVER` several
/// times (it spreads its answers over the msg_servers that are up); `want` is how many
/// distinct ones the scenario needs.
pub async fn msg_servers(
    target: &Target,
    want: usize,
    level: Level,
    timeout: Duration,
) -> Result<Vec<SocketAddr>> {
    let names = match target {
        Target::MsgServers { servers, from } => {
            if servers.len() < want {
                bail!(
                    "{from} lists {} msg_server(s); this scenario needs {want}",
                    servers.len()
                );
            }
            servers.clone()
        }
        Target::Gateway(gw) => {
            let gw_addr = resolve(gw).await?;
            let mut seen: Vec<String> = Vec::new();
            // The gateway hands out the least loaded first: a few answers name them all on
            // an idle cluster; after a run it may take more to come round to the others.
            for i in 0..MAX_GATEWAY_ASKS {
                if i >= want.max(2) * 4 && seen.len() >= want {
                    break;
                }
                let addr = wire::ask_gateway(gw_addr, level, timeout)
                    .await
                    .with_context(|| format!("asking the gateway {gw} for a msg_server"))?;
                if !seen.contains(&addr) {
                    seen.push(addr);
                }
            }
            if seen.len() < want {
                bail!(
                    "the gateway {gw} named {} msg_server(s) ({}) in {MAX_GATEWAY_ASKS} answers; \
                     this scenario needs {want}: pass --cluster FILE or --server ADDR to name them",
                    seen.len(),
                    seen.join(", ")
                );
            }
            seen
        }
    };
    let mut out = Vec::new();
    for n in &names {
        out.push(resolve(n).await?);
    }
    Ok(out)
}

async fn resolve(addr: &str) -> Result<SocketAddr> {
    tokio::net::lookup_host(addr)
        .await
        .with_context(|| format!("cannot resolve {addr}"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))
}

fn describe(target: &Option<Target>) -> String {
    match target {
        Some(Target::Gateway(g)) => format!("gateway {g}"),
        Some(Target::MsgServers { from, .. }) => from.clone(),
        None => "floor (in-process echo server)".into(),
    }
}

/// A setup failure in words, naming the limit behind it where one can be told.
fn explain(e: &SetupError, src: Option<std::net::Ipv4Addr>, server_pid: Option<u32>) -> String {
    if let Some(os) = e.os_error() {
        return net::explain_connect_error(os, src);
    }
    if let Some(why) = server_pid.and_then(net::explain_server) {
        return why;
    }
    match e {
        SetupError::Timeout { .. } | SetupError::Closed { .. } => format!(
            "{e} (a server that stops answering new logins may be out of open files: \
             check its `ulimit -n`, or pass --server-pid to have it checked)"
        ),
        _ => e.to_string(),
    }
}

/// Logs in every `(server, id)`, `live.window`-many at a time, in order. The first
/// failure fails the whole setup, naming the limit behind it where it can.
async fn login_all(
    opts: &Options,
    live: &Live,
    sources: &net::Sources,
    who: Vec<(SocketAddr, String)>,
) -> Result<Vec<Session>> {
    let total = who.len();
    live.set_phase(Phase::Connecting, total as u64);
    let at_once = opts.window.clamp(1, 256);
    let results: Vec<Result<Session, (SetupError, Option<std::net::Ipv4Addr>)>> =
        futures::stream::iter(who)
            .map(|(addr, id)| async move {
                let src = sources.pick();
                let r = Session::login(addr, src, &id, opts.level, opts.timeout).await;
                live.done.fetch_add(1, Ordering::Relaxed);
                r.map_err(|e| (e, src))
            })
            .buffered(at_once)
            .collect()
            .await;
    let mut sessions = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(s) => sessions.push(s),
            Err((e, src)) => bail!(
                "logging in client {} of {total} failed: {}",
                i + 1,
                explain(&e, src, opts.server_pid)
            ),
        }
    }
    Ok(sessions)
}

/// What the timed part of a run saw.
struct Measured {
    elapsed: Duration,
    /// Deliveries during the timed part.
    delivered: u64,
}

/// Runs the timed part: lets senders send for `opts.duration`, then stops them and waits
/// (up to `opts.timeout`) until every message sent has reached every receiver it was
/// meant for (`receivers` each).
async fn measure(
    opts: &Options,
    live: &Live,
    sending: &CancellationToken,
    receivers: u64,
) -> Measured {
    let c = &live.counters;
    live.set_phase(Phase::Running, opts.duration.as_millis() as u64);
    let start = Instant::now();
    let before = Counters::get(&c.delivered);
    let end = start + opts.duration;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        live.done
            .store((now - start).as_millis() as u64, Ordering::Relaxed);
        tokio::time::sleep((end - now).min(Duration::from_millis(50))).await;
    }
    let measured = Measured {
        elapsed: start.elapsed(),
        delivered: Counters::get(&c.delivered) - before,
    };
    sending.cancel();
    // Let producers see the cancel before counting what they sent.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let expected = Counters::get(&c.sent) * receivers;
    live.set_phase(Phase::Draining, expected);
    let deadline = Instant::now() + opts.timeout;
    loop {
        let got = Counters::get(&c.delivered);
        live.done.store(got, Ordering::Relaxed);
        if got >= Counters::get(&c.sent) * receivers || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    measured
}

/// The report of a message scenario (p2p, topic, floor) from what `live` counted.
fn message_report(
    opts: &Options,
    live: &Live,
    m: &Measured,
    servers: &[SocketAddr],
    receivers: u64,
    load_before: Option<f64>,
    lost_conns: Vec<String>,
) -> Report {
    let c = &live.counters;
    let sent = Counters::get(&c.sent);
    let delivered = Counters::get(&c.delivered);
    let expected = sent * receivers;
    let mut errors = Counters::get(&c.errors);
    let mut first_error = c.first_error();
    if !lost_conns.is_empty() {
        errors += lost_conns.len() as u64;
        first_error = first_error.or_else(|| lost_conns.first().cloned());
    }
    let secs = m.elapsed.as_secs_f64();
    Report {
        scenario: opts.scenario.name().into(),
        level: opts.level.to_string(),
        target: describe(&opts.target),
        msg_servers: servers.iter().map(|s| s.to_string()).collect(),
        across: opts.across,
        clients: opts.clients,
        connections: 0,
        members: (opts.scenario == Scenario::Topic).then_some(opts.members),
        window: opts.window,
        size: opts.size,
        duration_s: secs,
        sent,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        duplicates: Counters::get(&c.duplicates),
        errors,
        first_error,
        msgs_per_sec: if secs > 0.0 {
            m.delivered as f64 / secs
        } else {
            0.0
        },
        latency_ms: Latency::from_snapshot(&live.latency.snapshot()),
        connects_per_sec: None,
        rss_per_conn_bytes: None,
        server_rss_before_bytes: None,
        server_rss_after_bytes: None,
        stopped_by: None,
        load_before,
        load_after: load_average(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// Ends every connection task and collects those that were lost before the end.
async fn finish(
    end: &CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<flow::Ended>>,
) -> Vec<String> {
    end.cancel();
    let mut lost = Vec::new();
    for t in tasks {
        match t.await {
            Ok(flow::Ended::Done) => {}
            Ok(flow::Ended::Lost(why)) => lost.push(why),
            Err(e) => lost.push(format!("a connection task failed: {e}")),
        }
    }
    lost
}
