//! Typed calls on top of the request layer ([`super::request`]): one method per request
//! whose answer a caller reads. A new request with an answer gets its method here.

use std::time::Duration;

use serde_json::Value;

use super::{Client, ClientError};
use crate::protocol::account::{DeviceList, TopicMembers};
use crate::protocol::{AuthPolicy, Command, InspectQuery, Registration};

/// How long [`role_status`] waits for a role that does not answer.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

impl Client {
    /// `AUTH [secret]`, confirmed: this connection may then ask operator questions.
    pub async fn auth(&mut self, secret: &str) -> Result<(), ClientError> {
        self.request(&Command::Auth {
            secret: secret.into(),
        })
        .await
    }

    /// `ROLE_STATUS`: what the role says of itself.
    pub async fn role_status(&self) -> Result<Value, ClientError> {
        match self.call(&Command::RoleStatus).await? {
            Command::RoleStatusOk { data, .. } => Ok(data),
            other => Err(unexpected("ROLE_STATUS", &other)),
        }
    }

    /// `INSPECT [what, ...]`: a msg_server's findings (needs [`Client::auth`] first where
    /// the cluster has a secret).
    pub async fn inspect(&self, query: InspectQuery) -> Result<Value, ClientError> {
        match self.call(&Command::Inspect { query }).await? {
            Command::InspectResult { data, .. } => Ok(data),
            other => Err(unexpected("INSPECT", &other)),
        }
    }
}

/// A signed-in device: what `LOGIN_OK` says. `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub id: String,
    pub device_id: String,
    /// Signs this device in from now on: keep it secret (a file of mode 0600).
    pub token: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("id", &self.id)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// What `ACCOUNT_INFO` says of an id and the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStatus {
    /// The id has an account: it is used by signing in.
    pub claimed: bool,
    pub auth: AuthPolicy,
    pub registration: Registration,
}

/// Accounts and owned topics (fishchat level; a msg_server).
impl Client {
    /// `REGISTER [id, password]`: makes an account for `id`, claiming it. Does not sign in:
    /// [`Client::sign_in`] does.
    pub async fn register(&self, id: &str, password: &str) -> Result<(), ClientError> {
        match self
            .call(&Command::Register {
                id: id.into(),
                password: password.into(),
            })
            .await?
        {
            Command::RegisterOk { .. } => Ok(()),
            other => Err(unexpected("REGISTER", &other)),
        }
    }

    /// `LOGIN [id, credential, device_name?]`: signs in with a password (a new device) or a
    /// device token. Offline messages follow as events, as after [`Client::login`].
    pub async fn sign_in(
        &mut self,
        id: &str,
        credential: &str,
        device_name: Option<&str>,
    ) -> Result<SignedIn, ClientError> {
        let cmd = Command::Login {
            id: id.into(),
            credential: credential.into(),
            device: device_name.map(str::to_string),
        };
        match self.call(&cmd).await? {
            Command::LoginOk {
                id,
                device_id,
                token,
            } => {
                self.sender.id = Some(id.clone());
                Ok(SignedIn {
                    id,
                    device_id,
                    token: token.into_inner(),
                })
            }
            other => Err(unexpected("LOGIN", &other)),
        }
    }

    /// `LOGOUT`: this device's token is revoked and the connection logged out.
    pub async fn logout(&mut self) -> Result<(), ClientError> {
        self.request(&Command::Logout).await?;
        self.sender.id = None;
        Ok(())
    }

    /// `DEVICES`: this account's devices.
    pub async fn devices(&self) -> Result<DeviceList, ClientError> {
        match self.call(&Command::Devices).await? {
            Command::DeviceList { data, .. } => decode("DEVICE_LIST", data),
            other => Err(unexpected("DEVICES", &other)),
        }
    }

    /// `REVOKE [device_id]`.
    pub async fn revoke(&mut self, device_id: &str) -> Result<(), ClientError> {
        self.request(&Command::Revoke {
            device_id: device_id.into(),
        })
        .await
    }

    /// `PASSWD [old, new, "keep-devices"?]`.
    pub async fn passwd(
        &mut self,
        old: &str,
        new: &str,
        keep_devices: bool,
    ) -> Result<(), ClientError> {
        self.request(&Command::Passwd {
            old: old.into(),
            new: new.into(),
            keep_devices,
        })
        .await
    }

    /// `ACCOUNT [id]`: whether `id` is claimed, and the cluster's policy.
    pub async fn account_status(&self, id: &str) -> Result<AccountStatus, ClientError> {
        match self.call(&Command::Account { id: id.into() }).await? {
            Command::AccountInfo {
                claimed,
                auth,
                registration,
                ..
            } => Ok(AccountStatus {
                claimed,
                auth,
                registration,
            }),
            other => Err(unexpected("ACCOUNT", &other)),
        }
    }

    /// `CREATE_TOPIC [topic, "invite"]`: a topic only those its creator invites may join.
    pub async fn create_invite_only_topic(&mut self, topic: &str) -> Result<(), ClientError> {
        self.request(&Command::CreateTopic {
            topic: topic.into(),
            invite_only: true,
        })
        .await
    }

    /// `INVITE_TOPIC [topic, id]`.
    pub async fn invite_topic(&mut self, topic: &str, id: &str) -> Result<(), ClientError> {
        self.request(&Command::InviteTopic {
            topic: topic.into(),
            id: id.into(),
        })
        .await
    }

    /// `KICK_TOPIC [topic, id]`.
    pub async fn kick_topic(&mut self, topic: &str, id: &str) -> Result<(), ClientError> {
        self.request(&Command::KickTopic {
            topic: topic.into(),
            id: id.into(),
        })
        .await
    }

    /// `LEAVE_TOPIC [topic]`.
    pub async fn leave_topic(&mut self, topic: &str) -> Result<(), ClientError> {
        self.request(&Command::LeaveTopic {
            topic: topic.into(),
        })
        .await
    }

    /// `TOPIC_MEMBERS [topic]`.
    pub async fn topic_members(&self, topic: &str) -> Result<TopicMembers, ClientError> {
        match self
            .call(&Command::TopicMembers {
                topic: topic.into(),
            })
            .await?
        {
            Command::TopicMemberList { data, .. } => decode("TOPIC_MEMBER_LIST", data),
            other => Err(unexpected("TOPIC_MEMBERS", &other)),
        }
    }
}

/// Operators' account commands: each needs [`Client::auth`] first.
impl Client {
    /// `USER_ADD [id, password]`.
    pub async fn user_add(&mut self, id: &str, password: &str) -> Result<(), ClientError> {
        self.request(&Command::UserAdd {
            id: id.into(),
            password: password.into(),
        })
        .await
    }

    /// `USER_PASSWD [id, password]`: every device of the account is revoked.
    pub async fn user_passwd(&mut self, id: &str, password: &str) -> Result<(), ClientError> {
        self.request(&Command::UserPasswd {
            id: id.into(),
            password: password.into(),
        })
        .await
    }

    /// `USER_DEL [id]`.
    pub async fn user_del(&mut self, id: &str) -> Result<(), ClientError> {
        self.request(&Command::UserDel { id: id.into() }).await
    }

    /// `USER_REVOKE [id, device_id]`.
    pub async fn user_revoke(&mut self, id: &str, device_id: &str) -> Result<(), ClientError> {
        self.request(&Command::UserRevoke {
            id: id.into(),
            device_id: device_id.into(),
        })
        .await
    }

    /// `KICK_USER [id]`: every session of `id` in the cluster ends.
    pub async fn kick_user(&mut self, id: &str) -> Result<(), ClientError> {
        self.request(&Command::KickUser { id: id.into() }).await
    }
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, data: Value) -> Result<T, ClientError> {
    serde_json::from_value(data)
        .map_err(|e| ClientError::Unexpected(format!("{what} with unreadable AnyData: {e}")))
}

fn unexpected(asked: &str, got: &Command) -> ClientError {
    ClientError::Unexpected(format!("{asked} was answered with {}", got.name()))
}

/// `ROLE_STATUS` of the role at `addr`, on a connection of its own.
pub async fn role_status(addr: &str) -> Result<Value, ClientError> {
    let mut c = Client::connect(addr).await?;
    c.set_timeout(STATUS_TIMEOUT);
    c.role_status().await
}
