//! Shows roles as they start: on a terminal one spinner per role that turns into a ✓
//! line when the role is ready; otherwise one plain line per ready role. Both on stderr,
//! so stdout holds only the summary.

use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::logging;

/// Wide enough for "msg_server 9"; longer names push their address right.
const ROLE_WIDTH: usize = 12;

pub enum Progress {
    Terminal {
        multi: MultiProgress,
        bars: Vec<(String, ProgressBar)>,
    },
    Plain,
}

impl Progress {
    /// Spinners for `roles` where stderr is a terminal, plain lines otherwise.
    pub fn start(roles: &[String]) -> Progress {
        if !io::stderr().is_terminal() {
            return Progress::Plain;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(&format!(
            "  {{spinner:.cyan}} {{prefix:<{ROLE_WIDTH}}} {{msg:.dim}}"
        ))
        .expect("a valid template")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        let bars = roles
            .iter()
            .map(|role| {
                let bar = multi.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(role.clone())
                        .with_message("starting"),
                );
                bar.enable_steady_tick(Duration::from_millis(80));
                (role.clone(), bar)
            })
            .collect();
        logging::set_progress(multi.clone());
        Progress::Terminal { multi, bars }
    }

    /// `role` is ready at `addr`. A role not named at the start gets a line of its own.
    pub fn ready(&mut self, role: &str, addr: &str) {
        match self {
            Progress::Terminal { multi, bars } => {
                let bar = match bars.iter().find(|(r, _)| r == role) {
                    Some((_, bar)) => bar.clone(),
                    None => {
                        let bar =
                            multi.add(ProgressBar::new_spinner().with_prefix(role.to_string()));
                        bars.push((role.to_string(), bar.clone()));
                        bar
                    }
                };
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "  \x1b[32m✓\x1b[0m {{prefix:<{ROLE_WIDTH}}} {{msg}}"
                    ))
                    .expect("a valid template"),
                );
                bar.finish_with_message(addr.to_string());
            }
            Progress::Plain => eprintln!("ready  {role:<ROLE_WIDTH$}  {addr}"),
        }
    }

    /// Stops drawing. Spinners of roles that were not reported ready are cleared: after a
    /// failure the error that follows says what went wrong.
    pub fn finish(self) {
        if let Progress::Terminal { multi, bars } = self {
            for (_, bar) in &bars {
                if !bar.is_finished() {
                    bar.finish_and_clear();
                }
            }
            logging::clear_progress();
            drop(multi);
        }
    }
}
