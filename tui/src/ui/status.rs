//! The status line: the connection (which msg_server, its round trip, or why we are cut
//! off and when we retry), how we are known (signed in as a device, or an unclaimed id),
//! messages waiting to go, and the latest notice. Signed out, it says so instead of the
//! connection: the worker no longer tries.

use std::time::Instant;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{theme, wrap};
use crate::app::{Account, App, Link};

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let mut left: Vec<Span> = Vec::new();
    // Why we are cut off comes before how we are known: when room is short, the reason
    // matters more.
    let why = match (&app.account, &app.link) {
        (Account::SignedOut { reason }, _) => {
            left.push(Span::styled(
                " ○ signed out ",
                Style::new().fg(theme::ERROR).bold(),
            ));
            left.push(Span::raw("restart fishchat chat to sign in again"));
            Some(reason)
        }
        (_, link) => draw_link(&mut left, app, link),
    };
    push_waiting(&mut left, app);
    if let Some(why) = why {
        left.push(Span::styled(
            format!(" · {}", wrap::clean(why)),
            theme::dim(),
        ));
    }
    push_account(&mut left, app);
    draw_line(f, area, app, left);
}

/// How we are known, last: "signed in · device abc123", or that
/// the id is anyone's.
fn push_account(left: &mut Vec<Span<'static>>, app: &App) {
    match &app.account {
        // The device is known once a connection has signed in.
        Account::SignedIn { device_id } if device_id.is_empty() => {
            left.push(Span::styled(" · signed in", theme::dim()))
        }
        Account::SignedIn { device_id } => left.push(Span::styled(
            format!(" · signed in · device {}", wrap::clean(device_id)),
            theme::dim(),
        )),
        Account::Unclaimed => left.push(Span::styled(
            format!(" · unclaimed id: anyone can use {}", wrap::clean(&app.me)),
            Style::new().fg(theme::WARN),
        )),
        Account::SignedOut { .. } => {}
    }
}

/// The connection's state; why it is cut off, where it is.
fn draw_link<'a>(left: &mut Vec<Span<'static>>, app: &App, link: &'a Link) -> Option<&'a String> {
    match link {
        Link::Starting => {
            left.push(Span::styled(
                " ◌ starting ",
                Style::new().fg(theme::WARN).bold(),
            ));
            None
        }
        Link::Connecting { via, attempt } => {
            left.push(Span::styled(
                " ◌ connecting ",
                Style::new().fg(theme::WARN).bold(),
            ));
            let tries = if *attempt > 1 {
                format!(" (attempt {attempt})")
            } else {
                String::new()
            };
            left.push(Span::raw(format!("via {via}{tries}")));
            None
        }
        Link::Connected { server } => {
            left.push(Span::styled(
                " ● connected ",
                Style::new().fg(theme::GOOD).bold(),
            ));
            left.push(Span::raw(format!("to msg_server {server}")));
            if let Some(rtt) = app.rtt {
                left.push(Span::styled(
                    format!(" · rtt {}", rtt_text(rtt)),
                    theme::dim(),
                ));
            }
            left.push(Span::styled(
                format!(" · as {}", wrap::clean(&app.me)),
                theme::dim(),
            ));
            None
        }
        Link::Disconnected { reason, retry_at } => {
            left.push(Span::styled(
                " ○ disconnected ",
                Style::new().fg(theme::ERROR).bold(),
            ));
            // When, and what is waiting, before why: a long reason is cut at the end.
            let wait = retry_at.saturating_duration_since(Instant::now());
            let when = if wait.as_millis() < 1000 {
                "retrying now".to_string()
            } else {
                format!(
                    "retry in {} s (Ctrl+R: now)",
                    wait.as_millis().div_ceil(1000)
                )
            };
            left.push(Span::raw(when));
            Some(reason)
        }
    }
}

/// The state on the left, the notice (or the help hint) on the right.
fn draw_line(f: &mut Frame, area: Rect, app: &App, left: Vec<Span<'static>>) {
    let bar = Style::new();
    let right = match &app.notice {
        Some(n) => {
            let style = if n.error {
                Style::new().fg(theme::ERROR).bold()
            } else {
                Style::new().fg(theme::ACCENT)
            };
            Span::styled(
                format!(" {} ", wrap::clean(&n.text).replace('\n', " ")),
                style,
            )
        }
        None => Span::styled(" F1 help ", theme::dim()),
    };
    let left_w: usize = left.iter().map(|s| wrap::width(&s.content)).sum();
    // The hint goes first when room is short; a notice stays.
    let right =
        if app.notice.is_none() && left_w + wrap::width(&right.content) > area.width as usize {
            Span::raw("")
        } else {
            right
        };
    let right_w = wrap::width(&right.content) as u16;
    // The notice gets what it needs, but leaves the connection's state readable.
    let keep_left = (left_w as u16).min(area.width / 3).max(16);
    let right_w = right_w.min(area.width.saturating_sub(keep_left));
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(area);
    f.render_widget(Paragraph::new(Line::from(left)).style(bar), l);
    f.render_widget(
        Paragraph::new(Line::from(right)).style(bar).right_aligned(),
        r,
    );
}

fn push_waiting(left: &mut Vec<Span<'static>>, app: &App) {
    let waiting = app.waiting();
    if waiting > 0 {
        left.push(Span::styled(
            format!(" · {waiting} waiting to send"),
            Style::new().fg(theme::WARN),
        ));
    }
}

fn rtt_text(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{} ms", ms.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trips_read_well() {
        assert_eq!(rtt_text(Duration::from_micros(1234)), "1.2 ms");
        assert_eq!(rtt_text(Duration::from_millis(87)), "87 ms");
    }
}
