//! `fishchat-admin user add|passwd|del|list|devices|revoke`: accounts, for operators.
//!
//! Accounts live in the store every msg_server shares, so one reachable msg_server is asked
//! (`USER_ADD`, `USER_PASSWD`, `USER_DEL`, `USER_REVOKE`, `INSPECT [accounts]`,
//! `INSPECT [user, ID]`), after presenting the cluster secret as `inspect` does
//! ([`fishchat_cli::target`]). Passwords come from `--password-file`, `$FISHCHAT_PASSWORD`,
//! or a prompt without echo, asked twice. Never shown: passwords, tokens, hashes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use fishchat_cli::password;
use fishchat_cli::table::Table;
use fishchat_cli::target::{Target, TargetArgs};
use fishchat_cluster::client::{Client, ClientError};
use fishchat_cluster::protocol::inspect::{AccountsResult, UserResult};
use fishchat_cluster::protocol::{ErrorCode, InspectQuery};
use serde_json::json;

use super::inspect::text::{devices_table, header, plural, time};
use super::inspect::{parse, show};

/// Manage accounts: add one, set its password, delete it, list them, list or revoke an
/// account's devices.
///
/// An account claims an id: from then on it is used only by signing in (its password, or
/// a device's token). Needs the cluster secret, as `inspect` does.
#[derive(Debug, Args)]
pub struct User {
    #[command(subcommand)]
    what: What,

    /// JSON instead of text (the default when stdout is not a terminal).
    #[arg(long, global = true)]
    json: bool,

    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Make an account for ID, claiming it. The password is asked twice (not shown), or
    /// read from --password-file FILE or $FISHCHAT_PASSWORD.
    Add {
        id: String,
        /// A file whose first line is the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Set a new password for ID; every device of the account is signed out.
    Passwd {
        id: String,
        /// A file whose first line is the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Delete ID's account and its devices: every session of ID ends, and the id is
    /// unclaimed again (its waiting messages stay).
    Del { id: String },
    /// Every account: when it was made and how many devices it has.
    List,
    /// ID's devices: id, name, when made and last used.
    Devices { id: String },
    /// Sign DEVICE_ID of ID out for good (its sessions end).
    Revoke { id: String, device_id: String },
}

impl User {
    pub async fn run(self) -> Result<ExitCode> {
        let json = self.json || !std::io::stdout().is_terminal();
        // Asked before connecting: a person slow at the prompt holds no connection open.
        let new_password = match &self.what {
            What::Add { id, password_file } | What::Passwd { id, password_file } => {
                Some(password::new_password(password_file.as_deref(), id)?)
            }
            _ => None,
        };
        let target = self.target.resolve()?;
        let (addr, mut client) = target.connect_any().await?;
        let fail = |e: ClientError| explain(&target, &addr, e);
        let (value, text) = match self.what {
            What::Add { id, .. } => {
                let pw = new_password.unwrap_or_default();
                client.user_add(&id, &pw).await.map_err(|e| match e.code() {
                    Some(ErrorCode::IdTaken) => anyhow!(
                        "{id} has an account already: `fishchat-admin user passwd {id}` sets a new password"
                    ),
                    _ => fail(e),
                })?;
                done(
                    &id,
                    "added",
                    format!("{id}: account added; {id} now signs in with that password"),
                )
            }
            What::Passwd { id, .. } => {
                let pw = new_password.unwrap_or_default();
                client
                    .user_passwd(&id, &pw)
                    .await
                    .map_err(|e| no_account(&id, e).unwrap_or_else(fail))?;
                done(
                    &id,
                    "password set",
                    format!("{id}: new password set; every device of {id} is signed out"),
                )
            }
            What::Del { id } => {
                client
                    .user_del(&id)
                    .await
                    .map_err(|e| no_account(&id, e).unwrap_or_else(fail))?;
                done(
                    &id,
                    "deleted",
                    format!("{id}: account deleted; the id is unclaimed now"),
                )
            }
            What::Revoke { id, device_id } => {
                match client.user_revoke(&id, &device_id).await {
                    Ok(()) => {}
                    // No such device: perhaps no such account either, which says more.
                    Err(e) if e.code() == Some(ErrorCode::NoSuchDevice) => {
                        if user(&client, &id).await.map_err(fail)?.account.is_none() {
                            bail!("no account {id}: `fishchat-admin user add {id}` makes one");
                        }
                        bail!(
                            "{id} has no device {device_id}: `fishchat-admin user devices {id}` lists them"
                        );
                    }
                    Err(e) => return Err(no_account(&id, e).unwrap_or_else(fail)),
                }
                let mut v = done(&id, "revoked", String::new()).0;
                v["device_id"] = json!(device_id);
                (v, format!("{id}: device {device_id} signed out for good"))
            }
            What::List => {
                let r: AccountsResult =
                    parse(client.inspect(InspectQuery::Accounts).await.map_err(fail)?)?;
                let text = accounts_text(&r);
                return show(json, &r, || text);
            }
            What::Devices { id } => {
                let r = user(&client, &id).await.map_err(fail)?;
                let Some(account) = r.account else {
                    bail!("no account {id}: `fishchat-admin user add {id}` makes one");
                };
                let text = if account.devices.is_empty() {
                    format!("{id} has no devices signed in\n")
                } else {
                    devices_table(&account.devices)
                };
                return show(json, &account, || text);
            }
        };
        show(json, &value, || text + "\n")
    }
}

/// What a change reports: JSON `{"id", "done"}`, and a line for people.
fn done(id: &str, what: &str, text: String) -> (serde_json::Value, String) {
    (json!({"id": id, "done": what}), text)
}

async fn user(client: &Client, id: &str) -> Result<UserResult, ClientError> {
    let data = client.inspect(InspectQuery::User(id.to_string())).await?;
    serde_json::from_value(data).map_err(|e| {
        ClientError::Unexpected(format!(
            "the msg_server's answer is not what this tool expects ({e}); is it the same fishchat version?"
        ))
    })
}

/// `NO_SUCH_ACCOUNT` in words that say what to do; `Err(e)` for anything else.
fn no_account(id: &str, e: ClientError) -> Result<anyhow::Error, ClientError> {
    match e.code() {
        Some(ErrorCode::NoSuchAccount) => Ok(anyhow!(
            "no account {id}: `fishchat-admin user add {id}` makes one"
        )),
        _ => Err(e),
    }
}

/// A refusal the account commands share: the secret, a bad password, anything else.
pub(super) fn explain(target: &Target, addr: &str, e: ClientError) -> anyhow::Error {
    match e {
        ClientError::Server {
            code: ErrorCode::Forbidden,
            detail,
        } => anyhow!(target.refused(addr, &detail)),
        ClientError::Server {
            code: ErrorCode::BadArgs,
            detail,
        } => anyhow!("msg_server {addr} refused: {detail}"),
        e => anyhow!("msg_server {addr}: {e}"),
    }
}

fn accounts_text(r: &AccountsResult) -> String {
    if r.accounts.is_empty() {
        return "no accounts: every id is unclaimed (`fishchat-admin user add ID` makes one)\n"
            .into();
    }
    let mut t = Table::new(&["ID", "CREATED", "DEVICES"]).right(&[2]);
    for a in &r.accounts {
        t.row(vec![
            a.id.clone(),
            time(a.created_at_ms),
            a.devices.len().to_string(),
        ]);
    }
    let footer = if r.total > r.accounts.len() as u64 {
        format!("showing {} of {} accounts", r.accounts.len(), r.total)
    } else {
        plural(r.total, "account")
    };
    t.render(header) + &footer + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use fishchat_cluster::protocol::account::AccountSummary;

    #[test]
    fn accounts_are_a_table_with_a_count() {
        let r = AccountsResult {
            accounts: vec![AccountSummary {
                id: "alice".into(),
                created_at_ms: 0,
                devices: vec![],
            }],
            total: 1,
        };
        let text = anstream::adapter::strip_str(&accounts_text(&r)).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ID     CREATED"), "{text}");
        assert!(
            lines[1].starts_with("alice  ") && lines[1].ends_with(" 0"),
            "{text}"
        );
        assert_eq!(lines[2], "1 account");
        let empty = AccountsResult {
            accounts: vec![],
            total: 0,
        };
        assert!(accounts_text(&empty).contains("user add"));
    }
}
