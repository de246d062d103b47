//! Which backend a role keeps its state in, and opening it.
//!
//! The roles of one cluster must share one store: the msg_servers find each other's
//! sessions there, the router looks receivers up in it, the manager writes what the others
//! read. The embedded store is a file that one process holds open, so it serves a cluster only
//! where every role runs in that one process (`fishchat up`); roles run as separate processes
//! (`fishchat msg-server --config ..` and the others) need Redis, MongoDB or both.

use std::path::PathBuf;
use std::sync::Arc;

use super::composite::CompositeStore;
use super::mongo::{MongoOptions, MongoStore};
use super::redis::{RedisOptions, RedisStore};
use super::{EmbeddedOptions, EmbeddedStore, Store, StoreError};

/// A store to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The redb file at `path`: one process only.
    Embedded {
        path: PathBuf,
        options: EmbeddedOptions,
    },
    /// Everything in Redis.
    Redis(RedisOptions),
    /// Everything in MongoDB.
    Mongo(MongoOptions),
    /// Sessions in Redis; topics, inboxes and clients in MongoDB (their source of truth).
    RedisMongo {
        redis: RedisOptions,
        mongo: MongoOptions,
    },
}

impl StoreChoice {
    /// The short name [`Store::backend`] will answer.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreChoice::Embedded { .. } => "embedded",
            StoreChoice::Redis(_) => "redis",
            StoreChoice::Mongo(_) => "mongo",
            StoreChoice::RedisMongo { .. } => "redis+mongo",
        }
    }

    /// Whether roles in several processes can share this store.
    pub fn is_shared(&self) -> bool {
        !matches!(self, StoreChoice::Embedded { .. })
    }

    /// Opens (connects to) the store. Network backends are given their connect timeout
    /// each, both at once where there are two; the error names the backend and its URL
    /// (password hidden).
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            StoreChoice::Embedded { path, options } => {
                Arc::new(EmbeddedStore::open(path, options.clone())?)
            }
            StoreChoice::Redis(r) => Arc::new(RedisStore::connect(r.clone()).await?),
            StoreChoice::Mongo(m) => Arc::new(MongoStore::connect(m.clone()).await?),
            StoreChoice::RedisMongo { redis, mongo } => {
                let (r, m) = tokio::join!(
                    RedisStore::connect(redis.clone()),
                    MongoStore::connect(mongo.clone())
                );
                Arc::new(CompositeStore::redis_mongo(Arc::new(r?), Arc::new(m?)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test]
    async fn an_unreachable_backend_is_named_and_fails_fast() {
        let mut redis = RedisOptions::new(format!("redis://:pw@127.0.0.1:{}/", closed_port()));
        redis.timeouts.connect = Duration::from_millis(500);
        let mongo = MongoOptions::new(format!("mongodb://127.0.0.1:{}/im", closed_port()));
        let choice = StoreChoice::RedisMongo {
            redis: redis.clone(),
            mongo,
        };
        assert_eq!(choice.kind(), "redis+mongo");
        assert!(choice.is_shared());
        let started = Instant::now();
        let e = choice
            .open()
            .await
            .err()
            .expect("nothing listens there")
            .to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            e.starts_with("store unavailable: redis redis://:***@127.0.0.1:"),
            "{e}"
        );
        assert!(!e.contains("pw"), "{e}");

        let e = StoreChoice::Redis(RedisOptions::new("http://nope"))
            .open()
            .await
            .err()
            .expect("not a Redis URL")
            .to_string();
        assert!(e.contains("not a Redis URL"), "{e}");
    }

    #[tokio::test]
    async fn embedded_opens_a_file_and_is_not_shared() {
        let dir = tempfile::tempdir().unwrap();
        let choice = StoreChoice::Embedded {
            path: dir.path().join("s.redb"),
            options: EmbeddedOptions::default(),
        };
        assert!(!choice.is_shared());
        let store = choice.open().await.unwrap();
        assert_eq!(store.backend(), choice.kind());
    }
}
