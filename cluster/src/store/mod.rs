//! Storage behind traits, one implementation per backend.
//!
//! - [`SessionStore`]: where each id is connected (which msg_server, which connection).
//! - [`TopicStore`]: topics, their home msg_server and members.
//! - [`InboxStore`]: each id's undelivered messages, kept in send order until acked.
//! - [`ClientStore`]: what the manager knows of each client.
//! - [`AccountStore`]: accounts (who owns an id) and their devices.
//!
//! [`Store`] is all five; roles hold an `Arc<dyn Store>`. Backends: [`embedded`] (redb on
//! disk, the default; one process only), [`redis`], [`mongo`], and [`composite`], which
//! answers each trait from a backend of its own (sessions in Redis, the rest in MongoDB).
//! [`choice`] says which to open. [`conformance`] is the one test suite every backend must
//! pass.

pub mod backend;
pub mod choice;
pub mod composite;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod embedded;
pub mod mongo;
pub mod redis;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use backend::BackendTimeouts;
pub use choice::StoreChoice;
pub use composite::CompositeStore;
pub use embedded::{EmbeddedOptions, EmbeddedStore};
pub use mongo::{MongoOptions, MongoStore};
pub use redis::{RedisOptions, RedisStore};

/// What a store operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or refused the operation; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The topic does not exist.
    #[error("no such topic {0:?}")]
    NoSuchTopic(String),
    /// Stored data could not be read back.
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
    /// The message id (uuid) belongs to messages of another sender.
    #[error("message id {0} is another sender's")]
    IdTaken(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One connection of a logged-in id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionLoc {
    /// The msg_server's advertised address.
    pub server: String,
    /// The connection's id on that msg_server, unique for the server's lifetime.
    pub conn: u64,
}

/// A p2p message waiting for its receiver's ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub uuid: String,
    pub from: String,
    pub to: String,
    pub msg: String,
    /// Unix milliseconds when the msg_server accepted it.
    pub sent_at_ms: u64,
    /// The sender chose this uuid (`SEND_MESSAGE_P2P`'s `uuid`): the push claims it for the
    /// sender, as `InboxStore::claim_message_id` does, and is refused with `IdTaken` where
    /// another sender has it. A uuid the server made is not claimed. Not stored: a message
    /// read back has `false`.
    #[serde(skip)]
    pub claims_uuid: bool,
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRecord {
    pub name: String,
    /// Who created it: its owner, who may invite and kick.
    pub creator: String,
    /// The msg_server it was created on (answered in `LOCATE_TOPIC_MSG_ADDR`).
    pub home: String,
    pub created_at_ms: u64,
    /// Joined only by invitation (a topic stored before there were any is open).
    #[serde(default)]
    pub invite_only: bool,
}

/// An id's account: whoever knows its password (or holds one of its device tokens) may use
/// the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    /// The password's Argon2id hash, as a PHC string (salt and parameters included).
    pub password_hash: String,
    /// Unix milliseconds.
    pub created_at_ms: u64,
}

/// One device of an account: a sign-in that holds a token of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Unique within the account.
    pub device_id: String,
    /// What the client called it.
    pub name: String,
    /// The token's SHA-256, URL-safe base64: the token itself is shown once, to the client, and never
    /// kept.
    pub token_hash: String,
    /// Unix milliseconds of the password sign-in that made it.
    pub created_at_ms: u64,
    /// Unix milliseconds of its last sign-in.
    pub last_used_ms: u64,
}

/// What the manager keeps of a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub id: String,
    /// The client's last remote address.
    pub client_addr: String,
    /// The msg_server it last logged in on.
    pub msg_server: String,
    pub alive: bool,
    /// Unix milliseconds of the last login or logout.
    pub last_seen_ms: u64,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Records one connection of `id`. Adding the same one twice is harmless.
    async fn add_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()>;
    /// Forgets one connection of `id`. Removing one that is not there is harmless.
    async fn remove_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()>;
    /// Every connection of `id`, ordered by server then connection.
    async fn sessions(&self, id: &str) -> StoreResult<Vec<SessionLoc>>;
    /// Every connection of every id, ordered by id.
    async fn all_sessions(&self) -> StoreResult<Vec<(String, SessionLoc)>>;
    /// Forgets every connection on `server` (it restarted); returns how many there were.
    async fn clear_server(&self, server: &str) -> StoreResult<u64>;
}

#[async_trait]
pub trait TopicStore: Send + Sync {
    /// Creates the topic with its creator as its first member. `Ok(false)`, and no change,
    /// where it exists already.
    async fn create_topic(&self, topic: &TopicRecord) -> StoreResult<bool>;
    async fn topic(&self, name: &str) -> StoreResult<Option<TopicRecord>>;
    /// Every topic, ordered by name.
    async fn topics(&self) -> StoreResult<Vec<TopicRecord>>;
    /// Adds a member; `Ok(false)` where it was one already; `NoSuchTopic` where the topic
    /// does not exist.
    async fn add_member(&self, topic: &str, id: &str) -> StoreResult<bool>;
    /// The members, ordered by id; `NoSuchTopic` where the topic does not exist.
    async fn members(&self, topic: &str) -> StoreResult<Vec<String>>;
    /// Removes a member; `Ok(false)` where it was none; `NoSuchTopic` where the topic does
    /// not exist.
    async fn remove_member(&self, topic: &str, id: &str) -> StoreResult<bool>;
    /// Invites `id` (`invited`) or takes the invitation back; `Ok(false)` where that changed
    /// nothing; `NoSuchTopic` where the topic does not exist.
    async fn set_invited(&self, topic: &str, id: &str, invited: bool) -> StoreResult<bool>;
    /// The ids invited and not taken back, ordered by id; `NoSuchTopic` where the topic does
    /// not exist.
    async fn invited(&self, topic: &str) -> StoreResult<Vec<String>>;
}

/// One write to an inbox, as [`InboxStore::apply_batch`] takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxOp {
    /// [`InboxStore::push`] the message.
    Push(StoredMessage),
    /// [`InboxStore::ack`] the message `uuid` of the inbox of `id`.
    Ack { id: String, uuid: String },
}

/// What one [`InboxOp`] of a batch came to: a push answers `None`, an ack what
/// [`InboxStore::ack`] answers.
pub type InboxResult = StoreResult<Option<StoredMessage>>;

#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Appends to the inbox of `msg.to`. A uuid already pending there is not added twice.
    ///
    /// Only where `msg.claims_uuid` (the sender chose the uuid) does the push claim
    /// `msg.uuid` for `msg.from`, as [`claim_message_id`](Self::claim_message_id) does:
    /// `IdTaken`, and nothing pushed, where another sender has it. Otherwise (a uuid the
    /// server made) nothing is claimed and no claim is checked.
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()>;
    /// Claims the message id `uuid` for messages of `from`: `Ok(true)` where it is new or
    /// `from`'s already, `Ok(false)` (and no change) where another sender has it. Ids are
    /// kept for good, so a uuid names one sender's message for ever.
    async fn claim_message_id(&self, uuid: &str, from: &str) -> StoreResult<bool>;
    /// The inbox of `id`, in push order.
    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>>;
    /// How many messages wait for `id`.
    async fn pending_count(&self, id: &str) -> StoreResult<u64>;
    /// Removes a message from the inbox of `id`; returns it where it was pending.
    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>>;
    /// Applies `ops` as if one after another, in order (each sees the ones before it), and
    /// answers each in its place: one result per op. One op failing does not stop the rest.
    ///
    /// This is how a msg_server writes a client's run of sends and acks, so a backend does
    /// it in one trip where it can (the embedded store: one commit; Redis: one pipeline).
    /// The default calls [`push`](Self::push) and [`ack`](Self::ack) one after another.
    async fn apply_batch(&self, ops: &[InboxOp]) -> Vec<InboxResult> {
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            results.push(match op {
                InboxOp::Push(msg) => self.push(msg).await.map(|()| None),
                InboxOp::Ack { id, uuid } => self.ack(id, uuid).await,
            });
        }
        results
    }
    /// How many messages wait in every inbox together (the offline queue's depth), for the
    /// monitor. `None` where the backend cannot count them cheaply: each msg_server asks
    /// once per monitor beat, so this must not scan the inboxes.
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        Ok(None)
    }
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts or replaces what is known of a client.
    async fn put_client(&self, client: &ClientRecord) -> StoreResult<()>;
    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>>;
    /// Every client, ordered by id.
    async fn clients(&self) -> StoreResult<Vec<ClientRecord>>;
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Makes the account; `Ok(false)`, and no change, where `account.id` has one already.
    async fn create_account(&self, account: &Account) -> StoreResult<bool>;
    async fn account(&self, id: &str) -> StoreResult<Option<Account>>;
    /// Every account, ordered by id.
    async fn accounts(&self) -> StoreResult<Vec<Account>>;
    /// Replaces the password hash; `Ok(false)` where there is no such account.
    async fn set_password(&self, id: &str, password_hash: &str) -> StoreResult<bool>;
    /// Deletes the account and its devices; `Ok(false)` where there was none.
    async fn delete_account(&self, id: &str) -> StoreResult<bool>;
    /// Adds the device, or replaces the one with its `device_id`; `Ok(false)`, and no
    /// change, where there is no such account.
    async fn put_device(&self, id: &str, device: &Device) -> StoreResult<bool>;
    /// Notes that the device signed in at `at_ms` (its `last_used_ms`), where the account still
    /// has it: `Ok(false)`, and no change, where the account or the device is gone (revoked,
    /// logged out, deleted), so a sign-in racing a revoke never brings the device back.
    async fn touch_device(&self, id: &str, device_id: &str, at_ms: u64) -> StoreResult<bool>;
    /// The account's devices, ordered by `created_at_ms` then `device_id`; none where there
    /// is no such account.
    async fn devices(&self, id: &str) -> StoreResult<Vec<Device>>;
    /// Forgets a device (its token signs in no more); `Ok(false)` where there was none.
    async fn remove_device(&self, id: &str, device_id: &str) -> StoreResult<bool>;
}

/// Every store trait in one; what the roles hold.
#[async_trait]
pub trait Store: SessionStore + TopicStore + InboxStore + ClientStore + AccountStore {
    /// A short name for logs: "embedded", "redis+mongo", ...
    fn backend(&self) -> &'static str;
    /// Makes everything accepted so far durable. Called at shutdown.
    async fn flush(&self) -> StoreResult<()>;
}
