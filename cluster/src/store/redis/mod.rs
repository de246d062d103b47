//! The Redis backend: every store trait on one Redis server, through a reconnecting
//! connection manager.
//!
//! In the original, Redis is the cache: where each id is connected, topic lookups, offline
//! queues. Here it can hold every trait (`fishchat up --redis URL` alone), but in a deployment
//! with MongoDB as well only the sessions live here (see [`super::composite`]): MongoDB is
//! then the source of truth for inboxes, message ids, topics, clients and accounts, and
//! flushing Redis loses no message, only who is connected where (clients log in again).
//!
//! Keys, under a configurable prefix `P` (default `IM:`), keep the original's names where they
//! fit (`IM:<id>session`, `IM:<topic>topic`, `IM:<id>offline_msg`):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `P<id>session` | set | `<conn>\|<server>`, one per connection of `id` |
//! | `P<server>server_sessions` | set | `<conn>\|<id>`, the same connections by server |
//! | `Pmsg_server_list` | set | every server that ever held a session |
//! | `P<topic>topic` | string | JSON `{TopicName, CreaterID, MsgServerAddr, CreatedAtMs, InviteOnly}` (`InviteOnly` absent: false) |
//! | `P<topic>topic_members` | set | member ids |
//! | `P<topic>topic_invited` | set | ids invited and not taken back |
//! | `Ptopic_list` | set | every topic name |
//! | `P<id>offline_msg` | sorted set | JSON `{Uuid, FromID, ToID, Msg, SentAtMs}` scored by push sequence |
//! | `P<id>offline_msg_uuids` | hash | uuid → the same JSON, for dedup and ack |
//! | `P<id>offline_msg_seq` | string | the inbox's push sequence (gone when the inbox empties) |
//! | `Poffline_msg_total` | string | messages pending in every inbox together |
//! | `P<uuid>message_id` | string | the sender the message id belongs to, for good (no expiry) |
//! | `P<id>client_info` | string | JSON `{ClientID, ClientAddr, MsgServerAddr, Alive, LastSeenMs}` |
//! | `Pclient_list` | set | every client id |
//! | `P<id>account` | hash | `AccountID`, `PasswordHash`, `CreatedAtMs` |
//! | `P<id>account_devices` | hash | device id → JSON `{DeviceID, Name, TokenHash, CreatedAtMs, LastUsedMs}` |
//! | `Paccount_list` | set | every account id |
//!
//! No suffix is a suffix of another, so two keys of different kinds never collide, whatever
//! the ids are (tested). Writes that touch several keys are one Lua script or one MULTI, so a
//! reader never sees half of one. Scripts build some key names themselves, so this needs one
//! Redis server (or a primary with replicas), not Redis Cluster.
//!
//! A push of a client-chosen uuid claims its `message_id` key in the push script itself, so a push refused as
//! another sender's writes nothing. An account's devices are written only by a script that
//! finds its account, and deleted with it by one script.
//!
//! Here: the store, its connection and the sessions, topics and clients; the key names and
//! the records in [`layout`], the Lua scripts in [`scripts`], the inboxes and message ids in
//! [`inbox`], the accounts in [`accounts`].

mod accounts;
mod inbox;
mod layout;
mod scripts;

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use serde::Deserialize;

use self::layout::{split_entry, to_json, ClientJson, Keys, TopicJson};
use self::scripts::Scripts;
use super::backend::{bounded, redact_url, BackendTimeouts};
use super::{
    ClientRecord, ClientStore, SessionLoc, SessionStore, Store, StoreError, StoreResult,
    TopicRecord, TopicStore,
};

/// The original's key prefix.
pub(crate) const DEFAULT_PREFIX: &str = "IM:";

/// How to reach Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// `redis://[:password@]host:port[/db]`.
    pub url: String,
    /// Put before every key; [`DEFAULT_PREFIX`] unless configured.
    pub prefix: String,
    pub timeouts: BackendTimeouts,
}

impl RedisOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_PREFIX.into(),
            timeouts: BackendTimeouts::default(),
        }
    }
}

/// The Redis-backed store. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    /// "redis <url>", password hidden: how errors name this backend.
    name: String,
    op_timeout: Duration,
    scripts: std::sync::Arc<Scripts>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("backend", &self.name)
            .field("prefix", &self.keys.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects and checks that Redis answers, within `opts.timeouts.connect`.
    ///
    /// Fails with [`StoreError::Unavailable`], naming the URL (password hidden), where the URL
    /// is malformed or nothing answers there. Once connected, a lost connection is made again
    /// in the background; operations meanwhile fail after `opts.timeouts.op`.
    pub async fn connect(opts: RedisOptions) -> StoreResult<RedisStore> {
        let name = format!("redis {}", redact_url(&opts.url));
        let client = redis::Client::open(opts.url.as_str())
            .map_err(|e| StoreError::Unavailable(format!("{name}: not a Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(opts.timeouts.connect))
            .set_response_timeout(Some(opts.timeouts.op))
            // Reconnect promptly once the server is back; an operation waiting for the
            // reconnection gives up after `op` anyway.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = bounded(
            &name,
            "connecting",
            opts.timeouts.connect,
            ConnectionManager::new_with_config(client, config),
        )
        .await?;
        let store = RedisStore {
            conn,
            keys: Keys {
                prefix: opts.prefix,
            },
            name,
            op_timeout: opts.timeouts.op,
            scripts: std::sync::Arc::new(Scripts::new()),
        };
        let pong: String = store.run("PING", redis::cmd("PING")).await?;
        if pong != "PONG" {
            return Err(StoreError::Unavailable(format!(
                "{}: PING answered {pong:?}; is this a Redis server?",
                store.name
            )));
        }
        tracing::debug!(backend = %store.name, prefix = %store.keys.prefix, "redis store connected");
        Ok(store)
    }

    /// The key prefix in use.
    pub fn prefix(&self) -> &str {
        &self.keys.prefix
    }

    /// Runs one request under the operation deadline. Where it failed because no connection
    /// could be made, it never reached Redis, so it is tried once more: that failure set the
    /// manager reconnecting, and the first request after Redis returns would otherwise fail.
    async fn exec<T, F, Fut>(&self, what: &str, request: F) -> StoreResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        bounded(&self.name, what, self.op_timeout, async {
            match request(self.conn.clone()).await {
                Err(e) if e.is_connection_refusal() => request(self.conn.clone()).await,
                other => other,
            }
        })
        .await
    }

    async fn run<T: redis::FromRedisValue>(&self, what: &str, cmd: redis::Cmd) -> StoreResult<T> {
        let cmd = &cmd;
        self.exec(
            what,
            move |mut c| async move { cmd.query_async(&mut c).await },
        )
        .await
    }

    async fn pipe<T: redis::FromRedisValue>(
        &self,
        what: &str,
        pipe: redis::Pipeline,
    ) -> StoreResult<T> {
        let pipe = &pipe;
        self.exec(
            what,
            move |mut c| async move { pipe.query_async(&mut c).await },
        )
        .await
    }

    async fn script<T: redis::FromRedisValue>(
        &self,
        what: &str,
        call: redis::ScriptInvocation<'_>,
    ) -> StoreResult<T> {
        let call = &call;
        self.exec(
            what,
            move |mut c| async move { call.invoke_async(&mut c).await },
        )
        .await
    }

    async fn smembers(&self, what: &str, key: String) -> StoreResult<Vec<String>> {
        let key = &key;
        self.exec(what, move |mut c| async move { c.smembers(key).await })
            .await
    }

    /// The values of `keys` (missing ones are skipped), in chunks so no command grows
    /// without bound.
    async fn mget(&self, what: &str, keys: Vec<String>) -> StoreResult<Vec<String>> {
        let mut values = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(1000) {
            let mut cmd = redis::cmd("MGET");
            cmd.arg(chunk);
            let got: Vec<Option<String>> = self.run(what, cmd).await?;
            values.extend(got.into_iter().flatten());
        }
        Ok(values)
    }

    fn corrupt(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{}: {what}: {e}", self.name))
    }

    fn decode<T: for<'de> Deserialize<'de>>(&self, what: &str, json: &str) -> StoreResult<T> {
        serde_json::from_str(json).map_err(|e| self.corrupt(what, format!("{e} in {json:?}")))
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn add_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let mut p = redis::pipe();
        p.atomic()
            .sadd(
                self.keys.session(id),
                format!("{}|{}", loc.conn, loc.server),
            )
            .ignore()
            .sadd(
                self.keys.server_sessions(&loc.server),
                format!("{}|{id}", loc.conn),
            )
            .ignore()
            .sadd(self.keys.msg_server_list(), &loc.server)
            .ignore();
        self.pipe("add_session", p).await
    }

    async fn remove_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let mut p = redis::pipe();
        p.atomic()
            .srem(
                self.keys.session(id),
                format!("{}|{}", loc.conn, loc.server),
            )
            .ignore()
            .srem(
                self.keys.server_sessions(&loc.server),
                format!("{}|{id}", loc.conn),
            )
            .ignore();
        self.pipe("remove_session", p).await
    }

    async fn sessions(&self, id: &str) -> StoreResult<Vec<SessionLoc>> {
        let entries = self.smembers("sessions", self.keys.session(id)).await?;
        let mut locs = entries
            .iter()
            .map(|e| {
                split_entry(e)
                    .map(|(conn, server)| SessionLoc {
                        server: server.to_string(),
                        conn,
                    })
                    .ok_or_else(|| self.corrupt("sessions", format!("bad entry {e:?}")))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        locs.sort();
        Ok(locs)
    }

    async fn all_sessions(&self) -> StoreResult<Vec<(String, SessionLoc)>> {
        let servers = self
            .smembers("all_sessions", self.keys.msg_server_list())
            .await?;
        let mut all = Vec::new();
        for server in servers {
            for e in self
                .smembers("all_sessions", self.keys.server_sessions(&server))
                .await?
            {
                let (conn, id) = split_entry(&e)
                    .ok_or_else(|| self.corrupt("all_sessions", format!("bad entry {e:?}")))?;
                all.push((
                    id.to_string(),
                    SessionLoc {
                        server: server.clone(),
                        conn,
                    },
                ));
            }
        }
        all.sort();
        Ok(all)
    }

    async fn clear_server(&self, server: &str) -> StoreResult<u64> {
        let mut call = self
            .scripts
            .clear_server
            .key(self.keys.server_sessions(server));
        call.key(self.keys.msg_server_list())
            .arg(&self.keys.prefix)
            .arg(server);
        self.script("clear_server", call).await
    }
}

#[async_trait]
impl TopicStore for RedisStore {
    async fn create_topic(&self, topic: &TopicRecord) -> StoreResult<bool> {
        let mut call = self.scripts.create_topic.key(self.keys.topic(&topic.name));
        call.key(self.keys.topic_members(&topic.name))
            .key(self.keys.topic_list())
            .arg(to_json(&TopicJson::from(topic)))
            .arg(&topic.creator)
            .arg(&topic.name);
        let created: i64 = self.script("create_topic", call).await?;
        Ok(created == 1)
    }

    async fn topic(&self, name: &str) -> StoreResult<Option<TopicRecord>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.topic(name));
        let json: Option<String> = self.run("topic", cmd).await?;
        json.map(|j| self.decode::<TopicJson>("topic", &j).map(Into::into))
            .transpose()
    }

    async fn topics(&self) -> StoreResult<Vec<TopicRecord>> {
        let names = self.smembers("topics", self.keys.topic_list()).await?;
        let keys = names.iter().map(|n| self.keys.topic(n)).collect();
        let mut topics = self
            .mget("topics", keys)
            .await?
            .iter()
            .map(|j| self.decode::<TopicJson>("topics", j).map(TopicRecord::from))
            .collect::<StoreResult<Vec<_>>>()?;
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    async fn add_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        let members = self.keys.topic_members(topic);
        self.change_topic_set("add_member", topic, members, "SADD", id)
            .await
    }

    async fn members(&self, topic: &str) -> StoreResult<Vec<String>> {
        let members = self.keys.topic_members(topic);
        self.topic_set("members", topic, members).await
    }

    async fn remove_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        let members = self.keys.topic_members(topic);
        self.change_topic_set("remove_member", topic, members, "SREM", id)
            .await
    }

    async fn set_invited(&self, topic: &str, id: &str, invited: bool) -> StoreResult<bool> {
        let command = if invited { "SADD" } else { "SREM" };
        let set = self.keys.topic_invited(topic);
        self.change_topic_set("set_invited", topic, set, command, id)
            .await
    }

    async fn invited(&self, topic: &str) -> StoreResult<Vec<String>> {
        let set = self.keys.topic_invited(topic);
        self.topic_set("invited", topic, set).await
    }
}

impl RedisStore {
    /// Adds `id` to (`SADD`) or removes it from (`SREM`) the set `set` of `topic`, in one
    /// script with the check that the topic exists; whether that changed the set.
    async fn change_topic_set(
        &self,
        what: &str,
        topic: &str,
        set: String,
        command: &str,
        id: &str,
    ) -> StoreResult<bool> {
        let mut call = self.scripts.change_topic_set.key(self.keys.topic(topic));
        call.key(set).arg(command).arg(id);
        match self.script::<i64>(what, call).await? {
            -1 => Err(StoreError::NoSuchTopic(topic.to_string())),
            changed => Ok(changed == 1),
        }
    }

    /// The ids of the set `set` of `topic` (its members, or those invited), ordered;
    /// `NoSuchTopic` where the topic does not exist.
    async fn topic_set(&self, what: &str, topic: &str, set: String) -> StoreResult<Vec<String>> {
        let mut p = redis::pipe();
        p.atomic().exists(self.keys.topic(topic)).smembers(set);
        let (exists, mut ids): (bool, Vec<String>) = self.pipe(what, p).await?;
        if !exists {
            return Err(StoreError::NoSuchTopic(topic.to_string()));
        }
        ids.sort();
        Ok(ids)
    }
}

#[async_trait]
impl ClientStore for RedisStore {
    async fn put_client(&self, client: &ClientRecord) -> StoreResult<()> {
        let mut p = redis::pipe();
        p.atomic()
            .set(
                self.keys.client(&client.id),
                to_json(&ClientJson::from(client)),
            )
            .ignore()
            .sadd(self.keys.client_list(), &client.id)
            .ignore();
        self.pipe("put_client", p).await
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.client(id));
        let json: Option<String> = self.run("client", cmd).await?;
        json.map(|j| self.decode::<ClientJson>("client", &j).map(Into::into))
            .transpose()
    }

    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        let ids = self.smembers("clients", self.keys.client_list()).await?;
        let keys = ids.iter().map(|id| self.keys.client(id)).collect();
        let mut clients = self
            .mget("clients", keys)
            .await?
            .iter()
            .map(|j| {
                self.decode::<ClientJson>("clients", j)
                    .map(ClientRecord::from)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(clients)
    }
}

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    /// Nothing to do: an accepted write is one Redis has answered, and how Redis persists it
    /// (RDB, AOF) is its own configuration.
    async fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}
