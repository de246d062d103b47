//! Password hashes: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane: the
//! `argon2` crate's defaults), as PHC strings.
//!
//! One hash costs tens of milliseconds of a core and 19 MiB, so hashing runs on tokio's
//! blocking threads, at most [`Passwords::new`]'s `parallel` at a time, and at most
//! `queue` more may wait: past that a sign-in is refused at once ([`Busy`]) rather than
//! queued without end. The runtime's workers, which carry the messages, never hash.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use tokio::sync::Semaphore;

/// Too many passwords are being checked at once; try again shortly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins at once; try again in a moment")]
pub struct Busy;

/// The shortest password taken, in characters.
pub use crate::protocol::command::MIN_PASSWORD_CHARS as MIN_LEN;

/// The hashing pool.
#[derive(Clone)]
pub struct Passwords {
    running: Arc<Semaphore>,
    /// Hashes running or waiting to.
    pending: Arc<AtomicUsize>,
    /// The most that may be pending.
    limit: usize,
}

impl Passwords {
    /// `parallel` hashes at a time, `queue` more waiting.
    pub fn new(parallel: usize, queue: usize) -> Passwords {
        let parallel = parallel.max(1);
        Passwords {
            running: Arc::new(Semaphore::new(parallel)),
            pending: Arc::new(AtomicUsize::new(0)),
            limit: parallel + queue,
        }
    }

    /// Half the machine's cores (at least one), and 64 waiting.
    pub fn for_this_machine() -> Passwords {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Passwords::new((cores / 2).max(1), 64)
    }

    /// Why `password` may not be one: too short. `None` where it may.
    pub fn weakness(password: &str) -> Option<String> {
        let n = password.chars().count();
        (n < MIN_LEN)
            .then(|| format!("a password needs at least {MIN_LEN} characters; this one has {n}"))
    }

    /// The PHC string of a new hash of `password`, with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, Busy> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .expect("Argon2id with the default parameters hashes any password")
        })
        .await
    }

    /// Whether `password` is the one `phc` was made from. A hash that cannot be read is no
    /// match. With `phc` `None` (no such account) a hash is checked all the same, so a
    /// failure takes as long whether the id has an account or not.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, Busy> {
        self.run(move || {
            let known = phc.is_some();
            let phc = phc.unwrap_or_else(|| decoy().to_string());
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), phc.as_str())
                .is_ok();
            known && ok
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        if self.pending.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        // Counted out however this ends, even where the caller stops waiting.
        let _pending = Pending(self.pending.clone());
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|_| Busy)
    }
}

struct Pending(Arc<AtomicUsize>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A hash of nothing anyone knows, checked against where an id has no account.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        Argon2::default()
            .hash_password(crate::auth::token::new_device_id().as_bytes())
            .map(|h| h.to_string())
            .expect("Argon2id hashes any password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_checks_its_password_only() {
        let p = Passwords::new(1, 4);
        let h = p.hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p
            .verify("correct horse".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!p
            .verify("correct hors".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!p.verify("correct horse".into(), None).await.unwrap());
        assert!(!p
            .verify("x".into(), Some("not a hash".into()))
            .await
            .unwrap());
        let again = p.hash("correct horse".into()).await.unwrap();
        assert_ne!(h, again, "every hash has its own salt");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let p = Passwords::new(1, 1);
        let h = p.hash("password1".into()).await.unwrap();
        let many: Vec<_> = (0..8)
            .map(|_| {
                let p = p.clone();
                let h = h.clone();
                tokio::spawn(async move { p.verify("password1".into(), Some(h)).await })
            })
            .collect();
        let mut busy = 0;
        let mut done = 0;
        for t in many {
            match t.await.unwrap() {
                Ok(true) => done += 1,
                Err(Busy) => busy += 1,
                Ok(false) => panic!("the right password failed"),
            }
        }
        assert!(
            busy > 0,
            "eight at once with room for two: some must be refused"
        );
        assert!(done >= 1);
    }

    #[test]
    fn short_passwords_are_weak() {
        assert!(Passwords::weakness("1234567").is_some());
        assert!(Passwords::weakness("12345678").is_none());
        assert!(Passwords::weakness("ééééééé").is_some());
    }
}
