//! The MongoDB backend: every store trait in one database, through the official driver.
//!
//! In a deployment with Redis as well (see [`super::composite`]), MongoDB is the source of
//! truth for inboxes, message ids, topics, clients and accounts, and Redis holds only the
//! sessions. Alone (`fishchat up --mongo URL`) it holds the sessions too.
//!
//! Database `im` (or the one the URL names), collections:
//!
//! | collection | one document per | fields |
//! | --- | --- | --- |
//! | `client_info` | client | `_id` = id, `ClientID`, `ClientAddr`, `MsgServerAddr`, `Alive`, `LastSeenMs` |
//! | `topic_info` | topic | `_id` = name, `TopicName`, `CreaterID`, `MsgServerAddr`, `CreatedAtMs`, `InviteOnly` (absent: false), `MemberList: [{ID}]` |
//! | `topic_invites` | invitation | `TopicName`, `ID`; unique on both |
//! | `session_info` | connection | `ClientID`, `MsgServerAddr`, `Conn`; unique on all three |
//! | `offline_msg` | pending message | `ToID`, `Seq`, `Uuid`, `FromID`, `Msg`, `SentAtMs`; unique on (`ToID`, `Uuid`) |
//! | `message_history` | acked message | as `offline_msg`, same `_id`, plus `AckedAtMs` |
//! | `counters` | inbox | `_id` = `offline_msg:<id>`, `Seq` |
//! | `message_ids` | message id, for good | `_id` = uuid, `FromID` |
//! | `accounts` | account | `_id` = id, `AccountID`, `PasswordHash`, `CreatedAtMs`, `Devices: [{DeviceID, Name, TokenHash, CreatedAtMs, LastUsedMs}]`, `Rev` |
//!
//! Inbox order without transactions: each push first takes the receiver's next sequence
//! number with one atomic `findOneAndUpdate {$inc: {Seq: 1}}` (upserted) on `counters`, then
//! inserts the message with it; `pending` sorts by `Seq`. ObjectIds would not do: they are
//! made by each client process, ordered by the second and then by a per-process random value,
//! so two msg_servers' pushes within one second could come back in either order. Sequence
//! numbers a duplicate push takes and never uses leave gaps, which do not matter. The unique
//! (`ToID`, `Uuid`) index refuses a second push of a pending uuid, whichever process sends it.
//!
//! An ack copies the message to `message_history` (keyed by its `_id`, so a retried ack does
//! not copy it twice), then deletes it from `offline_msg`; of two devices acking at once, only
//! the one whose delete removed it hears the message back.
//!
//! A push of a client-chosen uuid first claims it in `message_ids` (an insert; on a duplicate key, the owner is
//! read and compared), and pushes only where the claim holds. Claiming is idempotent for one
//! sender, so a push that fails after its claim is simply retried; the claim is never undone
//! (ids are kept for good). Invitations are documents of their own rather than an array in
//! the topic (topics stored before invitations have none, and not every MongoDB-wire server
//! makes one on `$addToSet`), written after a check that the topic exists: topics are never
//! deleted, so that check cannot go stale. An
//! account's devices live in its document, so deleting it deletes them in the same write; how
//! they change without a transaction is in [`accounts`].
//!
//! Only plain CRUD, upserts, indexes and sorts are used: no transactions, no change streams.

mod accounts;
mod docs;
mod inbox;

use std::future::IntoFuture;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::de::DeserializeOwned;

use docs::{ClientDoc, InviteDoc, MemberDoc, SessionDoc, TopicDoc};

use super::backend::{bounded, redact_url, to_i64, BackendTimeouts};
use super::{
    ClientRecord, ClientStore, SessionLoc, SessionStore, Store, StoreError, StoreResult,
    TopicRecord, TopicStore,
};

/// The original's database.
pub(crate) const DEFAULT_DATABASE: &str = "im";

/// The server's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// How to reach MongoDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoOptions {
    /// `mongodb://[user:password@]host:port[/database][?options]`. The database named in the
    /// URL is used; [`DEFAULT_DATABASE`] where it names none.
    pub url: String,
    pub timeouts: BackendTimeouts,
}

impl MongoOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            timeouts: BackendTimeouts::default(),
        }
    }
}

/// The MongoDB-backed store. Cloning is cheap and shares the driver's connection pool.
#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    /// "mongo <url>", password hidden: how errors name this backend.
    name: String,
    op_timeout: Duration,
}

impl std::fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoStore")
            .field("backend", &self.name)
            .field("database", &self.db.name())
            .finish_non_exhaustive()
    }
}

/// Collection names.
const CLIENTS: &str = "client_info";
const TOPICS: &str = "topic_info";
const SESSIONS: &str = "session_info";
const INBOX: &str = "offline_msg";
const HISTORY: &str = "message_history";
const COUNTERS: &str = "counters";
const TOPIC_INVITES: &str = "topic_invites";
const MESSAGE_IDS: &str = "message_ids";
const ACCOUNTS: &str = "accounts";

impl MongoStore {
    /// Connects, checks that the server answers and makes the indexes, within
    /// `opts.timeouts.connect` each.
    ///
    /// Fails with [`StoreError::Unavailable`], naming the URL (password hidden), where the URL
    /// is malformed or no server answers there. Once connected, the driver finds the server
    /// again by itself after it is lost; operations meanwhile fail after `opts.timeouts.op`.
    pub async fn connect(opts: MongoOptions) -> StoreResult<MongoStore> {
        let name = format!("mongo {}", redact_url(&opts.url));
        let connect = opts.timeouts.connect;
        let mut options = bounded(
            &name,
            "reading the URL",
            connect,
            ClientOptions::parse(opts.url.as_str()),
        )
        .await?;
        options.connect_timeout = Some(connect);
        options.server_selection_timeout = Some(opts.timeouts.op);
        options.app_name.get_or_insert_with(|| "fishchat".into());
        let database = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
        let client = Client::with_options(options)
            .map_err(|e| StoreError::Unavailable(format!("{name}: {e}")))?;
        let store = MongoStore {
            db: client.database(&database),
            name,
            op_timeout: opts.timeouts.op,
        };
        bounded(
            &store.name,
            "ping",
            connect,
            store.db.run_command(doc! {"ping": 1}),
        )
        .await?;
        store.ensure_indexes(connect).await?;
        tracing::debug!(backend = %store.name, database, "mongo store connected");
        Ok(store)
    }

    async fn ensure_indexes(&self, limit: Duration) -> StoreResult<()> {
        let index = |keys: Document, name: &str, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_string())
                        .unique(unique)
                        .build(),
                )
                .build()
        };
        let wanted = [
            (INBOX, index(doc! {"ToID": 1, "Uuid": 1}, "to_uuid", true)),
            (INBOX, index(doc! {"ToID": 1, "Seq": 1}, "to_seq", false)),
            (HISTORY, index(doc! {"ToID": 1, "Seq": 1}, "to_seq", false)),
            (
                SESSIONS,
                index(
                    doc! {"ClientID": 1, "MsgServerAddr": 1, "Conn": 1},
                    "client_server_conn",
                    true,
                ),
            ),
            (SESSIONS, index(doc! {"MsgServerAddr": 1}, "server", false)),
            (
                TOPIC_INVITES,
                index(doc! {"TopicName": 1, "ID": 1}, "topic_id", true),
            ),
        ];
        for (coll, model) in wanted {
            bounded(
                &self.name,
                &format!("creating an index on {coll}"),
                limit,
                self.db.collection::<Document>(coll).create_index(model),
            )
            .await?;
        }
        Ok(())
    }

    /// The database in use.
    pub fn database(&self) -> &str {
        self.db.name()
    }

    fn coll<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    async fn op<T, F>(&self, what: &str, op: F) -> StoreResult<T>
    where
        F: IntoFuture<Output = mongodb::error::Result<T>>,
    {
        bounded(&self.name, what, self.op_timeout, op).await
    }

    /// Every document `filter` matches, under one deadline for the whole read.
    async fn find_all<T>(&self, what: &str, coll: &str, filter: Document) -> StoreResult<Vec<T>>
    where
        T: DeserializeOwned + Send + Sync + Unpin,
    {
        let coll = self.coll::<T>(coll);
        self.op(
            what,
            async move { coll.find(filter).await?.try_collect().await },
        )
        .await
    }

    fn corrupt(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{}: {what}: {e}", self.name))
    }
}

/// Whether the driver's error is a duplicate key refusal.
fn duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Runs an insert or upsert; `Ok(false)` where the server refused it as a duplicate key.
async fn unless_duplicate<T, F>(store: &MongoStore, what: &str, op: F) -> StoreResult<bool>
where
    F: IntoFuture<Output = mongodb::error::Result<T>>,
{
    store
        .op(what, async move {
            match op.await {
                Ok(_) => Ok(true),
                Err(e) if duplicate_key(&e) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
}

#[async_trait]
impl SessionStore for MongoStore {
    async fn add_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let d = SessionDoc::new(id, loc)?;
        let coll = self.coll::<Document>(SESSIONS);
        // Two upserts of the same connection at once may meet the unique index: either way
        // it is recorded once.
        unless_duplicate(
            self,
            "add_session",
            coll.update_one(d.filter(), doc! {"$set": d.filter()})
                .upsert(true),
        )
        .await?;
        Ok(())
    }

    async fn remove_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let d = SessionDoc::new(id, loc)?;
        let coll = self.coll::<Document>(SESSIONS);
        self.op("remove_session", coll.delete_one(d.filter()))
            .await?;
        Ok(())
    }

    async fn sessions(&self, id: &str) -> StoreResult<Vec<SessionLoc>> {
        let docs: Vec<SessionDoc> = self
            .find_all("sessions", SESSIONS, doc! {"ClientID": id})
            .await?;
        let mut locs = docs
            .iter()
            .map(SessionDoc::loc)
            .collect::<StoreResult<Vec<_>>>()?;
        locs.sort();
        Ok(locs)
    }

    async fn all_sessions(&self) -> StoreResult<Vec<(String, SessionLoc)>> {
        let docs: Vec<SessionDoc> = self.find_all("all_sessions", SESSIONS, doc! {}).await?;
        let mut all = docs
            .into_iter()
            .map(|d| Ok((d.id.clone(), d.loc()?)))
            .collect::<StoreResult<Vec<_>>>()?;
        all.sort();
        Ok(all)
    }

    async fn clear_server(&self, server: &str) -> StoreResult<u64> {
        let coll = self.coll::<Document>(SESSIONS);
        let r = self
            .op(
                "clear_server",
                coll.delete_many(doc! {"MsgServerAddr": server}),
            )
            .await?;
        Ok(r.deleted_count)
    }
}

#[async_trait]
impl TopicStore for MongoStore {
    async fn create_topic(&self, topic: &TopicRecord) -> StoreResult<bool> {
        let d = TopicDoc {
            id: topic.name.clone(),
            name: topic.name.clone(),
            creator: topic.creator.clone(),
            home: topic.home.clone(),
            created_at_ms: to_i64("topic creation time", topic.created_at_ms)?,
            invite_only: topic.invite_only,
            members: vec![MemberDoc {
                id: topic.creator.clone(),
            }],
        };
        let coll = self.coll::<TopicDoc>(TOPICS);
        // `_id` is the name: the second create of a topic is a duplicate key.
        unless_duplicate(self, "create_topic", coll.insert_one(d)).await
    }

    async fn topic(&self, name: &str) -> StoreResult<Option<TopicRecord>> {
        let coll = self.coll::<TopicDoc>(TOPICS);
        let d = self
            .op(
                "topic",
                coll.find_one(doc! {"_id": name})
                    .projection(doc! {"MemberList": 0}),
            )
            .await?;
        d.map(|d| d.record()).transpose()
    }

    async fn topics(&self) -> StoreResult<Vec<TopicRecord>> {
        let coll = self.coll::<TopicDoc>(TOPICS);
        let docs: Vec<TopicDoc> = self
            .op("topics", async move {
                coll.find(doc! {})
                    .projection(doc! {"MemberList": 0})
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        let mut topics = docs
            .iter()
            .map(TopicDoc::record)
            .collect::<StoreResult<Vec<_>>>()?;
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    async fn add_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        let coll = self.coll::<Document>(TOPICS);
        let r = self
            .op(
                "add_member",
                coll.update_one(
                    doc! {"_id": topic},
                    doc! {"$addToSet": {"MemberList": {"ID": id}}},
                ),
            )
            .await?;
        if r.matched_count == 0 {
            return Err(StoreError::NoSuchTopic(topic.to_string()));
        }
        Ok(r.modified_count > 0)
    }

    async fn members(&self, topic: &str) -> StoreResult<Vec<String>> {
        let coll = self.coll::<TopicDoc>(TOPICS);
        let d = self
            .op("members", coll.find_one(doc! {"_id": topic}))
            .await?
            .ok_or_else(|| StoreError::NoSuchTopic(topic.to_string()))?;
        let mut members: Vec<String> = d.members.into_iter().map(|m| m.id).collect();
        members.sort();
        members.dedup();
        Ok(members)
    }

    async fn remove_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        let coll = self.coll::<Document>(TOPICS);
        let r = self
            .op(
                "remove_member",
                coll.update_one(
                    doc! {"_id": topic},
                    doc! {"$pull": {"MemberList": {"ID": id}}},
                ),
            )
            .await?;
        if r.matched_count == 0 {
            return Err(StoreError::NoSuchTopic(topic.to_string()));
        }
        Ok(r.modified_count > 0)
    }

    async fn set_invited(&self, topic: &str, id: &str, invited: bool) -> StoreResult<bool> {
        self.topic_exists("set_invited", topic).await?;
        let coll = self.coll::<InviteDoc>(TOPIC_INVITES);
        let invite = InviteDoc {
            topic: topic.to_string(),
            id: id.to_string(),
        };
        if invited {
            // The unique (TopicName, ID) index refuses a second invitation.
            unless_duplicate(self, "set_invited", coll.insert_one(invite)).await
        } else {
            let r = self
                .op(
                    "set_invited",
                    coll.delete_one(doc! {"TopicName": topic, "ID": id}),
                )
                .await?;
            Ok(r.deleted_count > 0)
        }
    }

    async fn invited(&self, topic: &str) -> StoreResult<Vec<String>> {
        self.topic_exists("invited", topic).await?;
        let docs: Vec<InviteDoc> = self
            .find_all("invited", TOPIC_INVITES, doc! {"TopicName": topic})
            .await?;
        let mut ids: Vec<String> = docs.into_iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}

impl MongoStore {
    /// `NoSuchTopic` unless `topic` exists. Topics are never deleted, so a write made after
    /// this check still finds its topic there.
    async fn topic_exists(&self, what: &str, topic: &str) -> StoreResult<()> {
        let coll = self.coll::<Document>(TOPICS);
        let found = self
            .op(
                what,
                coll.find_one(doc! {"_id": topic})
                    .projection(doc! {"_id": 1}),
            )
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::NoSuchTopic(topic.to_string())),
        }
    }
}

#[async_trait]
impl ClientStore for MongoStore {
    async fn put_client(&self, client: &ClientRecord) -> StoreResult<()> {
        let d = ClientDoc {
            key: client.id.clone(),
            id: client.id.clone(),
            client_addr: client.client_addr.clone(),
            msg_server: client.msg_server.clone(),
            alive: client.alive,
            last_seen_ms: to_i64("last seen time", client.last_seen_ms)?,
        };
        let coll = self.coll::<ClientDoc>(CLIENTS);
        // Two first puts at once may meet the `_id` index; the loser's record is the older
        // news of the two only by chance, so it is written again, as a replacement.
        if !unless_duplicate(
            self,
            "put_client",
            coll.replace_one(doc! {"_id": &client.id}, &d).upsert(true),
        )
        .await?
        {
            self.op("put_client", coll.replace_one(doc! {"_id": &client.id}, &d))
                .await?;
        }
        Ok(())
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        let coll = self.coll::<ClientDoc>(CLIENTS);
        self.op("client", coll.find_one(doc! {"_id": id}))
            .await?
            .map(|d| d.record())
            .transpose()
    }

    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        let docs: Vec<ClientDoc> = self.find_all("clients", CLIENTS, doc! {}).await?;
        let mut clients = docs
            .iter()
            .map(ClientDoc::record)
            .collect::<StoreResult<Vec<_>>>()?;
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(clients)
    }
}

#[async_trait]
impl Store for MongoStore {
    fn backend(&self) -> &'static str {
        "mongo"
    }

    /// Nothing to do: an accepted write is one the server has acknowledged, and how durable
    /// that is (journal, replicas) is the deployment's write concern.
    async fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
