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

pub(crate) mod text;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use fishchat_cli::target::{ReachError, Target, TargetArgs, REQUEST_TIMEOUT};
use fishchat_cluster::client::ClientError;
use fishchat_cluster::protocol::inspect::{SessionsResult, TopicResult, TopicsResult, UserResult};
use fishchat_cluster::protocol::{Command, ErrorCode, InspectQuery};
use serde::Serialize;
use serde_json::{json, Value};
use text::*;

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

pub(crate) fn parse<T: serde::de::DeserializeOwned>(data: Value) -> Result<T> {
    serde_json::from_value(data)
        .map_err(|e| anyhow!("the msg_server's answer is not what this tool expects ({e}); is it the same fishchat version?"))
}

/// Prints `value` as JSON, or `human()` for a terminal. A closed stdout (`| head`) is no
/// error.
pub(crate) fn show(
    json: bool,
    value: &impl Serialize,
    human: impl FnOnce() -> String,
) -> Result<ExitCode> {
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
                    level: s.level.to_string(),
                    client_name: s.client_name,
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

#[cfg(test)]
mod tests;
