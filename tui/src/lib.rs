//! `fishchat chat`: the terminal chat client.
//!
//! The pieces, in the manner of iamb and the ratatui component templates:
//! - [`action`]: what a key can ask for ([`action::Action`]) and where keys apply;
//! - [`app`]: all the state and how it changes — actions from keys, updates from the
//!   network — tested without a terminal; it does no I/O, but returns requests for the
//!   worker and records for the history;
//! - [`keys`]: keys → actions, one table that the help screen lists;
//! - [`commands`]: the slash commands;
//! - [`net`]: what the UI and the network tell each other ([`net::Request`], [`net::Update`]);
//! - [`worker`]: the network, in its own task; the UI only talks to it through channels;
//! - [`history`]: conversations kept between runs, under `DATA_DIR/chat/<id>/`;
//! - [`ui`]: drawing, one file per screen area, tested with ratatui's `TestBackend`;
//! - [`terminal`]: taking the terminal over and always giving it back, panics included;
//! - [`signin`]: how this run logs in (a kept device token, a password, or an unclaimed
//!   id), settled on the terminal before the screen opens.
//!
//! The run loop here is where they meet: an event becomes an action or an update for the
//! app; then what the app returns is written to the history, its requests go to the
//! worker, and the screen is drawn, the drawing handed back to the app ([`app::View`]).
//! Imports go one way, down: `ui` → `app` → `action`, `net`, `history`, `model`;
//! `keys` → `action`; `worker` → `net`. The app imports neither the keys, the drawing nor
//! the worker.
//!
//! The log goes to `DATA_DIR/chat/<id>/chat.log`, never to the screen.

pub mod action;
pub mod app;
pub mod commands;
pub mod editor;
pub mod history;
pub mod keys;
mod logging;
pub mod model;
pub mod net;
pub mod signin;
pub mod terminal;
pub mod ui;
pub mod worker;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;

use crate::action::Action;
use crate::app::{Account, App};
use crate::history::History;
pub use crate::signin::Password;
use crate::signin::{token::TokenFile, SignIn};
pub use crate::worker::Target;
use crate::worker::{Login, Worker, WorkerConfig};

/// How `fishchat chat` was started.
#[derive(Debug, Clone)]
pub struct Options {
    /// Who we are.
    pub id: String,
    /// Where the cluster is.
    pub target: Target,
    /// Where the history, the log and the device token are kept (`DATA_DIR/chat/<id>/`).
    pub data_dir: PathBuf,
    /// What this device is called in the account's list of devices.
    pub device_name: String,
    /// The password, given beforehand (`--password-file`, `FISHCHAT_PASSWORD`): no
    /// question is asked then. Dropped once signed in.
    pub password: Option<Password>,
}

/// How long the network may take, once the UI has closed, to hand over what it was given.
const STOP_GRACE: Duration = Duration::from_millis(1500);

/// Runs the client until the user quits. The terminal is restored whatever happens.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    commands::check_name("id", &opts.id).map_err(|e| anyhow!("{e}; pass --id NAME"))?;
    let dir = history::dir_for(&opts.data_dir, &opts.id);
    let (mut history, loaded) = History::open(&dir)?;
    let log = dir.join("chat.log");
    logging::init(&log).with_context(|| format!("cannot open the log file {}", log.display()))?;
    tracing::info!(id = %opts.id, target = ?opts.target, history = %dir.display(), "starting");

    let token_file = TokenFile::in_dir(&dir);
    let start = signin::sign_in(
        SignIn {
            id: &opts.id,
            target: &opts.target,
            device_name: &opts.device_name,
            token_file: &token_file,
            password: opts.password,
        },
        &mut signin::Terminal::new(),
    )
    .await?;
    tracing::info!(login = ?start.login, "signed in");

    let mut app = App::new(&opts.id, loaded.conversations);
    app.account = match &start.login {
        Login::Unclaimed => Account::Unclaimed,
        Login::Token { device_id, .. } => Account::SignedIn {
            device_id: device_id.clone(),
        },
    };
    if loaded.skipped > 0 {
        app.error(format!(
            "{} unreadable lines of the history were dropped (see {})",
            loaded.skipped,
            log.display()
        ));
    }
    let mut cfg = WorkerConfig::new(&opts.id, opts.target);
    cfg.login = start.login;
    let mut guard = terminal::enter().context("cannot start the terminal UI")?;
    let mut worker = Worker::spawn_with(cfg, start.client);
    let result = event_loop(&mut guard.terminal, &mut app, &mut worker, &mut history).await;
    drop(guard);
    worker.stop(STOP_GRACE).await;
    tracing::info!(ok = result.is_ok(), "stopped");
    if app.logged_out {
        token_file.remove().with_context(|| {
            format!(
                "this device is signed out, but its token file {} could not be deleted; delete it",
                token_file.path().display()
            )
        })?;
        eprintln!(
            "Signed out: this device's sign-in is revoked and forgotten. The next start asks for the password."
        );
    }
    result
}

async fn event_loop(
    term: &mut terminal::Tui,
    app: &mut App,
    worker: &mut Worker,
    history: &mut History,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut signals = Signals::install()?;
    draw(term, app)?;
    loop {
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => on_terminal_event(app, ev),
                Some(Err(e)) => return Err(e).context("cannot read the terminal"),
                None => break,
            },
            Some(u) = worker.updates.recv() => {
                app.apply(u);
                while let Ok(u) = worker.updates.try_recv() {
                    app.apply(u);
                }
            }
            _ = tick.tick() => app.update(Action::Tick),
            sig = signals.recv() => {
                tracing::info!(signal = sig, "quitting");
                app.quit = true;
            }
        }
        // Saved first: a message is kept before the server is told it may let it go.
        save(app, history);
        for r in app.take_requests() {
            worker.request(r);
        }
        if app.quit {
            return Ok(());
        }
        draw(term, app)?;
    }
    Ok(())
}

/// Writes what the app asked to keep to the history; a write that fails is logged, and
/// the app shows the first one.
fn save(app: &mut App, history: &mut History) {
    for (at, r) in app.take_saves().iter().enumerate() {
        if let Err(e) = history.write(r) {
            tracing::warn!(error = %e, path = %history.path().display(), "cannot write the history");
            app.save_failed(at, history.path(), &e);
        }
    }
}

/// Draws the screen, then hands the app what was drawn (the page, how far things scroll).
fn draw(term: &mut terminal::Tui, app: &mut App) -> anyhow::Result<()> {
    let mut view = app.view();
    term.draw(|f| view = ui::draw(f, app))?;
    app.drawn(view);
    Ok(())
}

fn on_terminal_event(app: &mut App, ev: Event) {
    let action = match ev {
        Event::Key(k) => keys::for_key(app.scope(), k),
        Event::Mouse(m) => keys::for_mouse(app.scope(), m),
        Event::Paste(s) => Some(Action::Paste(s)),
        // A resize is drawn at once by the loop.
        _ => None,
    };
    if let Some(a) = action {
        app.update(a);
    }
}

/// SIGTERM, SIGHUP and SIGINT end the client as /quit does (the terminal is restored).
struct Signals {
    #[cfg(unix)]
    signals: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut signals = Vec::new();
            for kind in [
                SignalKind::terminate(),
                SignalKind::hangup(),
                SignalKind::interrupt(),
            ] {
                signals.push(signal(kind).context("cannot handle signals")?);
            }
            Ok(Signals { signals })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            let [term, hup, int] = &mut self.signals[..] else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
                _ = int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            std::future::pending::<()>().await;
            "none"
        }
    }
}

#[cfg(test)]
mod tests {
    //! The history as the run loop keeps it: the app's records written by [`save`] after
    //! each event, and read back by the next run.

    use super::*;
    use crate::app::tests::p2p;
    use crate::model::{ConvId, Mark};
    use crate::net::{Request, Update};

    fn enter(app: &mut App, s: &str) {
        for c in s.chars() {
            app.update(Action::Insert(c));
        }
        app.update(Action::Submit);
    }

    #[test]
    fn history_is_written_as_things_happen() {
        let dir = tempfile::tempdir().unwrap();
        let uuid;
        {
            let (mut h, loaded) = History::open(dir.path()).unwrap();
            let mut app = App::new("alice", loaded.conversations);
            app.apply(Update::Connected { server: "s".into() });
            save(&mut app, &mut h);
            enter(&mut app, "/msg bob hello");
            save(&mut app, &mut h);
            uuid = app.current().unwrap().messages[0].uuid.clone();
            app.apply(Update::Delivered {
                uuid: uuid.clone(),
                to: "bob".into(),
            });
            save(&mut app, &mut h);
            app.apply(p2p("bob", "hi back", "b1"));
            save(&mut app, &mut h);
            app.apply(Update::Joined {
                topic: "rust".into(),
            });
            save(&mut app, &mut h);
        }
        let (_h, loaded) = History::open(dir.path()).unwrap();
        let app = App::new("alice", loaded.conversations);
        assert_eq!(app.convs.len(), 2);
        let bob = &app.convs[0];
        assert_eq!(bob.messages.len(), 2);
        assert_eq!(bob.messages[0].mark, Mark::Delivered);
        assert_eq!(bob.messages[0].uuid, uuid);
        assert_eq!(bob.messages[1].text, "hi back");
        assert_eq!(app.convs[1].id, ConvId::Topic("rust".into()));
    }

    #[test]
    fn a_pending_message_from_the_last_run_is_sent_at_the_first_connection() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut h, loaded) = History::open(dir.path()).unwrap();
            let mut app = App::new("alice", loaded.conversations);
            enter(&mut app, "/msg bob written offline");
            save(&mut app, &mut h);
            assert!(app.take_requests().is_empty());
        }
        let (mut h, loaded) = History::open(dir.path()).unwrap();
        let mut app = App::new("alice", loaded.conversations);
        app.apply(Update::Connected { server: "s".into() });
        save(&mut app, &mut h);
        assert!(matches!(
            &app.take_requests()[..],
            [Request::SendP2p { text, .. }] if text == "written offline"
        ));
    }
}
