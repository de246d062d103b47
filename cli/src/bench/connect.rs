//! The connect scenario: `clients` logged-in idle connections, set up `window` at a time
//! and held for `duration`, pinging every 20 s as the original clients do. It measures
//! logins per second and, with `--server-pid`, the server's resident memory per held
//! connection (`VmRSS` from /proc, before the first login and at the end of the hold;
//! kernel socket buffers are not part of it).
//!
//! A limit that stops the run (this tool's or the server's open files, source ports, ...)
//! ends the setup; the connections made so far are still held and measured, and the
//! report says which limit it was.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::report::{load_average, Latency, Report};
use super::stats::Counters;
use super::wire::{push_frame, Session};
use super::{describe, explain, net, run_tag, scenario_servers, Live, Options, Phase};

/// The original clients' heartbeat.
const PING_EVERY: Duration = Duration::from_secs(20);

pub async fn run(opts: &Options, live: Arc<Live>) -> Result<Report> {
    let load_before = load_average();
    let servers = scenario_servers(opts).await?;
    let n = opts.clients;
    let limit = net::raise_file_limit(n as u64 + 256);
    let sources = Arc::new(net::Sources::for_target(servers[0], n, opts.sources));
    let tag = run_tag();
    let rss_before = opts.server_pid.map(net::rss_bytes).transpose()?;

    live.set_phase(Phase::Connecting, n as u64);
    let c = &live.counters;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped_by: Arc<Mutex<Option<String>>> = Arc::default();
    let dropped = Arc::new(AtomicU64::new(0));
    let end = CancellationToken::new();
    let setups = TaskTracker::new();
    let holds = TaskTracker::new();
    let at_once = Arc::new(Semaphore::new(opts.window));
    let start = Instant::now();
    for i in 0..n {
        let Ok(permit) = at_once.clone().acquire_owned().await else {
            break;
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let addr: SocketAddr = if opts.across {
            servers[i % servers.len()]
        } else {
            servers[0]
        };
        let id = format!("{tag}-c{i}");
        c.sent.fetch_add(1, Ordering::Relaxed);
        let (live, sources, stop, stopped_by, dropped, end, holds) = (
            live.clone(),
            sources.clone(),
            stop.clone(),
            stopped_by.clone(),
            dropped.clone(),
            end.clone(),
            holds.clone(),
        );
        let (timeout, pid, level) = (opts.timeout, opts.server_pid, opts.level);
        setups.spawn(async move {
            let src = sources.pick();
            let t0 = live.clock.now_ns();
            let r = Session::login(addr, src, &id, level, timeout).await;
            live.done.fetch_add(1, Ordering::Relaxed);
            match r {
                Ok(s) => {
                    live.latency.record(live.clock.now_ns() - t0);
                    live.counters.delivered.fetch_add(1, Ordering::Relaxed);
                    holds.spawn(hold(s, end, dropped));
                }
                Err(e) => {
                    if !stop.swap(true, Ordering::Relaxed) {
                        let why = explain(&e, src, pid);
                        *stopped_by.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                            "after {} logins: {why}",
                            Counters::get(&live.counters.delivered)
                        ));
                    }
                    live.counters.error(|| format!("{id}: {e}"));
                }
            }
            drop(permit);
        });
    }
    setups.close();
    setups.wait().await;
    let connect_time = start.elapsed();
    let connected = Counters::get(&c.delivered);
    let mut stopped_by = stopped_by.lock().unwrap_or_else(|p| p.into_inner()).take();
    if stopped_by.is_none() && (connected as usize) < n && limit.soft < n as u64 + 16 {
        stopped_by = Some(format!("this tool's open-file limit ({})", limit.soft));
    }

    live.set_phase(Phase::Holding, opts.duration.as_millis() as u64);
    let hold_start = Instant::now();
    while hold_start.elapsed() < opts.duration {
        live.done
            .store(hold_start.elapsed().as_millis() as u64, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50).min(opts.duration)).await;
    }
    let rss_after = opts.server_pid.map(net::rss_bytes).transpose()?;
    end.cancel();
    holds.close();
    let _ = tokio::time::timeout(Duration::from_secs(10), holds.wait()).await;

    let dropped = dropped.load(Ordering::Relaxed);
    let attempts = Counters::get(&c.sent);
    let held = connected.saturating_sub(dropped);
    let secs = connect_time.as_secs_f64();
    let rate = if secs > 0.0 {
        connected as f64 / secs
    } else {
        0.0
    };
    let rss_per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if held > 0 => Some(a.saturating_sub(b) / held),
        _ => None,
    };
    Ok(Report {
        scenario: opts.scenario.name().into(),
        level: opts.level.to_string(),
        target: describe(&opts.target),
        msg_servers: servers.iter().map(|s| s.to_string()).collect(),
        across: opts.across,
        clients: n,
        connections: held,
        members: None,
        window: opts.window,
        size: 0,
        duration_s: opts.duration.as_secs_f64(),
        sent: attempts,
        expected: n as u64,
        delivered: connected,
        lost: attempts - connected + dropped,
        duplicates: 0,
        errors: Counters::get(&c.errors) + dropped,
        first_error: c.first_error(),
        msgs_per_sec: rate,
        latency_ms: Latency::from_snapshot(&live.latency.snapshot()),
        connects_per_sec: Some(rate),
        rss_per_conn_bytes: rss_per_conn,
        server_rss_before_bytes: rss_before,
        server_rss_after_bytes: rss_after,
        stopped_by,
        load_before,
        load_after: load_average(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
    })
}

/// Holds one idle connection until `end`: reads (and drops) whatever comes, pings every
/// [`PING_EVERY`] from a random start so pings do not come all at once.
async fn hold(s: Session, end: CancellationToken, dropped: Arc<AtomicU64>) {
    let Session { mut rd, mut wr, .. } = s;
    let mut ping = Vec::new();
    push_frame(&mut ping, "SEND_PING", &["PING"]);
    let first = PING_EVERY.mul_f64(rand::random::<f64>());
    let mut next = tokio::time::Instant::now() + first;
    let mut buf = [0u8; 64];
    loop {
        tokio::select! {
            _ = end.cancelled() => break,
            r = rd.read(&mut buf) => {
                if !matches!(r, Ok(n) if n > 0) {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            _ = tokio::time::sleep_until(next) => {
                if wr.write_all(&ping).await.is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                next += PING_EVERY;
            }
        }
    }
    let _ = wr.shutdown().await;
}
