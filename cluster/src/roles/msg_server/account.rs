//! Accounts (ours, at the fishchat level): `REGISTER`, `LOGIN`, `LOGOUT`, `DEVICES`,
//! `REVOKE`, `PASSWD`, `ACCOUNT`; the operators' `USER_ADD`, `USER_PASSWD`, `USER_DEL`,
//! `USER_REVOKE` and `KICK_USER`; and `END_SESSIONS`, by which the end of an id's sessions
//! reaches every msg_server.
//!
//! Accounts and devices live in the store ([`crate::store::AccountStore`]); hashing and the
//! limits on failed sign-ins are [`crate::auth`]'s. A password sign-in makes a device with a
//! token of its own (shown once, in `LOGIN_OK`); a token sign-in reuses its device. Whatever
//! ends a device's right to the id (a revoke, a logout, a new password, a deleted account, an
//! id just claimed) also ends its sessions, here and, through the router, everywhere
//! ([`end_everywhere`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::login;
use super::peer::{ConnId, Peer, Reject, Session};
use super::server::Server;
use crate::auth::limiter::Barred;
use crate::auth::{source_key, token, Busy, Passwords};
use crate::protocol::account::{DeviceInfo, DeviceList};
use crate::protocol::events::now_ms;
use crate::protocol::{Channel, Command, ErrorCode, LevelFrames, Registration, SessionFilter};
use crate::store::{Account, Device, InboxOp};

/// How long a session that is being ended has to take what was queued for it.
const END_GRACE: Duration = Duration::from_secs(2);

/// The name a device gets where the client gave none.
const UNNAMED_DEVICE: &str = "unnamed device";

/// A device as clients and operators see it: never its token's hash.
pub(crate) fn device_info(d: &Device, current: Option<&str>) -> DeviceInfo {
    DeviceInfo {
        device_id: d.device_id.clone(),
        name: d.name.clone(),
        created_at_ms: d.created_at_ms,
        last_used_ms: d.last_used_ms,
        current: current == Some(d.device_id.as_str()),
    }
}

/// An operator's (or a router's) connection: the cluster has a secret and this connection
/// presented it. Without a secret nobody is one, so that no stranger resets a password.
fn require_operator(server: &Server, peer: &Peer, cmd: &str) -> Result<(), Reject> {
    if server.cfg.common.secret.is_none() {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!(
                "{cmd} is for operators, and this msg_server has no cluster secret to tell them by"
            ),
        ));
    }
    peer.require_internal(cmd)
}

fn busy(_: Busy) -> Reject {
    Reject::new(
        ErrorCode::RateLimited,
        "too many sign-ins at once on this msg_server; try again in a moment",
    )
}

fn barred(b: Barred) -> Reject {
    Reject::new(
        ErrorCode::RateLimited,
        format!(
            "too many failed sign-ins; try again in {} s",
            b.retry_after.as_secs_f64().ceil() as u64
        ),
    )
}

/// The one answer a failed sign-in gets: it does not say whether the id has an account.
fn failed() -> Reject {
    Reject::new(ErrorCode::AuthFailed, "sign-in failed")
}

/// The session of a connection signed in with `LOGIN`, and its device.
fn signed_in(peer: &Peer) -> Result<(Arc<Session>, String), Reject> {
    let me = peer.session()?;
    match &me.device {
        Some(d) => Ok((me.clone(), d.clone())),
        None => Err(Reject::new(
            ErrorCode::AuthRequired,
            "this connection logged in without signing in: LOGIN [id, password] first",
        )),
    }
}

/// `REGISTER [id, password]`: makes an account for `id`, claiming it; answered
/// `REGISTER_OK [id]`. Sessions that use the id without signing in end (but this one's).
pub(crate) async fn register(
    server: &Arc<Server>,
    peer: &Peer,
    id: String,
    password: String,
) -> Result<(), Reject> {
    if server.cfg.registration == Registration::Closed
        && require_operator(server, peer, "REGISTER").is_err()
    {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            "registration is closed on this cluster: an operator makes accounts (fishchat-admin user add)",
        ));
    }
    create(server, &id, password).await?;
    tracing::info!(server = %server.addr, client = %id, peer = %peer.addr, "account registered");
    end_everywhere(
        server,
        &id,
        SessionFilter::Unsigned,
        Some(peer.conn_id),
        "the id was just claimed by an account",
    );
    peer.send(&Command::RegisterOk { id });
    Ok(())
}

/// Makes the account `id` with `password`.
async fn create(server: &Server, id: &str, password: String) -> Result<(), Reject> {
    if let Some(why) = Passwords::weakness(&password) {
        return Err(Reject::new(ErrorCode::BadArgs, why));
    }
    let taken = || {
        Reject::new(
            ErrorCode::IdTaken,
            format!("{id:?} has an account already; LOGIN to use it"),
        )
    };
    // Saves a hash where the answer is known already; the create below decides.
    if server.store.account(id).await?.is_some() {
        return Err(taken());
    }
    let password_hash = server
        .sign_ins
        .passwords
        .hash(password)
        .await
        .map_err(busy)?;
    let account = Account {
        id: id.to_string(),
        password_hash,
        created_at_ms: now_ms(),
    };
    if !server.store.create_account(&account).await? {
        return Err(taken());
    }
    Ok(())
}

/// The most devices an account keeps: a password sign-in past it forgets the one used
/// longest ago, so that sign-ins cannot grow an account without end.
const MAX_DEVICES: usize = 100;

/// `LOGIN [id, credential, device_name?]`: signs in with a device token or a password,
/// answers `LOGIN_OK [id, device_id, token]`, then replays the inbox as `SEND_CLIENT_ID` does.
///
/// A sign-in can race what takes the right away (a `REVOKE`, a `PASSWD`, a deleted account):
/// a token's device is only touched where it still exists, and once the session is
/// registered (where an ending would find it) the device and the password are checked again;
/// where either changed meanwhile the sign-in is undone and fails.
pub(crate) async fn login(
    server: &Arc<Server>,
    peer: &mut Peer,
    id: String,
    credential: String,
    device_name: Option<String>,
) -> Result<(), Reject> {
    if let Some(me) = &peer.session {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!(
                "this connection is logged in as {:?} already; sign in on a new connection",
                me.id
            ),
        ));
    }
    let now = now_ms();
    let by_token = if token::looks_like_token(&credential) {
        token_device(server, &id, &credential).await?
    } else {
        None
    };
    let (device_id, token, verified_hash) = match by_token {
        Some(device) => {
            if !server
                .store
                .touch_device(&id, &device.device_id, now)
                .await?
            {
                return Err(failed());
            }
            (device.device_id, credential, None)
        }
        None => {
            let hash = check_password(server, peer, &id, credential).await?;
            let (token, token_hash) = token::new_token();
            let device = Device {
                device_id: token::new_device_id(),
                name: device_name.unwrap_or_else(|| UNNAMED_DEVICE.to_string()),
                token_hash,
                created_at_ms: now,
                last_used_ms: now,
            };
            make_room(server, &id).await?;
            if !server.store.put_device(&id, &device).await? {
                // The account was deleted in between.
                return Err(failed());
            }
            (device.device_id, token, Some(hash))
        }
    };
    let session = login::begin(server, peer, id.clone(), Some(device_id.clone())).await?;
    if !still_holds(server, &id, &device_id, verified_hash.as_deref()).await? {
        tracing::info!(server = %server.addr, client = %id, device = %device_id, "a sign-in lost a race with a revoke or a new password");
        if let Some(me) = peer.session.take() {
            login::logout(server, peer, me).await;
        }
        if verified_hash.is_some() {
            server.store.remove_device(&id, &device_id).await?;
        }
        return Err(failed());
    }
    tracing::debug!(server = %server.addr, client = %id, device = %device_id, "signed in");
    peer.send(&Command::LoginOk {
        id,
        device_id,
        token: token.into(),
    });
    login::replay(server, &session).await
}

/// Whether the account still has `device_id` and, where given, still the password hash that
/// was checked.
async fn still_holds(
    server: &Server,
    id: &str,
    device_id: &str,
    hash: Option<&str>,
) -> Result<bool, Reject> {
    let Some(account) = server.store.account(id).await? else {
        return Ok(false);
    };
    if hash.is_some_and(|h| h != account.password_hash) {
        return Ok(false);
    }
    let devices = server.store.devices(id).await?;
    Ok(devices.iter().any(|d| d.device_id == device_id))
}

/// Forgets the account's devices used longest ago, so that one more fits under
/// [`MAX_DEVICES`].
async fn make_room(server: &Server, id: &str) -> Result<(), Reject> {
    let mut devices = server.store.devices(id).await?;
    if devices.len() < MAX_DEVICES {
        return Ok(());
    }
    devices.sort_by_key(|d| d.last_used_ms);
    let excess = devices.len() + 1 - MAX_DEVICES;
    for d in devices.into_iter().take(excess) {
        tracing::info!(server = %server.addr, client = %id, device = %d.device_id, "device limit reached: the one used longest ago is forgotten");
        revoke_device(
            server,
            id,
            d.device_id,
            "too many devices: this one was used longest ago",
        )
        .await?;
    }
    Ok(())
}

/// Checks `id`'s password within the limits on failed sign-ins (per id and per source
/// address, and one check per id at a time): the hash it matched, or why not.
async fn check_password(
    server: &Server,
    peer: &Peer,
    id: &str,
    password: String,
) -> Result<String, Reject> {
    let now = Instant::now();
    let id_key = format!("id:{id}");
    let addr_key = format!("addr:{}", source_key(peer.addr.ip()));
    server
        .sign_ins
        .per_addr
        .check(&addr_key, now)
        .map_err(barred)?;
    server.sign_ins.per_id.check(&id_key, now).map_err(barred)?;
    let _checking = server
        .sign_ins
        .in_flight
        .start(&[(&id_key, 1), (&addr_key, 2)])
        .ok_or_else(|| {
            Reject::new(
                ErrorCode::RateLimited,
                "a sign-in of this id, or from this address, is being checked; try again in a moment",
            )
        })?;
    let hash = server.store.account(id).await?.map(|a| a.password_hash);
    let ok = server
        .sign_ins
        .passwords
        .verify(password, hash.clone())
        .await
        .map_err(busy)?;
    match hash {
        Some(hash) if ok => {
            server.sign_ins.per_id.succeeded(&id_key);
            Ok(hash)
        }
        _ => {
            note_failure(server, peer, id, &id_key, &addr_key);
            Err(failed())
        }
    }
}

/// The device of `id` whose token `credential` is, where there is one. A credential that
/// matches none is then tried as a password (a password may look like a token), and fails
/// as one. A token sign-in is never barred by failed guesses, its id's or its address's.
async fn token_device(
    server: &Server,
    id: &str,
    credential: &str,
) -> Result<Option<Device>, Reject> {
    let devices = server.store.devices(id).await?;
    Ok(devices
        .into_iter()
        .find(|d| token::matches(credential, &d.token_hash)))
}

/// Counts a failed sign-in against the id and the address, and logs it, summed, at most
/// once a minute per key.
fn note_failure(server: &Server, peer: &Peer, id: &str, id_key: &str, addr_key: &str) {
    let now = Instant::now();
    for (limiter, key) in [
        (&server.sign_ins.per_id, id_key),
        (&server.sign_ins.per_addr, addr_key),
    ] {
        if let Some(n) = limiter.failed(key, now) {
            tracing::warn!(server = %server.addr, client = %id, peer = %peer.addr, key = %key, failures = n, "failed sign-ins");
        }
    }
}

/// `LOGOUT []`: this connection's device is revoked and the connection logged out (it may
/// log in again); other connections of the same device end.
pub(crate) async fn logout(server: &Arc<Server>, peer: &mut Peer) -> Result<(), Reject> {
    let (me, device) = signed_in(peer)?;
    server.store.remove_device(&me.id, &device).await?;
    peer.session = None;
    login::logout(server, peer, me.clone()).await;
    end_everywhere(
        server,
        &me.id,
        SessionFilter::Device(device),
        Some(peer.conn_id),
        "this device logged out",
    );
    Ok(())
}

/// `DEVICES []`: answered `DEVICE_LIST [id]` with the account's devices.
pub(crate) async fn devices(server: &Server, peer: &Peer) -> Result<(), Reject> {
    let (me, current) = signed_in(peer)?;
    let devices = server.store.devices(&me.id).await?;
    let list = DeviceList {
        devices: devices
            .iter()
            .map(|d| device_info(d, Some(&current)))
            .collect(),
    };
    peer.send(&Command::DeviceList {
        id: me.id.clone(),
        data: serde_json::to_value(list).unwrap_or_default(),
    });
    Ok(())
}

/// `REVOKE [device_id]`: that device of the account signs in no more; its sessions end
/// (this one too, where it names this connection's device).
pub(crate) async fn revoke(server: &Server, peer: &Peer, device_id: String) -> Result<(), Reject> {
    let (me, _) = signed_in(peer)?;
    revoke_device(server, &me.id, device_id, "this device was revoked").await
}

async fn revoke_device(
    server: &Server,
    id: &str,
    device_id: String,
    why: &str,
) -> Result<(), Reject> {
    if !server.store.remove_device(id, &device_id).await? {
        return Err(Reject::new(
            ErrorCode::NoSuchDevice,
            format!("{id:?} has no device {device_id:?}; DEVICES lists them"),
        ));
    }
    end_everywhere(server, id, SessionFilter::Device(device_id), None, why);
    Ok(())
}

/// `PASSWD [old, new, "keep-devices"?]`: a new password; the other devices are revoked (and
/// their sessions end) unless `keep-devices`.
pub(crate) async fn passwd(
    server: &Server,
    peer: &Peer,
    old: String,
    new: String,
    keep_devices: bool,
) -> Result<(), Reject> {
    let (me, device) = signed_in(peer)?;
    if let Some(why) = Passwords::weakness(&new) {
        return Err(Reject::new(ErrorCode::BadArgs, why));
    }
    check_password(server, peer, &me.id, old)
        .await
        .map_err(|r| match r.code {
            ErrorCode::AuthFailed => {
                Reject::new(ErrorCode::AuthFailed, "the old password is wrong")
            }
            _ => r,
        })?;
    let revoke = if keep_devices {
        Revoke::None
    } else {
        Revoke::AllBut(&device)
    };
    set_password(server, &me.id, new, revoke, "the password was changed").await
}

/// Which devices a new password revokes.
enum Revoke<'a> {
    /// Every device but this one (`PASSWD`, from that device).
    AllBut(&'a str),
    /// Every device (`USER_PASSWD`, an operator's reset).
    All,
    /// None (`PASSWD` with `keep-devices`).
    None,
}

/// Sets a new password for `id`, revokes the devices `revoke` names and ends their sessions.
async fn set_password(
    server: &Server,
    id: &str,
    password: String,
    revoke: Revoke<'_>,
    why: &str,
) -> Result<(), Reject> {
    let hash = server
        .sign_ins
        .passwords
        .hash(password)
        .await
        .map_err(busy)?;
    if !server.store.set_password(id, &hash).await? {
        return Err(no_account(id));
    }
    tracing::info!(server = %server.addr, client = %id, "password changed");
    let which = match revoke {
        Revoke::None => return Ok(()),
        Revoke::All => SessionFilter::All,
        Revoke::AllBut(keep) => SessionFilter::AllBut(keep.to_string()),
    };
    // Listed after the new hash is in: a sign-in with the old password that made a device
    // before this finds the new hash when it checks again, or its device is here.
    for d in server.store.devices(id).await? {
        if which.matches(Some(&d.device_id)) {
            server.store.remove_device(id, &d.device_id).await?;
        }
    }
    end_everywhere(server, id, which, None, why);
    Ok(())
}

fn no_account(id: &str) -> Reject {
    Reject::new(ErrorCode::NoSuchAccount, format!("{id:?} has no account"))
}

/// `ACCOUNT [id]`: answered `ACCOUNT_INFO [id, claimed|unclaimed, auth, registration]`, so
/// a client knows before it asks for a password whether to sign in or to claim.
pub(crate) async fn account(server: &Server, peer: &Peer, id: String) -> Result<(), Reject> {
    let claimed = server.store.account(&id).await?.is_some();
    peer.send(&Command::AccountInfo {
        id,
        claimed,
        auth: server.cfg.auth,
        registration: server.cfg.registration,
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Operators: each needs the cluster secret (an internal connection).

/// `USER_ADD [id, password]`: an account, whatever the registration policy.
pub(crate) async fn user_add(
    server: &Server,
    peer: &Peer,
    id: String,
    password: String,
) -> Result<(), Reject> {
    require_operator(server, peer, "USER_ADD")?;
    create(server, &id, password).await?;
    tracing::info!(server = %server.addr, client = %id, "account added by an operator");
    end_everywhere(
        server,
        &id,
        SessionFilter::Unsigned,
        None,
        "the id was just claimed by an account",
    );
    Ok(())
}

/// `USER_PASSWD [id, password]`: a new password, and every device revoked.
pub(crate) async fn user_passwd(
    server: &Server,
    peer: &Peer,
    id: String,
    password: String,
) -> Result<(), Reject> {
    require_operator(server, peer, "USER_PASSWD")?;
    if let Some(why) = Passwords::weakness(&password) {
        return Err(Reject::new(ErrorCode::BadArgs, why));
    }
    set_password(
        server,
        &id,
        password,
        Revoke::All,
        "an operator set a new password",
    )
    .await
}

/// `USER_DEL [id]`: the account and its devices are deleted, its inbox emptied, and every
/// session of the id ends; the id is unclaimed from then on. Topics it created keep it as
/// their owner: whoever uses the id next owns them.
pub(crate) async fn user_del(server: &Server, peer: &Peer, id: String) -> Result<(), Reject> {
    require_operator(server, peer, "USER_DEL")?;
    if !server.store.delete_account(&id).await? {
        return Err(no_account(&id));
    }
    // What waited for the account is not handed to whoever uses the id next.
    let pending = server.store.pending(&id).await?;
    let acks: Vec<InboxOp> = pending
        .into_iter()
        .map(|m| InboxOp::Ack {
            id: id.clone(),
            uuid: m.uuid,
        })
        .collect();
    for result in server.store.apply_batch(&acks).await {
        result?;
    }
    tracing::info!(server = %server.addr, client = %id, "account deleted by an operator");
    end_everywhere(
        server,
        &id,
        SessionFilter::All,
        None,
        "the account was deleted",
    );
    Ok(())
}

/// `USER_REVOKE [id, device_id]`.
pub(crate) async fn user_revoke(
    server: &Server,
    peer: &Peer,
    id: String,
    device_id: String,
) -> Result<(), Reject> {
    require_operator(server, peer, "USER_REVOKE")?;
    revoke_device(server, &id, device_id, "an operator revoked this device").await
}

/// `KICK_USER [id]`: every session of `id`, in the whole cluster, ends.
pub(crate) fn kick_user(server: &Server, peer: &Peer, id: String) -> Result<(), Reject> {
    require_operator(server, peer, "KICK_USER")?;
    tracing::info!(server = %server.addr, client = %id, "kicked by an operator");
    end_everywhere(
        server,
        &id,
        SessionFilter::All,
        None,
        "an operator ended it",
    );
    Ok(())
}

/// `END_SESSIONS [id, which, why]` from the router: the sessions here that `which` names end.
pub(crate) fn end_sessions(
    server: &Server,
    peer: &Peer,
    id: String,
    which: SessionFilter,
    why: &str,
) -> Result<(), Reject> {
    require_operator(server, peer, "END_SESSIONS")?;
    end_here(server, &id, &which, None, why);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Ending sessions.

/// Ends the sessions of `id` that `which` names, here (but the connection `spare`) and,
/// through the router, on every other msg_server where `id` is connected.
fn end_everywhere(
    server: &Server,
    id: &str,
    which: SessionFilter,
    spare: Option<ConnId>,
    why: &str,
) {
    end_here(server, id, &which, spare, why);
    if server.channels.has(Channel::Send) {
        server.publish(
            Channel::Send,
            LevelFrames::of(Command::EndSessions {
                id: id.to_string(),
                which,
                why: why.to_string(),
            }),
        );
    }
}

/// Ends the sessions of `id` here that `which` names (but `spare`): nothing more a session
/// sends is acted on from now; a fishchat-level client is told why (`ERROR SIGNED_OUT`), then
/// the connection is closed once what was queued for it is written (at most [`END_GRACE`]).
fn end_here(server: &Server, id: &str, which: &SessionFilter, spare: Option<ConnId>, why: &str) {
    for s in server.sessions.get(id) {
        if Some(s.conn_id) == spare || !which.matches(s.device.as_deref()) {
            continue;
        }
        tracing::info!(server = %server.addr, client = %id, conn = s.conn_id, reason = why, "session ended");
        s.ended.store(true, Ordering::Relaxed);
        let mut frames = LevelFrames::of(Command::error(
            ErrorCode::SignedOut,
            format!("signed out: {why}"),
        ));
        server.send(&s, &mut frames);
        let outbox = s.outbox.clone();
        tokio::spawn(async move { outbox.finish(END_GRACE).await });
    }
}
