//! The benchmark must not rot: every scenario runs for a moment with tiny numbers against
//! a whole cluster in this process (OS-chosen ports, a temp dir), and its report must say
//! that everything sent arrived, once. One run goes through the `fishchat-admin` binary to
//! check the command line and its JSON.
//!
//! These check that the tool works, not how fast anything is: speed is measured with the
//! tool itself (docs/benchmarks.md), never in a timed test.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use fishchat_cli::bench::{self, report::Report, Live, Options, Scenario, Target};
use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::Level;

async fn cluster(dir: &Path) -> LocalCluster {
    let mut o = LocalOptions::new(dir, "smoke-secret", Ports::any(2));
    o.msg_server.monitor_beat = Duration::from_millis(200);
    o.retry_max = Duration::from_millis(200);
    LocalCluster::start(o, |_| {})
        .await
        .expect("cluster starts")
}

fn options(scenario: Scenario, c: &LocalCluster) -> Options {
    let mut o = Options::new(
        scenario,
        Some(Target::MsgServers {
            servers: c.file().msg_servers.clone(),
            from: "the test cluster".into(),
        }),
    );
    o.clients = 4;
    o.duration = Duration::from_millis(400);
    o.window = 4;
    o.size = 48;
    o.members = 6;
    o
}

async fn run(o: &Options) -> Report {
    let r = bench::run(o, Arc::new(Live::new()))
        .await
        .unwrap_or_else(|e| panic!("{:?}: {e:#}", o.scenario));
    let name = format!("{:?}{}", o.scenario, if o.across { " across" } else { "" });
    assert!(r.delivered > 0, "{name}: nothing delivered: {r:#?}");
    assert_eq!(r.lost, 0, "{name}: {r:#?}");
    assert_eq!(r.duplicates, 0, "{name}: {r:#?}");
    assert_eq!(r.errors, 0, "{name}: {r:#?}");
    assert!(r.msgs_per_sec > 0.0, "{name}: {r:#?}");
    let l = r.latency_ms.as_ref().expect("latency measured");
    assert!(
        l.p50 > 0.0 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
        "{name}: {l:?}"
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;

    let r = run(&options(Scenario::P2p, &c)).await;
    assert_eq!(r.expected, r.sent, "p2p: one receiver per message");
    assert_eq!(r.connections, 4);

    let mut o = options(Scenario::P2p, &c);
    o.across = true;
    let r = run(&o).await;
    assert_eq!(r.msg_servers.len(), 2);
    assert_eq!(r.delivered, r.sent, "through the router too: {r:#?}");

    let mut o = options(Scenario::Topic, &c);
    o.clients = 2;
    let r = run(&o).await;
    assert_eq!(r.members, Some(6));
    assert_eq!(
        r.expected,
        r.sent * 6,
        "every member gets every message, the sender too"
    );
    assert_eq!(r.delivered, r.expected);

    o.across = true;
    let r = run(&o).await;
    assert_eq!(
        r.delivered, r.expected,
        "members on both msg_servers: {r:#?}"
    );

    let mut o = options(Scenario::Connect, &c);
    o.clients = 20;
    o.server_pid = Some(std::process::id());
    let r = run(&o).await;
    assert_eq!((r.delivered, r.connections), (20, 20), "{r:#?}");
    assert!(r.connects_per_sec.unwrap() > 0.0);
    assert!(r.server_rss_after_bytes.unwrap() > 0, "RSS read from /proc");
    assert!(r.rss_per_conn_bytes.is_some());
    assert_eq!(r.stopped_by, None);

    let mut o = options(Scenario::Floor, &c);
    o.target = None;
    let r = run(&o).await;
    assert_eq!(r.target, "floor (in-process echo server)");

    c.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fishchat_level_runs_too() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    for scenario in [Scenario::P2p, Scenario::Topic] {
        let mut o = options(scenario, &c);
        o.level = Level::Fishchat;
        o.across = true;
        // Senders get receipts at this level: they must not count as errors or deliveries.
        let r = run(&o).await;
        assert_eq!(r.level, "fishchat");
        assert_eq!(r.delivered, r.expected, "{r:#?}");
    }
    let r = run(&options(Scenario::P2p, &c)).await;
    assert_eq!(r.level, "original", "the default");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_options_say_what_is_wrong() {
    let mut o = Options::new(Scenario::P2p, None);
    let e = bench::run(&o, Arc::new(Live::new())).await.unwrap_err();
    assert!(e.to_string().contains("--gateway"), "{e}");
    o.target = Some(Target::MsgServers {
        servers: vec!["127.0.0.1:1".into()],
        from: "a test".into(),
    });
    o.across = true;
    let e = bench::run(&o, Arc::new(Live::new())).await.unwrap_err();
    assert!(e.to_string().contains("needs 2"), "{e}");
    let mut o = Options::new(Scenario::Topic, o.target.clone());
    o.clients = 5;
    o.members = 3;
    let e = bench::run(&o, Arc::new(Live::new())).await.unwrap_err();
    assert!(e.to_string().contains("--members"), "{e}");
}

/// Connecting to a port nobody listens on names the cause.
#[tokio::test]
async fn a_refused_connection_is_explained() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let mut o = Options::new(
        Scenario::P2p,
        Some(Target::MsgServers {
            servers: vec![addr],
            from: "a test".into(),
        }),
    );
    o.clients = 2;
    o.timeout = Duration::from_secs(5);
    let e = format!(
        "{:#}",
        bench::run(&o, Arc::new(Live::new())).await.unwrap_err()
    );
    assert!(e.contains("refused") && e.contains("not listening"), "{e}");
}

/// The command line: `fishchat-admin bench p2p --cluster FILE --json` prints one JSON object
/// with the fields the issue names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_prints_one_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let file = dir.path().join("bench-cluster.json");
    c.file().write(&file).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_fishchat-admin"))
            .args(["bench", "p2p", "--cluster"])
            .arg(&file)
            .args([
                "--clients",
                "2",
                "--duration",
                "300ms",
                "--window",
                "2",
                "--json",
            ])
            .output()
            .expect("fishchat-admin runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one object, nothing else: {stdout}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    for k in [
        "scenario",
        "clients",
        "duration_s",
        "sent",
        "delivered",
        "lost",
        "duplicates",
        "msgs_per_sec",
        "latency_ms",
        "rss_per_conn_bytes",
    ] {
        assert!(v.get(k).is_some(), "no {k} in {v}");
    }
    assert_eq!(v["scenario"], "p2p");
    assert!(v["delivered"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["lost"], 0, "{v}");
    for q in ["p50", "p99", "p999"] {
        assert!(v["latency_ms"][q].is_number(), "{v}");
    }
    c.shutdown().await.unwrap();
}
