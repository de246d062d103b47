//! Signing in: password hashes, device tokens, and the limits on failed sign-ins. No I/O and
//! no protocol here; the msg_server's handlers (`roles/msg_server/account.rs`) use these and
//! keep accounts in the store ([`crate::store::AccountStore`]).
//!
//! - [`password`]: Argon2id hashing and checking on a bounded pool of blocking threads, so a
//!   flood of sign-ins queues there and never holds up message traffic.
//! - [`token`]: device tokens (32 random bytes, kept only as a SHA-256) and device ids.
//! - [`limiter`]: failed sign-ins per id and per source address, with growing delays.

pub mod limiter;
pub mod password;
pub mod token;

pub use limiter::Limiter;
pub use password::{Busy, Passwords};

/// The key a source address is counted under by every limit on what a client does: an IPv4
/// address, or an IPv6 address's /64 (one host commonly holds a whole /64, so counting its
/// addresses one by one would let it try without end).
pub fn source_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// What a msg_server keeps for sign-ins: the hashing pool, the failure limits per id and
/// per source address, and the password checks under way per key.
pub struct SignIns {
    pub passwords: Passwords,
    pub per_id: Limiter,
    pub per_addr: Limiter,
    pub in_flight: InFlight,
}

impl Default for SignIns {
    fn default() -> Self {
        SignIns {
            passwords: Passwords::for_this_machine(),
            per_id: Limiter::new(limiter::Policy::PER_ID),
            per_addr: Limiter::new(limiter::Policy::PER_ADDR),
            in_flight: InFlight::default(),
        }
    }
}

/// Password checks under way, per key. One id's guesses are checked one at a time and one
/// address's at most a few at a time, so that a burst of guesses never fills the hashing
/// pool in front of other users' sign-ins: the rest are refused at once.
#[derive(Default)]
pub struct InFlight {
    counts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

/// Keys with a password check under way; released when dropped.
pub struct Started {
    counts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
    keys: Vec<String>,
}

impl InFlight {
    /// Starts a check for every `(key, max)`: `None`, and nothing started, where a key has
    /// `max` under way already.
    pub fn start(&self, keys: &[(&str, u32)]) -> Option<Started> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if keys
            .iter()
            .any(|(k, max)| counts.get(*k).copied().unwrap_or(0) >= *max)
        {
            return None;
        }
        for (k, _) in keys {
            *counts.entry(k.to_string()).or_default() += 1;
        }
        Some(Started {
            counts: self.counts.clone(),
            keys: keys.iter().map(|(k, _)| k.to_string()).collect(),
        })
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            if let Some(n) = counts.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_counts_as_itself_and_an_ipv6_one_by_its_64() {
        let key = |a: &str| source_key(a.parse().unwrap());
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:bbbb:cccc:dddd:eeee")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn one_check_per_id_at_a_time() {
        let f = InFlight::default();
        let a = f.start(&[("id:bob", 1), ("addr:1", 2)]).expect("first");
        assert!(f.start(&[("id:bob", 1), ("addr:2", 2)]).is_none());
        let b = f
            .start(&[("id:carol", 1), ("addr:1", 2)])
            .expect("another id");
        assert!(
            f.start(&[("id:dave", 1), ("addr:1", 2)]).is_none(),
            "address full"
        );
        drop(a);
        assert!(f.start(&[("id:bob", 1), ("addr:2", 2)]).is_some());
        drop(b);
        assert!(f.counts.lock().unwrap().is_empty());
    }
}
