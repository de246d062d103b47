//! End to end: the real `fishchat chat` binary in tmux, against a live cluster (in this
//! process, on OS-chosen ports), with a scripted SDK client on the other side. Keys go in
//! with `tmux send-keys`; the screen comes back with `tmux capture-pane`, polled until
//! what is expected shows or a deadline passes.
//!
//! Needs tmux: without it the test is skipped loudly, or fails where
//! FISHCHAT_REQUIRE_BACKENDS=1 (CI installs tmux).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::{P2pMessage, TopicMessage};

/// Generous: a debug build starting on a busy 2-core machine.
const WAIT: Duration = Duration::from_secs(30);

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// Whether tmux runs here; skips loudly (or fails, where backends are required).
    fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            if std::env::var("FISHCHAT_REQUIRE_BACKENDS").as_deref() == Ok("1") {
                panic!("tmux is not installed and FISHCHAT_REQUIRE_BACKENDS=1: install tmux (apt-get install tmux)");
            }
            eprintln!();
            eprintln!("!!! SKIPPED: tmux is not installed; the TUI end-to-end test did not run.");
            eprintln!("!!! Install it (apt-get install tmux) to run it.");
            eprintln!();
        }
        ok
    }

    /// Runs `command` in a new 120×40 session. When it exits the shell says how and
    /// stays, so its last words can be read.
    fn start(name: &str, command: &str) -> Tmux {
        static N: AtomicUsize = AtomicUsize::new(0);
        let t = Tmux {
            socket: format!(
                "fishchat-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
            session: name.to_string(),
        };
        let script = format!("{command}; echo \"[exited $?]\"; sleep 600");
        let out = t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "120",
            "-y",
            "40",
            &script,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs")
    }

    /// Types `text` as it is.
    fn type_text(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", &self.session, "-l", text]);
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    /// Presses keys by tmux's names ("Enter", "C-c", "M-2").
    fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", &self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until it shows `needle`; fails with the screen after [`WAIT`].
    async fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} did not show within {WAIT:?}; the screen:\n{s}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn chat_command(gateway: &str, data_dir: &Path) -> String {
    chat_as("alice", gateway, data_dir)
}

/// `fishchat chat` as `id`, with no password in its environment: where it needs one it
/// would ask at the terminal.
fn chat_as(id: &str, gateway: &str, data_dir: &Path) -> String {
    format!(
        "env -u FISHCHAT_PASSWORD '{}' chat --id {id} --gateway '{gateway}' --data-dir '{}'",
        env!("CARGO_BIN_EXE_fishchat"),
        data_dir.display()
    )
}

/// The device the status line says we are signed in as.
fn device_on(screen: &str) -> String {
    let at = screen
        .find("signed in · device ")
        .unwrap_or_else(|| panic!("not signed in:\n{screen}"));
    screen[at + "signed in · device ".len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn next_event(c: &mut Client) -> Event {
    loop {
        match c.next_event_within(WAIT).await {
            Ok(Event::Beat(_)) => continue,
            Ok(e) => return e,
            Err(e) => panic!("expected an event: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_talks_to_a_scripted_client_and_keeps_its_history() {
    if !Tmux::available() {
        return;
    }
    let cluster_dir = tempfile::tempdir().unwrap();
    let chat_dir = tempfile::tempdir().unwrap();
    let mut o = LocalOptions::new(cluster_dir.path(), "test-secret", Ports::any(1));
    o.msg_server.monitor_beat = Duration::from_millis(200);
    o.retry_max = Duration::from_millis(200);
    let cluster = LocalCluster::start(o, |_| {})
        .await
        .expect("cluster starts");
    let gateway = cluster.file().gateway.clone();
    let mut bob = Client::login_via_gateway(&gateway, "bob").await.unwrap();

    let tui = Tmux::start("alice", &chat_command(&gateway, chat_dir.path()));
    // Before the screen opens: the offer to claim the id; Enter goes on without a password.
    tui.wait_for("alice has no account. Choose a password to claim it (Enter to go on without one")
        .await;
    tui.press(&["Enter"]);
    let s = tui.wait_for("● connected").await;
    assert!(s.contains("unclaimed id: anyone can use alice"), "{s}");
    tui.wait_for("Welcome to fishchat, alice.").await;

    // Typed in the TUI, received by bob.
    tui.type_text("/msg bob hello from tui");
    tui.press(&["Enter"]);
    let uuid = match next_event(&mut bob).await {
        Event::P2p(P2pMessage {
            msg, from, uuid, ..
        }) => {
            assert_eq!((msg.as_str(), from.as_str()), ("hello from tui", "alice"));
            uuid
        }
        other => panic!("expected alice's message, got {other:?}"),
    };
    // Bob's client acks it: the TUI marks it delivered.
    bob.sender().ack(&uuid).unwrap();
    tui.wait_for("hello from tui ✓✓").await;

    // Ctrl+J starts a new line; Enter sends both.
    tui.type_text("two");
    tui.press(&["C-j"]);
    tui.type_text("lines");
    tui.press(&["Enter"]);
    match next_event(&mut bob).await {
        Event::P2p(P2pMessage { msg, .. }) => assert_eq!(msg, "two\nlines"),
        other => panic!("expected the two-line message, got {other:?}"),
    }

    // Sent by bob, shown by the TUI.
    bob.sender()
        .send_p2p("alice", "hi alice, bob here")
        .unwrap();
    let s = tui.wait_for("hi alice, bob here").await;
    assert!(s.contains("1 @bob"), "the sidebar lists bob:\n{s}");

    // A topic: created in the TUI, joined by bob, messages both ways.
    tui.type_text("/create lobby");
    tui.press(&["Enter"]);
    tui.wait_for("created #lobby").await;
    bob.join_topic("lobby").await.unwrap();
    tui.type_text("hello lobby");
    tui.press(&["Enter"]);
    loop {
        match next_event(&mut bob).await {
            Event::Topic(TopicMessage {
                topic, msg, from, ..
            }) => {
                assert_eq!(
                    (topic.as_str(), msg.as_str(), from.as_str()),
                    ("lobby", "hello lobby", "alice")
                );
                break;
            }
            Event::Delivered { .. } => continue,
            other => panic!("expected the topic message, got {other:?}"),
        }
    }
    bob.sender()
        .send_topic("lobby", "bob in the lobby")
        .unwrap();
    tui.wait_for("bob in the lobby").await;
    // Alt+1: back to bob.
    tui.press(&["M-1"]);
    tui.wait_for(" to @bob ").await;

    // Quit: the client exits cleanly and gives the terminal back.
    tui.press(&["C-c"]);
    let s = tui.wait_for("[exited 0]").await;
    assert!(
        !s.contains("Welcome to fishchat"),
        "the screen was restored:\n{s}"
    );
    drop(tui);

    // A second run shows the conversations kept from the first, before anything arrives.
    let again = Tmux::start("alice2", &chat_command(&gateway, chat_dir.path()));
    again.wait_for("alice has no account").await;
    again.press(&["Enter"]);
    let s = again.wait_for("hello from tui ✓✓").await;
    assert!(s.contains("1 @bob") && s.contains("2 #lobby"), "{s}");
    drop(again);
    drop(bob);
    cluster.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_claims_the_id_and_the_next_signs_in_with_the_kept_token() {
    if !Tmux::available() {
        return;
    }
    let cluster_dir = tempfile::tempdir().unwrap();
    let chat_dir = tempfile::tempdir().unwrap();
    let mut o = LocalOptions::new(cluster_dir.path(), "test-secret", Ports::any(1));
    o.msg_server.monitor_beat = Duration::from_millis(200);
    o.retry_max = Duration::from_millis(200);
    let cluster = LocalCluster::start(o, |_| {})
        .await
        .expect("cluster starts");
    let gateway = cluster.file().gateway.clone();
    let asker = Client::connect(&cluster.file().msg_servers[0])
        .await
        .unwrap();
    assert!(!asker.account_status("carol").await.unwrap().claimed);

    // First start: the password from the environment claims carol, no question asked.
    let first = Tmux::start(
        "carol",
        &format!(
            "env FISHCHAT_PASSWORD='carols password' '{}' chat --id carol --gateway '{gateway}' --data-dir '{}'",
            env!("CARGO_BIN_EXE_fishchat"),
            chat_dir.path().display()
        ),
    );
    let s = first.wait_for("● connected").await;
    let s = if s.contains("signed in · device ") {
        s
    } else {
        first.wait_for("signed in · device ").await
    };
    let device = device_on(&s);
    assert_eq!(device.len(), 12, "a device id: {s}");
    assert!(!s.contains("unclaimed"), "{s}");
    assert!(asker.account_status("carol").await.unwrap().claimed);
    let token = chat_dir.path().join("chat/carol/token");
    let meta = std::fs::metadata(&token).expect("the token is kept");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let kept = std::fs::read_to_string(&token).unwrap();
    assert!(kept.trim().starts_with("fct1_"), "{kept}");
    first.press(&["C-c"]);
    first.wait_for("[exited 0]").await;
    drop(first);

    // Second start: no password anywhere, so a question would stop it at the prompt; the
    // kept token signs in as the same device.
    let second = Tmux::start("carol2", &chat_as("carol", &gateway, chat_dir.path()));
    let s = second.wait_for("signed in · device ").await;
    assert_eq!(device_on(&s), device, "the same device:\n{s}");
    assert!(!s.contains("Password"), "{s}");
    let mut carol = Client::connect(&cluster.file().msg_servers[0])
        .await
        .unwrap();
    carol
        .sign_in("carol", "carols password", None)
        .await
        .expect("the password chosen at the first start is carol's");
    let devices = carol.devices().await.unwrap().devices;
    assert_eq!(
        devices.len(),
        2,
        "the TUI's one device and this one: {devices:?}"
    );
    assert!(devices.iter().any(|d| d.device_id == device));
    assert_eq!(
        std::fs::read_to_string(&token).unwrap(),
        kept,
        "the token file is unchanged"
    );

    // Revoked from another device while the screen is open: signed out, no more retries.
    carol.revoke(&device).await.unwrap();
    let s = second.wait_for("○ signed out").await;
    assert!(s.contains("restart fishchat chat"), "{s}");
    second.press(&["C-c"]);
    second.wait_for("[exited 0]").await;
    drop(second);
    drop(carol);
    drop(asker);
    cluster.shutdown().await.unwrap();
}
