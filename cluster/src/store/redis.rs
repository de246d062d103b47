//! The Redis backend: every store trait on one Redis server, through a reconnecting
//! connection manager.
//!
//! In the original, Redis is the cache: where each id is connected, topic lookups, offline
//! queues. Here it can hold all four traits (`fishchat up --redis URL` alone), but in a
//! deployment with MongoDB as well only the sessions live here (see [`super::composite`]):
//! MongoDB is then the source of truth for inboxes, topics and clients, and flushing Redis
//! loses no message, only who is connected where (clients log in again).
//!
//! Keys, under a configurable prefix `P` (default `IM:`), keep the original's names where they
//! fit (`IM:<id>session`, `IM:<topic>topic`, `IM:<id>offline_msg`):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `P<id>session` | set | `<conn>\|<server>`, one per connection of `id` |
//! | `P<server>server_sessions` | set | `<conn>\|<id>`, the same connections by server |
//! | `Pmsg_server_list` | set | every server that ever held a session |
//! | `P<topic>topic` | string | JSON `{TopicName, CreaterID, MsgServerAddr, CreatedAtMs}` |
//! | `P<topic>topic_members` | set | member ids |
//! | `Ptopic_list` | set | every topic name |
//! | `P<id>offline_msg` | sorted set | JSON `{Uuid, FromID, ToID, Msg, SentAtMs}` scored by push sequence |
//! | `P<id>offline_msg_uuids` | hash | uuid → the same JSON, for dedup and ack |
//! | `P<id>offline_msg_seq` | string | the inbox's push sequence (gone when the inbox empties) |
//! | `Poffline_msg_total` | string | messages pending in every inbox together |
//! | `P<id>client_info` | string | JSON `{ClientID, ClientAddr, MsgServerAddr, Alive, LastSeenMs}` |
//! | `Pclient_list` | set | every client id |
//!
//! No suffix is a suffix of another, so two keys of different kinds never collide, whatever
//! the ids are (tested). Writes that touch several keys are one Lua script or one MULTI, so a
//! reader never sees half of one. Scripts build some key names themselves, so this needs one
//! Redis server (or a primary with replicas), not Redis Cluster.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use super::backend::{bounded, redact_url, to_u64, BackendTimeouts};
use super::{
    ClientRecord, ClientStore, InboxStore, SessionLoc, SessionStore, Store, StoreError,
    StoreResult, StoredMessage, TopicRecord, TopicStore,
};

/// The original's key prefix.
pub const DEFAULT_PREFIX: &str = "IM:";

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

/// Key names; see the module documentation.
#[derive(Debug, Clone)]
struct Keys {
    prefix: String,
}

/// Every per-name key suffix, and the fixed keys (a fixed key is the prefix plus one of these
/// with an empty name). None may be a suffix of another: see the module documentation.
const SUFFIXES: [&str; 12] = [
    "session",
    "server_sessions",
    "msg_server_list",
    "topic",
    "topic_members",
    "topic_list",
    "offline_msg",
    "offline_msg_uuids",
    "offline_msg_seq",
    "offline_msg_total",
    "client_info",
    "client_list",
];

impl Keys {
    fn key(&self, name: &str, suffix: &str) -> String {
        debug_assert!(SUFFIXES.contains(&suffix), "unknown key suffix {suffix}");
        format!("{}{name}{suffix}", self.prefix)
    }
    fn session(&self, id: &str) -> String {
        self.key(id, "session")
    }
    fn server_sessions(&self, server: &str) -> String {
        self.key(server, "server_sessions")
    }
    fn msg_server_list(&self) -> String {
        self.key("", "msg_server_list")
    }
    fn topic(&self, name: &str) -> String {
        self.key(name, "topic")
    }
    fn topic_members(&self, name: &str) -> String {
        self.key(name, "topic_members")
    }
    fn topic_list(&self) -> String {
        self.key("", "topic_list")
    }
    fn inbox(&self, id: &str) -> String {
        self.key(id, "offline_msg")
    }
    fn inbox_uuids(&self, id: &str) -> String {
        self.key(id, "offline_msg_uuids")
    }
    fn inbox_seq(&self, id: &str) -> String {
        self.key(id, "offline_msg_seq")
    }
    fn inbox_total(&self) -> String {
        self.key("", "offline_msg_total")
    }
    fn client(&self, id: &str) -> String {
        self.key(id, "client_info")
    }
    fn client_list(&self) -> String {
        self.key("", "client_list")
    }
}

/// The Lua scripts, loaded once per server (and again after it restarts: `Script` retries
/// with the source on NOSCRIPT).
struct Scripts {
    clear_server: Script,
    create_topic: Script,
    add_member: Script,
    push: Script,
    ack: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            // KEYS[1] server set, KEYS[2] server list; ARGV[1] prefix, ARGV[2] server.
            // Removes each `<conn>|<id>` entry's twin `<conn>|<server>` from `P<id>session`.
            clear_server: Script::new(
                r"
                local entries = redis.call('SMEMBERS', KEYS[1])
                for _, e in ipairs(entries) do
                    local bar = string.find(e, '|', 1, true)
                    local conn = string.sub(e, 1, bar - 1)
                    local id = string.sub(e, bar + 1)
                    redis.call('SREM', ARGV[1] .. id .. 'session', conn .. '|' .. ARGV[2])
                end
                redis.call('DEL', KEYS[1])
                redis.call('SREM', KEYS[2], ARGV[2])
                return #entries
                ",
            ),
            // KEYS[1] topic, KEYS[2] members, KEYS[3] topic list; ARGV[1] record, ARGV[2]
            // creator, ARGV[3] name.
            create_topic: Script::new(
                r"
                if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
                redis.call('SADD', KEYS[2], ARGV[2])
                redis.call('SADD', KEYS[3], ARGV[3])
                return 1
                ",
            ),
            // KEYS[1] topic, KEYS[2] members; ARGV[1] id. -1: no such topic.
            add_member: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
                return redis.call('SADD', KEYS[2], ARGV[1])
                ",
            ),
            // KEYS[1] inbox, KEYS[2] uuids, KEYS[3] seq, KEYS[4] total; ARGV[1] uuid,
            // ARGV[2] message JSON. A uuid pending already is left where it is.
            push: Script::new(
                r"
                if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
                local seq = redis.call('INCR', KEYS[3])
                redis.call('ZADD', KEYS[1], seq, ARGV[2])
                redis.call('INCR', KEYS[4])
                return 1
                ",
            ),
            // KEYS as for push; ARGV[1] uuid. Answers the message JSON, or nil.
            ack: Script::new(
                r"
                local m = redis.call('HGET', KEYS[2], ARGV[1])
                if not m then return false end
                redis.call('HDEL', KEYS[2], ARGV[1])
                redis.call('ZREM', KEYS[1], m)
                redis.call('DECR', KEYS[4])
                if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
                return m
                ",
            ),
        }
    }
}

/// `<conn>|<rest>`: a connection number, then a name that may hold anything.
fn split_entry(entry: &str) -> Option<(u64, &str)> {
    let (conn, rest) = entry.split_once('|')?;
    Some((conn.parse().ok()?, rest))
}

#[derive(Serialize, Deserialize)]
struct TopicJson {
    #[serde(rename = "TopicName")]
    name: String,
    #[serde(rename = "CreaterID")]
    creator: String,
    #[serde(rename = "MsgServerAddr")]
    home: String,
    #[serde(rename = "CreatedAtMs")]
    created_at_ms: u64,
}

impl From<&TopicRecord> for TopicJson {
    fn from(t: &TopicRecord) -> Self {
        Self {
            name: t.name.clone(),
            creator: t.creator.clone(),
            home: t.home.clone(),
            created_at_ms: t.created_at_ms,
        }
    }
}

impl From<TopicJson> for TopicRecord {
    fn from(t: TopicJson) -> Self {
        Self {
            name: t.name,
            creator: t.creator,
            home: t.home,
            created_at_ms: t.created_at_ms,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct MessageJson {
    #[serde(rename = "Uuid")]
    uuid: String,
    #[serde(rename = "FromID")]
    from: String,
    #[serde(rename = "ToID")]
    to: String,
    #[serde(rename = "Msg")]
    msg: String,
    #[serde(rename = "SentAtMs")]
    sent_at_ms: u64,
}

impl From<&StoredMessage> for MessageJson {
    fn from(m: &StoredMessage) -> Self {
        Self {
            uuid: m.uuid.clone(),
            from: m.from.clone(),
            to: m.to.clone(),
            msg: m.msg.clone(),
            sent_at_ms: m.sent_at_ms,
        }
    }
}

impl From<MessageJson> for StoredMessage {
    fn from(m: MessageJson) -> Self {
        Self {
            uuid: m.uuid,
            from: m.from,
            to: m.to,
            msg: m.msg,
            sent_at_ms: m.sent_at_ms,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ClientJson {
    #[serde(rename = "ClientID")]
    id: String,
    #[serde(rename = "ClientAddr")]
    client_addr: String,
    #[serde(rename = "MsgServerAddr")]
    msg_server: String,
    #[serde(rename = "Alive")]
    alive: bool,
    #[serde(rename = "LastSeenMs")]
    last_seen_ms: u64,
}

impl From<&ClientRecord> for ClientJson {
    fn from(c: &ClientRecord) -> Self {
        Self {
            id: c.id.clone(),
            client_addr: c.client_addr.clone(),
            msg_server: c.msg_server.clone(),
            alive: c.alive,
            last_seen_ms: c.last_seen_ms,
        }
    }
}

impl From<ClientJson> for ClientRecord {
    fn from(c: ClientJson) -> Self {
        Self {
            id: c.id,
            client_addr: c.client_addr,
            msg_server: c.msg_server,
            alive: c.alive,
            last_seen_ms: c.last_seen_ms,
        }
    }
}

fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("records serialize to JSON")
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
        let mut call = self.scripts.add_member.key(self.keys.topic(topic));
        call.key(self.keys.topic_members(topic)).arg(id);
        match self.script::<i64>("add_member", call).await? {
            -1 => Err(StoreError::NoSuchTopic(topic.to_string())),
            added => Ok(added == 1),
        }
    }

    async fn members(&self, topic: &str) -> StoreResult<Vec<String>> {
        let mut p = redis::pipe();
        p.atomic()
            .exists(self.keys.topic(topic))
            .smembers(self.keys.topic_members(topic));
        let (exists, mut members): (bool, Vec<String>) = self.pipe("members", p).await?;
        if !exists {
            return Err(StoreError::NoSuchTopic(topic.to_string()));
        }
        members.sort();
        Ok(members)
    }
}

impl RedisStore {
    fn inbox_call<'a>(
        &self,
        script: &'a Script,
        id: &str,
        uuid: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut call = script.key(self.keys.inbox(id));
        call.key(self.keys.inbox_uuids(id))
            .key(self.keys.inbox_seq(id))
            .key(self.keys.inbox_total())
            .arg(uuid);
        call
    }
}

#[async_trait]
impl InboxStore for RedisStore {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        let mut call = self.inbox_call(&self.scripts.push, &msg.to, &msg.uuid);
        call.arg(to_json(&MessageJson::from(msg)));
        let _added: i64 = self.script("push", call).await?;
        Ok(())
    }

    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>> {
        let mut cmd = redis::cmd("ZRANGE");
        cmd.arg(self.keys.inbox(id)).arg(0).arg(-1);
        let items: Vec<String> = self.run("pending", cmd).await?;
        items
            .iter()
            .map(|j| self.decode::<MessageJson>("pending", j).map(Into::into))
            .collect()
    }

    async fn pending_count(&self, id: &str) -> StoreResult<u64> {
        let mut cmd = redis::cmd("ZCARD");
        cmd.arg(self.keys.inbox(id));
        self.run("pending_count", cmd).await
    }

    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        let call = self.inbox_call(&self.scripts.ack, id, uuid);
        let json: Option<String> = self.script("ack", call).await?;
        json.map(|j| self.decode::<MessageJson>("ack", &j).map(Into::into))
            .transpose()
    }

    /// `Poffline_msg_total`, kept by `push` and `ack`: one read.
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.inbox_total());
        let total: Option<i64> = self.run("pending_total", cmd).await?;
        to_u64("pending total", total.unwrap_or(0)).map(Some)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_suffix_is_a_suffix_of_another() {
        for a in SUFFIXES {
            for b in SUFFIXES {
                if a != b {
                    assert!(
                        !a.ends_with(b),
                        "{b:?} is a suffix of {a:?}: `P<x>{a}` and `P<y>{b}` could be one key"
                    );
                }
            }
        }
    }

    #[test]
    fn keys_keep_the_original_names() {
        let k = Keys {
            prefix: DEFAULT_PREFIX.into(),
        };
        assert_eq!(k.session("alice"), "IM:alicesession");
        assert_eq!(k.topic("chat"), "IM:chattopic");
        assert_eq!(k.inbox("bob"), "IM:boboffline_msg");
        assert_eq!(k.client_list(), "IM:client_list");
    }

    #[test]
    fn entries_split_at_the_first_bar() {
        assert_eq!(
            split_entry("12|127.0.0.1:19000"),
            Some((12, "127.0.0.1:19000"))
        );
        assert_eq!(split_entry("3|a|b"), Some((3, "a|b")));
        assert_eq!(split_entry("x|a"), None);
        assert_eq!(split_entry("no bar"), None);
    }
}
