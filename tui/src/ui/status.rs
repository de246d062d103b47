//! The status line: the connection (which msg_server, its round trip, or why we are cut
//! off and when we retry), messages waiting to go, and the latest notice.

use std::time::Instant;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{theme, wrap};
use crate::app::{App, Link};

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let bar = Style::new();
    let mut left: Vec<Span> = Vec::new();
    match &app.link {
        Link::Starting => left.push(Span::styled(
            " ◌ starting ",
            Style::new().fg(theme::WARN).bold(),
        )),
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
            push_waiting(&mut left, app);
            left.push(Span::styled(
                format!(" · {}", wrap::clean(reason)),
                theme::dim(),
            ));
        }
    }
    if !matches!(app.link, Link::Disconnected { .. }) {
        push_waiting(&mut left, app);
    }

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
