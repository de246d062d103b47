//! A [`Store`] made of others: each trait is answered by the backend chosen for it.
//!
//! The deployment the original describes, Redis as the cache and MongoDB for persistence, is
//! `CompositeStore::redis_mongo`: sessions (where each id is connected, which changes at every
//! login and is read for every routed message) in Redis; topics and members, inboxes (and the
//! message ids their pushes claim), clients and accounts in MongoDB, which is their source of
//! truth. Flushing Redis therefore loses no message, no topic and no account: only the
//! sessions, which the connected clients' next logins write again (meanwhile messages to them
//! wait in their inboxes, as for any offline receiver).
//!
//! Message ids ([`InboxStore::claim_message_id`]) always live with the inboxes: a push of a
//! client-chosen uuid claims it in the same step, so the two cannot be split.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    Account, AccountStore, ClientRecord, ClientStore, Device, InboxOp, InboxResult, InboxStore,
    SessionLoc, SessionStore, Store, StoreResult, StoredMessage, TopicRecord, TopicStore,
};

/// Answers each trait from its own backend. Each backend is a whole [`Store`], so that
/// [`Store::flush`] can reach it; only its part is used.
pub struct CompositeStore {
    name: &'static str,
    sessions: Arc<dyn Store>,
    topics: Arc<dyn Store>,
    inbox: Arc<dyn Store>,
    clients: Arc<dyn Store>,
    accounts: Arc<dyn Store>,
}

impl std::fmt::Debug for CompositeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeStore")
            .field("sessions", &self.sessions.backend())
            .field("topics", &self.topics.backend())
            .field("inbox", &self.inbox.backend())
            .field("clients", &self.clients.backend())
            .field("accounts", &self.accounts.backend())
            .finish()
    }
}

impl CompositeStore {
    /// `name` is what [`Store::backend`] answers, e.g. "redis+mongo". `inbox` holds the
    /// message ids as well as the inboxes.
    pub fn new(
        name: &'static str,
        sessions: Arc<dyn Store>,
        topics: Arc<dyn Store>,
        inbox: Arc<dyn Store>,
        clients: Arc<dyn Store>,
        accounts: Arc<dyn Store>,
    ) -> CompositeStore {
        CompositeStore {
            name,
            sessions,
            topics,
            inbox,
            clients,
            accounts,
        }
    }

    /// Sessions in `cache`, everything else in `persistent`.
    pub(crate) fn redis_mongo(cache: Arc<dyn Store>, persistent: Arc<dyn Store>) -> CompositeStore {
        CompositeStore::new(
            "redis+mongo",
            cache,
            persistent.clone(),
            persistent.clone(),
            persistent.clone(),
            persistent,
        )
    }

    /// Each distinct backend once.
    fn backends(&self) -> Vec<&Arc<dyn Store>> {
        let mut distinct: Vec<&Arc<dyn Store>> = Vec::new();
        for b in [
            &self.sessions,
            &self.topics,
            &self.inbox,
            &self.clients,
            &self.accounts,
        ] {
            if !distinct.iter().any(|d| Arc::ptr_eq(d, b)) {
                distinct.push(b);
            }
        }
        distinct
    }
}

#[async_trait]
impl SessionStore for CompositeStore {
    async fn add_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        self.sessions.add_session(id, loc).await
    }
    async fn remove_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        self.sessions.remove_session(id, loc).await
    }
    async fn sessions(&self, id: &str) -> StoreResult<Vec<SessionLoc>> {
        self.sessions.sessions(id).await
    }
    async fn all_sessions(&self) -> StoreResult<Vec<(String, SessionLoc)>> {
        self.sessions.all_sessions().await
    }
    async fn clear_server(&self, server: &str) -> StoreResult<u64> {
        self.sessions.clear_server(server).await
    }
}

#[async_trait]
impl TopicStore for CompositeStore {
    async fn create_topic(&self, topic: &TopicRecord) -> StoreResult<bool> {
        self.topics.create_topic(topic).await
    }
    async fn topic(&self, name: &str) -> StoreResult<Option<TopicRecord>> {
        self.topics.topic(name).await
    }
    async fn topics(&self) -> StoreResult<Vec<TopicRecord>> {
        self.topics.topics().await
    }
    async fn add_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        self.topics.add_member(topic, id).await
    }
    async fn members(&self, topic: &str) -> StoreResult<Vec<String>> {
        self.topics.members(topic).await
    }
    async fn remove_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        self.topics.remove_member(topic, id).await
    }
    async fn set_invited(&self, topic: &str, id: &str, invited: bool) -> StoreResult<bool> {
        self.topics.set_invited(topic, id, invited).await
    }
    async fn invited(&self, topic: &str) -> StoreResult<Vec<String>> {
        self.topics.invited(topic).await
    }
}

#[async_trait]
impl InboxStore for CompositeStore {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        self.inbox.push(msg).await
    }
    async fn claim_message_id(&self, uuid: &str, from: &str) -> StoreResult<bool> {
        self.inbox.claim_message_id(uuid, from).await
    }
    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>> {
        self.inbox.pending(id).await
    }
    async fn pending_count(&self, id: &str) -> StoreResult<u64> {
        self.inbox.pending_count(id).await
    }
    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        self.inbox.ack(id, uuid).await
    }
    async fn apply_batch(&self, ops: &[InboxOp]) -> Vec<InboxResult> {
        self.inbox.apply_batch(ops).await
    }
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        self.inbox.pending_total().await
    }
}

#[async_trait]
impl ClientStore for CompositeStore {
    async fn put_client(&self, client: &ClientRecord) -> StoreResult<()> {
        self.clients.put_client(client).await
    }
    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        self.clients.client(id).await
    }
    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        self.clients.clients().await
    }
}

#[async_trait]
impl AccountStore for CompositeStore {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        self.accounts.create_account(account).await
    }
    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        self.accounts.account(id).await
    }
    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        self.accounts.accounts().await
    }
    async fn set_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        self.accounts.set_password(id, password_hash).await
    }
    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        self.accounts.delete_account(id).await
    }
    async fn put_device(&self, id: &str, device: &Device) -> StoreResult<bool> {
        self.accounts.put_device(id, device).await
    }
    async fn touch_device(&self, id: &str, device_id: &str, at_ms: u64) -> StoreResult<bool> {
        self.accounts.touch_device(id, device_id, at_ms).await
    }
    async fn devices(&self, id: &str) -> StoreResult<Vec<Device>> {
        self.accounts.devices(id).await
    }
    async fn remove_device(&self, id: &str, device_id: &str) -> StoreResult<bool> {
        self.accounts.remove_device(id, device_id).await
    }
}

#[async_trait]
impl Store for CompositeStore {
    fn backend(&self) -> &'static str {
        self.name
    }

    /// Flushes every backend, each once; the first failure is answered after all were tried.
    async fn flush(&self) -> StoreResult<()> {
        let mut first_error = None;
        for b in self.backends() {
            if let Err(e) = b.flush().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;
    use crate::store::{EmbeddedOptions, EmbeddedStore};

    fn embedded(dir: &std::path::Path, name: &str) -> Arc<dyn Store> {
        Arc::new(EmbeddedStore::open(&dir.join(name), EmbeddedOptions::default()).unwrap())
    }

    #[tokio::test]
    async fn passes_the_conformance_suite_with_each_trait_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let parts =
            ["s.redb", "t.redb", "i.redb", "c.redb", "a.redb"].map(|n| embedded(dir.path(), n));
        let store: Arc<dyn Store> = Arc::new(CompositeStore::new(
            "composite-test",
            parts[0].clone(),
            parts[1].clone(),
            parts[2].clone(),
            parts[3].clone(),
            parts[4].clone(),
        ));
        conformance::run(store.clone()).await;

        // Each part got its own trait's data only.
        let id_with_sessions = store.all_sessions().await.unwrap()[0].0.clone();
        assert!(!parts[0]
            .sessions(&id_with_sessions)
            .await
            .unwrap()
            .is_empty());
        assert!(parts[1].all_sessions().await.unwrap().is_empty());
        assert!(parts[0].topics().await.unwrap().is_empty());
        assert!(!parts[1].topics().await.unwrap().is_empty());
        assert!(parts[0].clients().await.unwrap().is_empty());
        assert!(!parts[3].clients().await.unwrap().is_empty());
        let account = Account {
            id: "composite-account".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at_ms: 1,
        };
        assert!(store.create_account(&account).await.unwrap());
        assert_eq!(parts[4].account(&account.id).await.unwrap(), Some(account));
        for other in &parts[..4] {
            assert!(other.accounts().await.unwrap().is_empty());
        }
        // A message id is claimed in the inbox's part: another sender is refused there only.
        let uuid = "composite-claimed-uuid";
        assert!(store.claim_message_id(uuid, "a").await.unwrap());
        assert!(!parts[2].claim_message_id(uuid, "b").await.unwrap());
        assert!(parts[4].claim_message_id(uuid, "b").await.unwrap());
    }

    #[tokio::test]
    async fn redis_mongo_puts_sessions_in_the_cache_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = embedded(dir.path(), "cache.redb");
        let persistent = embedded(dir.path(), "persistent.redb");
        let store = CompositeStore::redis_mongo(cache.clone(), persistent.clone());
        assert_eq!(store.backend(), "redis+mongo");
        assert_eq!(store.backends().len(), 2);
        let loc = SessionLoc {
            server: "s".into(),
            conn: 1,
        };
        store.add_session("a", &loc).await.unwrap();
        store
            .push(&StoredMessage {
                uuid: "u".into(),
                from: "b".into(),
                to: "a".into(),
                msg: "m".into(),
                sent_at_ms: 1,
                claims_uuid: false,
            })
            .await
            .unwrap();
        assert_eq!(cache.sessions("a").await.unwrap(), vec![loc]);
        assert!(persistent.sessions("a").await.unwrap().is_empty());
        assert_eq!(persistent.pending_count("a").await.unwrap(), 1);
        assert_eq!(cache.pending_count("a").await.unwrap(), 0);
        store.flush().await.unwrap();
    }
}
