//! A [`Store`] made of others: each trait is answered by the backend chosen for it.
//!
//! The deployment the original describes, Redis as the cache and MongoDB for persistence, is
//! `CompositeStore::redis_mongo`: sessions (where each id is connected, which changes at every
//! login and is read for every routed message) in Redis; topics and members, inboxes and
//! clients in MongoDB, which is their source of truth. Flushing Redis therefore loses no
//! message and no topic: only the sessions, which the connected clients' next logins write
//! again (meanwhile messages to them wait in their inboxes, as for any offline receiver).

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    ClientRecord, ClientStore, InboxOp, InboxResult, InboxStore, SessionLoc, SessionStore, Store,
    StoreResult, StoredMessage, TopicRecord, TopicStore,
};

/// Answers each trait from its own backend. Each backend is a whole [`Store`], so that
/// [`Store::flush`] can reach it; only its part is used.
pub struct CompositeStore {
    name: &'static str,
    sessions: Arc<dyn Store>,
    topics: Arc<dyn Store>,
    inbox: Arc<dyn Store>,
    clients: Arc<dyn Store>,
}

impl std::fmt::Debug for CompositeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeStore")
            .field("sessions", &self.sessions.backend())
            .field("topics", &self.topics.backend())
            .field("inbox", &self.inbox.backend())
            .field("clients", &self.clients.backend())
            .finish()
    }
}

impl CompositeStore {
    /// `name` is what [`Store::backend`] answers, e.g. "redis+mongo".
    pub fn new(
        name: &'static str,
        sessions: Arc<dyn Store>,
        topics: Arc<dyn Store>,
        inbox: Arc<dyn Store>,
        clients: Arc<dyn Store>,
    ) -> CompositeStore {
        CompositeStore {
            name,
            sessions,
            topics,
            inbox,
            clients,
        }
    }

    /// Sessions in `cache`, everything else in `persistent`.
    pub(crate) fn redis_mongo(cache: Arc<dyn Store>, persistent: Arc<dyn Store>) -> CompositeStore {
        CompositeStore::new(
            "redis+mongo",
            cache,
            persistent.clone(),
            persistent.clone(),
            persistent,
        )
    }

    /// Each distinct backend once.
    fn backends(&self) -> Vec<&Arc<dyn Store>> {
        let mut distinct: Vec<&Arc<dyn Store>> = Vec::new();
        for b in [&self.sessions, &self.topics, &self.inbox, &self.clients] {
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
}

#[async_trait]
impl InboxStore for CompositeStore {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        self.inbox.push(msg).await
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
        let parts = ["s.redb", "t.redb", "i.redb", "c.redb"].map(|n| embedded(dir.path(), n));
        let store: Arc<dyn Store> = Arc::new(CompositeStore::new(
            "composite-test",
            parts[0].clone(),
            parts[1].clone(),
            parts[2].clone(),
            parts[3].clone(),
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
