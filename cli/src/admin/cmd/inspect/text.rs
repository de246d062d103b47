//! `fishchat-admin inspect`'s findings as text for a terminal: tables, labelled fields,
//! colours (stripped where colour is off).

use anstyle::{AnsiColor, Style};
use chrono::{Local, TimeZone};
use fishchat_cli::table::Table;
use fishchat_cluster::protocol::account::DeviceInfo;
use fishchat_cluster::protocol::inspect::{Location, TopicResult, TopicsResult, UserResult};
use serde::Serialize;
use serde_json::Value;

const GOOD: Style = AnsiColor::Green.on_default();
const BAD: Style = AnsiColor::Red.on_default();
const HEAD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub(crate) fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

pub(crate) fn header(s: &str) -> String {
    paint(HEAD, s)
}

/// One role's answer to `ROLE_STATUS`.
#[derive(Debug, Serialize)]
pub(super) struct RoleRow {
    pub(super) role: String,
    pub(super) addr: String,
    pub(super) up: bool,
    pub(super) status: Option<Value>,
    pub(super) error: Option<String>,
}

pub(super) fn servers_text(msg_servers: &[RoleRow], roles: &[RoleRow]) -> String {
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

pub(super) fn state(up: bool) -> String {
    if up {
        paint(GOOD, "up")
    } else {
        paint(BAD, "down")
    }
}

/// A number from a status, or "-" where it has none.
pub(super) fn number(v: &Value) -> String {
    v.as_u64()
        .map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// What matters of a gateway, router, manager or monitor, in a few words.
pub(super) fn role_detail(role: &str, s: &Value) -> String {
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
pub(super) fn duration(secs: u64) -> String {
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
pub(crate) fn time(ms: u64) -> String {
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
pub(super) struct SessionRow {
    pub(super) id: String,
    pub(super) server: String,
    pub(super) conn: u64,
    pub(super) client_addr: String,
    pub(super) since_ms: u64,
    /// The connection's protocol level: "original" or "fishchat".
    pub(super) level: String,
    /// What the client called itself in `HELLO`.
    pub(super) client_name: Option<String>,
}

pub(super) fn sessions_text(rows: &[SessionRow]) -> String {
    if rows.is_empty() {
        return "no one is logged in\n".into();
    }
    let mut t = Table::new(&[
        "ID",
        "MSG_SERVER",
        "CONN",
        "CLIENT_ADDR",
        "LEVEL",
        "CLIENT",
        "SINCE",
    ])
    .right(&[2]);
    for r in rows {
        t.row(vec![
            r.id.clone(),
            r.server.clone(),
            r.conn.to_string(),
            r.client_addr.clone(),
            r.level.clone(),
            r.client_name.clone().unwrap_or_else(|| "-".into()),
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
pub(crate) fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub(super) fn topics_text_footer(r: &TopicsResult) -> String {
    if r.total > r.topics.len() as u64 {
        format!("showing {} of {} topics", r.topics.len(), r.total)
    } else {
        plural(r.total, "topic")
    }
}

pub(super) fn topics_table(r: &TopicsResult) -> String {
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
pub(super) fn places(sessions: &[Location]) -> String {
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
pub(crate) fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{}  {v}\n", header(&format!("{k:<width$}"))))
        .collect()
}

pub(super) fn topic_text(r: &TopicResult) -> String {
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

pub(super) fn user_text(r: &UserResult) -> String {
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
    match &r.account {
        Some(a) => {
            rows.push((
                "account",
                format!(
                    "claimed {} · {}",
                    time(a.created_at_ms),
                    plural(a.devices.len() as u64, "device")
                ),
            ));
            let mut out = fields(&rows);
            if !a.devices.is_empty() {
                out.push('\n');
                out.push_str(&devices_table(&a.devices));
            }
            out
        }
        None => {
            rows.push((
                "account",
                paint(DIM, "none: unclaimed, anyone may use this id"),
            ));
            fields(&rows)
        }
    }
}

/// An account's devices: never a token or a hash, only what the owner sees in /devices.
pub(crate) fn devices_table(devices: &[DeviceInfo]) -> String {
    let mut t = Table::new(&["DEVICE", "NAME", "CREATED", "LAST_USED"]);
    for d in devices {
        t.row(vec![
            d.device_id.clone(),
            d.name.clone(),
            time(d.created_at_ms),
            time(d.last_used_ms),
        ]);
    }
    t.render(header)
}
