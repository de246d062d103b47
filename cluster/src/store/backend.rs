//! What the network backends ([`super::redis`], [`super::mongo`]) share: how long an
//! operation may take, how a URL is shown in messages, and how their failures become
//! [`StoreError`]s.
//!
//! Every operation of a network backend runs under a deadline ([`BackendTimeouts::op`]), so
//! that a lost backend makes callers fail fast with [`StoreError::Unavailable`] (answered to
//! clients as `ERROR UNAVAILABLE`) instead of hanging; the drivers reconnect by themselves and
//! the next operation after the backend returns succeeds.

use std::future::IntoFuture;
use std::time::Duration;

use super::{StoreError, StoreResult};

/// Deadlines of a network backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendTimeouts {
    /// The longest a connection attempt may take; at start, the backend is given this long
    /// to answer before the role gives up.
    pub connect: Duration,
    /// The longest one store operation may take, reconnecting included.
    pub op: Duration,
}

impl Default for BackendTimeouts {
    /// The original's Redis `ConnectTimeout` (2000 ms); operations get the same.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            op: Duration::from_secs(2),
        }
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_string(),
    };
    format!("{}{shown}{}", &url[..scheme_end + 3], &rest[at..])
}

/// Runs `op` under `limit`; a timeout or a driver error becomes [`StoreError::Unavailable`]
/// naming the backend and the operation.
pub async fn bounded<T, E, F>(backend: &str, what: &str, limit: Duration, op: F) -> StoreResult<T>
where
    F: IntoFuture<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    match tokio::time::timeout(limit, op.into_future()).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("{backend}: {what}: {e}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "{backend}: {what}: no answer within {limit:?}"
        ))),
    }
}

/// A count or a time as stored (BSON and Lua know signed integers only).
pub(crate) fn to_i64(what: &str, v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} is too large to store")))
}

/// The inverse of [`to_i64`].
pub(crate) fn to_u64(what: &str, v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {what} {v} is negative")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_and_the_rest_is_kept() {
        assert_eq!(
            redact_url("redis://:s3cret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("mongodb://im:pw@db1:27017,db2:27017/im?authSource=admin"),
            "mongodb://im:***@db1:27017,db2:27017/im?authSource=admin"
        );
        assert_eq!(
            redact_url("mongodb://127.0.0.1:27017/im"),
            "mongodb://127.0.0.1:27017/im"
        );
        assert_eq!(redact_url("redis://user@h/"), "redis://user@h/");
        assert_eq!(redact_url("not a url"), "not a url");
        // An @ after the authority is not a password.
        assert_eq!(
            redact_url("mongodb://h:1/db?x=a@b"),
            "mongodb://h:1/db?x=a@b"
        );
    }

    #[tokio::test]
    async fn an_operation_past_its_deadline_is_unavailable() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, String>(())
        };
        let e = bounded("redis redis://h", "GET", Duration::from_millis(10), slow)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Unavailable(m) if m.contains("redis redis://h: GET: no answer within")),
            "{e}"
        );
        let failed = async { Err::<(), _>("connection refused") };
        let e = bounded("mongo", "find", Duration::from_secs(1), failed)
            .await
            .unwrap_err();
        assert_eq!(
            e,
            StoreError::Unavailable("mongo: find: connection refused".into())
        );
    }
}
