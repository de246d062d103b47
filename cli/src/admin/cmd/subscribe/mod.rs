//! `fishchat-admin subscribe CHANNEL...`: watch the internal channels of every msg_server
//! (or those named with `--server`) and print each event as it comes.
//!
//! Each msg_server gets its own link (`fishchat_cluster::link`), which subscribes with the
//! cluster secret and reconnects with backoff; their events are merged into one stream. A
//! msg_server that is down, or goes down, is reported on stderr and retried while the others
//! keep streaming. One that refuses the secret is reported and left alone (retrying cannot
//! help); when every one has refused, the command fails.
//!
//! On a terminal each event is one readable line ([`Printer::human`]); with `--json` or when
//! piped, one JSON object per line ([`Printer::json`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use anyhow::{bail, Result};
use chrono::{DateTime, Local, SecondsFormat, Utc};
use clap::Args;
use fishchat_cli::target::{Target, TargetArgs};
use fishchat_cluster::config::{Common, LinkConfig};
use fishchat_cluster::link::{self, LinkEvent};
use fishchat_cluster::protocol::events::{DropEvent, SessionEvent, TopicEvent};
use fishchat_cluster::protocol::{Channel, Command};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The subscriber id we give the msg_servers (they log it).
const SUBSCRIBER: &str = "fishchat-admin";
/// The longest frame we accept: a routed message can be as long as the msg_server allows.
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// Watch internal channels and print every event as it comes.
///
/// CHANNEL is a channel's name (/sysctrl/client-status, /sysctrl/topic-status,
/// /sysctrl/topic-sync, /sysctrl/send, /sysctrl/monitor, /store/client-info,
/// /store/topic-info), a pattern ending in * (/sysctrl/*, /store/*), or `all`.
///
/// On a terminal: one line per event (time, msg_server, channel, what happened). With --json
/// or when piped: one JSON object per line, {"server", "channel", "time", "event"}, where
/// `event` is the frame as sent ({"CmdName", "Args", "AnyData"}, or the bare monitor beat)
/// and `time` when it arrived (RFC 3339, UTC). A msg_server that is down is reported on
/// stderr and retried. Ctrl-C stops (exit 0).
#[derive(Debug, Args)]
pub struct Subscribe {
    /// The channels to watch.
    #[arg(required = true, value_name = "CHANNEL")]
    channels: Vec<String>,

    /// One JSON object per line (the default when stdout is not a terminal).
    #[arg(long)]
    json: bool,

    /// Exit after N events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,

    /// Show message bodies. Without it the body of a p2p or topic message is shown as
    /// `<hidden: N bytes>`, on the terminal and in JSON alike.
    #[arg(long)]
    bodies: bool,

    #[command(flatten)]
    target: TargetArgs,
}

/// One msg_server's link, as far as this command cares.
struct Watched {
    addr: String,
    stop: CancellationToken,
    refused: bool,
}

impl Subscribe {
    pub async fn run(self) -> Result<ExitCode> {
        let channels = parse_channels(&self.channels)?;
        let target = self.target.resolve()?;
        let json = self.json || !std::io::stdout().is_terminal();
        let width = target
            .msg_servers
            .iter()
            .map(|s| s.len())
            .max()
            .unwrap_or(0);
        let mut printer = Printer::new(self.bodies, width);

        let shutdown = CancellationToken::new();
        let _stop_links = shutdown.clone().drop_guard();
        let (tx, mut events) = mpsc::channel::<(usize, LinkEvent)>(1024);
        let mut watched = Vec::new();
        for (i, addr) in target.msg_servers.iter().enumerate() {
            let stop = shutdown.child_token();
            let cfg = LinkConfig::new(
                Common {
                    secret: target.secret.as_ref().map(|s| s.value.clone()),
                    max_frame: MAX_FRAME,
                },
                SUBSCRIBER,
            );
            let (_handle, mut rx) = link::spawn(addr, channels.clone(), cfg, stop.clone());
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(ev) = rx.recv().await {
                    if tx.send((i, ev)).await.is_err() {
                        return;
                    }
                }
            });
            watched.push(Watched {
                addr: addr.clone(),
                stop,
                refused: false,
            });
        }
        drop(tx);

        let names: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        let mut out = anstream::stdout();
        let mut seen = 0u64;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let (i, event) = tokio::select! {
                _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
                e = events.recv() => match e {
                    Some(e) => e,
                    None => bail!("every link to the msg_servers ended"),
                },
            };
            let addr = watched[i].addr.clone();
            let refused = event.is_secret_refused();
            let (channel, frame) = match event {
                LinkEvent::Up => {
                    notice(
                        &addr,
                        width,
                        paint(GOOD, &format!("subscribed to {}", names.join(" "))),
                    );
                    continue;
                }
                LinkEvent::Down { reason } if refused => {
                    let detail = reason
                        // "subscription refused: FORBIDDEN wrong cluster secret": the last words.
                        .strip_prefix("subscription refused: FORBIDDEN ")
                        .unwrap_or(&reason);
                    watched[i].stop.cancel();
                    watched[i].refused = true;
                    if watched.iter().all(|w| w.refused) {
                        bail!("{}", refusal(&target, &watched, detail));
                    }
                    notice(
                        &addr,
                        width,
                        paint(
                            BAD,
                            &format!("{}; not retrying it", target.refused(&addr, detail)),
                        ),
                    );
                    continue;
                }
                LinkEvent::Down { reason } => {
                    notice(
                        &addr,
                        width,
                        paint(BAD, &format!("down: {reason}; retrying")),
                    );
                    continue;
                }
                LinkEvent::Command(c) => (channel_of(&c), Frame::Command(c)),
                LinkEvent::Beat(m) => (Some(Channel::Monitor), Frame::Beat(m)),
            };
            let line = if json {
                printer.json(&addr, channel, Utc::now(), &frame)
            } else {
                printer.human(&addr, channel, Local::now(), &frame)
            };
            if let Err(e) = writeln!(out, "{line}") {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    // The reader went away (`| head`): nothing left to do.
                    return Ok(ExitCode::SUCCESS);
                }
                bail!("cannot write to stdout: {e}");
            }
            seen += 1;
            if self.count.is_some_and(|n| seen >= n) {
                let _ = out.flush();
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// The error when every msg_server refused the secret.
fn refusal(target: &Target, watched: &[Watched], detail: &str) -> String {
    let msg = target.refused(&watched[0].addr, detail);
    if watched.len() == 1 {
        msg
    } else {
        // "msg_server A refused ..." reads as "every msg_server (A, B) refused ...".
        let all: Vec<&str> = watched.iter().map(|w| w.addr.as_str()).collect();
        msg.replacen(
            &format!("msg_server {}", watched[0].addr),
            &format!("every msg_server ({})", all.join(", ")),
            1,
        )
    }
}

/// A line on stderr about a msg_server's link (always for people, whatever stdout is).
fn notice(server: &str, width: usize, text: String) {
    let time = Local::now().format("%H:%M:%S%.3f").to_string();
    let _ = writeln!(
        anstream::stderr(),
        "{}  {}  {text}",
        paint(DIM, &time),
        paint(SERVER, &format!("{server:<width$}"))
    );
}

/// The channels named by `patterns`, each once, in a fixed order.
pub fn parse_channels(patterns: &[String]) -> Result<Vec<Channel>> {
    let mut chosen = BTreeSet::new();
    for p in patterns {
        if p == "all" {
            chosen.extend(Channel::ALL);
        } else if let Some(prefix) = p.strip_suffix('*') {
            let matched: Vec<Channel> = Channel::ALL
                .into_iter()
                .filter(|c| c.as_str().starts_with(prefix))
                .collect();
            if matched.is_empty() {
                let all: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                bail!("{p:?} matches no channel; channels are {}", all.join(", "));
            }
            chosen.extend(matched);
        } else {
            let c: Channel = p.parse().map_err(|e| {
                anyhow::anyhow!("{e}; or a pattern such as /sysctrl/* or /store/*, or all")
            })?;
            chosen.insert(c);
        }
    }
    Ok(chosen.into_iter().collect())
}

/// The channel an event travels on: each kind of event has exactly one.
fn channel_of(c: &Command) -> Option<Channel> {
    Some(match c {
        Command::CacheSession { .. } | Command::FrameDropped { .. } => Channel::ClientStatus,
        Command::StoreSession { .. } => Channel::StoreClientInfo,
        Command::CacheTopic { .. } => Channel::TopicStatus,
        Command::StoreTopic { .. } => Channel::StoreTopicInfo,
        Command::SendMessageP2p { .. } | Command::P2pDelivered { .. } => Channel::Send,
        Command::SendMessageTopic { .. } => Channel::TopicSync,
        _ => return None,
    })
}

/// What arrived.
#[derive(Debug, Clone)]
pub enum Frame {
    Command(Command),
    /// The bare monitor beat.
    Beat(Map<String, Value>),
}

const DIM: Style = Style::new().dimmed();
const SERVER: Style = AnsiColor::Cyan.on_default();
const CHANNEL: Style = AnsiColor::Blue.on_default();
const GOOD: Style = AnsiColor::Green.on_default();
const WARN: Style = AnsiColor::Yellow.on_default();
const BAD: Style = AnsiColor::Red.on_default();
const NAME: Style = Style::new().bold();

/// `text` in `style`; the codes are stripped on the way out where colour is off (not a
/// terminal, NO_COLOR).
fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Turns events into lines, remembering each topic's members to tell who joined.
pub struct Printer {
    bodies: bool,
    server_width: usize,
    members: BTreeMap<(Option<Channel>, String), BTreeSet<String>>,
}

/// The longest channel name, for the column.
const CHANNEL_WIDTH: usize = 22;
/// How many member names a topic line lists before "and N more".
const NAMES_SHOWN: usize = 5;

impl Printer {
    pub fn new(bodies: bool, server_width: usize) -> Printer {
        Printer {
            bodies,
            server_width,
            members: BTreeMap::new(),
        }
    }

    /// `{"server", "channel", "time", "event"}` on one line.
    pub fn json(
        &mut self,
        server: &str,
        channel: Option<Channel>,
        time: DateTime<Utc>,
        frame: &Frame,
    ) -> String {
        let event = match frame {
            Frame::Beat(m) => Value::Object(m.clone()),
            Frame::Command(c) => {
                let c = if self.bodies { c.clone() } else { hide_body(c) };
                serde_json::to_value(c.to_envelope()).unwrap_or(Value::Null)
            }
        };
        json!({
            "server": server,
            "channel": channel.map(Channel::as_str),
            "time": time.to_rfc3339_opts(SecondsFormat::Millis, true),
            "event": event,
        })
        .to_string()
    }

    /// `time  server  channel  what happened`, styled.
    pub fn human(
        &mut self,
        server: &str,
        channel: Option<Channel>,
        time: DateTime<Local>,
        frame: &Frame,
    ) -> String {
        let width = self.server_width;
        let ch = channel.map_or("?", Channel::as_str);
        format!(
            "{}  {}  {}  {}",
            paint(DIM, &time.format("%H:%M:%S%.3f").to_string()),
            paint(SERVER, &format!("{server:<width$}")),
            paint(CHANNEL, &format!("{ch:<CHANNEL_WIDTH$}")),
            self.summary(channel, frame)
        )
    }

    fn summary(&mut self, channel: Option<Channel>, frame: &Frame) -> String {
        let c = match frame {
            Frame::Beat(m) => return beat(m),
            Frame::Command(c) => c,
        };
        match c {
            Command::CacheSession { id, data } | Command::StoreSession { id, data } => {
                let ev: SessionEvent = serde_json::from_value(data.clone()).unwrap_or_default();
                let conn = if ev.id.is_empty() {
                    String::new()
                } else {
                    format!(" (conn {})", ev.id)
                };
                if ev.alive {
                    format!(
                        "{} {} from {}{conn}",
                        paint(NAME, id),
                        paint(GOOD, "logged in"),
                        ev.client_addr
                    )
                } else {
                    format!("{} {}{conn}", paint(NAME, id), paint(WARN, "logged out"))
                }
            }
            Command::CacheTopic { topic, data } | Command::StoreTopic { topic, data } => {
                let ev: TopicEvent = serde_json::from_value(data.clone()).unwrap_or_default();
                let now: BTreeSet<String> = ev.member_list.into_iter().map(|m| m.id).collect();
                let n = now.len();
                let before = self.members.insert((channel, topic.clone()), now.clone());
                let t = paint(NAME, topic);
                match before {
                    Some(before) => {
                        let joined: Vec<&str> =
                            now.difference(&before).map(String::as_str).collect();
                        if joined.is_empty() {
                            format!("{t}: {n} members")
                        } else {
                            format!(
                                "{} {} {t} ({n} members)",
                                names(&joined),
                                paint(GOOD, "joined")
                            )
                        }
                    }
                    None if n == 1 && now.contains(&ev.creater_id) => format!(
                        "{} {} {t} (home {})",
                        paint(NAME, &ev.creater_id),
                        paint(GOOD, "created"),
                        ev.msg_server_addr
                    ),
                    None => {
                        let all: Vec<&str> = now.iter().map(String::as_str).collect();
                        format!(
                            "{t}: {n} members: {} (home {})",
                            names(&all),
                            ev.msg_server_addr
                        )
                    }
                }
            }
            Command::SendMessageP2p {
                to,
                msg,
                from,
                uuid,
                ..
            } => format!(
                "{} → {}  {}  {}",
                paint(NAME, from.as_deref().unwrap_or("?")),
                paint(NAME, to),
                paint(DIM, short(uuid.as_deref().unwrap_or(""))),
                self.body(msg)
            ),
            Command::SendMessageTopic {
                topic,
                msg,
                from,
                uuid,
            } => format!(
                "{} → topic {}  {}  {}",
                paint(NAME, from.as_deref().unwrap_or("?")),
                paint(NAME, topic),
                paint(DIM, short(uuid.as_deref().unwrap_or(""))),
                self.body(msg)
            ),
            Command::P2pDelivered { uuid, to, from } => format!(
                "{} {} {}'s message  {}",
                paint(NAME, to),
                paint(GOOD, "acked"),
                from.as_deref().unwrap_or("?"),
                paint(DIM, short(uuid))
            ),
            Command::FrameDropped { code, data } => {
                let ev: DropEvent = serde_json::from_value(data.clone()).unwrap_or_default();
                let who = if ev.client_id.is_empty() {
                    format!("conn {} from {}", ev.id, ev.client_addr)
                } else {
                    format!("{} (conn {})", paint(NAME, &ev.client_id), ev.id)
                };
                let times = if ev.dropped > 1 {
                    format!(" ×{}", ev.dropped)
                } else {
                    String::new()
                };
                let cmd = if ev.cmd.is_empty() {
                    String::new()
                } else {
                    format!(" {}", ev.cmd)
                };
                let closed = if ev.closed { ", disconnected" } else { "" };
                // Quoted: the detail may hold what the client sent.
                format!(
                    "{who} {}{times}{cmd}: {code} {:?}{closed}",
                    paint(WARN, "original-level frame dropped"),
                    ev.detail
                )
            }
            other => {
                let env = other.to_envelope();
                format!("{} {}", env.cmd, env.args.join(" "))
            }
        }
    }

    fn body(&self, msg: &str) -> String {
        if self.bodies {
            // Quoted, so a newline or an escape sequence in a message cannot break the line.
            format!("{msg:?}")
        } else {
            paint(DIM, &hidden(msg))
        }
    }
}

/// The beat's numbers, those it has, in a fixed order.
fn beat(m: &Map<String, Value>) -> String {
    const FIELDS: [(&str, &str); 11] = [
        ("SessionNum", "sessions"),
        ("ClientNum", "clients"),
        ("TopicNum", "topics"),
        ("MsgIn", "in"),
        ("MsgOut", "out"),
        ("Acks", "acks"),
        ("PendingAcks", "pending_acks"),
        ("OfflineDepth", "offline"),
        ("SlowDrops", "slow_drops"),
        ("OriginalDrops", "original_drops"),
        ("UptimeSecs", "up_secs"),
    ];
    let parts: Vec<String> = FIELDS
        .iter()
        .filter_map(|(key, label)| {
            m.get(*key)
                .map(|v| format!("{label} {}", paint(NAME, &v.to_string())))
        })
        .collect();
    format!("{} {}", paint(DIM, "beat"), parts.join("  "))
}

/// At most [`NAMES_SHOWN`] names, then how many more.
fn names(ids: &[&str]) -> String {
    let shown: Vec<String> = ids
        .iter()
        .take(NAMES_SHOWN)
        .map(|i| paint(NAME, i))
        .collect();
    let mut s = shown.join(", ");
    if ids.len() > NAMES_SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - NAMES_SHOWN));
    }
    s
}

/// A uuid's first eight characters: enough to tell messages apart on a screen.
fn short(uuid: &str) -> &str {
    uuid.get(..8).unwrap_or(uuid)
}

fn hidden(msg: &str) -> String {
    format!("<hidden: {} bytes>", msg.len())
}

/// The command with its message body replaced by [`hidden`].
fn hide_body(c: &Command) -> Command {
    let mut c = c.clone();
    match &mut c {
        Command::SendMessageP2p { msg, .. }
        | Command::SendMessageTopic { msg, .. }
        | Command::RouteMessageP2p { msg, .. }
        | Command::RouteMessageTopic { msg, .. } => *msg = hidden(msg),
        _ => {}
    }
    c
}

#[cfg(test)]
mod tests;
