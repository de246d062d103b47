//! The help screen, drawn over everything: every key (from [`crate::keys::BINDINGS`]),
//! every command (from [`crate::commands::COMMANDS`]) and what the marks mean.

use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::{theme, wrap};
use crate::action::Scope;
use crate::app::View;
use crate::commands::COMMANDS;
use crate::keys::help_rows;
use crate::model::Mark;

/// A heading, its rows (keys or command, what it does), and a blank line.
fn section(out: &mut Vec<Line<'static>>, title: &'static str, rows: Vec<(String, String)>) {
    out.push(Line::styled(title, Style::new().fg(theme::ACCENT).bold()));
    let col = rows.iter().map(|(k, _)| wrap::width(k)).max().unwrap_or(0) + 2;
    for (k, v) in rows {
        let pad = " ".repeat(col - wrap::width(&k));
        out.push(Line::from(vec![
            Span::styled(format!("  {k}{pad}"), Style::new().bold()),
            Span::raw(v),
        ]));
    }
    out.push(Line::raw(""));
}

fn keys(s: Scope) -> Vec<(String, String)> {
    help_rows(s)
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

/// Every line of the help.
pub fn lines() -> Vec<Line<'static>> {
    let mut out = Vec::new();
    section(&mut out, "Writing and reading", keys(Scope::Chat));
    section(
        &mut out,
        "Searching (Ctrl+F or /search TEXT)",
        keys(Scope::Search),
    );
    section(&mut out, "Everywhere", keys(Scope::Global));
    section(&mut out, "This help", keys(Scope::Help));

    let mut commands: Vec<(String, String)> = COMMANDS
        .iter()
        .map(|c| {
            let aliases: Vec<String> = c.names[1..].iter().map(|n| format!("/{n}")).collect();
            let also = if aliases.is_empty() {
                String::new()
            } else {
                format!(" (or {})", aliases.join(", "))
            };
            (c.usage.to_string(), format!("{}{also}", c.help))
        })
        .collect();
    commands.push(("//TEXT".into(), "send a message that starts with /".into()));
    section(&mut out, "Commands", commands);

    let mark = |m: Mark, what: &str| {
        let (text, _) = theme::mark(&m).expect("a mark of ours");
        let text = text.split(':').next().unwrap_or_default().to_string();
        (text, what.to_string())
    };
    section(
        &mut out,
        "Marks on your messages",
        vec![
            mark(
                Mark::Pending,
                "waiting to be sent (kept, even across restarts)",
            ),
            mark(Mark::Sent, "the server has it"),
            mark(Mark::Delivered, "the other person's client has it"),
            mark(
                Mark::Failed(String::new()),
                "refused by the server (the reason follows)",
            ),
            (
                theme::OFFLINE_TAG.to_string(),
                "sent to you while you were away".to_string(),
            ),
        ],
    );
    out.pop();
    out
}

/// Draws the help over `area`, scrolled `scroll` lines, and returns `view` with its page
/// and how far it can scroll.
pub fn draw(f: &mut Frame, area: Rect, scroll: u16, view: View) -> View {
    let lines = lines();
    let widest = lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| wrap::width(&s.content))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0) as u16;
    let r = super::centered(area, widest + 4, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_style(Style::new().fg(theme::ACCENT))
        .title(Line::from(" fishchat help ").bold())
        .title_bottom(
            Line::styled(" Esc closes · ↑↓ PgUp PgDn scroll ", theme::dim()).right_aligned(),
        );
    let inner = block.inner(r);
    let max = (lines.len() as u16).saturating_sub(inner.height);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(max), 0)),
        r,
    );
    View {
        help_max: max,
        page: inner.height as usize,
        ..view
    }
}
