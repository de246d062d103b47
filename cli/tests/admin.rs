//! End to end: `fishchat-admin` as a child process (assert_cmd) against a live cluster.
//!
//! The cluster runs in this test process (`LocalCluster` on OS-chosen ports, on a
//! multi-thread runtime so it keeps serving while a blocking task waits for the child), its
//! addresses and secret in a temp `cluster.json`. `launch` is checked against real
//! `fishchat-admin launch` processes instead, each killed by a guard on drop.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use fishchat_cluster::client::role_status;
use fishchat_cluster::client::{Client, ClientError, Event};
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::ErrorCode;
use serde_json::{json, Value};

const SECRET: &str = "admin-test-secret";
/// Generous: debug builds on a shared machine start slowly. Only a failing test waits this.
const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(15);

/// A cluster in this process and its cluster file.
struct TestCluster {
    cluster: LocalCluster,
    file: PathBuf,
    dir: tempfile::TempDir,
}

impl TestCluster {
    async fn start(msg_servers: usize) -> TestCluster {
        let dir = tempfile::tempdir().unwrap();
        let mut o = LocalOptions::new(dir.path(), SECRET, Ports::any(msg_servers));
        // Fast beats and retries, as in the cluster's own end-to-end tests.
        o.msg_server.monitor_beat = Duration::from_millis(200);
        o.retry_max = Duration::from_millis(200);
        let cluster = LocalCluster::start(o, |_| {})
            .await
            .expect("cluster starts");
        let file = dir.path().join("cluster.json");
        cluster.file().write(&file).unwrap();
        TestCluster { cluster, file, dir }
    }

    fn ms(&self, i: usize) -> String {
        self.cluster.file().msg_servers[i].clone()
    }

    async fn login(&self, i: usize, id: &str) -> Client {
        Client::login_at(&self.ms(i), id).await.expect("login")
    }

    /// `fishchat-admin ARGS --cluster FILE`.
    fn admin(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = admin(args);
        c.arg("--cluster").arg(&self.file);
        c
    }
}

/// `fishchat-admin ARGS`, with nothing inherited that would say where a cluster is.
fn admin(args: &[&str]) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_fishchat-admin"));
    c.args(args)
        .env_remove("FISHCHAT_SECRET")
        .env_remove("FISHCHAT_DATA_DIR")
        .env_remove("RUST_LOG")
        // Not the platform data directory of whoever runs the tests.
        .env("HOME", "/nonexistent/fishchat-admin-test")
        .env_remove("XDG_DATA_HOME")
        .timeout(LIMIT);
    c
}

/// Runs the command to its end on a blocking thread, so the cluster keeps serving.
async fn run(mut c: assert_cmd::Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().expect("fishchat-admin runs"))
        .await
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean exit and returns stdout.
fn success(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}; stderr:\n{}\nstdout:\n{}",
        o.status,
        stderr(o),
        stdout(o)
    );
    stdout(o)
}

/// Asserts a failure and returns stderr.
fn failure(o: &Output) -> String {
    assert!(
        !o.status.success() && o.status.code().is_some(),
        "expected a non-zero exit, got {:?}; stdout:\n{}",
        o.status,
        stdout(o)
    );
    stderr(o)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_beats_as_json_lines_count_the_logged_in_clients() {
    let c = TestCluster::start(2).await;
    let _a = c.login(0, "alice").await;
    let _a2 = c.login(0, "alice").await;
    let _b = c.login(0, "bob").await;
    let _d = c.login(1, "dan").await;
    let want: BTreeMap<String, u64> = [(c.ms(0), 3), (c.ms(1), 1)].into();

    // With --json, and (stdout being a pipe here) without: JSON lines either way.
    for json_flag in [true, false] {
        let mut args = vec!["subscribe", "/sysctrl/monitor", "--count", "2"];
        if json_flag {
            args.push("--json");
        }
        let out = success(&run(c.admin(&args)).await);
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 2, "--count 2 prints two lines:\n{out}");
        for l in &lines {
            let server = l["server"].as_str().expect("server");
            assert_eq!(l["channel"], "/sysctrl/monitor", "{l}");
            let time = l["time"].as_str().expect("time");
            assert!(
                chrono::DateTime::parse_from_rfc3339(time).is_ok(),
                "time is RFC 3339: {l}"
            );
            assert_eq!(
                l["event"]["SessionNum"].as_u64(),
                Some(want[server]),
                "sessions on {server}: {l}"
            );
            assert_eq!(l["event"]["Server"], server, "{l}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_shows_up_under_client_status() {
    let c = TestCluster::start(1).await;
    let ms = c.ms(0);
    let subscribers = |status: Value| status["subscribers"]["/sysctrl/client-status"].as_u64();
    let before = subscribers(role_status(&ms).await.unwrap()).unwrap_or(0);

    let watcher = tokio::spawn(run(c.admin(&[
        "subscribe",
        "/sysctrl/client-status",
        "--count",
        "1",
    ])));
    // Log in only once the tool is subscribed, or the event would go by unseen.
    let deadline = Instant::now() + WAIT;
    while subscribers(role_status(&ms).await.unwrap()) != Some(before + 1) {
        assert!(!watcher.is_finished(), "the subscriber exited early");
        assert!(Instant::now() < deadline, "fishchat-admin never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _alice = c.login(0, "alice").await;

    let out = success(&watcher.await.unwrap());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    let l = &lines[0];
    assert_eq!(l["server"], ms.as_str());
    assert_eq!(l["channel"], "/sysctrl/client-status");
    assert_eq!(l["event"]["CmdName"], "CACHE_SESSION");
    assert_eq!(l["event"]["Args"], json!(["alice"]));
    assert_eq!(l["event"]["AnyData"]["ClientID"], "alice");
    assert_eq!(l["event"]["AnyData"]["MsgServerAddr"], ms.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_msg_server_that_is_down_is_reported_while_the_others_stream() {
    let mut c = TestCluster::start(2).await;
    let down = c.ms(1);
    c.cluster.stop_msg_server(1).await;
    let o = run(c.admin(&["subscribe", "/sysctrl/*", "--count", "3"])).await;
    let out = success(&o);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines.iter().all(|l| l["server"] == c.ms(0).as_str()),
        "only the live msg_server streams: {out}"
    );
    let err = stderr(&o);
    assert!(
        err.contains(&down) && err.contains("down") && err.contains("retrying"),
        "the dead msg_server is reported:\n{err}"
    );

    // inspect answers for the live one and says which it could not ask.
    let _alice = c.login(0, "alice").await;
    let o = run(c.admin(&["inspect", "sessions"])).await;
    let v: Value = serde_json::from_str(&success(&o)).unwrap();
    assert_eq!(v["sessions"][0]["id"], "alice");
    assert_eq!(v["unreachable"][0]["server"], down.as_str());
    assert!(
        stderr(&o).contains(&format!("cannot reach msg_server {down}")),
        "{}",
        stderr(&o)
    );
    let v: Value =
        serde_json::from_str(&success(&run(c.admin(&["inspect", "servers"])).await)).unwrap();
    assert_eq!(v["msg_servers"][0]["up"], true);
    assert_eq!(v["msg_servers"][1]["up"], false);
    assert!(v["msg_servers"][1]["error"]
        .as_str()
        .unwrap()
        .contains(&down));
}

/// Polls msg_server `addr` until `n` connections subscribe to `channel`.
async fn wait_subscribers(addr: &str, channel: &str, n: u64) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = match role_status(addr).await {
            Ok(s) => s["subscribers"][channel].as_u64().unwrap_or(0),
            Err(_) => 0,
        };
        if now == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{addr}: {now} subscribers on {channel}, waited for {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_msg_server_that_goes_down_is_retried_and_streams_again() {
    let mut c = TestCluster::start(2).await;
    let s1 = c.ms(1);
    let ch = "/sysctrl/client-status";
    // The manager listens there too.
    let others = role_status(&s1).await.unwrap()["subscribers"][ch]
        .as_u64()
        .unwrap_or(0);
    let watcher = tokio::spawn(run(c.admin(&["subscribe", ch, "--count", "1"])));
    wait_subscribers(&c.ms(0), ch, others + 1).await;
    wait_subscribers(&s1, ch, others + 1).await;

    c.cluster.restart_msg_server(1).await.unwrap();
    // Back: the tool (and the manager) subscribed again by themselves.
    wait_subscribers(&s1, ch, others + 1).await;
    let _zed = c.login(1, "zed").await;

    let o = watcher.await.unwrap();
    let lines = json_lines(&success(&o));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["server"], s1.as_str());
    assert_eq!(lines[0]["event"]["Args"], json!(["zed"]));
    let err = stderr(&o);
    let about_s1: Vec<&str> = err.lines().filter(|l| l.contains(&s1)).collect();
    assert!(
        about_s1.iter().any(|l| l.contains("down:")),
        "the loss is reported:\n{err}"
    );
    assert_eq!(
        about_s1
            .iter()
            .filter(|l| l.contains("subscribed to"))
            .count(),
        2,
        "subscribed, then again after the restart:\n{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_lists_sessions_topics_users_and_servers() {
    let c = TestCluster::start(2).await;
    let (s0, s1) = (c.ms(0), c.ms(1));
    let mut alice = c.login(0, "alice").await;
    let _alice2 = c.login(0, "alice").await;
    let mut bob = c.login(1, "bob").await;
    alice.create_topic("news").await.unwrap();
    bob.join_topic("news").await.unwrap();
    alice.sender().send_p2p("carol", "hi carol").unwrap();
    alice.sync().await.unwrap();

    let v: Value = serde_json::from_str(&success(
        &run(c.admin(&["inspect", "sessions", "--json"])).await,
    ))
    .unwrap();
    let got: Vec<(&str, &str)> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["server"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("alice", s0.as_str()),
            ("alice", s0.as_str()),
            ("bob", s1.as_str())
        ]
    );
    assert_eq!(v["unreachable"], json!([]));

    let v: Value = serde_json::from_str(&success(
        &run(c.admin(&["inspect", "topic", "news", "--json"])).await,
    ))
    .unwrap();
    assert_eq!(v["home"], s0.as_str());
    assert_eq!(v["members"][1]["id"], "bob");
    assert_eq!(v["members"][1]["sessions"][0]["server"], s1.as_str());
    let o = run(c.admin(&["inspect", "topic", "nope"])).await;
    assert!(
        failure(&o).contains("no topic named \"nope\""),
        "{}",
        stderr(&o)
    );

    let v: Value = serde_json::from_str(&success(
        &run(c.admin(&["inspect", "user", "carol", "--json"])).await,
    ))
    .unwrap();
    assert_eq!(
        (v["pending"].as_u64(), v["sessions"].clone()),
        (Some(1), json!([]))
    );

    let v: Value = serde_json::from_str(&success(
        &run(c.admin(&["inspect", "servers", "--json"])).await,
    ))
    .unwrap();
    let conns: Vec<(bool, u64)> = v["msg_servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["up"].as_bool().unwrap(),
                m["status"]["connections"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(conns, [(true, 2), (true, 1)]);
    let roles: Vec<(&str, bool)> = v["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].as_str().unwrap(), r["up"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("gateway", true),
            ("router", true),
            ("manager", true),
            ("monitor", true)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_fails_with_a_clear_message() {
    let c = TestCluster::start(2).await;
    let _alice = c.login(0, "alice").await;
    for args in [
        &["subscribe", "/sysctrl/monitor", "--secret", "wrong"][..],
        &["inspect", "sessions", "--secret", "wrong"],
        &["inspect", "servers", "--secret", "wrong"],
    ] {
        let o = run(c.admin(args)).await;
        let err = failure(&o);
        assert!(
            err.contains("refused the cluster secret from --secret")
                && err.contains("wrong cluster secret"),
            "{args:?}:\n{err}"
        );
        assert!(stdout(&o).is_empty(), "nothing on stdout: {}", stdout(&o));
    }
    let mut cmd = c.admin(&["subscribe", "all"]);
    cmd.env("FISHCHAT_SECRET", "also-wrong");
    let err = failure(&run(cmd).await);
    assert!(
        err.contains("every msg_server") && err.contains("$FISHCHAT_SECRET"),
        "{err}"
    );
    // Without any secret, against a cluster that has one.
    let o = run(admin(&["inspect", "user", "alice", "--server", &c.ms(0)])).await;
    let err = failure(&o);
    assert!(
        err.contains("needs the cluster secret and none was given"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cluster_file_and_an_unreachable_server_are_explained() {
    let empty = tempfile::tempdir().unwrap();
    let o = run(admin(&[
        "inspect",
        "sessions",
        "--data-dir",
        empty.path().to_str().unwrap(),
    ]))
    .await;
    let err = failure(&o);
    let looked = empty.path().join("cluster.json");
    assert!(
        err.contains(&looked.display().to_string()) && err.contains("fishchat up"),
        "{err}"
    );

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = admin(&["inspect", "sessions", "--server", &addr, "--secret", "x"]);
    cmd.arg("--data-dir").arg(empty.path());
    let err = failure(&run(cmd).await);
    assert!(
        err.contains(&format!("cannot reach msg_server {addr}")) && err.contains("--server"),
        "{err}"
    );
}

/// A long-running `fishchat-admin launch ...`; killed on drop.
struct Launched {
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

impl Launched {
    fn spawn(dir: &Path, name: &str, args: &[&str]) -> Launched {
        let out = dir.join(format!("{name}.stdout"));
        let err = dir.join(format!("{name}.stderr"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_fishchat-admin"))
            .args(args)
            .env_remove("FISHCHAT_SECRET")
            .env_remove("FISHCHAT_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap())
            .spawn()
            .expect("fishchat-admin runs");
        Launched {
            child: Some(child),
            out,
            err,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Polls `ready` until it gives a value, failing early where the process exits.
    async fn wait_for<T>(&mut self, what: &str, mut ready: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(v) = ready(self) {
                return v;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "exited with {status} before {what}; stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what}; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM; it must stop cleanly, as `fishchat` roles do.
    async fn terminate(&mut self) {
        let mut child = self.child.take().unwrap();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM failed");
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(
            status.success(),
            "exit {status} on SIGTERM; stderr:\n{}",
            self.stderr()
        );
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_runs_a_role_as_fishchat_does() {
    let c = TestCluster::start(2).await;
    let cfg = c.dir.path().join("gateway.json");
    let config = json!({
        "Listen": "127.0.0.1:0",
        "MsgServerList": [c.ms(0), c.ms(1)],
        "MonitorBeatTime": 1,
        "Secret": SECRET,
    });
    std::fs::write(&cfg, config.to_string()).unwrap();
    let mut gw = Launched::spawn(
        c.dir.path(),
        "gateway",
        &["launch", "gateway", "--config", cfg.to_str().unwrap()],
    );
    let addr = gw
        .wait_for("`gateway listening on`", |p| {
            p.stdout().lines().find_map(|l| {
                l.strip_prefix("gateway listening on ")
                    .map(|a| a.trim().to_string())
            })
        })
        .await;
    // It hands out the cluster's msg_servers once it has their beats.
    let deadline = Instant::now() + WAIT;
    let picked = loop {
        match Client::locate(&addr).await {
            Ok(ms) => break ms,
            Err(ClientError::Server { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the launched gateway did not hand out a msg_server: {e}"),
        }
    };
    assert!([c.ms(0), c.ms(1)].contains(&picked), "{picked}");
    gw.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_cluster_is_fishchat_up_and_inspect_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap().to_string();
    let mut up = Launched::spawn(
        dir.path(),
        "cluster",
        &[
            "launch",
            "cluster",
            "--any-ports",
            "--msg-servers",
            "1",
            "--data-dir",
            &data_s,
        ],
    );
    let path = data.join("cluster.json");
    let file = up
        .wait_for("cluster.json", |_| ClusterFile::read(&path).ok())
        .await;
    assert!(up.stdout().contains("fishchat is up"), "{}", up.stdout());

    // The tool finds the cluster through its data dir, secret included.
    let _alice = Client::login_at(&file.msg_servers[0], "alice")
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&success(
        &run(admin(&[
            "inspect",
            "servers",
            "--json",
            "--data-dir",
            &data_s,
        ]))
        .await,
    ))
    .unwrap();
    assert_eq!(v["msg_servers"][0]["addr"], file.msg_servers[0].as_str());
    assert_eq!(v["msg_servers"][0]["status"]["connections"], 1);
    assert_eq!(v["roles"].as_array().unwrap().len(), 4, "{v}");
    assert!(
        v["roles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["up"] == true),
        "{v}"
    );

    up.terminate().await;
    assert!(!path.exists(), "a stopped cluster removes its cluster.json");
}

/// stdout as one JSON value (what the commands print when piped).
fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// A file holding `password`, in the cluster's temp directory.
fn password_file(c: &TestCluster, name: &str, password: &str) -> PathBuf {
    let path = c.dir.path().join(name);
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path
}

/// The next event that is not a beat, within [`WAIT`].
async fn next_event(c: &mut Client) -> Option<Event> {
    loop {
        match c.next_event_within(WAIT).await {
            Ok(Event::Beat(_)) => continue,
            Ok(e) => return Some(e),
            Err(ClientError::Closed) => return None,
            Err(e) => panic!("expected an event: {e}"),
        }
    }
}

/// Waits until the server signs `c` out, and returns why.
async fn signed_out(c: &mut Client) -> String {
    loop {
        match next_event(c).await {
            Some(Event::Error {
                code: ErrorCode::SignedOut,
                detail,
            }) => return detail,
            Some(Event::Closed { reason }) => panic!("closed without being told why: {reason}"),
            None => panic!("closed without being told why"),
            Some(_) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_accounts_are_added_listed_revoked_given_new_passwords_and_deleted() {
    let c = TestCluster::start(1).await;
    let pw = password_file(&c, "bob.pw", "bobs first password");

    let out = success(
        &run(c.admin(&[
            "user",
            "add",
            "bob",
            "--password-file",
            pw.to_str().unwrap(),
        ]))
        .await,
    );
    assert_eq!(json_of(&out), json!({"id": "bob", "done": "added"}));
    // The id is claimed: its password signs in, an unsigned login is refused.
    let mut bob = Client::connect(&c.ms(0)).await.unwrap();
    let phone = bob
        .sign_in("bob", "bobs first password", Some("phone"))
        .await
        .unwrap();
    let mut unsigned = Client::connect(&c.ms(0)).await.unwrap();
    let e = unsigned.login("bob").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthRequired), "{e}");

    // Again: taken; a short password: refused, and the reason said.
    let mut again = c.admin(&["user", "add", "bob"]);
    again.env("FISHCHAT_PASSWORD", "whatever123");
    let err = failure(&run(again).await);
    assert!(
        err.contains("bob has an account already") && err.contains("user passwd bob"),
        "{err}"
    );
    let mut short = c.admin(&["user", "add", "eve"]);
    short.env("FISHCHAT_PASSWORD", "short");
    let err = failure(&run(short).await);
    assert!(err.contains("8"), "{err}");

    // Listed, with its device; never a token or a hash.
    let out = success(&run(c.admin(&["user", "list", "--json"])).await);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["total"], 1, "{out}");
    assert_eq!(list["accounts"][0]["id"], "bob");
    assert_eq!(list["accounts"][0]["devices"].as_array().unwrap().len(), 1);
    let out = success(&run(c.admin(&["user", "devices", "bob"])).await);
    let devices: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        devices["devices"][0]["device_id"],
        phone.device_id.as_str(),
        "{out}"
    );
    assert_eq!(devices["devices"][0]["name"], "phone");
    assert!(
        !out.contains(&phone.token) && !out.contains("hash"),
        "{out}"
    );
    let out = success(&run(c.admin(&["inspect", "user", "bob"])).await);
    let user: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        user["account"]["devices"][0]["device_id"],
        phone.device_id.as_str(),
        "{out}"
    );
    assert!(!out.contains(&phone.token), "{out}");
    let out = success(&run(c.admin(&["inspect", "user", "nobody"])).await);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["account"],
        Value::Null
    );

    // Revoked: its session ends, its token no longer signs in.
    let err = failure(&run(c.admin(&["user", "revoke", "bob", "nope"])).await);
    assert!(
        err.contains("bob has no device nope") && err.contains("user devices bob"),
        "{err}"
    );
    let out = success(&run(c.admin(&["user", "revoke", "bob", &phone.device_id])).await);
    assert_eq!(json_of(&out)["done"], "revoked");
    assert!(signed_out(&mut bob).await.contains("revoked"));
    let mut retry = Client::connect(&c.ms(0)).await.unwrap();
    let e = retry.sign_in("bob", &phone.token, None).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthFailed), "{e}");

    // A new password: the old one fails, every device is signed out.
    let mut laptop = Client::connect(&c.ms(0)).await.unwrap();
    laptop
        .sign_in("bob", "bobs first password", Some("laptop"))
        .await
        .unwrap();
    let mut passwd = c.admin(&["user", "passwd", "bob"]);
    passwd.env("FISHCHAT_PASSWORD", "bobs second password");
    success(&run(passwd).await);
    assert!(signed_out(&mut laptop).await.contains("new password"));
    let mut check = Client::connect(&c.ms(0)).await.unwrap();
    let e = check
        .sign_in("bob", "bobs first password", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthFailed));
    let mut check = Client::connect(&c.ms(0)).await.unwrap();
    check
        .sign_in("bob", "bobs second password", None)
        .await
        .expect("the new password signs in");
    let out = success(&run(c.admin(&["user", "devices", "bob"])).await);
    let devices: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        devices["devices"].as_array().unwrap().len(),
        1,
        "only the new sign-in: {out}"
    );

    // Deleted: unclaimed again; a second delete says what to do.
    success(&run(c.admin(&["user", "del", "bob"])).await);
    let out = success(&run(c.admin(&["inspect", "user", "bob"])).await);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["account"],
        Value::Null
    );
    Client::login_at(&c.ms(0), "bob")
        .await
        .expect("an unclaimed id logs in without a password");
    for args in [
        &["user", "del", "bob"][..],
        &["user", "devices", "bob"],
        &["user", "revoke", "bob", "x"],
    ] {
        let err = failure(&run(c.admin(args)).await);
        assert!(
            err.contains("no account bob") && err.contains("fishchat-admin user add bob"),
            "{args:?}: {err}"
        );
    }
    let mut passwd = c.admin(&["user", "passwd", "bob"]);
    passwd.env("FISHCHAT_PASSWORD", "bobs third password");
    let err = failure(&run(passwd).await);
    assert!(err.contains("no account bob"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_ends_every_session_of_an_id_on_every_msg_server() {
    let mut c = TestCluster::start(2).await;
    let mut first = c.login(0, "carol").await;
    let mut second = c.login(1, "carol").await;
    let mut other = c.login(1, "dan").await;
    let out = success(&run(c.admin(&["kick", "carol"])).await);
    assert_eq!(json_of(&out), json!({"id": "carol", "done": "kicked"}));
    assert!(signed_out(&mut first).await.contains("operator"));
    assert!(signed_out(&mut second).await.contains("operator"));
    // Only carol's.
    assert_eq!(other.sync().await.unwrap(), None);

    // One reachable msg_server is enough for the account commands.
    c.cluster.stop_msg_server(0).await;
    let pw = password_file(&c, "erin.pw", "erins password");
    success(
        &run(c.admin(&[
            "user",
            "add",
            "erin",
            "--password-file",
            pw.to_str().unwrap(),
        ]))
        .await,
    );
    let out = success(&run(c.admin(&["user", "list"])).await);
    assert!(out.contains("\"erin\""), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_commands_are_refused_without_the_cluster_secret() {
    let c = TestCluster::start(1).await;
    let pw = password_file(&c, "mallory.pw", "mallorys password");
    let pw = pw.to_str().unwrap();
    let _victim = c.login(0, "victim").await;
    for args in [
        &[
            "user",
            "add",
            "mallory",
            "--password-file",
            pw,
            "--secret",
            "wrong",
        ][..],
        &["user", "list", "--secret", "wrong"],
        &["kick", "victim", "--secret", "wrong"],
    ] {
        let err = failure(&run(c.admin(args)).await);
        assert!(
            err.contains("refused the cluster secret from --secret"),
            "{args:?}: {err}"
        );
    }
    // No secret at all, against a cluster that has one.
    for args in [
        &["user", "add", "mallory", "--password-file", pw][..],
        &["user", "del", "victim"],
        &["kick", "victim"],
    ] {
        let mut a = args.to_vec();
        let ms = c.ms(0);
        a.extend(["--server", &ms]);
        let err = failure(&run(admin(&a)).await);
        assert!(
            err.contains("needs the cluster secret and none was given"),
            "{args:?}: {err}"
        );
    }
    // Nothing happened.
    let asker = Client::connect(&c.ms(0)).await.unwrap();
    assert!(!asker.account_status("mallory").await.unwrap().claimed);
    let out = success(&run(c.admin(&["inspect", "user", "victim"])).await);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["sessions"].as_array().unwrap().len(),
        1,
        "victim is still connected: {out}"
    );
}
