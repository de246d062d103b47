//! Failed sign-ins, per key (an id, or a source address), with growing delays.
//!
//! The first [`Policy::free`] failures of a key cost nothing; each one after that bars the
//! key for a delay that doubles, from [`Policy::base`] up to [`Policy::max`]. A barred key is
//! refused at once, before any password is hashed, so an attacker's guesses cost the server
//! nothing and never queue in front of other users' sign-ins. A key is forgotten after
//! [`Policy::forget`] without failures, and on a success.
//!
//! What the log hears of it is summed: a key's failures are logged at most once per
//! [`Policy::log_every`], with how many there were ([`Limiter::failed`] says when).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a [`Limiter`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures before the first delay.
    pub free: u32,
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
    /// A key with no failure for this long starts afresh.
    pub forget: Duration,
    /// How often one key's failures are logged, at most.
    pub log_every: Duration,
    /// The most keys kept; past it the stalest are forgotten.
    pub capacity: usize,
}

impl Policy {
    /// Per id: five free guesses, then 1 s, 2 s, 4 s, ... up to 15 minutes.
    pub const PER_ID: Policy = Policy {
        free: 5,
        base: Duration::from_secs(1),
        max: Duration::from_secs(15 * 60),
        forget: Duration::from_secs(30 * 60),
        log_every: Duration::from_secs(60),
        capacity: 100_000,
    };

    /// Per source address: more free guesses (many users may share one address), then the
    /// same growth.
    pub const PER_ADDR: Policy = Policy {
        free: 20,
        ..Policy::PER_ID
    };

    fn delay(&self, failures: u32) -> Duration {
        if failures <= self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free - 1).min(30);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

/// The failures of one key.
#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    barred_until: Instant,
    last_failure: Instant,
    /// When the log last heard of this key, and the failures since.
    logged_at: Option<Instant>,
    unlogged: u64,
}

/// A barred key: when it may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Barred {
    pub retry_after: Duration,
}

/// What to log of a failure: `Some(n)` where the log should hear of `n` failures now.
pub type LogNow = Option<u64>;

/// Failed sign-ins by key.
#[derive(Debug)]
pub struct Limiter {
    policy: Policy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Limiter {
    pub fn new(policy: Policy) -> Limiter {
        Limiter {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `key` may try now.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Barred> {
        match self.lock().get(key) {
            Some(e) if e.barred_until > now => Err(Barred {
                retry_after: e.barred_until - now,
            }),
            _ => Ok(()),
        }
    }

    /// A failure of `key`: bars it where it has failed too often, and says whether to log.
    pub fn failed(&self, key: &str, now: Instant) -> LogNow {
        let p = self.policy;
        let mut entries = self.lock();
        if entries.len() >= p.capacity && !entries.contains_key(key) {
            prune(&mut entries, p, now);
        }
        let e = entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            barred_until: now,
            last_failure: now,
            logged_at: None,
            unlogged: 0,
        });
        if now.duration_since(e.last_failure) > p.forget {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        e.barred_until = now + p.delay(e.failures);
        e.unlogged += 1;
        let due = e
            .logged_at
            .is_none_or(|at| now.duration_since(at) >= p.log_every);
        if due {
            e.logged_at = Some(now);
            Some(std::mem::take(&mut e.unlogged))
        } else {
            None
        }
    }

    /// A success of `key`: its failures are forgotten.
    pub fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    /// How many keys are kept (for tests and status).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Forgets the keys past [`Policy::forget`]; where that frees too little, the stalest half
/// of those not barred now. A barred key is never forgotten before its delay ends, so a
/// flood of other keys cannot lift a bar.
fn prune(entries: &mut HashMap<String, Entry>, p: Policy, now: Instant) {
    entries.retain(|_, e| now.duration_since(e.last_failure) <= p.forget);
    if entries.len() >= p.capacity {
        let mut ages: Vec<Instant> = entries
            .values()
            .filter(|e| e.barred_until <= now)
            .map(|e| e.last_failure)
            .collect();
        if ages.is_empty() {
            return;
        }
        ages.sort_unstable();
        let cut = ages[ages.len() / 2];
        entries.retain(|_, e| e.barred_until > now || e.last_failure > cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        free: 2,
        base: Duration::from_secs(1),
        max: Duration::from_secs(8),
        forget: Duration::from_secs(60),
        log_every: Duration::from_secs(10),
        capacity: 4,
    };

    #[test]
    fn delays_grow_after_the_free_failures_and_stop_at_the_max() {
        assert_eq!(P.delay(1), Duration::ZERO);
        assert_eq!(P.delay(2), Duration::ZERO);
        assert_eq!(P.delay(3), Duration::from_secs(1));
        assert_eq!(P.delay(4), Duration::from_secs(2));
        assert_eq!(P.delay(5), Duration::from_secs(4));
        assert_eq!(P.delay(6), Duration::from_secs(8));
        assert_eq!(P.delay(60), Duration::from_secs(8));
    }

    #[test]
    fn a_key_is_barred_after_its_free_failures_and_others_are_not() {
        let l = Limiter::new(P);
        let t = Instant::now();
        l.failed("id:bob", t);
        l.failed("id:bob", t);
        assert_eq!(l.check("id:bob", t), Ok(()));
        l.failed("id:bob", t);
        assert_eq!(
            l.check("id:bob", t),
            Err(Barred {
                retry_after: Duration::from_secs(1)
            })
        );
        assert_eq!(l.check("id:alice", t), Ok(()));
        assert_eq!(l.check("id:bob", t + Duration::from_secs(1)), Ok(()));
        l.succeeded("id:bob");
        assert_eq!(l.check("id:bob", t), Ok(()));
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_while() {
        let l = Limiter::new(P);
        let t = Instant::now();
        for _ in 0..3 {
            l.failed("k", t);
        }
        let later = t + Duration::from_secs(61);
        l.failed("k", later);
        assert_eq!(l.check("k", later), Ok(()), "counted afresh: one failure");
    }

    #[test]
    fn the_log_hears_of_a_key_once_per_window_with_the_count() {
        let l = Limiter::new(P);
        let t = Instant::now();
        assert_eq!(l.failed("k", t), Some(1));
        for _ in 0..49 {
            assert_eq!(l.failed("k", t + Duration::from_secs(1)), None);
        }
        assert_eq!(l.failed("k", t + Duration::from_secs(10)), Some(50));
    }

    #[test]
    fn keys_are_bounded_and_a_bar_outlives_a_flood_of_other_keys() {
        let l = Limiter::new(P);
        let t = Instant::now();
        for _ in 0..6 {
            l.failed("victim", t);
        }
        let barred_for = P.delay(6);
        assert!(l.check("victim", t).is_err());
        for i in 0..100 {
            l.failed(&format!("k{i}"), t + Duration::from_millis(i));
        }
        // The bar and the unbarred keys cap the table: a few over only while bars last.
        assert!(l.len() <= P.capacity + 1, "{} keys kept", l.len());
        assert!(
            l.check("victim", t + Duration::from_millis(100)).is_err(),
            "a flood of other keys lifted the bar"
        );
        assert!(l.check("victim", t + barred_for).is_ok());
    }
}
