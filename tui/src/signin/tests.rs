//! The sign-in against a real cluster in this process, with the person at the terminal
//! scripted.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::{AuthPolicy, Registration};

use super::*;

/// Answers passwords from a script and keeps what was said; a question past the script
/// fails the test.
#[derive(Default)]
struct Script {
    answers: VecDeque<&'static str>,
    said: Vec<String>,
    asked: Vec<String>,
}

impl Script {
    fn answering(answers: &[&'static str]) -> Script {
        Script {
            answers: answers.iter().copied().collect(),
            ..Script::default()
        }
    }
}

impl Ask for Script {
    fn say(&mut self, line: &str) {
        self.said.push(line.to_string());
    }

    fn password(&mut self, prompt: &str) -> std::io::Result<String> {
        self.asked.push(prompt.to_string());
        match self.answers.pop_front() {
            Some(a) => Ok(a.to_string()),
            None => panic!("asked {prompt:?} with no answer scripted"),
        }
    }
}

async fn cluster(dir: &Path, auth: AuthPolicy, registration: Registration) -> LocalCluster {
    let mut o = LocalOptions::new(dir, "test-secret", Ports::any(1));
    o.msg_server.monitor_beat = Duration::from_millis(200);
    o.msg_server.auth = auth;
    o.msg_server.registration = registration;
    o.retry_max = Duration::from_millis(200);
    LocalCluster::start(o, |_| {})
        .await
        .expect("cluster starts")
}

fn target(c: &LocalCluster) -> Target {
    Target::Gateway(c.file().gateway.clone())
}

async fn run(
    id: &str,
    c: &LocalCluster,
    tokens: &TokenFile,
    password: Option<&str>,
    ask: &mut Script,
) -> Result<Start> {
    sign_in(
        SignIn {
            id,
            target: &target(c),
            device_name: "fishchat-chat on test",
            token_file: tokens,
            password: password.map(Password::new),
        },
        ask,
    )
    .await
}

fn device(login: &Login) -> String {
    match login {
        Login::Token { device_id, .. } => device_id.clone(),
        Login::Unclaimed => panic!("expected to be signed in, got {login:?}"),
    }
}

#[tokio::test]
async fn a_given_password_claims_the_id_and_the_next_start_uses_the_kept_token() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path(), AuthPolicy::Claimed, Registration::Open).await;
    let tokens = TokenFile::in_dir(&dir.path().join("chat/alice"));

    let mut ask = Script::default();
    let first = run("alice", &c, &tokens, Some("correct horse"), &mut ask)
        .await
        .unwrap();
    assert!(ask.asked.is_empty(), "a given password asks nothing");
    let first_device = device(&first.login);
    assert!(first.client.is_some());
    let kept = tokens.read().unwrap().expect("the token is kept");
    assert!(matches!(&first.login, Login::Token { token, .. } if *token == kept));
    let status = first.client.unwrap().account_status("alice").await.unwrap();
    assert!(status.claimed, "alice has an account now");

    // No password, no question: the token signs in as the same device.
    let mut ask = Script::default();
    let again = run("alice", &c, &tokens, None, &mut ask).await.unwrap();
    assert_eq!(device(&again.login), first_device);
    assert!(
        ask.asked.is_empty() && ask.said.is_empty(),
        "{:?}",
        ask.said
    );
    assert_eq!(tokens.read().unwrap(), Some(kept));
}

#[tokio::test]
async fn a_claimed_id_asks_its_password_up_to_three_times() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path(), AuthPolicy::Claimed, Registration::Open).await;
    Client::login_via_gateway(&c.file().gateway, "x")
        .await
        .unwrap()
        .register("bob", "bobs password")
        .await
        .unwrap();
    let tokens = TokenFile::in_dir(&dir.path().join("chat/bob"));

    let mut ask = Script::answering(&["wrong one", "bobs password"]);
    let start = run("bob", &c, &tokens, None, &mut ask).await.unwrap();
    device(&start.login);
    assert_eq!(ask.asked, ["Password for bob: ", "Password for bob: "]);
    assert_eq!(ask.said, ["Wrong password; try again."]);
    assert!(tokens.read().unwrap().is_some());

    let other = TokenFile::in_dir(&dir.path().join("chat/bob2"));
    let mut ask = Script::answering(&["no", "nope", "still no"]);
    let e = run("bob", &c, &other, None, &mut ask)
        .await
        .err()
        .expect("three wrong passwords fail");
    assert!(e.to_string().contains("3 wrong passwords"), "{e}");
    assert_eq!(ask.asked.len(), 3);
    assert_eq!(other.read().unwrap(), None);

    // A given password that is wrong fails at once.
    let mut ask = Script::default();
    let e = run("bob", &c, &other, Some("not bobs"), &mut ask)
        .await
        .err()
        .expect("a wrong given password fails");
    assert!(e.to_string().contains("FISHCHAT_PASSWORD"), "{e}");
}

#[tokio::test]
async fn enter_with_nothing_goes_on_unclaimed_and_a_claim_is_asked_twice() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path(), AuthPolicy::Claimed, Registration::Open).await;
    let tokens = TokenFile::in_dir(&dir.path().join("chat/carol"));

    let mut ask = Script::answering(&[""]);
    let start = run("carol", &c, &tokens, None, &mut ask).await.unwrap();
    assert_eq!(start.login, Login::Unclaimed);
    assert!(
        ask.asked[0].contains("carol has no account"),
        "{:?}",
        ask.asked
    );
    assert!(ask.asked[0].contains("anyone could then use carol"));
    assert_eq!(tokens.read().unwrap(), None);
    drop(start);

    // Too short, then two that differ, then a claim.
    let mut ask = Script::answering(&[
        "short",
        "long enough",
        "long enougH",
        "long enough",
        "long enough",
    ]);
    let start = run("carol", &c, &tokens, None, &mut ask).await.unwrap();
    device(&start.login);
    assert_eq!(ask.asked.len(), 5);
    assert!(
        ask.said.iter().any(|s| s.contains("at least 8")),
        "{:?}",
        ask.said
    );
    assert!(
        ask.said.iter().any(|s| s.contains("differ")),
        "{:?}",
        ask.said
    );
    assert!(tokens.read().unwrap().is_some());
}

#[tokio::test]
async fn a_refused_token_asks_for_the_password_again_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path(), AuthPolicy::Claimed, Registration::Open).await;
    let tokens = TokenFile::in_dir(&dir.path().join("chat/dave"));
    let first = run(
        "dave",
        &c,
        &tokens,
        Some("daves password"),
        &mut Script::default(),
    )
    .await
    .unwrap();
    let old_device = device(&first.login);
    let old_token = tokens.read().unwrap().unwrap();
    // Another device of dave's revokes this one.
    let mut other = Client::connect(&c.file().msg_servers[0]).await.unwrap();
    other.sign_in("dave", "daves password", None).await.unwrap();
    other.revoke(&old_device).await.unwrap();

    // Three wrong passwords: no way in, and the refused token is gone all the same.
    let mut ask = Script::answering(&["x", "y", "z"]);
    run("dave", &c, &tokens, None, &mut ask)
        .await
        .err()
        .expect("three wrong passwords");
    assert_eq!(tokens.read().unwrap(), None, "the refused token is deleted");
    tokens.write(&old_token).unwrap();

    let mut ask = Script::answering(&["daves password"]);
    let again = run("dave", &c, &tokens, None, &mut ask).await.unwrap();
    assert!(ask.said[0].contains("no longer accepted"), "{:?}", ask.said);
    assert_ne!(device(&again.login), old_device);
    let new_token = tokens.read().unwrap().unwrap();
    assert_ne!(new_token, old_token, "the token file is replaced");
}

#[tokio::test]
async fn closed_registration_under_required_names_the_operator_command() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path(), AuthPolicy::Required, Registration::Closed).await;
    let tokens = TokenFile::in_dir(&dir.path().join("chat/erin"));
    let e = run("erin", &c, &tokens, None, &mut Script::default())
        .await
        .err()
        .expect("no way in");
    assert!(
        e.to_string().contains("fishchat-admin user add erin"),
        "{e}"
    );
}

#[tokio::test]
async fn required_accounts_refuse_going_on_unclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path(), AuthPolicy::Required, Registration::Open).await;
    let tokens = TokenFile::in_dir(&dir.path().join("chat/frank"));
    let mut ask = Script::answering(&[""]);
    let e = run("frank", &c, &tokens, None, &mut ask)
        .await
        .err()
        .expect("enter with nothing cannot go on");
    assert!(e.to_string().contains("only with an account"), "{e}");
    assert!(ask.asked[0].contains("needs one"), "{:?}", ask.asked);
}

#[tokio::test]
async fn an_unreachable_cluster_with_a_kept_token_starts_without_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenFile::in_dir(&dir.path().join("chat/gina"));
    tokens.write("fct1_kept").unwrap();
    let start = sign_in(
        SignIn {
            id: "gina",
            target: &Target::ClusterFile(dir.path().join("cluster.json")),
            device_name: "d",
            token_file: &tokens,
            password: None,
        },
        &mut Script::default(),
    )
    .await
    .unwrap();
    assert!(start.client.is_none());
    assert!(matches!(start.login, Login::Token { ref token, .. } if token == "fct1_kept"));

    // Without a token there is nothing to start with: the error says what to do.
    tokens.remove().unwrap();
    let e = sign_in(
        SignIn {
            id: "gina",
            target: &Target::ClusterFile(dir.path().join("cluster.json")),
            device_name: "d",
            token_file: &tokens,
            password: None,
        },
        &mut Script::default(),
    )
    .await
    .err()
    .expect("no cluster, no token");
    assert!(e.to_string().contains("fishchat up"), "{e}");
}
