//! `/metrics` in the Prometheus text format (version 0.0.4): per msg_server sessions,
//! messages, deliveries, acks, pending acks; the store's offline queue; the other roles.
//!
//! A msg_server that is down reports only `fishchat_msg_server_up 0`: its other series
//! stop, as Prometheus expects of a target that went away.

use std::fmt::Write;

use super::collect::{RoleView, ServerView, Totals};

/// The `Content-Type` of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&ServerView) -> Option<f64>,
}

const PER_SERVER: &[Family] = &[
    Family {
        name: "fishchat_sessions",
        kind: "gauge",
        help: "Logged-in connections on the msg_server.",
        value: |v| v.sessions.map(|n| n as f64),
    },
    Family {
        name: "fishchat_clients",
        kind: "gauge",
        help: "Distinct logged-in client ids on the msg_server.",
        value: |v| v.clients.map(|n| n as f64),
    },
    Family {
        name: "fishchat_topics",
        kind: "gauge",
        help: "Topics whose home is the msg_server.",
        value: |v| v.topics.map(|n| n as f64),
    },
    Family {
        name: "fishchat_messages_received_total",
        kind: "counter",
        help: "Messages (p2p and topic) the msg_server received from clients since it started.",
        value: |v| v.msg_in.map(|n| n as f64),
    },
    Family {
        name: "fishchat_deliveries_total",
        kind: "counter",
        help: "Messages the msg_server wrote to clients (p2p, topic, offline replay) since it started.",
        value: |v| v.msg_out.map(|n| n as f64),
    },
    Family {
        name: "fishchat_acks_total",
        kind: "counter",
        help: "P2P_ACKs the msg_server received since it started.",
        value: |v| v.acks.map(|n| n as f64),
    },
    Family {
        name: "fishchat_pending_acks",
        kind: "gauge",
        help: "p2p messages written to the msg_server's connections and not acked by them yet.",
        value: |v| v.pending_acks.map(|n| n as f64),
    },
    Family {
        name: "fishchat_slow_drops_total",
        kind: "counter",
        help: "Connections the msg_server cut off for not reading.",
        value: |v| v.slow_drops.map(|n| n as f64),
    },
    Family {
        name: "fishchat_original_drops_total",
        kind: "counter",
        help: "Frames from original-level clients the msg_server dropped instead of answering ERROR.",
        value: |v| v.original_drops.map(|n| n as f64),
    },
    Family {
        name: "fishchat_messages_received_per_second",
        kind: "gauge",
        help: "Messages received from clients per second over the last beat period.",
        value: |v| v.msg_in_per_sec,
    },
    Family {
        name: "fishchat_deliveries_per_second",
        kind: "gauge",
        help: "Messages written to clients per second over the last beat period.",
        value: |v| v.msg_out_per_sec,
    },
    Family {
        name: "fishchat_uptime_seconds",
        kind: "gauge",
        help: "Seconds since the msg_server started.",
        value: |v| v.uptime_secs.map(|n| n as f64),
    },
];

/// Renders every metric.
pub fn render(servers: &[ServerView], totals: &Totals, roles: &[RoleView]) -> String {
    let mut out = String::with_capacity(4096);
    header(
        &mut out,
        "fishchat_msg_server_up",
        "gauge",
        "Whether the msg_server is up (linked, beats arriving): 1 or 0.",
    );
    for v in servers {
        line(
            &mut out,
            "fishchat_msg_server_up",
            &[("server", &v.addr)],
            if v.up { 1.0 } else { 0.0 },
        );
    }
    for f in PER_SERVER {
        header(&mut out, f.name, f.kind, f.help);
        for v in servers.iter().filter(|v| v.up) {
            if let Some(x) = (f.value)(v) {
                line(&mut out, f.name, &[("server", &v.addr)], x);
            }
        }
    }
    header(
        &mut out,
        "fishchat_offline_depth",
        "gauge",
        "Messages waiting in the store's inboxes (the offline queue) until acked, cluster-wide.",
    );
    if let Some(d) = totals.offline_depth {
        line(&mut out, "fishchat_offline_depth", &[], d as f64);
    }
    header(
        &mut out,
        "fishchat_msg_servers",
        "gauge",
        "msg_servers the monitor watches.",
    );
    line(
        &mut out,
        "fishchat_msg_servers",
        &[],
        totals.msg_servers as f64,
    );
    header(
        &mut out,
        "fishchat_role_up",
        "gauge",
        "Whether the role answered its last ROLE_STATUS: 1 or 0.",
    );
    for r in roles {
        line(
            &mut out,
            "fishchat_role_up",
            &[("role", &r.role), ("addr", &r.addr)],
            if r.up { 1.0 } else { 0.0 },
        );
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn line(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value with `\`, `"` and newlines escaped, as the format wants.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::monitor::collect::totals;

    fn view(addr: &str, up: bool) -> ServerView {
        ServerView {
            addr: addr.into(),
            up,
            since_ms: None,
            last_beat_ms_ago: Some(5),
            down_reason: None,
            sessions: up.then_some(3),
            clients: up.then_some(2),
            topics: up.then_some(1),
            pending_acks: up.then_some(4),
            msg_in_per_sec: up.then_some(2.5),
            msg_out_per_sec: up.then_some(0.0),
            uptime_secs: up.then_some(60),
            msg_in: Some(12),
            msg_out: Some(7),
            acks: Some(3),
            slow_drops: Some(0),
            original_drops: Some(2),
            offline_depth: Some(9),
            beats: 4,
        }
    }

    #[test]
    fn renders_each_family_once_with_its_servers() {
        let servers = [
            view("127.0.0.1:19000", true),
            view("127.0.0.1:19001", false),
        ];
        let roles = [RoleView::new("router", "127.0.0.1:20000")];
        let text = render(&servers, &totals(&servers), &roles);
        for want in [
            "fishchat_msg_server_up{server=\"127.0.0.1:19000\"} 1\n",
            "fishchat_msg_server_up{server=\"127.0.0.1:19001\"} 0\n",
            "fishchat_sessions{server=\"127.0.0.1:19000\"} 3\n",
            "fishchat_messages_received_total{server=\"127.0.0.1:19000\"} 12\n",
            "fishchat_deliveries_total{server=\"127.0.0.1:19000\"} 7\n",
            "fishchat_pending_acks{server=\"127.0.0.1:19000\"} 4\n",
            "fishchat_messages_received_per_second{server=\"127.0.0.1:19000\"} 2.5\n",
            "fishchat_offline_depth 9\n",
            "fishchat_role_up{role=\"router\",addr=\"127.0.0.1:20000\"} 0\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(!text.contains("fishchat_sessions{server=\"127.0.0.1:19001\"}"));
        // Every sample belongs to a family declared just before it, each declared once.
        let mut declared = std::collections::HashSet::new();
        let mut current = String::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap().to_string();
                assert!(declared.insert(name.clone()), "{name} declared twice");
                current = name;
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                assert_eq!(name, current, "sample {l:?} outside its family");
                let value = l.rsplit(' ').next().unwrap();
                value
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("bad value in {l:?}"));
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("a\nb"), "a\\nb");
    }
}
