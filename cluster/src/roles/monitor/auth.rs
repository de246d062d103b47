//! Who may see the dashboard.
//!
//! There is no built-in password. Without a configured login the web listener must be on a
//! loopback address, and then only requests naming a loopback host are served (a web page
//! elsewhere cannot read the dashboard through DNS rebinding). With a login (needed on any
//! other address) a person signs in on `/login` and gets a session cookie; scripts and
//! Prometheus may send the same credentials as HTTP Basic instead.
//!
//! The password is kept only as a salted PBKDF2-HMAC-SHA256 hash in the PHC string format
//! (`$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>`), made by [`hash_password`] (`fishchat
//! monitor hash-password`). Guessing is slowed per source address ([`Guard::check`]): an
//! address that fails 5 times waits, refused at once, for a delay that doubles, and has one
//! check under way at a time, so one address's guesses never queue in front of another's
//! sign-in. The HTTP side is in [`super::http`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use pbkdf2::sha2::{Digest, Sha256};
use rand::RngCore;

use crate::auth::limiter::{Limiter, Policy};
use crate::auth::{source_key, InFlight};
use crate::config::WebLogin;

/// The iterations [`hash_password`] uses: OWASP's 2023 advice for PBKDF2-HMAC-SHA256.
pub(crate) const ITERATIONS: u32 = 600_000;
/// Fewer iterations than this are refused: such a hash is too cheap to guess against.
pub const MIN_ITERATIONS: u32 = 100_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
const PREFIX: &str = "$pbkdf2-sha256$";

/// How long a sign-in lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept at once; the oldest goes first beyond this.
const MAX_SESSIONS: usize = 1024;
/// How long HTTP Basic credentials, once checked, are taken without hashing them again
/// (a Prometheus scrape every 15 s must not cost a PBKDF2 each).
const BASIC_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// The cookie that carries a session.
pub(crate) const COOKIE: &str = "fishchat_monitor";

/// Why a login configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the dashboard would listen on {addr}, which other machines can reach, and no login is configured. Configure Login {{User, PasswordHash}} in the monitor's config (make the hash with `fishchat monitor hash-password`), or listen on a loopback address such as 127.0.0.1")]
    LoginRequired { addr: SocketAddr },
    #[error("the dashboard login's User is empty; set the user name to sign in with")]
    EmptyUser,
    #[error("the dashboard login's PasswordHash is not usable: {0}. Make one with `fishchat monitor hash-password`")]
    BadHash(String),
}

/// A parsed password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHash {
    /// Parses a PHC string as [`hash_password`] makes it.
    pub fn parse(s: &str) -> Result<PasswordHash, AuthError> {
        let bad = |why: &str| AuthError::BadHash(why.to_string());
        let rest = s.strip_prefix(PREFIX).ok_or_else(|| {
            bad("it must start with $pbkdf2-sha256$ (PBKDF2-HMAC-SHA256 in the PHC format)")
        })?;
        let mut parts = rest.split('$');
        let (Some(params), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected $pbkdf2-sha256$i=N[,l=32]$SALT$HASH"));
        };
        let mut iterations = None;
        let mut length = None;
        for p in params.split(',') {
            match p.split_once('=') {
                Some(("i", n)) => iterations = n.parse::<u32>().ok(),
                Some(("l", n)) => {
                    length = Some(n.parse::<usize>().map_err(|_| bad("l= is not a number"))?)
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown parameter {p:?}; expected i=N and l=32"
                    )))
                }
            }
        }
        let iterations = iterations.ok_or_else(|| bad("missing or bad i=ITERATIONS"))?;
        if iterations < MIN_ITERATIONS {
            return Err(bad(&format!(
                "{iterations} iterations are too few to resist guessing; at least {MIN_ITERATIONS}"
            )));
        }
        let salt = B64
            .decode(salt)
            .map_err(|e| bad(&format!("the salt is not base64: {e}")))?;
        let hash = B64
            .decode(hash)
            .map_err(|e| bad(&format!("the hash is not base64: {e}")))?;
        if salt.len() < 8 {
            return Err(bad("the salt is shorter than 8 bytes"));
        }
        if hash.len() < 16 || length.is_some_and(|l| l != hash.len()) {
            return Err(bad("the hash length is wrong"));
        }
        Ok(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` is the one hashed. Slow on purpose (PBKDF2); call it off the
    /// async threads.
    pub fn verify(&self, password: &str) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &self.salt, self.iterations, &mut out);
        constant_time_eq(&out, &self.hash)
    }
}

/// Hashes `password` with a fresh random salt and [`ITERATIONS`], as a PHC string.
pub fn hash_password(password: &str) -> String {
    hash_password_with(password, ITERATIONS)
}

/// [`hash_password`] with another iteration count (at least [`MIN_ITERATIONS`] to be
/// accepted by [`PasswordHash::parse`]).
pub fn hash_password_with(password: &str, iterations: u32) -> String {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; HASH_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut out);
    format!(
        "{PREFIX}i={iterations},l={HASH_LEN}${}${}",
        B64.encode(salt),
        B64.encode(out)
    )
}

/// Compares without leaking through timing how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How the dashboard is guarded.
pub enum Access {
    /// Loopback only, no login: requests must name a loopback host.
    Loopback,
    /// Everything but the login page and `/healthz` needs a signed-in session or Basic.
    Login(Box<Guard>),
}

impl Access {
    /// The guard for a web listener bound to `bound` with `login` configured.
    pub fn for_listener(bound: SocketAddr, login: Option<&WebLogin>) -> Result<Access, AuthError> {
        match login {
            Some(l) => Ok(Access::Login(Box::new(Guard::new(l)?))),
            None if is_loopback(bound.ip()) => Ok(Access::Loopback),
            None => Err(AuthError::LoginRequired { addr: bound }),
        }
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Whether a request's `Host` names this machine's loopback interface (or nothing: HTTP/1.0
/// clients may leave it out, and a browser always sends it).
pub(crate) fn host_is_loopback(host: Option<&str>) -> bool {
    let Some(host) = host else { return true };
    let name = match host.strip_prefix('[') {
        // [::1]:port
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        }),
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(is_loopback)
}

/// The login, its sessions, and the credentials checked lately.
pub struct Guard {
    user: String,
    hash: PasswordHash,
    sessions: Mutex<HashMap<String, Instant>>,
    basic_ok: Mutex<HashMap<[u8; 32], Instant>>,
    /// Failed sign-ins per source address: after a few, that address waits, refused at once
    /// (before any hashing), for a delay that doubles. Other addresses are not slowed.
    failures: Limiter,
    /// Checks under way per source address: one at a time, so that one address's guesses
    /// never queue in front of everyone else's sign-in.
    in_flight: InFlight,
    /// Hashes at once, in all: a PBKDF2 is a core's worth of work.
    hashing: tokio::sync::Semaphore,
    /// Made up for a wrong user name so that it costs as much as a wrong password.
    decoy: PasswordHash,
}

/// What a sign-in came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Right,
    Wrong,
    /// This source address failed too often, or has a check under way: try again after this.
    Barred(Duration),
}

/// How a source address's failed sign-ins bar it: 5 free, then 1 s doubling up to 15 min.
const PER_SOURCE: Policy = Policy::PER_ID;

impl Guard {
    pub fn new(login: &WebLogin) -> Result<Guard, AuthError> {
        if login.user.trim().is_empty() {
            return Err(AuthError::EmptyUser);
        }
        let hash = PasswordHash::parse(&login.password_hash)?;
        let decoy = PasswordHash {
            iterations: hash.iterations,
            salt: hash.salt.iter().map(|b| b ^ 0x5a).collect(),
            hash: vec![0; hash.hash.len()],
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Guard {
            user: login.user.clone(),
            hash,
            sessions: Mutex::new(HashMap::new()),
            basic_ok: Mutex::new(HashMap::new()),
            failures: Limiter::new(PER_SOURCE),
            in_flight: InFlight::default(),
            hashing: tokio::sync::Semaphore::new((cores / 2).max(1)),
            decoy,
        })
    }

    /// Checks a user and password from `source` (where known): refused at once where that
    /// address is barred or has a check under way; a failure counts against it alone.
    pub async fn check(&self, source: Option<IpAddr>, user: &str, password: &str) -> Checked {
        let key = source.map_or_else(|| "unknown".to_string(), source_key);
        let now = Instant::now();
        if let Err(b) = self.failures.check(&key, now) {
            return Checked::Barred(b.retry_after);
        }
        let Some(_one) = self.in_flight.start(&[(&key, 1)]) else {
            return Checked::Barred(Duration::from_secs(1));
        };
        let Ok(_permit) = self.hashing.acquire().await else {
            return Checked::Wrong;
        };
        let user_ok = constant_time_eq(user.as_bytes(), self.user.as_bytes());
        let hash = if user_ok {
            self.hash.clone()
        } else {
            self.decoy.clone()
        };
        let password = password.to_string();
        let pw_ok = tokio::task::spawn_blocking(move || hash.verify(&password))
            .await
            .unwrap_or(false);
        if user_ok && pw_ok {
            self.failures.succeeded(&key);
            return Checked::Right;
        }
        if let Some(n) = self.failures.failed(&key, Instant::now()) {
            tracing::warn!(source = %key, failures = n, "failed dashboard sign-ins");
        }
        Checked::Wrong
    }

    /// A new session after a successful sign-in: its cookie value.
    pub(crate) fn open_session(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, t| now.duration_since(*t) < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(token.clone(), now);
        token
    }

    pub(crate) fn close_session(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token);
    }

    /// Whether `token` is a live session.
    pub(crate) fn session_ok(&self, token: &str) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(token)
            .is_some_and(|t| t.elapsed() < SESSION_TTL)
    }

    /// What an `Authorization: Basic ...` value from `source` comes to.
    pub(crate) async fn basic(&self, source: Option<IpAddr>, header: &str) -> Checked {
        let Some(encoded) = header
            .strip_prefix("Basic ")
            .or_else(|| header.strip_prefix("basic "))
        else {
            return Checked::Wrong;
        };
        let key: [u8; 32] = Sha256::digest(encoded.trim().as_bytes()).into();
        {
            let cache = self.basic_ok.lock().unwrap_or_else(|p| p.into_inner());
            if cache
                .get(&key)
                .is_some_and(|t| t.elapsed() < BASIC_CACHE_TTL)
            {
                return Checked::Right;
            }
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return Checked::Wrong;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return Checked::Wrong;
        };
        let Some((user, password)) = text.split_once(':') else {
            return Checked::Wrong;
        };
        let checked = self.check(source, user, password).await;
        if checked != Checked::Right {
            return checked;
        }
        let mut cache = self.basic_ok.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, t| t.elapsed() < BASIC_CACHE_TTL);
        cache.insert(key, Instant::now());
        Checked::Right
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(password: &str) -> WebLogin {
        WebLogin {
            user: "ops".into(),
            password_hash: hash_password_with(password, MIN_ITERATIONS),
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only_and_is_salted() {
        let a = hash_password_with("correct horse", MIN_ITERATIONS);
        let b = hash_password_with("correct horse", MIN_ITERATIONS);
        assert_ne!(a, b, "two hashes of one password differ by their salt");
        assert!(a.starts_with("$pbkdf2-sha256$i=100000,l=32$"), "{a}");
        assert!(!a.contains("correct"));
        let h = PasswordHash::parse(&a).unwrap();
        assert!(h.verify("correct horse"));
        assert!(!h.verify("correct horse "));
        assert!(!h.verify(""));
    }

    #[test]
    fn a_known_vector_verifies() {
        // PBKDF2-HMAC-SHA256("password", "salt", 600000, 20 bytes) from the pbkdf2 crate's
        // documentation, as a PHC string: the format is the standard one.
        let salt = B64.encode(b"saltsalt");
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"password", b"saltsalt", 100_000, &mut out);
        let phc = format!("$pbkdf2-sha256$i=100000,l=32${salt}${}", B64.encode(out));
        assert!(PasswordHash::parse(&phc).unwrap().verify("password"));
        let mut doc = [0u8; 20];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"password", b"salt", 600_000, &mut doc);
        assert_eq!(
            doc.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "669cfe52482116fda1aa2cbe409b2f56c8e45637"
        );
    }

    #[test]
    fn bad_hashes_are_refused_with_the_reason() {
        let weak = hash_password_with("pw", 1000);
        for (hash, says) in [
            ("admin", "must start with $pbkdf2-sha256$"),
            ("$pbkdf2-sha256$i=600000$c2FsdHNhbHQ", "expected"),
            (weak.as_str(), "too few"),
            ("$pbkdf2-sha256$i=600000,l=32$!!!$AAAA", "not base64"),
            (
                "$pbkdf2-sha256$i=600000,x=1$c2FsdHNhbHQ$AAAA",
                "unknown parameter",
            ),
        ] {
            let e = PasswordHash::parse(hash).unwrap_err().to_string();
            assert!(e.contains(says), "{hash}: {e}");
        }
    }

    #[test]
    fn no_login_is_allowed_on_loopback_only() {
        let lo: SocketAddr = "127.0.0.1:30000".parse().unwrap();
        let lo6: SocketAddr = "[::1]:30000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:30000".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:30000".parse().unwrap();
        let lan: SocketAddr = "192.168.1.5:30000".parse().unwrap();
        for a in [lo, lo6, mapped] {
            assert!(
                matches!(Access::for_listener(a, None), Ok(Access::Loopback)),
                "{a}"
            );
        }
        for a in [any, lan] {
            let e = Access::for_listener(a, None).err().expect("refused");
            assert_eq!(e, AuthError::LoginRequired { addr: a });
            assert!(e.to_string().contains("hash-password"), "{e}");
        }
        // A configured login is used wherever the dashboard listens.
        let l = login("pw");
        assert!(matches!(
            Access::for_listener(any, Some(&l)),
            Ok(Access::Login(_))
        ));
        assert!(matches!(
            Access::for_listener(lo, Some(&l)),
            Ok(Access::Login(_))
        ));
        let empty = WebLogin {
            user: " ".into(),
            ..l.clone()
        };
        assert_eq!(
            Access::for_listener(any, Some(&empty)).err().unwrap(),
            AuthError::EmptyUser
        );
        let plain = WebLogin {
            password_hash: "admin".into(),
            ..l
        };
        assert!(matches!(
            Access::for_listener(any, Some(&plain)),
            Err(AuthError::BadHash(_))
        ));
    }

    #[test]
    fn only_loopback_hosts_pass_without_a_login() {
        for h in [
            "localhost",
            "localhost:30000",
            "LOCALHOST:1",
            "127.0.0.1:30000",
            "127.1.2.3",
            "[::1]:30000",
            "[::1]",
        ] {
            assert!(host_is_loopback(Some(h)), "{h}");
        }
        assert!(host_is_loopback(None));
        for h in [
            "evil.example:30000",
            "evil.example",
            "192.168.1.5:30000",
            "localhost.evil.example",
            "[::2]:1",
            "",
        ] {
            assert!(!host_is_loopback(Some(h)), "{h}");
        }
    }

    #[tokio::test]
    async fn sign_in_sessions_and_basic() {
        let g = Guard::new(&login("s3cret")).unwrap();
        let me = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(g.check(me, "ops", "s3cret").await, Checked::Right);
        assert_eq!(g.check(me, "ops", "wrong").await, Checked::Wrong);
        assert_eq!(g.check(me, "admin", "s3cret").await, Checked::Wrong);
        assert_eq!(g.check(me, "admin", "admin").await, Checked::Wrong);

        let t = g.open_session();
        assert_eq!(t.len(), 64);
        assert!(g.session_ok(&t));
        assert!(!g.session_ok("0000"));
        assert_ne!(g.open_session(), t);
        g.close_session(&t);
        assert!(!g.session_ok(&t));

        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ops:s3cret")
        );
        let bad = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ops:nope")
        );
        assert_eq!(g.basic(me, &good).await, Checked::Right);
        assert_eq!(g.basic(me, &good).await, Checked::Right, "cached");
        assert_eq!(g.basic(me, &bad).await, Checked::Wrong);
        assert_eq!(g.basic(me, "Bearer x").await, Checked::Wrong);
        assert_eq!(g.basic(me, "Basic !!!").await, Checked::Wrong);
    }

    #[tokio::test]
    async fn one_address_guessing_slows_no_one_else() {
        let g = std::sync::Arc::new(Guard::new(&login("s3cret")).unwrap());
        let attacker = Some(IpAddr::from([192, 0, 2, 66]));
        let user = Some(IpAddr::from([192, 0, 2, 7]));
        // How long a right sign-in takes on a quiet dashboard.
        let t = Instant::now();
        assert_eq!(g.check(user, "ops", "s3cret").await, Checked::Right);
        let quiet = t.elapsed();

        // Twenty guessers at once from one address.
        let guessers: Vec<_> = (0..20)
            .map(|i| {
                let g = g.clone();
                tokio::spawn(async move {
                    let mut barred = 0;
                    for j in 0..10 {
                        if let Checked::Barred(_) =
                            g.check(attacker, "ops", &format!("guess {i} {j}")).await
                        {
                            barred += 1;
                        }
                    }
                    barred
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let t = Instant::now();
        assert_eq!(g.check(user, "ops", "s3cret").await, Checked::Right);
        let under_attack = t.elapsed();
        let mut barred = 0;
        for t in guessers {
            barred += t.await.unwrap();
        }
        // Each guess of the attacker's waits for the one before it, and after five it waits
        // outside, refused at once: at most one of its checks is ever ahead of the user's.
        assert!(
            barred >= 190,
            "only {barred} of 200 guesses were refused at once"
        );
        assert!(
            under_attack < quiet * 3 + Duration::from_millis(500),
            "a sign-in took {under_attack:?} under attack, {quiet:?} quiet"
        );
        assert!(matches!(
            g.check(attacker, "ops", "s3cret").await,
            Checked::Barred(_)
        ));
        assert_eq!(g.check(user, "ops", "s3cret").await, Checked::Right);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = "a=1; fishchat_monitor=abc; b=2";
        assert_eq!(cookie(h, COOKIE), Some("abc"));
        assert_eq!(cookie("fishchat_monitor_x=1", COOKIE), None);
        assert_eq!(cookie("", COOKIE), None);
    }
}
