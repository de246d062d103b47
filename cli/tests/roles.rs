//! End to end: every role as its own `fishchat` process on a real Redis and a MongoDB-wire
//! server, configured by the files in `testdata/` (ports and addresses rewritten), spoken to
//! through the client SDK; afterwards the data is checked with the backends' own clients
//! (`redis-cli`, and pymongo from nx-27017's venv).
//!
//! Also: a backend that cannot be reached at start, and a config file with a wrong field, each
//! make a role exit non-zero with a message naming it.

#[path = "../../cluster/tests/e2e/backend_servers.rs"]
mod backend_servers;

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use backend_servers::{MongoServer, RedisServer};
use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::local::wait_ready;
use fishchat_cluster::protocol::{P2pMessage, TopicMessage};
use serde_json::{json, Value};

/// Debug builds on a shared CI machine start slowly.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The issue's promise for an unreachable backend.
const FAIL_FAST: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(15);

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

/// A port the OS says is free.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `fishchat` process; killed on drop.
struct Proc {
    name: String,
    args: Vec<String>,
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, name: &str, args: &[&str]) -> Proc {
        let mut p = Proc {
            name: name.to_string(),
            args: args.iter().map(|s| s.to_string()).collect(),
            child: None,
            out: dir.join(format!("{name}.stdout")),
            err: dir.join(format!("{name}.stderr")),
        };
        p.start();
        p
    }

    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_fishchat"))
            .args(&self.args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(File::create(&self.out).unwrap())
            .stderr(File::create(&self.err).unwrap())
            .spawn()
            .expect("the fishchat binary runs");
        self.child = Some(child);
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// The address from its `<role> listening on ADDR` line.
    fn wait_listening(&mut self) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(addr) = self.stdout().lines().find_map(|l| {
                l.split_once(" listening on ")
                    .map(|(_, a)| a.trim().to_string())
            }) {
                return addr;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "{} exited with {status} before listening; stderr:\n{}",
                    self.name,
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} is not listening after {START_TIMEOUT:?}; stderr:\n{}",
                self.name,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit by itself, within `limit`.
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} still runs after {limit:?}; stderr:\n{}",
                self.name,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM; the role must stop cleanly within 5 s.
    fn terminate(&mut self) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let status = self.wait_exit(Duration::from_secs(5));
        assert!(
            status.success(),
            "{} exited with {status} on SIGTERM; stderr:\n{}",
            self.name,
            self.stderr()
        );
        self.child = None;
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Loads a testdata file and applies `patch` (top-level fields replaced).
fn config(name: &str, patch: Value) -> Value {
    let text = std::fs::read_to_string(testdata(name)).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    for (k, val) in patch.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.display().to_string()
}

/// `redis-cli -p PORT args..`, its output.
fn redis_cli(redis: &RedisServer, args: &[&str]) -> String {
    let cli = redis.cli().expect("redis-cli comes with redis-server");
    let out = Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &redis.port().to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Database `im` as pymongo sees it: each collection's documents, as JSON.
fn mongo_dump(mongo: &MongoServer) -> Value {
    let python = mongo.python_with_pymongo().unwrap_or_else(|| {
        panic!("pymongo is needed to check MongoDB's data: pip install pymongo in nx-27017's venv (see DEVELOPERS.md)")
    });
    let script = r#"
import json, sys
from pymongo import MongoClient
db = MongoClient("mongodb://127.0.0.1:%s/" % sys.argv[1], serverSelectionTimeoutMS=5000)["im"]
out = {}
for name in ["client_info", "topic_info", "offline_msg", "message_history", "session_info"]:
    out[name] = list(db[name].find({}, {"_id": 0}))
print(json.dumps(out, default=str))
"#;
    let out = Command::new(python)
        .args(["-c", script, &mongo.port().to_string()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "pymongo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn next_event(c: &mut Client) -> Event {
    loop {
        match c.next_event_within(WAIT).await.expect("an event") {
            Event::Beat(_) => continue,
            e => return e,
        }
    }
}

async fn next_p2p(c: &mut Client) -> (String, String, String, bool) {
    match next_event(c).await {
        Event::P2p(P2pMessage {
            msg,
            from,
            uuid,
            offline,
            ..
        }) => (msg, from, uuid, offline),
        other => panic!("expected RESP_MESSAGE_P2P, got {other:?}"),
    }
}

async fn next_topic(c: &mut Client) -> (String, String) {
    loop {
        match next_event(c).await {
            Event::Topic(TopicMessage { msg, from, .. }) => return (msg, from),
            Event::Delivered { .. } => continue,
            other => panic!("expected RESP_MESSAGE_TOPIC, got {other:?}"),
        }
    }
}

async fn ready(role: &str, addr: &str) {
    wait_ready(role, addr, START_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_as_its_own_process_on_redis_and_mongo() {
    let test = "every_role_as_its_own_process_on_redis_and_mongo";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ms_addrs: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let backends = json!({
        "Redis": {"Addr": "127.0.0.1", "Port": format!(":{}", redis.port()),
                  "ConnectTimeout": 2000, "ReadTimeout": 1000, "WriteTimeout": 1000},
        "Mongo": {"Addr": "127.0.0.1", "Port": format!(":{}", mongo.port()), "User": "", "Password": ""},
        "Secret": "roles-test-secret",
    });
    let with = |name: &str, extra: Value| {
        let mut patch = backends.clone();
        for (k, v) in extra.as_object().unwrap() {
            patch[k] = v.clone();
        }
        config(name, patch)
    };
    let list = json!(ms_addrs);
    let router_cfg = write(
        d,
        "router.json",
        &with(
            "router.json",
            json!({"Listen": "127.0.0.1:0", "MsgServerList": list}),
        ),
    );
    let manager_cfg = write(
        d,
        "manager.json",
        &with(
            "manager.json",
            json!({"Listen": "127.0.0.1:0", "MsgServerList": list}),
        ),
    );
    let mut gateway_json = config(
        "gateway.json",
        json!({"Listen": "127.0.0.1:0", "MsgServerList": list, "MonitorBeatTime": 1, "Secret": "roles-test-secret"}),
    );
    gateway_json["MsgServerNum"] = json!(2);
    let gateway_cfg = write(d, "gateway.json", &gateway_json);
    let ms_cfg: Vec<String> = ["msg_server.19000.json", "msg_server.19001.json"]
        .iter()
        .zip(&ms_addrs)
        .enumerate()
        .map(|(i, (name, addr))| {
            write(
                d,
                &format!("ms{i}.json"),
                &with(
                    name,
                    json!({"Listen": addr, "LocalIP": addr, "MonitorBeatTime": 1}),
                ),
            )
        })
        .collect();

    // The roles that link to the msg_servers start first: they find them once they are up.
    let mut router = Proc::spawn(d, "router", &["router", "--config", &router_cfg]);
    let mut manager = Proc::spawn(d, "manager", &["manager", "--config", &manager_cfg]);
    let mut gateway = Proc::spawn(d, "gateway", &["gateway", "--config", &gateway_cfg]);
    let router_addr = router.wait_listening();
    let manager_addr = manager.wait_listening();
    let gateway_addr = gateway.wait_listening();
    let mut ms: Vec<Proc> = ms_cfg
        .iter()
        .enumerate()
        .map(|(i, cfg)| Proc::spawn(d, &format!("ms{i}"), &["msg-server", "--config", cfg]))
        .collect();
    for (p, addr) in ms.iter_mut().zip(&ms_addrs) {
        assert_eq!(&p.wait_listening(), addr);
    }
    ready("router", &router_addr).await;
    ready("manager", &manager_addr).await;
    ready("gateway", &gateway_addr).await;

    // p2p across msg_servers, with the uuid kept and the receipt routed back.
    let mut alice = Client::login_at(&ms_addrs[0], "alice").await.unwrap();
    let mut bob = Client::login_at(&ms_addrs[1], "bob").await.unwrap();
    let sent = alice
        .sender()
        .send_p2p_tracked("bob", "across processes")
        .unwrap();
    let (msg, from, uuid, offline) = next_p2p(&mut bob).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), uuid.as_str(), offline),
        ("across processes", "alice", sent.as_str(), false)
    );
    bob.sender().ack(&uuid).unwrap();
    assert_eq!(
        next_event(&mut alice).await,
        Event::Delivered {
            uuid: uuid.clone(),
            to: "bob".into()
        }
    );

    // A topic made on one msg_server, joined and used from the other.
    alice.create_topic("room").await.unwrap();
    assert_eq!(bob.join_topic("room").await.unwrap(), ms_addrs[0]);
    bob.sender().send_topic("room", "hello room").unwrap();
    for c in [&mut alice, &mut bob] {
        assert_eq!(next_topic(c).await, ("hello room".into(), "bob".into()));
    }

    // The gateway hands out a live msg_server.
    let via = Client::locate(&gateway_addr).await.unwrap();
    assert!(ms_addrs.contains(&via), "{via}");

    // bob's msg_server crashes; messages sent meanwhile wait; it comes back on its address.
    ms[1].kill();
    match bob.next_event_within(WAIT).await {
        Ok(Event::Closed { .. }) | Err(_) => {}
        Ok(other) => panic!("bob's connection should have dropped, got {other:?}"),
    }
    for i in 0..3 {
        alice
            .request(&fishchat_cluster::protocol::Command::SendMessageP2p {
                to: "bob".into(),
                msg: format!("while down {i}"),
                from: None,
                uuid: None,
                sent_at_ms: None,
            })
            .await
            .expect("accepted while bob's msg_server is down");
    }
    ms[1].start();
    assert_eq!(ms[1].wait_listening(), ms_addrs[1]);
    ready("router", &router_addr).await;
    let mut bob = Client::login_at(&ms_addrs[1], "bob").await.unwrap();
    let mut acked = Vec::new();
    for i in 0..3 {
        let (msg, from, uuid, offline) = next_p2p(&mut bob).await;
        assert_eq!(
            (msg, from.as_str(), offline),
            (format!("while down {i}"), "alice", true)
        );
        bob.sender().ack(&uuid).unwrap();
        acked.push(uuid);
    }
    bob.sync().await.unwrap();

    // Redis, through redis-cli: the sessions, and no inbox (that is MongoDB's).
    let bob_sessions = redis_cli(&redis, &["SMEMBERS", "IM:bobsession"]);
    assert!(
        bob_sessions
            .lines()
            .any(|l| l.ends_with(&format!("|{}", ms_addrs[1]))),
        "IM:bobsession: {bob_sessions:?}"
    );
    let alice_sessions = redis_cli(&redis, &["SMEMBERS", "IM:alicesession"]);
    assert!(
        alice_sessions
            .lines()
            .any(|l| l.ends_with(&format!("|{}", ms_addrs[0]))),
        "{alice_sessions:?}"
    );
    let servers = redis_cli(&redis, &["SMEMBERS", "IM:msg_server_list"]);
    for a in &ms_addrs {
        assert!(
            servers.lines().any(|l| l == a),
            "IM:msg_server_list: {servers:?}"
        );
    }
    assert_eq!(
        redis_cli(&redis, &["--scan", "--pattern", "IM:*offline_msg*"]).trim(),
        "",
        "inboxes are in MongoDB"
    );

    // MongoDB, through pymongo.
    let data = mongo_dump(&mongo);
    let topics = data["topic_info"].as_array().unwrap();
    assert_eq!(topics.len(), 1, "{topics:?}");
    assert_eq!(topics[0]["TopicName"], "room");
    assert_eq!(topics[0]["CreaterID"], "alice");
    assert_eq!(topics[0]["MsgServerAddr"], ms_addrs[0].as_str());
    let mut members: Vec<&str> = topics[0]["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ID"].as_str().unwrap())
        .collect();
    members.sort();
    assert_eq!(members, ["alice", "bob"]);
    assert_eq!(data["offline_msg"], json!([]), "every message was acked");
    let history = data["message_history"].as_array().unwrap();
    let mut history_uuids: Vec<&str> = history
        .iter()
        .map(|m| m["Uuid"].as_str().unwrap())
        .collect();
    history_uuids.sort();
    let mut want: Vec<&str> = acked
        .iter()
        .map(String::as_str)
        .chain([uuid.as_str()])
        .collect();
    want.sort();
    assert_eq!(history_uuids, want, "the acked messages are in the history");
    assert!(
        history
            .iter()
            .all(|m| m["ToID"] == "bob" && m["FromID"] == "alice"),
        "{history:?}"
    );
    // The manager's client records arrive on its own pace: wait for bob's latest login.
    let deadline = Instant::now() + WAIT;
    loop {
        let data = mongo_dump(&mongo);
        let clients = data["client_info"].as_array().unwrap();
        let bob_rec = clients.iter().find(|c| c["ClientID"] == "bob");
        let alice_rec = clients.iter().find(|c| c["ClientID"] == "alice");
        if let (Some(b), Some(a)) = (bob_rec, alice_rec) {
            if b["Alive"] == true && b["MsgServerAddr"] == ms_addrs[1].as_str() {
                assert_eq!(a["MsgServerAddr"], ms_addrs[0].as_str());
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "client_info never showed bob back on {}: {clients:?}",
            ms_addrs[1]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    drop((alice, bob));
    for p in ms
        .iter_mut()
        .chain([&mut router, &mut manager, &mut gateway])
    {
        p.terminate();
    }
}

#[test]
fn an_unreachable_backend_at_start_exits_non_zero_within_10s_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (redis_port, mongo_port) = (free_port(), free_port());
    let cases = [
        (
            "msg-server",
            json!({"Listen": "127.0.0.1:0", "RedisURL": format!("redis://127.0.0.1:{redis_port}/"),
                   "MongoURL": format!("mongodb://127.0.0.1:{mongo_port}/im")}),
            format!("redis://127.0.0.1:{redis_port}/"),
        ),
        (
            "router",
            json!({"Listen": "127.0.0.1:0", "MsgServerList": ["127.0.0.1:1"],
                   "MongoURL": format!("mongodb://im:pw@127.0.0.1:{mongo_port}/im")}),
            format!("mongodb://im:***@127.0.0.1:{mongo_port}/im"),
        ),
    ];
    for (role, cfg, named) in cases {
        let path = write(d, &format!("{role}.json"), &cfg);
        let mut p = Proc::spawn(d, role, &[role, "--config", &path]);
        let started = Instant::now();
        let status = p.wait_exit(FAIL_FAST);
        assert!(!status.success(), "{role} exited with {status}");
        assert!(started.elapsed() < FAIL_FAST);
        let err = p.stderr();
        assert!(
            err.contains(&named),
            "{role}'s stderr does not name {named}:\n{err}"
        );
        assert!(!err.contains(":pw@"), "the password is shown:\n{err}");
    }

    let data = d.join("up");
    let mut up = Proc::spawn(
        d,
        "up",
        &[
            "up",
            "--any-ports",
            "--data-dir",
            &data.display().to_string(),
            "--secret",
            "s",
            "--redis",
            &format!("redis://127.0.0.1:{redis_port}/"),
            "--mongo",
            &format!("mongodb://127.0.0.1:{mongo_port}/im"),
        ],
    );
    let status = up.wait_exit(FAIL_FAST);
    assert!(!status.success());
    assert!(
        up.stderr()
            .contains(&format!("redis://127.0.0.1:{redis_port}/")),
        "{}",
        up.stderr()
    );
}

#[test]
fn a_wrong_field_in_a_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut typo = config("router.json", json!({}));
    typo["MsgServerLis"] = json!(["127.0.0.1:19000"]);
    let mut mistyped = config("manager.json", json!({}));
    mistyped["Redis"]["ConnectTimeout"] = json!("2s");
    let cases = [
        ("router", typo, "unknown field `MsgServerLis`"),
        (
            "manager",
            mistyped,
            "field `Redis.ConnectTimeout`: invalid type: string \"2s\"",
        ),
        (
            "gateway",
            config("router.json", json!({})),
            "fields `Mongo`, `Redis`, `UUID` do not apply to the gateway (the gateway keeps no store)",
        ),
    ];
    for (role, cfg, want) in cases {
        let path = write(d, &format!("{role}.json"), &cfg);
        let mut p = Proc::spawn(d, role, &[role, "--config", &path]);
        assert!(!p.wait_exit(FAIL_FAST).success());
        let err = p.stderr();
        assert!(
            err.contains(want) && err.contains(&path),
            "{role}: expected {want:?} naming {path}, got:\n{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_the_local_cluster_on_redis_and_mongo() {
    let test = "up_runs_the_local_cluster_on_redis_and_mongo";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut up = Proc::spawn(
        dir.path(),
        "up",
        &[
            "up",
            "--any-ports",
            "--data-dir",
            &data.display().to_string(),
            "--secret",
            "s",
            "--redis",
            &redis.url(),
            "--mongo",
            &mongo.url("im"),
        ],
    );
    let cluster_json = data.join("cluster.json");
    let deadline = Instant::now() + START_TIMEOUT;
    let file = loop {
        if let Ok(f) = ClusterFile::read(&cluster_json) {
            break f;
        }
        if let Some(s) = up.child.as_mut().unwrap().try_wait().unwrap() {
            panic!("fishchat up exited with {s}; stderr:\n{}", up.stderr());
        }
        assert!(
            Instant::now() < deadline,
            "no cluster.json; stderr:\n{}",
            up.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(up.stdout().contains("redis+mongo"), "{}", up.stdout());
    assert!(
        !data.join("store.redb").exists(),
        "the embedded store is not used"
    );

    let mut alice = Client::login_at(&file.msg_servers[0], "alice")
        .await
        .unwrap();
    alice.sender().send_p2p("zoe", "kept in mongo").unwrap();
    alice.sync().await.unwrap();
    let bob = Client::login_at(&file.msg_servers[1], "bob").await.unwrap();
    assert!(redis_cli(&redis, &["SMEMBERS", "IM:bobsession"]).contains(&file.msg_servers[1]));
    let dump = mongo_dump(&mongo);
    assert_eq!(dump["offline_msg"][0]["Msg"], "kept in mongo", "{dump}");
    assert_eq!(dump["offline_msg"][0]["ToID"], "zoe");
    drop((alice, bob));
    up.terminate();
}
