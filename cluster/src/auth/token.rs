//! Device tokens and device ids.
//!
//! A token is 32 random bytes, shown once (in `LOGIN_OK`) as URL-safe base64 behind
//! [`PREFIX`], and kept only as its SHA-256: 256 random bits need no slow hash, and a stolen
//! store holds nothing that signs in. Tokens are compared by hash, in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every token starts with, so that a token is told from a password at a glance (and a
/// log or a paste that holds one can be found).
pub const PREFIX: &str = "fct1_";

/// A new token and the hash to keep of it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

/// Whether `credential` has a token's shape (it may still be a password that looks like one).
pub fn looks_like_token(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// The hash kept of `token`: its SHA-256, URL-safe base64.
pub fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` hashes to `kept`, compared in constant time.
pub fn matches(token: &str, kept: &str) -> bool {
    hash(token).as_bytes().ct_eq(kept.as_bytes()).into()
}

/// A new device id: 9 random bytes, URL-safe base64 (12 characters).
pub fn new_device_id() -> String {
    let mut bytes = [0u8; 9];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_hash_and_nothing_else() {
        let (token, kept) = new_token();
        assert!(looks_like_token(&token));
        assert_eq!(token.len(), PREFIX.len() + 43);
        assert!(matches(&token, &kept));
        let (other, other_kept) = new_token();
        assert_ne!(token, other);
        assert!(!matches(&other, &kept));
        assert!(!matches(&token, &other_kept));
        assert!(!kept.contains(&token[PREFIX.len()..]));
    }

    #[test]
    fn device_ids_are_short_and_fresh() {
        let a = new_device_id();
        assert_eq!(a.len(), 12);
        assert_ne!(a, new_device_id());
    }
}
