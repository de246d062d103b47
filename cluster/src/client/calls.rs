//! Typed calls on top of the request layer ([`super::request`]): one method per request
//! whose answer a caller reads. A new request with an answer gets its method here.

use std::time::Duration;

use serde_json::Value;

use super::{Client, ClientError};
use crate::protocol::{Command, InspectQuery};

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

fn unexpected(asked: &str, got: &Command) -> ClientError {
    ClientError::Unexpected(format!("{asked} was answered with {}", got.name()))
}

/// `ROLE_STATUS` of the role at `addr`, on a connection of its own.
pub async fn role_status(addr: &str) -> Result<Value, ClientError> {
    let mut c = Client::connect(addr).await?;
    c.set_timeout(STATUS_TIMEOUT);
    c.role_status().await
}
