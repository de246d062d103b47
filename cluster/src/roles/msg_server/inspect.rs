//! `AUTH` and `INSPECT` (ours): what operator tools (`fishchat-admin inspect`) ask a
//! msg_server.
//!
//! `AUTH [secret]` checks the cluster secret as `SUBSCRIBE_CHANNEL` does (see
//! [`super::channels::check_secret`]) and marks the connection internal without subscribing
//! it to anything. `INSPECT` names every client and where it connects from, so where the
//! cluster has a secret only an internal connection may send it. `sessions` is answered from
//! this msg_server's own table of connections; `topics`, `topic`, `user` and `accounts` from the store,
//! which every msg_server of the cluster shares. The answers' shapes are in
//! [`crate::protocol::inspect`].

use serde::Serialize;
use serde_json::Value;

use super::account::device_info;
use super::channels;
use super::peer::{Peer, Reject};
use super::server::Server;
use crate::protocol::account::AccountSummary;
use crate::protocol::inspect::*;
use crate::protocol::{Command, ErrorCode, InspectQuery};
use crate::store::{Account, SessionLoc};

/// `AUTH [secret]`: no answer where right (send `SYNC` to know), `FORBIDDEN` where wrong.
pub(crate) fn auth(server: &Server, peer: &mut Peer, secret: &str) -> Result<(), Reject> {
    channels::check_secret(server, peer, Some(secret), "AUTH [secret]")?;
    channels::make_internal(server, peer);
    Ok(())
}

/// `INSPECT [what, arg?]`, answered `INSPECT_RESULT [what, arg?]` with the findings.
pub(crate) async fn inspect(
    server: &Server,
    peer: &Peer,
    query: InspectQuery,
) -> Result<(), Reject> {
    if server.cfg.common.secret.is_some() && !peer.internal {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            "INSPECT needs the cluster secret: send AUTH [secret] first",
        ));
    }
    let data = match &query {
        InspectQuery::Sessions => to_value(sessions(server)),
        InspectQuery::Topics => to_value(topics(server).await?),
        InspectQuery::Topic(name) => to_value(topic(server, name).await?),
        InspectQuery::User(id) => to_value(user(server, id).await?),
        InspectQuery::Accounts => to_value(accounts(server).await?),
    };
    peer.send(&Command::InspectResult { query, data });
    Ok(())
}

fn to_value(v: impl Serialize) -> Value {
    serde_json::to_value(v).expect("inspect results serialize")
}

fn sessions(server: &Server) -> SessionsResult {
    let all = server.sessions.all();
    SessionsResult {
        server: server.addr.clone(),
        total: all.len() as u64,
        sessions: all
            .iter()
            .take(MAX_ITEMS)
            .map(|s| SessionInfo {
                id: s.id.clone(),
                conn: s.conn_id,
                client_addr: s.addr.to_string(),
                since_ms: s.since_ms,
                level: s.level,
                client_name: s.client_name.clone(),
            })
            .collect(),
    }
}

async fn topics(server: &Server) -> Result<TopicsResult, Reject> {
    let all = server.store.topics().await?;
    let mut topics = Vec::with_capacity(all.len().min(MAX_ITEMS));
    for t in all.iter().take(MAX_ITEMS) {
        let members = server.store.members(&t.name).await?.len() as u64;
        topics.push(TopicInfo {
            name: t.name.clone(),
            creator: t.creator.clone(),
            home: t.home.clone(),
            created_at_ms: t.created_at_ms,
            members,
        });
    }
    Ok(TopicsResult {
        topics,
        total: all.len() as u64,
    })
}

async fn topic(server: &Server, name: &str) -> Result<TopicResult, Reject> {
    let Some(t) = server.store.topic(name).await? else {
        return Err(Reject::new(
            ErrorCode::NoSuchTopic,
            format!("no topic named {name:?}"),
        ));
    };
    let ids = server.store.members(name).await?;
    let mut members = Vec::with_capacity(ids.len().min(MAX_ITEMS));
    for id in ids.iter().take(MAX_ITEMS) {
        members.push(MemberInfo {
            id: id.clone(),
            sessions: locations(server.store.sessions(id).await?),
        });
    }
    Ok(TopicResult {
        name: t.name,
        creator: t.creator,
        home: t.home,
        created_at_ms: t.created_at_ms,
        members,
        total_members: ids.len() as u64,
    })
}

async fn user(server: &Server, id: &str) -> Result<UserResult, Reject> {
    let sessions = locations(server.store.sessions(id).await?);
    let pending = server.store.pending_count(id).await?;
    let client = server.store.client(id).await?.map(|c| ClientInfo {
        client_addr: c.client_addr,
        msg_server: c.msg_server,
        alive: c.alive,
        last_seen_ms: c.last_seen_ms,
    });
    let account = match server.store.account(id).await? {
        Some(a) => Some(summary(server, a).await?),
        None => None,
    };
    Ok(UserResult {
        id: id.to_string(),
        sessions,
        pending,
        client,
        account,
    })
}

async fn accounts(server: &Server) -> Result<AccountsResult, Reject> {
    let all = server.store.accounts().await?;
    let mut accounts = Vec::with_capacity(all.len().min(MAX_ITEMS));
    let total = all.len() as u64;
    for a in all.into_iter().take(MAX_ITEMS) {
        accounts.push(summary(server, a).await?);
    }
    Ok(AccountsResult { accounts, total })
}

/// An account as operators see it: its devices, never a hash.
async fn summary(server: &Server, a: Account) -> Result<AccountSummary, Reject> {
    let devices = server.store.devices(&a.id).await?;
    Ok(AccountSummary {
        id: a.id,
        created_at_ms: a.created_at_ms,
        devices: devices.iter().map(|d| device_info(d, None)).collect(),
    })
}

fn locations(locs: Vec<SessionLoc>) -> Vec<Location> {
    locs.into_iter()
        .take(MAX_ITEMS)
        .map(|l| Location {
            server: l.server,
            conn: l.conn,
        })
        .collect()
}
