//! Commands of accounts and of topic ownership (all ours, at the fishchat level): sign-up,
//! sign-in, devices and passwords; invitations, kicks and member lists; the operators'
//! account commands; and `END_SESSIONS`, which carries the end of an id's sessions across
//! the cluster.

use super::args::{codec, Args, Encoded};
use super::{Command, CommandError};
use crate::protocol::account::{AuthPolicy, Registration, SessionFilter};
use crate::protocol::secret::Secret;

fn s(v: &str) -> String {
    v.to_string()
}

/// The longest password taken, in bytes: hashing cost must not grow with what a client sends.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The shortest password the cluster takes, in characters (a msg_server refuses a shorter
/// one with `BAD_ARGS`; clients check it first, to ask again at once).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A password or a device token: not empty, and not over [`MAX_PASSWORD_LEN`].
fn secret(a: &mut Args, name: &str) -> Result<Secret, CommandError> {
    let v = a.text(name)?;
    if v.is_empty() {
        return Err(a.bad(format!("`{name}` must not be empty")));
    }
    if v.len() > MAX_PASSWORD_LEN {
        return Err(a.bad(format!(
            "`{name}` is {} bytes long; the maximum is {MAX_PASSWORD_LEN}",
            v.len()
        )));
    }
    Ok(v.into())
}

/// A word among a setting's values.
fn word<T: std::str::FromStr<Err = crate::protocol::account::BadSetting>>(
    a: &mut Args,
    name: &str,
) -> Result<T, CommandError> {
    let v = a.name(name)?;
    v.parse()
        .map_err(|e: crate::protocol::account::BadSetting| a.bad(e.to_string()))
}

/// `CREATE_TOPIC [topic, "invite"|"open"?]`'s mode (read by the client family's table):
/// whether the topic is invite-only.
pub(super) fn create_topic_mode(a: &mut Args) -> Result<bool, CommandError> {
    match a.opt().as_deref() {
        None | Some("open") => Ok(false),
        Some("invite") => Ok(true),
        Some(other) => Err(a.bad(format!(
            "the second argument must be \"invite\" or \"open\"; got {other:?}"
        ))),
    }
}

codec! {
    "REGISTER", Command::Register { id, password },
        |a| Command::Register { id: a.name("id")?, password: secret(a, "password")? },
        Encoded::args(vec![s(id), s(password.expose())]);
    "REGISTER_OK", Command::RegisterOk { id },
        |a| Command::RegisterOk { id: a.name("id")? },
        Encoded::args(vec![s(id)]);
    "LOGIN", Command::Login { id, credential, device },
        |a| Command::Login {
            id: a.name("id")?,
            credential: secret(a, "credential")?,
            device: a.opt_name("device_name")?,
        },
        {
            let mut v = vec![s(id), s(credential.expose())];
            v.extend(device.clone());
            Encoded::args(v)
        };
    "LOGIN_OK", Command::LoginOk { id, device_id, token },
        |a| Command::LoginOk {
            id: a.name("id")?,
            device_id: a.name("device_id")?,
            token: a.name("token")?.into(),
        },
        Encoded::args(vec![s(id), s(device_id), s(token.expose())]);
    "LOGOUT", Command::Logout,
        |a| Command::Logout,
        Encoded::args(vec![]);
    "DEVICES", Command::Devices,
        |a| Command::Devices,
        Encoded::args(vec![]);
    "DEVICE_LIST", Command::DeviceList { id, data },
        |a| Command::DeviceList { id: a.name("id")?, data: a.data() },
        Encoded::with_data(vec![s(id)], data);
    "REVOKE", Command::Revoke { device_id },
        |a| Command::Revoke { device_id: a.name("device_id")? },
        Encoded::args(vec![s(device_id)]);
    "PASSWD", Command::Passwd { old, new, keep_devices },
        |a| Command::Passwd {
            old: secret(a, "old")?,
            new: secret(a, "new")?,
            keep_devices: match a.opt().as_deref() {
                None => false,
                Some("keep-devices") => true,
                Some(other) => {
                    return Err(a.bad(format!(
                        "the third argument, where given, must be \"keep-devices\"; got {other:?}"
                    )))
                }
            },
        },
        {
            let mut v = vec![s(old.expose()), s(new.expose())];
            if *keep_devices {
                v.push(s("keep-devices"));
            }
            Encoded::args(v)
        };
    "ACCOUNT", Command::Account { id },
        |a| Command::Account { id: a.name("id")? },
        Encoded::args(vec![s(id)]);
    "ACCOUNT_INFO", Command::AccountInfo { id, claimed, auth, registration },
        |a| Command::AccountInfo {
            id: a.name("id")?,
            claimed: match a.name("claimed")?.as_str() {
                "claimed" => true,
                "unclaimed" => false,
                other => return Err(a.bad(format!("expected claimed or unclaimed; got {other:?}"))),
            },
            auth: word::<AuthPolicy>(a, "auth")?,
            registration: word::<Registration>(a, "registration")?,
        },
        Encoded::args(vec![
            s(id),
            s(if *claimed { "claimed" } else { "unclaimed" }),
            s(auth.as_str()),
            s(registration.as_str()),
        ]);

    "INVITE_TOPIC", Command::InviteTopic { topic, id },
        |a| Command::InviteTopic { topic: a.name("topic")?, id: a.name("id")? },
        Encoded::args(vec![s(topic), s(id)]);
    "KICK_TOPIC", Command::KickTopic { topic, id },
        |a| Command::KickTopic { topic: a.name("topic")?, id: a.name("id")? },
        Encoded::args(vec![s(topic), s(id)]);
    "LEAVE_TOPIC", Command::LeaveTopic { topic },
        |a| Command::LeaveTopic { topic: a.name("topic")? },
        Encoded::args(vec![s(topic)]);
    "TOPIC_MEMBERS", Command::TopicMembers { topic },
        |a| Command::TopicMembers { topic: a.name("topic")? },
        Encoded::args(vec![s(topic)]);
    "TOPIC_MEMBER_LIST", Command::TopicMemberList { topic, data },
        |a| Command::TopicMemberList { topic: a.name("topic")?, data: a.data() },
        Encoded::with_data(vec![s(topic)], data);

    "USER_ADD", Command::UserAdd { id, password },
        |a| Command::UserAdd { id: a.name("id")?, password: secret(a, "password")? },
        Encoded::args(vec![s(id), s(password.expose())]);
    "USER_PASSWD", Command::UserPasswd { id, password },
        |a| Command::UserPasswd { id: a.name("id")?, password: secret(a, "password")? },
        Encoded::args(vec![s(id), s(password.expose())]);
    "USER_DEL", Command::UserDel { id },
        |a| Command::UserDel { id: a.name("id")? },
        Encoded::args(vec![s(id)]);
    "USER_REVOKE", Command::UserRevoke { id, device_id },
        |a| Command::UserRevoke { id: a.name("id")?, device_id: a.name("device_id")? },
        Encoded::args(vec![s(id), s(device_id)]);
    "KICK_USER", Command::KickUser { id },
        |a| Command::KickUser { id: a.name("id")? },
        Encoded::args(vec![s(id)]);
    "END_SESSIONS", Command::EndSessions { id, which, why },
        |a| Command::EndSessions {
            id: a.name("id")?,
            which: word::<SessionFilter>(a, "which")?,
            why: a.text("why")?,
        },
        Encoded::args(vec![s(id), which.to_string(), s(why)]);
}
