//! Signing in, before the screen opens: how this run logs in, settled once, on the terminal.
//!
//! 1. A device token kept from an earlier run ([`token::TokenFile`]) signs in with `LOGIN`.
//!    Where the cluster cannot be reached, the screen opens all the same and the worker
//!    keeps trying with the token; where the token is refused (revoked, or expired) the
//!    password is asked for again, below, and the new token replaces it.
//! 2. Otherwise `ACCOUNT [id]` says whether the id has an account. Claimed: the password
//!    (three tries), then `LOGIN`, and the token is kept. Unclaimed, where registration is
//!    open: an offer to claim it with a password (asked twice), then `REGISTER` and `LOGIN`;
//!    Enter with nothing goes on unclaimed (`SEND_CLIENT_ID`), which the cluster's
//!    `--auth required` forbids.
//! 3. A password given beforehand ([`Password`]: `--password-file`, `FISHCHAT_PASSWORD`)
//!    answers every question: it signs in where the id is claimed and claims it where not.
//!
//! The password lives only as long as [`sign_in`] runs: the worker reconnects with the
//! token ([`crate::worker::Login`]). Each step opens a connection of its own, so that a
//! person slow at the prompt never holds an idle connection the server would cut.

mod ask;
#[cfg(test)]
mod tests;
pub mod token;

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use fishchat_cluster::client::{AccountStatus, Client, ClientError, SignedIn};
use fishchat_cluster::protocol::{AuthPolicy, ErrorCode, Registration};

pub use ask::{Ask, Password, Terminal};
use token::TokenFile;

use crate::worker::{self, Login, Target};

/// Wrong passwords allowed at the prompt before giving up.
const TRIES: usize = 3;
use fishchat_cluster::protocol::command::MIN_PASSWORD_CHARS;

/// Who signs in, where, and how the device is called.
#[derive(Debug)]
pub struct SignIn<'a> {
    pub id: &'a str,
    pub target: &'a Target,
    /// `LOGIN`'s device name, e.g. "fishchat-chat on laptop".
    pub device_name: &'a str,
    pub token_file: &'a TokenFile,
    /// Answers every password question without asking.
    pub password: Option<Password>,
}

/// How this run logs in.
pub struct Start {
    /// The connection the sign-in ended on, logged in: the worker's first. `None` where
    /// the cluster could not be reached (and a token was kept: the worker keeps trying).
    pub client: Option<Client>,
    pub login: Login,
}

/// Signs in as set out in the module docs.
pub async fn sign_in(req: SignIn<'_>, ask: &mut dyn Ask) -> Result<Start> {
    let kept = req.token_file.read().with_context(|| {
        format!(
            "cannot read the kept sign-in {}; delete it to sign in with the password",
            req.token_file.path().display()
        )
    })?;
    if let Some(token) = kept {
        match with_token(&req, &token).await? {
            Some(start) => return Ok(start),
            None => {
                ask.say(&format!(
                    "The kept sign-in of {} is no longer accepted (this device was signed out); \
                     sign in again.",
                    req.id
                ));
                // Whatever comes next (a new sign-in, or going on unclaimed), it is of no use.
                if let Err(e) = req.token_file.remove() {
                    tracing::warn!(error = %e, "cannot delete a refused token");
                }
            }
        }
    }
    let status = account_status(&req).await?;
    if status.claimed {
        return with_password(&req, ask).await;
    }
    match (status.registration, status.auth) {
        (Registration::Open, _) => claim(&req, ask, status).await,
        (Registration::Closed, AuthPolicy::Required) => bail!(
            "{id} has no account, and this cluster signs in only with one and lets only its operators \
             make them: ask one to run `fishchat-admin user add {id}`",
            id = req.id
        ),
        (Registration::Closed, _) => {
            ask.say(&format!(
                "{id} has no account and this cluster's registration is closed (an operator makes \
                 accounts: fishchat-admin user add {id}); going on unclaimed: anyone could use {id}.",
                id = req.id
            ));
            unclaimed(&req).await
        }
    }
}

/// A connection to a msg_server; the error says what to do.
async fn open(req: &SignIn<'_>) -> Result<Client> {
    worker::open(req.target)
        .await
        .map_err(|e| anyhow!("cannot reach the cluster to sign in as {}: {e}", req.id))
}

/// `LOGIN` with a kept token. `None` where it is refused; a start without a connection
/// where the cluster cannot be reached now.
async fn with_token(req: &SignIn<'_>, token: &str) -> Result<Option<Start>> {
    let login = |device_id: String| Login::Token {
        token: token.to_string(),
        device_id,
        device_name: req.device_name.to_string(),
    };
    let mut client = match worker::open(req.target).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot reach the cluster; starting with the kept token");
            return Ok(Some(Start {
                client: None,
                login: login(String::new()),
            }));
        }
    };
    match sign_in_retrying(&mut client, req, token).await {
        Ok(SignedIn { device_id, .. }) => Ok(Some(Start {
            client: Some(client),
            login: login(device_id),
        })),
        Err(ClientError::Server {
            code: ErrorCode::AuthFailed,
            ..
        }) => Ok(None),
        Err(e) => Err(refused(req, e)),
    }
}

/// How often a sign-in the cluster cannot serve now (`UNAVAILABLE`: a store that is down,
/// or reconnecting after a restart) is tried again, and the pause before each.
const UNAVAILABLE_RETRIES: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// `LOGIN`, tried again a few times where the cluster answers `UNAVAILABLE`.
async fn sign_in_retrying(
    client: &mut Client,
    req: &SignIn<'_>,
    credential: &str,
) -> Result<SignedIn, ClientError> {
    let mut pauses = UNAVAILABLE_RETRIES.iter();
    loop {
        match client
            .sign_in(req.id, credential, Some(req.device_name))
            .await
        {
            Err(ClientError::Server {
                code: ErrorCode::Unavailable,
                detail,
            }) => match pauses.next() {
                Some(pause) => {
                    tracing::info!(%detail, "the cluster cannot sign in now; trying again");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    return Err(ClientError::Server {
                        code: ErrorCode::Unavailable,
                        detail,
                    })
                }
            },
            other => return other,
        }
    }
}

/// What a failed sign-in comes to, where it is not a wrong password.
fn refused(req: &SignIn<'_>, e: ClientError) -> anyhow::Error {
    match e {
        ClientError::Server {
            code: ErrorCode::RateLimited,
            detail,
        } => anyhow!(
            "the cluster refuses to sign {} in for now: {detail}",
            req.id
        ),
        e => anyhow!("cannot sign in as {}: {e}", req.id),
    }
}

async fn account_status(req: &SignIn<'_>) -> Result<AccountStatus> {
    let client = open(req).await?;
    client.account_status(req.id).await.map_err(|e| {
        anyhow!(
            "cannot ask the cluster whether {} has an account: {e}",
            req.id
        )
    })
}

/// `LOGIN` with a password on a new connection, keeping the token. `Ok(None)`: wrong
/// password.
async fn login(req: &SignIn<'_>, password: &str) -> Result<Option<Start>> {
    let mut client = open(req).await?;
    let signed = match sign_in_retrying(&mut client, req, password).await {
        Ok(s) => s,
        Err(ClientError::Server {
            code: ErrorCode::AuthFailed,
            ..
        }) => return Ok(None),
        Err(e) => return Err(refused(req, e)),
    };
    keep(req, &signed.token);
    Ok(Some(Start {
        client: Some(client),
        login: Login::Token {
            token: signed.token,
            device_id: signed.device_id,
            device_name: req.device_name.to_string(),
        },
    }))
}

/// Keeps the token for the next run. A failure is said, not fatal: this run is signed in,
/// the next one asks for the password again.
fn keep(req: &SignIn<'_>, token: &str) {
    if let Err(e) = req.token_file.write(token) {
        tracing::warn!(error = %e, path = %req.token_file.path().display(), "cannot keep the token");
        eprintln!(
            "warning: cannot keep the sign-in at {}: {e}; the next start asks for the password again",
            req.token_file.path().display()
        );
    }
}

/// The id is claimed: its password, given or asked for (up to [`TRIES`] times).
async fn with_password(req: &SignIn<'_>, ask: &mut dyn Ask) -> Result<Start> {
    if let Some(p) = &req.password {
        return match login(req, p.expose()).await? {
            Some(start) => Ok(start),
            None => bail!(
                "the password given (--password-file or $FISHCHAT_PASSWORD) is not {}'s",
                req.id
            ),
        };
    }
    for attempt in 1..=TRIES {
        let password = read(ask, &format!("Password for {}: ", req.id))?;
        if password.is_empty() {
            ask.say("No password typed.");
            continue;
        }
        if let Some(start) = login(req, &password).await? {
            return Ok(start);
        }
        if attempt < TRIES {
            ask.say("Wrong password; try again.");
        }
    }
    bail!(
        "{TRIES} wrong passwords for {id}; start again, or ask an operator to set a new one \
         (fishchat-admin user passwd {id})",
        id = req.id
    )
}

/// Reads a password; the error says how else to give one.
fn read(ask: &mut dyn Ask, prompt: &str) -> Result<String> {
    ask.password(prompt).map_err(|e| {
        if e.kind() == std::io::ErrorKind::Interrupted {
            return anyhow!("interrupted at the password prompt; nothing was changed");
        }
        anyhow!(
            "cannot ask for the password: {e}; where there is no terminal, give it with \
             --password-file FILE or $FISHCHAT_PASSWORD"
        )
    })
}

/// The id is unclaimed and anyone may make an account: claim it with a password (given,
/// or chosen now), or go on without one where the cluster allows.
async fn claim(req: &SignIn<'_>, ask: &mut dyn Ask, status: AccountStatus) -> Result<Start> {
    let id = req.id;
    let password = match &req.password {
        Some(p) => p.expose().to_string(),
        None => loop {
            let offer = if status.auth == AuthPolicy::Required {
                format!(
                    "{id} has no account, and this cluster needs one. Choose a password to claim it \
                     (Enter with nothing quits): "
                )
            } else {
                format!(
                    "{id} has no account. Choose a password to claim it (Enter to go on without one; \
                     anyone could then use {id}): "
                )
            };
            let first = read(ask, &offer)?;
            if first.is_empty() {
                if status.auth == AuthPolicy::Required {
                    bail!(
                        "this cluster signs in only with an account, and {id} has none: \
                         start again and choose a password to claim it"
                    );
                }
                return unclaimed(req).await;
            }
            if first.chars().count() < MIN_PASSWORD_CHARS {
                ask.say(&format!(
                    "A password needs at least {MIN_PASSWORD_CHARS} characters."
                ));
                continue;
            }
            let again = read(ask, "The same password again: ")?;
            if again != first {
                ask.say("The two differ; once more.");
                continue;
            }
            break first;
        },
    };
    let client = open(req).await?;
    match client.register(id, &password).await {
        Ok(()) => {
            tracing::info!(%id, "claimed the id");
            ask.say(&format!("{id} is yours now: this device stays signed in."));
        }
        // Someone was quicker: this is a sign-in now.
        Err(ClientError::Server {
            code: ErrorCode::IdTaken,
            ..
        }) => {
            ask.say(&format!(
                "{id} was claimed just now; sign in with its password."
            ));
            drop(password);
            return with_password(req, ask).await;
        }
        Err(ClientError::Server {
            code: ErrorCode::BadArgs,
            detail,
        }) => bail!("the cluster refused the password: {detail}"),
        Err(e) => return Err(refused(req, e)),
    }
    drop(client);
    match login(req, &password).await? {
        Some(start) => Ok(start),
        None => {
            bail!("{id} was claimed, but signing in with the same password failed; start again")
        }
    }
}

/// `SEND_CLIENT_ID`: the id without an account.
async fn unclaimed(req: &SignIn<'_>) -> Result<Start> {
    let mut client = open(req).await?;
    match client.login(req.id).await {
        Ok(()) => Ok(Start {
            client: Some(client),
            login: Login::Unclaimed,
        }),
        Err(ClientError::Server {
            code: ErrorCode::AuthRequired,
            detail,
        }) => bail!(
            "the cluster does not let {id} in without an account ({detail}); start again and \
             choose a password to claim it",
            id = req.id
        ),
        Err(e) => Err(anyhow!("cannot log in as {}: {e}", req.id)),
    }
}
