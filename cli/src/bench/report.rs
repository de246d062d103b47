//! The result of a run: one JSON object (`--json`) or a table for people.

use std::fmt::Write;

use serde::Serialize;

use super::stats::Snapshot;

/// Latency percentiles in milliseconds; absent when nothing was delivered.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn from_snapshot(s: &Snapshot) -> Option<Latency> {
        let ms = |q: f64| s.quantile(q).map(|ns| ns as f64 / 1e6);
        Some(Latency {
            p50: ms(0.5)?,
            p90: ms(0.9)?,
            p99: ms(0.99)?,
            p999: ms(0.999)?,
            max: s.max()? as f64 / 1e6,
        })
    }
}

/// Everything a run measured. The fields the issue names (`scenario`, `clients`,
/// `duration_s`, `sent`, `delivered`, `lost`, `duplicates`, `msgs_per_sec`,
/// `latency_ms`, `rss_per_conn_bytes`) are always there, `null` where not measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    /// The protocol level the tool's connections spoke: "original" (only the original's
    /// commands, as any FishChat server takes them) or "fishchat" (`HELLO` first).
    pub level: String,
    /// What was measured: "gateway 127.0.0.1:17000", "floor (in-process echo server)".
    pub target: String,
    /// The msg_servers the clients were on.
    pub msg_servers: Vec<String>,
    /// p2p and topic: receivers on other msg_servers than senders.
    pub across: bool,
    pub clients: usize,
    /// Connections held open (the connect scenario; the others hold `clients`).
    pub connections: u64,
    /// Topic members.
    pub members: Option<usize>,
    /// Messages in flight per sender (connect: logins at once).
    pub window: usize,
    /// Message body size in bytes.
    pub size: usize,
    /// Seconds over which `msgs_per_sec` was measured; connect: how long the connections
    /// were held (its rate is over the logins, before the hold).
    pub duration_s: f64,
    /// Messages written (topic: each counts once, however many members).
    pub sent: u64,
    /// Deliveries that should happen: `sent` times receivers per message.
    pub expected: u64,
    /// Distinct deliveries, the drain after the run included.
    pub delivered: u64,
    /// Expected deliveries that never came, even after the drain.
    pub lost: u64,
    /// Deliveries of a message a receiver already had.
    pub duplicates: u64,
    /// `ERROR` frames, unreadable frames, connections lost during the run.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Distinct deliveries per second during `duration_s` (connect: logins per second).
    pub msgs_per_sec: f64,
    /// From send to delivery (connect: from connect to login confirmed).
    pub latency_ms: Option<Latency>,
    /// The connect scenario: connections set up per second.
    pub connects_per_sec: Option<f64>,
    /// The server's resident memory per held connection, with `--server-pid`.
    pub rss_per_conn_bytes: Option<u64>,
    pub server_rss_before_bytes: Option<u64>,
    pub server_rss_after_bytes: Option<u64>,
    /// Which limit stopped the run short of its goal, where one did.
    pub stopped_by: Option<String>,
    /// The 1-minute load average at the start and the end: other work skews the figures.
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    pub cpus: usize,
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: u64) -> String {
    if n >= 10 * 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 10 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

impl Report {
    /// The table shown on a terminal.
    pub fn table(&self) -> String {
        let mut rows: Vec<(&str, String)> = vec![
            ("scenario", self.scenario.clone()),
            ("level", self.level.clone()),
            ("target", self.target.clone()),
        ];
        if !self.msg_servers.is_empty() {
            let across = if self.across { " (across)" } else { "" };
            rows.push((
                "msg_servers",
                format!("{}{across}", self.msg_servers.join(", ")),
            ));
        }
        rows.push(("clients", count(self.clients as u64)));
        if self.connections as usize != self.clients {
            rows.push(("connections", count(self.connections)));
        }
        if let Some(m) = self.members {
            rows.push(("members", count(m as u64)));
        }
        rows.push(("window", count(self.window as u64)));
        rows.push(("size", format!("{} B", self.size)));
        rows.push(("duration", format!("{:.2} s", self.duration_s)));
        rows.push(("sent", count(self.sent)));
        if self.expected != self.sent {
            rows.push(("expected", count(self.expected)));
        }
        rows.push(("delivered", count(self.delivered)));
        rows.push(("lost", count(self.lost)));
        rows.push(("duplicates", count(self.duplicates)));
        rows.push(("errors", count(self.errors)));
        if let Some(e) = &self.first_error {
            rows.push(("first error", e.clone()));
        }
        let unit = if self.scenario == "connect" {
            "logins/s"
        } else {
            "msgs/s"
        };
        rows.push((
            "throughput",
            format!("{} {unit}", count(self.msgs_per_sec as u64)),
        ));
        if let Some(c) = self.connects_per_sec {
            rows.push(("connects", format!("{} /s", count(c as u64))));
        }
        match &self.latency_ms {
            Some(l) => rows.push((
                "latency",
                format!(
                    "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
                    l.p50, l.p90, l.p99, l.p999, l.max
                ),
            )),
            None => rows.push(("latency", "-".into())),
        }
        if let (Some(b), Some(a)) = (self.server_rss_before_bytes, self.server_rss_after_bytes) {
            rows.push(("server rss", format!("{} -> {}", bytes(b), bytes(a))));
        }
        if let Some(r) = self.rss_per_conn_bytes {
            rows.push(("rss/conn", bytes(r)));
        }
        if let Some(s) = &self.stopped_by {
            rows.push(("stopped by", s.clone()));
        }
        let load = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.2}"));
        rows.push((
            "machine",
            format!(
                "{} cpus, load {} -> {}",
                self.cpus,
                load(self.load_before),
                load(self.load_after)
            ),
        ));
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            let _ = writeln!(out, "  {k:<width$}  {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::Histogram;

    fn sample() -> Report {
        let h = Histogram::new();
        for us in 1..=1000 {
            h.record(us * 1000);
        }
        Report {
            scenario: "p2p".into(),
            level: "original".into(),
            target: "cluster file x".into(),
            msg_servers: vec!["127.0.0.1:1".into()],
            across: false,
            clients: 4,
            connections: 4,
            members: None,
            window: 8,
            size: 64,
            duration_s: 1.0,
            sent: 12345,
            expected: 12345,
            delivered: 12345,
            lost: 0,
            duplicates: 0,
            errors: 0,
            first_error: None,
            msgs_per_sec: 12345.0,
            latency_ms: Latency::from_snapshot(&h.snapshot()),
            connects_per_sec: None,
            rss_per_conn_bytes: Some(5000),
            server_rss_before_bytes: Some(1 << 20),
            server_rss_after_bytes: Some(2 << 20),
            stopped_by: None,
            load_before: Some(0.5),
            load_after: None,
            cpus: 2,
        }
    }

    #[test]
    fn json_has_the_fields_the_issue_names() {
        let v = serde_json::to_value(sample()).unwrap();
        for k in [
            "scenario",
            "clients",
            "duration_s",
            "sent",
            "delivered",
            "lost",
            "duplicates",
            "msgs_per_sec",
            "rss_per_conn_bytes",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        let l = &v["latency_ms"];
        assert!((l["p50"].as_f64().unwrap() - 0.5).abs() < 0.01, "{l}");
        assert!(l["p99"].is_number() && l["p999"].is_number());
    }

    #[test]
    fn table_shows_counts_readably() {
        let t = sample().table();
        assert!(t.contains("12,345"), "{t}");
        assert!(t.contains("p99"), "{t}");
        assert!(t.contains("rss/conn"), "{t}");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(999), "999");
    }
}
