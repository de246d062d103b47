//! `fishchat-admin inspect servers|sessions|topics|topic NAME|user ID`: what the cluster
//! knows, as tables on a terminal and JSON with `--json` or when piped.
//!
//! Each question goes where the answer is: `servers` asks every role for `ROLE_STATUS`;
//! `sessions` asks every msg_server for its own connections (`INSPECT [sessions]`); topics
//! and users live in the store every msg_server shares, so the first msg_server that answers
//! is asked (`INSPECT [topics]`, `[topic, NAME]`, `[user, ID]`). Every connection to a
//! msg_server presents the secret first (`AUTH`): a wrong one fails at once, whatever was
//! asked. A msg_server that cannot be reached is reported and the others still answer; when
//! none can be, the command fails.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use anyhow::{anyhow, bail, Result};
use chrono::{Local, TimeZone};
use clap::{Args, Subcommand};
use fishchat_cli::table::Table;
use fishchat_cli::target::{ReachError, Target, TargetArgs, REQUEST_TIMEOUT};
use fishchat_cluster::client::ClientError;
use fishchat_cluster::protocol::inspect::{
    Location, SessionsResult, TopicResult, TopicsResult, UserResult,
};
use fishchat_cluster::protocol::{Command, ErrorCode, InspectQuery};
use serde::Serialize;
use serde_json::{json, Value};

/// Show what the cluster knows: its servers, sessions, topics, one topic or one user.
///
/// Tables on a terminal; JSON with --json or when stdout is not a terminal.
#[derive(Debug, Args)]
pub struct Inspect {
    #[command(subcommand)]
    what: What,

    /// JSON instead of tables (the default when stdout is not a terminal).
    #[arg(long, global = true)]
    json: bool,

    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Every role and its state (ROLE_STATUS): each msg_server's connections, clients,
    /// topics and counters; gateway, router, manager and monitor where the cluster file
    /// names them.
    Servers,
    /// Every logged-in connection, on every msg_server.
    Sessions,
    /// Every topic: its home msg_server, creator and number of members.
    Topics,
    /// One topic: its home msg_server, and each member and where it is connected.
    Topic {
        /// The topic's name.
        name: String,
    },
    /// One user: where it is connected, how many messages wait in its inbox, and what the
    /// manager recorded of it.
    User {
        /// The user's id.
        id: String,
    },
}

impl Inspect {
    pub async fn run(self) -> Result<ExitCode> {
        let target = self.target.resolve()?;
        let json = self.json || !std::io::stdout().is_terminal();
        match self.what {
            What::Servers => servers(&target, json).await,
            What::Sessions => sessions(&target, json).await,
            What::Topics => {
                let (_, data) = ask_any(&target, InspectQuery::Topics).await?;
                let r: TopicsResult = parse(data)?;
                show(json, &r, || topics_table(&r))
            }
            What::Topic { name } => {
                let (_, data) = ask_any(&target, InspectQuery::Topic(name)).await?;
                let r: TopicResult = parse(data)?;
                show(json, &r, || topic_text(&r))
            }
            What::User { id } => {
                let (_, data) = ask_any(&target, InspectQuery::User(id)).await?;
                let r: UserResult = parse(data)?;
                show(json, &r, || user_text(&r))
            }
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(data: Value) -> Result<T> {
    serde_json::from_value(data)
        .map_err(|e| anyhow!("the msg_server's answer is not what this tool expects ({e}); is it the same fishchat version?"))
}

/// Prints `value` as JSON, or `human()` for a terminal. A closed stdout (`| head`) is no
/// error.
fn show(json: bool, value: &impl Serialize, human: impl FnOnce() -> String) -> Result<ExitCode> {
    let text = if json {
        serde_json::to_string_pretty(value)? + "\n"
    } else {
        human()
    };
    match anstream::stdout().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            bail!("cannot write to stdout: {e}")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Why one msg_server gave no answer.
enum Failure {
    /// Down, unreachable, or its store failed: others may answer.
    Skip(String),
    /// The secret was refused, or a definite answer such as "no such topic": stop here.
    Fatal(anyhow::Error),
}

/// Connects to `addr` (presenting the secret) and asks `cmd`.
async fn ask_server(target: &Target, addr: &str, cmd: &Command) -> Result<Command, Failure> {
    let c = match target.connect(addr).await {
        Ok(c) => c,
        Err(ReachError::Refused(msg)) => return Err(Failure::Fatal(anyhow!(msg))),
        Err(e @ ReachError::Unreachable { .. }) => return Err(Failure::Skip(e.to_string())),
    };
    // The connection's timeout is the admin tools' request timeout (`Target::connect`).
    match c.call(cmd).await {
        Ok(a) => Ok(a),
        Err(ClientError::Server {
            code: ErrorCode::Forbidden,
            detail,
        }) => Err(Failure::Fatal(anyhow!(target.refused(addr, &detail)))),
        Err(ClientError::Server {
            code: ErrorCode::NoSuchTopic,
            detail,
        }) => Err(Failure::Fatal(anyhow!("{detail}"))),
        Err(e) => Err(Failure::Skip(format!("msg_server {addr}: {e}"))),
    }
}

/// `INSPECT` on the first msg_server that answers: its address and the findings.
async fn ask_any(target: &Target, query: InspectQuery) -> Result<(String, Value)> {
    let cmd = Command::Inspect { query };
    let mut skipped = Vec::new();
    for addr in &target.msg_servers {
        match ask_server(target, addr, &cmd).await {
            Ok(Command::InspectResult { data, .. }) => return Ok((addr.clone(), data)),
            Ok(other) => skipped.push(format!("msg_server {addr} answered {}", other.name())),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Skip(why)) => skipped.push(why),
        }
    }
    Err(none_answered(&skipped))
}

fn none_answered(why: &[String]) -> anyhow::Error {
    anyhow!(
        "no msg_server answered: {}; is the cluster running? (`fishchat-admin inspect servers` shows what is up)",
        why.join("; ")
    )
}

/// `cmd` asked of every msg_server at once, in their order: each one's answer or failure.
async fn ask_every(target: &Target, cmd: Command) -> Vec<(String, Result<Command, Failure>)> {
    let tasks: Vec<_> = target
        .msg_servers
        .iter()
        .map(|addr| {
            let (target, addr, cmd) = (target.clone(), addr.clone(), cmd.clone());
            tokio::spawn(async move {
                let r = ask_server(&target, &addr, &cmd).await;
                (addr, r)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        match t.await {
            Ok(r) => out.push(r),
            Err(e) => out.push((
                String::new(),
                Err(Failure::Skip(format!("a query crashed: {e}"))),
            )),
        }
    }
    out
}

const GOOD: Style = AnsiColor::Green.on_default();
const BAD: Style = AnsiColor::Red.on_default();
const HEAD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

fn header(s: &str) -> String {
    paint(HEAD, s)
}

/// One role's answer to `ROLE_STATUS`.
#[derive(Debug, Serialize)]
struct RoleRow {
    role: String,
    addr: String,
    up: bool,
    status: Option<Value>,
    error: Option<String>,
}

async fn servers(target: &Target, json: bool) -> Result<ExitCode> {
    let mut msg_servers = Vec::new();
    for (addr, r) in ask_every(target, Command::RoleStatus).await {
        let (status, error) = match r {
            Ok(Command::RoleStatusOk { data, .. }) => (Some(data), None),
            Ok(other) => (None, Some(format!("answered {}", other.name()))),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Skip(why)) => (None, Some(why)),
        };
        msg_servers.push(RoleRow {
            role: "msg_server".into(),
            up: status.is_some(),
            addr,
            status,
            error,
        });
    }
    if msg_servers.iter().all(|r| !r.up) {
        let why: Vec<String> = msg_servers.iter().filter_map(|r| r.error.clone()).collect();
        return Err(none_answered(&why));
    }
    let mut roles = Vec::new();
    if let Some(f) = &target.file {
        let named = [
            ("gateway", Some(&f.gateway)),
            ("router", Some(&f.router)),
            ("manager", Some(&f.manager)),
            ("monitor", f.monitor.as_ref()),
        ];
        let tasks: Vec<_> = named
            .into_iter()
            .filter_map(|(role, addr)| addr.map(|a| (role, a.clone())))
            .map(|(role, addr)| {
                tokio::spawn(async move {
                    let r = tokio::time::timeout(
                        REQUEST_TIMEOUT,
                        fishchat_cluster::client::role_status(&addr),
                    )
                    .await;
                    let (status, error) = match r {
                        Ok(Ok(v)) => (Some(v), None),
                        Ok(Err(e)) => (None, Some(e.to_string())),
                        Err(_) => (None, Some(format!("no answer within {REQUEST_TIMEOUT:?}"))),
                    };
                    RoleRow {
                        role: role.into(),
                        addr,
                        up: status.is_some(),
                        status,
                        error,
                    }
                })
            })
            .collect();
        for t in tasks {
            if let Ok(row) = t.await {
                roles.push(row);
            }
        }
    }
    let value = json!({"msg_servers": msg_servers, "roles": roles});
    show(json, &value, || servers_text(&msg_servers, &roles))
}

fn servers_text(msg_servers: &[RoleRow], roles: &[RoleRow]) -> String {
    let mut t = Table::new(&[
        "MSG_SERVER",
        "STATE",
        "CONNS",
        "CLIENTS",
        "TOPICS",
        "MSG_IN",
        "MSG_OUT",
        "ACKS",
        "PENDING_ACKS",
        "OFFLINE",
        "UPTIME",
        "STORE",
    ])
    .right(&[2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let mut notes = String::new();
    for r in msg_servers {
        let mut cells = vec![r.addr.clone(), state(r.up)];
        if let Some(s) = &r.status {
            for key in [
                "connections",
                "clients",
                "topics_here",
                "msg_in",
                "msg_out",
                "acks",
                "pending_acks",
                "offline_depth",
            ] {
                cells.push(number(&s[key]));
            }
            cells.push(s["uptime_secs"].as_u64().map(duration).unwrap_or_default());
            cells.push(s["store"].as_str().unwrap_or("").to_string());
        }
        t.row(cells);
        if let Some(e) = &r.error {
            notes.push_str(&format!("{}\n", paint(BAD, e)));
        }
    }
    let mut out = t.render(header);
    if !roles.is_empty() {
        let mut t = Table::new(&["ROLE", "ADDRESS", "STATE", "DETAIL"]);
        for r in roles {
            let detail = match (&r.status, &r.error) {
                (Some(s), _) => role_detail(&r.role, s),
                (None, Some(e)) => e.clone(),
                (None, None) => String::new(),
            };
            t.row(vec![r.role.clone(), r.addr.clone(), state(r.up), detail]);
        }
        out.push('\n');
        out.push_str(&t.render(header));
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out
}

fn state(up: bool) -> String {
    if up {
        paint(GOOD, "up")
    } else {
        paint(BAD, "down")
    }
}

/// A number from a status, or "-" where it has none.
fn number(v: &Value) -> String {
    v.as_u64()
        .map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// What matters of a gateway, router, manager or monitor, in a few words.
fn role_detail(role: &str, s: &Value) -> String {
    let n = |k: &str| number(&s[k]);
    let mut parts = match role {
        "gateway" => vec![format!("handed out {}", n("handed_out"))],
        "router" => vec![format!(
            "routed p2p {}, topic {}, receipts {}; unroutable {}",
            n("routed_p2p"),
            n("routed_topic"),
            n("routed_receipts"),
            n("unroutable")
        )],
        "manager" => vec![format!(
            "session events {}, topic events {}, store errors {}",
            n("session_events"),
            n("topic_events"),
            n("store_errors")
        )],
        "monitor" => match s["web"].as_str() {
            Some(web) => vec![format!("dashboard http://{web}/")],
            None => vec![],
        },
        _ => vec![],
    };
    if let Some(list) = s["msg_servers"].as_array() {
        let up = list.iter().filter(|m| m["up"] == Value::Bool(true)).count();
        parts.push(format!("msg_servers up {up}/{}", list.len()));
    }
    parts.join("; ")
}

/// Seconds as "2d03h", "1h02m", "3m12s", "45s".
fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Unix milliseconds as local date and time.
fn time(ms: u64) -> String {
    match i64::try_from(ms)
        .ok()
        .and_then(|ms| Local.timestamp_millis_opt(ms).single())
    {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => "-".into(),
    }
}

/// One row of `inspect sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct SessionRow {
    id: String,
    server: String,
    conn: u64,
    client_addr: String,
    since_ms: u64,
}

async fn sessions(target: &Target, json: bool) -> Result<ExitCode> {
    let mut rows = Vec::new();
    let mut unreachable = Vec::new();
    let mut cut = false;
    for (addr, r) in ask_every(
        target,
        Command::Inspect {
            query: InspectQuery::Sessions,
        },
    )
    .await
    {
        match r {
            Ok(Command::InspectResult { data, .. }) => {
                let r: SessionsResult = parse(data)?;
                cut |= r.total > r.sessions.len() as u64;
                rows.extend(r.sessions.into_iter().map(|s| SessionRow {
                    id: s.id,
                    server: r.server.clone(),
                    conn: s.conn,
                    client_addr: s.client_addr,
                    since_ms: s.since_ms,
                }));
            }
            Ok(other) => unreachable
                .push(json!({"server": addr, "error": format!("answered {}", other.name())})),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Skip(why)) => unreachable.push(json!({"server": addr, "error": why})),
        }
    }
    if unreachable.len() == target.msg_servers.len() {
        let why: Vec<String> = unreachable
            .iter()
            .filter_map(|u| u["error"].as_str().map(str::to_string))
            .collect();
        return Err(none_answered(&why));
    }
    for u in &unreachable {
        eprintln!(
            "warning: {}; its sessions are not listed",
            u["error"].as_str().unwrap_or("")
        );
    }
    if cut {
        eprintln!("warning: a msg_server listed only its first 10000 sessions");
    }
    rows.sort_by(|a, b| (&a.id, &a.server, a.conn).cmp(&(&b.id, &b.server, b.conn)));
    let value = json!({"sessions": rows, "unreachable": unreachable});
    show(json, &value, || sessions_text(&rows))
}

fn sessions_text(rows: &[SessionRow]) -> String {
    if rows.is_empty() {
        return "no one is logged in\n".into();
    }
    let mut t = Table::new(&["ID", "MSG_SERVER", "CONN", "CLIENT_ADDR", "SINCE"]).right(&[2]);
    for r in rows {
        t.row(vec![
            r.id.clone(),
            r.server.clone(),
            r.conn.to_string(),
            r.client_addr.clone(),
            time(r.since_ms),
        ]);
    }
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let servers: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.server.as_str()).collect();
    let mut out = t.render(header);
    out.push_str(&paint(
        DIM,
        &format!(
            "{} of {} on {}",
            plural(rows.len() as u64, "connection"),
            plural(ids.len() as u64, "id"),
            plural(servers.len() as u64, "msg_server")
        ),
    ));
    out.push('\n');
    out
}

/// "1 topic", "2 topics".
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn topics_text_footer(r: &TopicsResult) -> String {
    if r.total > r.topics.len() as u64 {
        format!("showing {} of {} topics", r.topics.len(), r.total)
    } else {
        plural(r.total, "topic")
    }
}

fn topics_table(r: &TopicsResult) -> String {
    if r.topics.is_empty() {
        return "no topics\n".into();
    }
    let mut t = Table::new(&["TOPIC", "HOME", "CREATOR", "MEMBERS", "CREATED"]).right(&[3]);
    for topic in &r.topics {
        t.row(vec![
            topic.name.clone(),
            topic.home.clone(),
            topic.creator.clone(),
            topic.members.to_string(),
            time(topic.created_at_ms),
        ]);
    }
    t.render(header) + &paint(DIM, &topics_text_footer(r)) + "\n"
}

/// Where an id is connected: "A (conn 3), B (conn 9)", or "offline".
fn places(sessions: &[Location]) -> String {
    if sessions.is_empty() {
        return paint(DIM, "offline");
    }
    sessions
        .iter()
        .map(|l| format!("{} (conn {})", l.server, l.conn))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Label and value lines, labels padded to one width.
fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{}  {v}\n", header(&format!("{k:<width$}"))))
        .collect()
}

fn topic_text(r: &TopicResult) -> String {
    let mut out = fields(&[
        ("topic", r.name.clone()),
        ("home", r.home.clone()),
        ("creator", r.creator.clone()),
        ("created", time(r.created_at_ms)),
        ("members", r.total_members.to_string()),
    ]);
    out.push('\n');
    let mut t = Table::new(&["MEMBER", "CONNECTED_AT"]);
    for m in &r.members {
        t.row(vec![m.id.clone(), places(&m.sessions)]);
    }
    out.push_str(&t.render(header));
    if r.total_members > r.members.len() as u64 {
        out.push_str(&paint(
            DIM,
            &format!("showing {} of {} members", r.members.len(), r.total_members),
        ));
        out.push('\n');
    }
    out
}

fn user_text(r: &UserResult) -> String {
    let mut rows = vec![
        ("user", r.id.clone()),
        ("connected at", places(&r.sessions)),
        ("inbox", format!("{} waiting", plural(r.pending, "message"))),
    ];
    match &r.client {
        Some(c) => rows.push((
            "last seen",
            format!(
                "{} ({}) from {} on {}",
                time(c.last_seen_ms),
                if c.alive { "logged in" } else { "logged out" },
                c.client_addr,
                c.msg_server
            ),
        )),
        None => rows.push(("last seen", paint(DIM, "never (no record)"))),
    }
    fields(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fishchat_cluster::protocol::inspect::{ClientInfo, MemberInfo, TopicInfo};

    fn plain(s: &str) -> String {
        anstream::adapter::strip_str(s).to_string()
    }

    #[test]
    fn sessions_are_a_table_with_a_summary() {
        let rows = vec![
            SessionRow {
                id: "alice".into(),
                server: "127.0.0.1:19000".into(),
                conn: 3,
                client_addr: "127.0.0.1:40000".into(),
                since_ms: 0,
            },
            SessionRow {
                id: "alice".into(),
                server: "127.0.0.1:19001".into(),
                conn: 12,
                client_addr: "127.0.0.1:40001".into(),
                since_ms: 0,
            },
        ];
        let text = plain(&sessions_text(&rows));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("ID     MSG_SERVER       CONN  CLIENT_ADDR      SINCE"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("alice  127.0.0.1:19000     3  127.0.0.1:40000  "),
            "{text}"
        );
        assert!(
            lines[2].starts_with("alice  127.0.0.1:19001    12  "),
            "{text}"
        );
        assert_eq!(lines[3], "2 connections of 1 id on 2 msg_servers");
        assert_eq!(sessions_text(&[]), "no one is logged in\n");
    }

    #[test]
    fn servers_show_numbers_and_what_is_down() {
        let up = RoleRow {
            role: "msg_server".into(),
            addr: "127.0.0.1:19000".into(),
            up: true,
            status: Some(
                json!({"connections": 2, "clients": 1, "topics_here": 0, "msg_in": 5,
                "msg_out": 4, "acks": 3, "pending_acks": 1, "uptime_secs": 3725, "store": "embedded"}),
            ),
            error: None,
        };
        let down = RoleRow {
            role: "msg_server".into(),
            addr: "127.0.0.1:19001".into(),
            up: false,
            status: None,
            error: Some("cannot reach msg_server 127.0.0.1:19001".into()),
        };
        let router = RoleRow {
            role: "router".into(),
            addr: "127.0.0.1:20000".into(),
            up: true,
            status: Some(
                json!({"routed_p2p": 7, "routed_topic": 1, "routed_receipts": 2,
                "unroutable": 0, "msg_servers": [{"addr": "a", "up": true}, {"addr": "b", "up": false}]}),
            ),
            error: None,
        };
        let text = plain(&servers_text(&[up, down], &[router]));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("127.0.0.1:19000  up") && lines[1].contains("1h02m  embedded"),
            "{text}"
        );
        assert!(
            lines[1].contains("      -  "),
            "no offline depth known: {text}"
        );
        assert_eq!(lines[2], "127.0.0.1:19001  down");
        assert!(
            text.contains("routed p2p 7, topic 1, receipts 2; unroutable 0; msg_servers up 1/2"),
            "{text}"
        );
        assert!(
            text.ends_with("cannot reach msg_server 127.0.0.1:19001\n"),
            "{text}"
        );
    }

    #[test]
    fn a_topic_lists_its_members_and_where_they_are() {
        let r = TopicResult {
            name: "news".into(),
            creator: "alice".into(),
            home: "127.0.0.1:19000".into(),
            created_at_ms: 0,
            members: vec![
                MemberInfo {
                    id: "alice".into(),
                    sessions: vec![Location {
                        server: "127.0.0.1:19000".into(),
                        conn: 3,
                    }],
                },
                MemberInfo {
                    id: "bob".into(),
                    sessions: vec![],
                },
            ],
            total_members: 2,
        };
        let text = plain(&topic_text(&r));
        assert!(
            text.starts_with("topic    news\nhome     127.0.0.1:19000\n"),
            "{text}"
        );
        assert!(
            text.contains("alice   127.0.0.1:19000 (conn 3)\n"),
            "{text}"
        );
        assert!(text.contains("bob     offline\n"), "{text}");
    }

    #[test]
    fn a_user_says_where_it_is_and_what_waits() {
        let r = UserResult {
            id: "carol".into(),
            sessions: vec![],
            pending: 1,
            client: None,
        };
        let text = plain(&user_text(&r));
        assert!(text.contains("connected at  offline\n"), "{text}");
        assert!(text.contains("inbox         1 message waiting\n"), "{text}");
        assert!(text.contains("never"), "{text}");
        let r = UserResult {
            client: Some(ClientInfo {
                client_addr: "127.0.0.1:5".into(),
                msg_server: "127.0.0.1:19000".into(),
                alive: true,
                last_seen_ms: 0,
            }),
            ..r
        };
        assert!(plain(&user_text(&r)).contains("(logged in) from 127.0.0.1:5 on 127.0.0.1:19000"));
    }

    #[test]
    fn topics_say_when_the_list_was_cut() {
        let r = TopicsResult {
            topics: vec![TopicInfo {
                name: "news".into(),
                creator: "alice".into(),
                home: "h:1".into(),
                created_at_ms: 0,
                members: 3,
            }],
            total: 20_000,
        };
        let text = plain(&topics_table(&r));
        assert!(text.contains("news   h:1   alice"), "{text}");
        assert!(text.ends_with("showing 1 of 20000 topics\n"), "{text}");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(192), "3m12s");
        assert_eq!(duration(3725), "1h02m");
        assert_eq!(duration(2 * 86400 + 3 * 3600), "2d03h");
    }
}
