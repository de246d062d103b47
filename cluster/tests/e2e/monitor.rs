//! The monitor: its JSON API and metrics against known traffic, up/down tracking, the
//! login, and the dashboard rendered by a real browser (headless Chromium).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fishchat_cluster::client::role_status;
use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::config::WebLogin;
use fishchat_cluster::local::LocalCluster;
use fishchat_cluster::roles::monitor::auth;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;
use fishchat_cluster::protocol::TopicMessage;

// ---------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one request per connection.

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    request_from(None, addr, method, path, headers, body).await
}

/// [`request`] from the loopback address `from` (any of 127.0.0.0/8), where given: what
/// the dashboard sees as another client's address.
async fn request_from(
    from: Option<&str>,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let connect = async {
        match from {
            None => TcpStream::connect(addr).await,
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(format!("{ip}:0").parse().unwrap())?;
                socket.connect(addr.parse().unwrap()).await
            }
        }
    };
    let mut s = tokio::time::timeout(WAIT, connect)
        .await
        .expect("connect in time")
        .expect("connect to the dashboard");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw))
        .await
        .expect("the dashboard answers in time")
        .unwrap();
    let text = String::from_utf8(raw).expect("a UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header and a body");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").expect("a chunk size");
        let n = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

async fn get(addr: &str, path: &str) -> Response {
    request(addr, "GET", path, &[], "").await
}

fn web(c: &LocalCluster) -> String {
    c.file()
        .web
        .clone()
        .expect("the local cluster runs a monitor")
}

/// Polls `path` until `check` finds what it wants in the JSON, within a deadline.
async fn poll_json(addr: &str, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = get(addr, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let v = r.json();
        if check(&v) {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{path} never showed {what}; last answer:\n{v:#}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn server<'a>(servers: &'a Value, addr: &str) -> &'a Value {
    servers
        .as_array()
        .expect("an array of msg_servers")
        .iter()
        .find(|s| s["addr"] == addr)
        .unwrap_or_else(|| panic!("{addr} missing from {servers:#}"))
}

/// Prometheus text → `name{labels}` → value. Checks the shape of every line on the way.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        let (key, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        assert!(out.insert(key.to_string(), value).is_none(), "{key} twice");
    }
    out
}

async fn next_p2p_uuid(c: &mut Client) -> String {
    next_p2p(c).await.2
}

/// Waits for the next topic message, past the receipts of acked p2p messages.
async fn next_topic(c: &mut Client) {
    loop {
        match next(c).await {
            Event::Topic(TopicMessage { .. }) => return,
            Event::Delivered { .. } => continue,
            other => panic!("expected RESP_MESSAGE_TOPIC, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn api_and_metrics_match_known_traffic() {
    let c = start(2).await;
    let (s0, s1) = (
        c.file().msg_servers[0].clone(),
        c.file().msg_servers[1].clone(),
    );
    let web = web(&c);

    let mut a1 = login(&c, 0, "a1").await;
    let mut a2 = login(&c, 0, "a2").await;
    let mut a3 = login(&c, 0, "a3").await;
    let mut b1 = login(&c, 1, "b1").await;
    let mut b2 = login(&c, 1, "b2").await;

    // a1 → b1 (routed to s1) four times; b1 acks three of them.
    for n in 0..4 {
        a1.sender().send_p2p("b1", &format!("m{n}")).unwrap();
    }
    let mut uuids = Vec::new();
    for _ in 0..4 {
        uuids.push(next_p2p_uuid(&mut b1).await);
    }
    for u in &uuids[..3] {
        b1.sender().ack(u).unwrap();
    }
    b1.sync().await.unwrap();
    // a2 → nobody, twice: into the offline queue.
    for _ in 0..2 {
        a2.sender().send_p2p("nobody", "hello?").unwrap();
    }
    a2.sync().await.unwrap();
    // b2 → a3 (routed to s0), not acked.
    b2.sender().send_p2p("a3", "hi a3").unwrap();
    next_p2p_uuid(&mut a3).await;
    // A topic homed on s0: a1 (s0) and b2 (s1) are members; a1 says one thing.
    a1.create_topic("room").await.unwrap();
    b2.join_topic("room").await.unwrap();
    a1.sender().send_topic("room", "hello room").unwrap();
    next_topic(&mut a1).await;
    next_topic(&mut b2).await;

    // s0: 3 sessions, received 4 + 2 + 1 topic = 7, wrote 1 (b2 → a3) + 1 (topic to a1),
    // a3's message unacked. s1: 2 sessions, received 1, wrote 4 + 1 (topic to b2), 3 acks,
    // one of b1's unacked. Inboxes: 2 for nobody, 1 for b1, 1 for a3.
    let expect = [(&s0, [3, 3, 1, 7, 2, 0, 1]), (&s1, [2, 2, 0, 1, 5, 3, 1])];
    let fields = [
        "sessions",
        "clients",
        "topics",
        "msg_in",
        "msg_out",
        "acks",
        "pending_acks",
    ];
    let matches = |v: &Value| {
        expect.iter().all(|(addr, want)| {
            let s = server(v, addr);
            s["up"] == true
                && s["offline_depth"] == 4
                && fields.iter().zip(want).all(|(f, n)| s[*f] == *n)
        })
    };
    let servers = poll_json(&web, "/api/servers", "the traffic sent", matches).await;
    assert_eq!(servers.as_array().unwrap().len(), 2);

    let cluster = poll_json(&web, "/api/cluster", "the totals", |v| {
        v["totals"]["sessions"] == 5 && v["totals"]["msg_in"] == 8
    })
    .await;
    let t = &cluster["totals"];
    assert_eq!(t["msg_servers"], 2);
    assert_eq!(t["up"], 2);
    assert_eq!(t["clients"], 5);
    assert_eq!(t["topics"], 1);
    assert_eq!(t["msg_out"], 7);
    assert_eq!(t["acks"], 3);
    assert_eq!(t["pending_acks"], 2);
    assert_eq!(t["offline_depth"], 4);
    assert_eq!(cluster["monitor"]["login"], false);
    assert_eq!(cluster["monitor"]["beat_ms"], 200);
    assert_eq!(cluster["monitor"]["stale_after_ms"], 600);

    // The same numbers in the Prometheus text.
    let r = get(&web, "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let m = parse_metrics(&r.body);
    let metric = |name: &str, server: &str| {
        let key = format!("{name}{{server=\"{server}\"}}");
        *m.get(&key)
            .unwrap_or_else(|| panic!("{key} missing from\n{}", r.body))
    };
    for (addr, want) in &expect {
        assert_eq!(metric("fishchat_msg_server_up", addr), 1.0);
        for (name, n) in [
            "fishchat_sessions",
            "fishchat_clients",
            "fishchat_topics",
            "fishchat_messages_received_total",
            "fishchat_deliveries_total",
            "fishchat_acks_total",
            "fishchat_pending_acks",
        ]
        .iter()
        .zip(want)
        {
            assert_eq!(metric(name, addr), *n as f64, "{name} of {addr}");
        }
    }
    assert_eq!(m["fishchat_offline_depth"], 4.0);
    assert_eq!(m["fishchat_msg_servers"], 2.0);
    for role in ["gateway", "router", "manager"] {
        let addr = match role {
            "gateway" => &c.file().gateway,
            "router" => &c.file().router,
            _ => &c.file().manager,
        };
        // Roles are asked every 2 s: poll until the first answers are in.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let m = parse_metrics(&get(&web, "/metrics").await.body);
            if m.get(&format!(
                "fishchat_role_up{{role=\"{role}\",addr=\"{addr}\"}}"
            )) == Some(&1.0)
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{role} never up in /metrics"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Once the traffic is over, the next beats bring the rates back to zero.
    poll_json(&web, "/api/servers", "zero rates", |v| {
        v.as_array()
            .unwrap()
            .iter()
            .all(|s| s["msg_in_per_sec"] == 0.0 && s["msg_out_per_sec"] == 0.0)
    })
    .await;

    // Acking the rest empties the pending count and shrinks the offline queue.
    b1.sender().ack(&uuids[3]).unwrap();
    b1.sync().await.unwrap();
    poll_json(&web, "/api/servers", "b1's last ack", |v| {
        server(v, &s1)["pending_acks"] == 0 && server(v, &s1)["offline_depth"] == 3
    })
    .await;
    // A connection that closes takes its unacked share with it; the message stays queued.
    a3.sender().close();
    poll_json(&web, "/api/servers", "a3 gone", |v| {
        let s = server(v, &s0);
        s["sessions"] == 2 && s["pending_acks"] == 0 && s["offline_depth"] == 3
    })
    .await;
    drop((a2, b2));
}

#[tokio::test]
async fn a_stopped_msg_server_is_down_and_is_picked_up_again() {
    let mut c = start(2).await;
    let web = web(&c);
    let s1 = c.file().msg_servers[1].clone();
    let _b = login(&c, 1, "b").await;
    poll_json(&web, "/api/servers", "s1 up with one session", |v| {
        server(v, &s1)["up"] == true && server(v, &s1)["sessions"] == 1
    })
    .await;

    c.stop_msg_server(1).await;
    let v = poll_json(&web, "/api/servers", "s1 down", |v| {
        server(v, &s1)["up"] == false
    })
    .await;
    let s = server(&v, &s1);
    assert_eq!(
        s["sessions"],
        Value::Null,
        "no live figures for a server that is down"
    );
    assert!(s["down_reason"].is_string(), "{s}");
    let cluster = get(&web, "/api/cluster").await.json();
    assert_eq!(cluster["totals"]["up"], 1);
    let m = parse_metrics(&get(&web, "/metrics").await.body);
    assert_eq!(
        m[&format!("fishchat_msg_server_up{{server=\"{s1}\"}}")],
        0.0
    );
    assert!(!m.contains_key(&format!("fishchat_sessions{{server=\"{s1}\"}}")));

    // The monitor keeps retrying: the restarted server is up again, with no sessions.
    c.restart_msg_server(1).await.unwrap();
    poll_json(&web, "/api/servers", "s1 back up", |v| {
        server(v, &s1)["up"] == true && server(v, &s1)["sessions"] == 0
    })
    .await;
}

#[tokio::test]
async fn the_monitor_answers_role_status_and_shows_the_other_roles() {
    let c = start(1).await;
    let monitor = c.file().monitor.clone().expect("a monitor");
    let data = role_status(&monitor).await.unwrap();
    assert_eq!(data["web"], web(&c));
    assert_eq!(data["msg_servers"][0]["addr"], c.file().msg_servers[0]);
    assert_eq!(data["msg_servers"][0]["up"], true);

    let v = poll_json(&web(&c), "/api/cluster", "every role up", |v| {
        v["roles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["up"] == true)
    })
    .await;
    let roles: Vec<_> = v["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].as_str().unwrap(), r["addr"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("gateway", c.file().gateway.as_str()),
            ("router", c.file().router.as_str()),
            ("manager", c.file().manager.as_str()),
        ]
    );
    let router = &v["roles"][1]["status"];
    assert!(router["routed_p2p"].is_u64(), "{router}");
}

#[tokio::test]
async fn pages_health_and_what_a_loopback_dashboard_refuses() {
    let c = start(1).await;
    let web = web(&c);
    let r = get(&web, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.body.contains("<script src=\"/app.js\">"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    let js = get(&web, "/app.js").await;
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.body.contains("/api/cluster"));
    assert_eq!(get(&web, "/style.css").await.status, 200);
    let h = get(&web, "/healthz").await;
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
    assert_eq!(get(&web, "/nope").await.status, 404);
    let bad = get(&web, "/api/cluster?since=yesterday").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    // Only samples newer than `since`.
    let all = get(&web, "/api/cluster?since=0").await.json();
    let future = get(&web, &format!("/api/cluster?since={}", u64::MAX / 2))
        .await
        .json();
    assert_eq!(future["history"], serde_json::json!([]));
    assert!(all["history"].is_array());

    // Without a login the dashboard is for this machine: a request naming another host
    // (a page elsewhere that rebound its name to 127.0.0.1) is refused.
    let r = request(
        &web,
        "GET",
        "/api/servers",
        &[("Host", "evil.example:30000")],
        "",
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = request(&web, "GET", "/api/servers", &[("Host", "localhost")], "").await;
    assert_eq!(r.status, 200);
    // No login page to speak of.
    let r = get(&web, "/login").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
}

/// A one-msg_server cluster whose dashboard signs in the user `ops` with `password`.
async fn with_web_login(password: &str) -> TestCluster {
    start_with(1, |o| {
        o.web_login = Some(WebLogin {
            user: "ops".into(),
            password_hash: auth::hash_password_with(password, auth::MIN_ITERATIONS),
        })
    })
    .await
}

#[tokio::test]
async fn with_a_login_everything_but_health_needs_signing_in() {
    let password = "correct horse battery";
    let c = with_web_login(password).await;
    let web = web(&c);

    assert_eq!(get(&web, "/healthz").await.status, 200);
    assert_eq!(get(&web, "/login").await.status, 200);
    assert_eq!(get(&web, "/style.css").await.status, 200);
    let r = get(&web, "/").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let r = get(&web, "/api/servers").await;
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].as_str().unwrap().contains("/login"));
    let r = get(&web, "/metrics").await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));

    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for wrong in [
        "user=ops&password=admin",
        "user=admin&password=admin",
        "user=&password=",
    ] {
        let r = request(&web, "POST", "/login", &form, wrong).await;
        assert_eq!(r.status, 401, "{wrong}");
        assert!(r.body.contains("Wrong user name or password"), "{wrong}");
        assert!(r.header("set-cookie").is_none());
    }
    let r = request(
        &web,
        "POST",
        "/login",
        &form,
        "user=ops&password=correct+horse+battery",
    )
    .await;
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
    let set = r
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();

    let with = [("Cookie", cookie.as_str())];
    let r = request(&web, "GET", "/api/servers", &with, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(request(&web, "GET", "/", &with, "").await.status, 200);
    let r = get(&web, "/api/cluster").await;
    assert_eq!(
        r.status, 401,
        "a request without the cookie is still refused"
    );

    // Prometheus and scripts: HTTP Basic with the same login.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ops:{password}"))
    );
    let r = request(
        &web,
        "GET",
        "/metrics",
        &[("Authorization", basic.as_str())],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("fishchat_msg_server_up"));
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("ops:admin")
    );
    let r = request(
        &web,
        "GET",
        "/metrics",
        &[("Authorization", wrong.as_str())],
        "",
    )
    .await;
    assert_eq!(r.status, 401);

    // Signing out ends the session.
    let r = request(&web, "POST", "/logout", &with, "").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert_eq!(
        request(&web, "GET", "/api/servers", &with, "").await.status,
        401
    );
}

#[tokio::test]
async fn guessing_from_one_address_bars_it_and_no_one_else() {
    let password = "correct horse battery";
    let c = with_web_login(password).await;
    let web = web(&c);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let attacker = Some("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..8 {
        let body = format!("user=ops&password=guess{i}");
        statuses.push(
            request_from(attacker, &web, "POST", "/login", &form, &body)
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert!(statuses[5..].contains(&429), "{statuses:?}");
    // The attacker's address is barred even with the right password, and told when to retry.
    let right = "user=ops&password=correct+horse+battery";
    let r = request_from(attacker, &web, "POST", "/login", &form, right).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("try again in"), "{}", r.body);
    // Another address signs in at once.
    let t = std::time::Instant::now();
    let r = request(&web, "POST", "/login", &form, right).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // So does HTTP Basic from another address; from the barred one it is 429 too.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ops:{password}"))
    );
    let auth = [("Authorization", basic.as_str())];
    let r = request_from(attacker, &web, "GET", "/metrics", &auth, "").await;
    assert_eq!(r.status, 429);
    assert_eq!(
        request(&web, "GET", "/metrics", &auth, "").await.status,
        200
    );
}

// ---------------------------------------------------------------------------------------
// The dashboard in a real browser.

/// Headless Chromium, or `None` (with a loud message) where it is not installed. Under
/// `FISHCHAT_REQUIRE_BACKENDS=1` (CI) a missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    let candidates = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let from_env = std::env::var_os("FISHCHAT_CHROMIUM").map(PathBuf::from);
    let found = from_env.or_else(|| {
        let path = std::env::var_os("PATH")?;
        candidates.iter().find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        let msg = "headless Chromium not found (tried FISHCHAT_CHROMIUM, chromium, chromium-browser, google-chrome): install the Debian package `chromium`";
        if std::env::var("FISHCHAT_REQUIRE_BACKENDS").as_deref() == Ok("1") {
            panic!("{msg} (FISHCHAT_REQUIRE_BACKENDS=1)");
        }
        eprintln!("\n*** SKIPPING the dashboard browser test: {msg} ***\n");
    }
    found
}

/// Runs Chromium headless on `url` with `extra` arguments; its stdout.
async fn run_chromium(bin: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,800",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("chromium finishes within 90 s")
        .expect("chromium starts");
    assert!(
        out.status.success(),
        "chromium failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the cell `field` in the table row of msg_server `addr` of a rendered DOM.
fn cell(dom: &str, addr: &str, field: &str) -> Option<String> {
    let row_start = dom.find(&format!("data-server=\"{addr}\""))?;
    let row = &dom[row_start..];
    let row = &row[..row.find("</tr>")?];
    let at = row.find(&format!("data-field=\"{field}\""))?;
    let text = &row[at..];
    let text = &text[text.find('>')? + 1..];
    Some(text[..text.find('<')?].to_string())
}

#[tokio::test]
async fn the_dashboard_shows_each_msg_server_with_its_live_sessions_in_a_browser() {
    let Some(bin) = chromium() else { return };
    let c = start(2).await;
    let web = web(&c);
    let (s0, s1) = (
        c.file().msg_servers[0].clone(),
        c.file().msg_servers[1].clone(),
    );
    // Three sessions on s0, two on s1, and a little traffic for the charts.
    let mut clients = Vec::new();
    for (i, id) in [(0, "ann"), (0, "ben"), (0, "cat"), (1, "dov"), (1, "eve")] {
        clients.push(login(&c, i, id).await);
    }
    let traffic = {
        let senders: Vec<_> = clients.iter().map(|c| c.sender()).collect();
        tokio::spawn(async move {
            for n in 0..120u32 {
                let from = &senders[n as usize % senders.len()];
                let _ = from.send_p2p(["dov", "ann", "eve"][n as usize % 3], "hi");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };
    poll_json(&web, "/api/servers", "3 and 2 sessions", |v| {
        server(v, &s0)["sessions"] == 3 && server(v, &s1)["sessions"] == 2
    })
    .await;
    traffic.await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{web}/");
    let dom = run_chromium(&bin, &dir.path().join("profile"), &url, &["--dump-dom"]).await;
    for (addr, sessions) in [(&s0, "3"), (&s1, "2")] {
        assert_eq!(
            cell(&dom, addr, "sessions").as_deref(),
            Some(sessions),
            "the rendered dashboard shows {addr} with {sessions} sessions; DOM:\n{dom}"
        );
        assert!(
            dom.contains(&format!("<td class=\"addr\">{addr}</td>")),
            "{addr} is shown"
        );
    }
    assert!(
        dom.contains("all 2 msg_servers up"),
        "the health pill; DOM:\n{dom}"
    );
    assert!(
        dom.contains("id=\"k-sessions\">5<"),
        "the sessions total; DOM:\n{dom}"
    );
    assert!(
        dom.contains("data-role=\"router\""),
        "the roles; DOM:\n{dom}"
    );

    let shot = dir.path().join("dashboard.png");
    run_chromium(
        &bin,
        &dir.path().join("profile"),
        &url,
        &[&format!("--screenshot={}", shot.display())],
    )
    .await;
    let png = std::fs::read(&shot).expect("chromium saved a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 10_000,
        "a screenshot of a page, not a blank ({} bytes)",
        png.len()
    );
    // For people: the latest run's screenshot, outside the temp dir.
    let _ = std::fs::copy(&shot, std::env::temp_dir().join("fishchat-dashboard.png"));
    drop(clients);
}
