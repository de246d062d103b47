//! End to end: `fishchat up` as a real process on OS-chosen ports, spoken to through the
//! client SDK. A guard kills the process on drop, so a failing test leaves nothing behind
//! and the tests run in parallel.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::local::{SEED_GATEWAY, SEED_WEB};
use fishchat_cluster::protocol::P2pMessage;

/// Generous: CI machines are slow and shared, and debug builds start slowly.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The promise: a signal stops the cluster within 5 s.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `fishchat up`; its stdout and stderr go to files beside the data dir.
struct Up {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Up {
    fn spawn(logs: &Path, name: &str, args: &[&str]) -> Up {
        let out = logs.join(format!("{name}.stdout"));
        let err = logs.join(format!("{name}.stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_fishchat"))
            .arg("up")
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("FISHCHAT_DATA_DIR")
            .env_remove("FISHCHAT_SECRET")
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap())
            .spawn()
            .expect("the fishchat binary runs");
        Up { child, out, err }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits for `path` to hold a cluster file, failing early where the process exits.
    fn wait_for_cluster_file(&mut self, path: &Path) -> ClusterFile {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(file) = ClusterFile::read(path) {
                return file;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "fishchat up exited with {status} before it was ready; stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {} after {START_TIMEOUT:?}; stderr:\n{}",
                path.display(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// The exit status, failing where it takes longer than `within`.
    fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "fishchat up still running {within:?} later; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then a clean exit within [`STOP_TIMEOUT`].
    fn stop(&mut self) {
        self.signal("TERM");
        let status = self.wait_exit(STOP_TIMEOUT);
        assert!(
            status.success(),
            "exit {status} after SIGTERM; stderr:\n{}",
            self.stderr()
        );
        assert!(
            self.stdout().contains("stopped"),
            "stdout:\n{}",
            self.stdout()
        );
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_messages_and_the_secret_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_arg = data.to_str().unwrap();
    let cluster_json = data.join("cluster.json");

    let mut first = Up::spawn(
        tmp.path(),
        "first",
        &["--any-ports", "--data-dir", data_arg],
    );
    let file = first.wait_for_cluster_file(&cluster_json);
    assert_eq!(file.msg_servers.len(), 2, "{file:?}");
    let kept = std::fs::read_to_string(data.join("secret")).unwrap();
    assert_eq!(
        kept.trim(),
        file.secret,
        "cluster.json holds the kept secret"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // A fresh data directory and what it holds are the owner's only, from the start.
        assert_eq!(mode(&data), 0o700, "the data directory");
        for file in ["secret", "cluster.json", "store.redb"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file} is the owner's only");
        }
    }
    let out = first.stdout();
    assert!(
        out.contains("claimed (registration open)"),
        "the summary names the default sign-in policy:\n{out}"
    );
    for addr in std::iter::once(&file.gateway)
        .chain(&file.msg_servers)
        .chain([&file.router, &file.manager])
        .chain(&file.monitor)
        .chain(&file.web)
    {
        assert!(
            out.contains(addr.as_str()),
            "{addr} missing from the summary:\n{out}"
        );
    }
    assert!(
        first.stderr().contains("ready  gateway"),
        "stderr:\n{}",
        first.stderr()
    );

    let mut alice = Client::login_via_gateway(&file.gateway, "alice")
        .await
        .unwrap();
    for i in 1..=3 {
        alice
            .sender()
            .send_p2p("bob", &format!("message {i}"))
            .unwrap();
    }
    // Once SYNC is answered the three sends were acted on: they are in bob's inbox.
    assert_eq!(alice.sync().await.unwrap(), None);

    first.stop();
    assert!(
        !cluster_json.exists(),
        "a stopped cluster leaves no cluster.json behind"
    );
    drop(alice);

    let mut second = Up::spawn(
        tmp.path(),
        "second",
        &["--any-ports", "--data-dir", data_arg],
    );
    let again = second.wait_for_cluster_file(&cluster_json);
    assert_eq!(
        again.secret, file.secret,
        "the secret is reused across runs"
    );

    let mut bob = Client::login_via_gateway(&again.gateway, "bob")
        .await
        .unwrap();
    for i in 1..=3 {
        match bob
            .next_event_within(Duration::from_secs(10))
            .await
            .unwrap()
        {
            Event::P2p(P2pMessage {
                msg, from, offline, ..
            }) => {
                assert_eq!(msg, format!("message {i}"));
                assert_eq!(from, "alice");
                assert!(offline, "message {i} should be marked offline");
            }
            other => panic!("expected message {i}, got {other:?}"),
        }
    }
    drop(bob);
    second.stop();
}

#[test]
fn a_taken_port_is_a_clear_error() {
    // Take a port the seed's layout can be shifted onto, so that the gateway lands on it:
    // at or above the gateway's seed port, and low enough that the highest seed port (the
    // dashboard's) shifted by as much stays a port.
    let highest = 65535 - (SEED_WEB - SEED_GATEWAY);
    let (listener, port) = loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if (SEED_GATEWAY..=highest).contains(&p) {
            break (l, p);
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let offset = (port - SEED_GATEWAY).to_string();
    let data = tmp.path().join("data");
    let mut up = Up::spawn(
        tmp.path(),
        "taken",
        &[
            "--port-offset",
            &offset,
            "--data-dir",
            data.to_str().unwrap(),
            "--secret",
            "s3cret",
        ],
    );
    let status = up.wait_exit(START_TIMEOUT);
    let err = up.stderr();
    assert!(!status.success(), "stderr:\n{err}");
    assert!(err.contains("gateway"), "stderr:\n{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "stderr:\n{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "stderr:\n{err}"
    );
    assert!(
        !data.join("secret").exists(),
        "an explicit --secret is not written"
    );
    assert!(!data.join("cluster.json").exists());
    drop(listener);
}

/// One plain HTTP/1.1 GET (Connection: close); the status and the body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the dashboard");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

/// A `fishchat monitor` process; killed on drop.
struct MonitorProc(Child);

impl Drop for MonitorProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn up_serves_the_dashboard_and_a_monitor_runs_alone_from_its_config() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut up = Up::spawn(
        tmp.path(),
        "up",
        &["--any-ports", "--data-dir", data.to_str().unwrap()],
    );
    let file = up.wait_for_cluster_file(&data.join("cluster.json"));
    let web = file.web.clone().expect("cluster.json names the dashboard");
    assert_eq!(http_get(&web, "/healthz"), (200, "ok\n".to_string()));

    // A password hash for a Login, made from stdin.
    let mut hash = Command::new(env!("CARGO_BIN_EXE_fishchat"))
        .args(["monitor", "hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        hash.stdin
            .take()
            .unwrap()
            .write_all(b"open sesame\n")
            .unwrap();
    }
    let out = hash.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let phc = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let parsed = fishchat_cluster::roles::monitor::auth::PasswordHash::parse(&phc).unwrap();
    assert!(parsed.verify("open sesame"));
    assert!(!phc.contains("open sesame"));

    // Without a login, a dashboard other machines could reach is refused before it listens.
    let config = |web_listen: &str, login: bool| {
        let mut v = serde_json::json!({
            "Listen": "127.0.0.1:0",
            "WebListen": web_listen,
            "MsgServerList": file.msg_servers,
            "MonitorBeatTime": 5,
            "Router": file.router,
            "Secret": file.secret,
        });
        if login {
            v["Login"] = serde_json::json!({"User": "ops", "PasswordHash": phc});
        }
        let path = tmp.path().join(format!("monitor-{}.json", login as u8));
        std::fs::write(&path, v.to_string()).unwrap();
        path
    };
    let refused = Command::new(env!("CARGO_BIN_EXE_fishchat"))
        .args(["monitor", "--config"])
        .arg(config("0.0.0.0:0", false))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("Login") && err.contains("hash-password"),
        "{err}"
    );

    // On loopback it runs, watching the cluster `fishchat up` started.
    let log = tmp.path().join("monitor.stdout");
    let mut monitor = MonitorProc(
        Command::new(env!("CARGO_BIN_EXE_fishchat"))
            .args(["monitor", "--config"])
            .arg(config("127.0.0.1:0", false))
            .stdin(Stdio::null())
            .stdout(File::create(&log).unwrap())
            .stderr(File::create(tmp.path().join("monitor.stderr")).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + START_TIMEOUT;
    let dashboard = loop {
        let out = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = out.split("dashboard at http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
        assert!(
            monitor.0.try_wait().unwrap().is_none(),
            "fishchat monitor exited: {}",
            std::fs::read_to_string(tmp.path().join("monitor.stderr")).unwrap_or_default()
        );
        assert!(Instant::now() < deadline, "no dashboard line in:\n{out}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let (status, body) = http_get(&dashboard, "/api/servers");
        assert_eq!(status, 200, "{body}");
        let servers: serde_json::Value = serde_json::from_str(&body).unwrap();
        let up_count = servers
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["up"] == true)
            .count();
        if up_count == file.msg_servers.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "msg_servers never all up: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &monitor.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + STOP_TIMEOUT;
    let exit = loop {
        if let Some(s) = monitor.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "fishchat monitor did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit}");
    up.stop();
}
