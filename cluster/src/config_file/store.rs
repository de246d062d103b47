//! The fields that choose and reach a store (`Store`, `Redis`, `Mongo`, `RedisURL`,
//! `MongoURL`, `DataDir`): which backend, and its URL with the credentials escaped into it.

use std::time::Duration;

use super::error::ConfigError;
use super::fields::RoleFile;
use crate::store::redis::DEFAULT_PREFIX;
use crate::store::{BackendTimeouts, EmbeddedOptions, MongoOptions, RedisOptions, StoreChoice};

impl RoleFile {
    /// The store this file names; see the module documentation.
    pub fn store(&self) -> Result<StoreChoice, ConfigError> {
        let redis = self.redis_options()?;
        let mongo = self.mongo_options()?;
        let kind = match self.store.as_deref() {
            Some(k) => k.to_ascii_lowercase(),
            None => match (&redis, &mongo) {
                (Some(_), Some(_)) => "redis+mongo".into(),
                (Some(_), None) => "redis".into(),
                (None, Some(_)) => "mongo".into(),
                (None, None) => return Err(ConfigError::NoStore),
            },
        };
        let need = |backend: &'static str| ConfigError::StoreNeeds {
            kind: kind.clone(),
            backend,
        };
        let choice = match kind.as_str() {
            "redis+mongo" => StoreChoice::RedisMongo {
                redis: redis.ok_or_else(|| need("Redis"))?,
                mongo: mongo.ok_or_else(|| need("Mongo"))?,
            },
            "redis" => StoreChoice::Redis(redis.ok_or_else(|| need("Redis"))?),
            "mongo" => StoreChoice::Mongo(mongo.ok_or_else(|| need("Mongo"))?),
            "embedded" => {
                let dir = self
                    .data_dir
                    .clone()
                    .ok_or(ConfigError::EmbeddedNeedsDataDir)?;
                StoreChoice::Embedded {
                    path: dir.join("store.redb"),
                    options: EmbeddedOptions::default(),
                }
            }
            other => return Err(ConfigError::UnknownStore(other.to_string())),
        };
        if self.data_dir.is_some() && choice.is_shared() {
            return Err(ConfigError::DataDirNotEmbedded {
                kind: choice.kind(),
            });
        }
        Ok(choice)
    }

    fn redis_options(&self) -> Result<Option<RedisOptions>, ConfigError> {
        let (url, section) = match (&self.redis_url, &self.redis) {
            (Some(_), Some(_)) => return Err(ConfigError::SectionAndUrl { backend: "Redis" }),
            (Some(url), None) => (url.clone(), None),
            (None, Some(s)) => {
                let auth = match &s.password {
                    Some(p) if !p.is_empty() => format!(":{}@", percent_encode(p)),
                    _ => String::new(),
                };
                (
                    format!("redis://{auth}{}:{}/", host(&s.addr), s.port),
                    Some(s),
                )
            }
            (None, None) => return Ok(None),
        };
        // TLS (`rediss://`) is not built in: the `redis` crate's TLS features are off.
        if !url.starts_with("redis://") {
            return Err(ConfigError::NotRedisUrl(url));
        }
        let mut o = RedisOptions::new(url);
        if let Some(s) = section {
            let d = BackendTimeouts::default();
            let ms = |v: Option<u64>, field: &'static str, default: Duration| match v {
                Some(0) => Err(ConfigError::TooSmall { field, unit: "ms" }),
                Some(ms) => Ok(Duration::from_millis(ms)),
                None => Ok(default),
            };
            o.timeouts.connect = ms(s.connect_timeout, "Redis.ConnectTimeout", d.connect)?;
            // One operation is a write and a read: the longer of the two bounds it.
            o.timeouts.op = ms(s.read_timeout, "Redis.ReadTimeout", d.op)?.max(ms(
                s.write_timeout,
                "Redis.WriteTimeout",
                d.op,
            )?);
            o.prefix = s.prefix.clone().unwrap_or_else(|| DEFAULT_PREFIX.into());
        }
        Ok(Some(o))
    }

    fn mongo_options(&self) -> Result<Option<MongoOptions>, ConfigError> {
        let url = match (&self.mongo_url, &self.mongo) {
            (Some(_), Some(_)) => return Err(ConfigError::SectionAndUrl { backend: "Mongo" }),
            (Some(url), None) => url.clone(),
            (None, Some(s)) => {
                let auth = match (s.user.is_empty(), s.password.is_empty()) {
                    (true, true) => String::new(),
                    (true, false) => return Err(ConfigError::MongoPasswordWithoutUser),
                    (false, _) => format!(
                        "{}:{}@",
                        percent_encode(&s.user),
                        percent_encode(&s.password)
                    ),
                };
                let db = s
                    .database
                    .clone()
                    .unwrap_or_else(|| crate::store::mongo::DEFAULT_DATABASE.into());
                format!("mongodb://{auth}{}:{}/{db}", host(&s.addr), s.port)
            }
            (None, None) => return Ok(None),
        };
        // `mongodb+srv://` needs the driver's DNS resolver, which is not built in.
        if !url.starts_with("mongodb://") {
            return Err(ConfigError::NotMongoUrl(url));
        }
        Ok(Some(MongoOptions::new(url)))
    }
}

/// An IPv6 address goes in brackets in a URL.
fn host(addr: &str) -> String {
    if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]")
    } else {
        addr.to_string()
    }
}

/// Escapes everything but unreserved characters, for a URL's user and password.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
