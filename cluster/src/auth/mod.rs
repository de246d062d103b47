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

/// What a msg_server keeps for sign-ins: the hashing pool and the failure limits, per id and
/// per source address.
pub struct SignIns {
    pub passwords: Passwords,
    pub per_id: Limiter,
    pub per_addr: Limiter,
}

impl Default for SignIns {
    fn default() -> Self {
        SignIns {
            passwords: Passwords::for_this_machine(),
            per_id: Limiter::new(limiter::Policy::PER_ID),
            per_addr: Limiter::new(limiter::Policy::PER_ADDR),
        }
    }
}
