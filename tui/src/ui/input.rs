//! The input box: the message being written (or the search text), with the cursor; its
//! title says where Enter sends, and whether sending must wait for the connection.

use std::borrow::Cow;

use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::theme;
use crate::app::{App, Mode, PasswordStep};
use crate::commands;
use crate::editor::Editor;

/// The most text rows the box grows to.
const MAX_ROWS: u16 = 6;

/// The box's height for `app` at `width` columns: its text rows and the borders.
pub fn height(app: &App, width: u16) -> u16 {
    let (rows, _) = layout(&editor(app), inner_width(width));
    (rows.len() as u16).clamp(1, MAX_ROWS) + 2
}

fn inner_width(width: u16) -> usize {
    usize::from(width.saturating_sub(2)).max(1)
}

/// What the box shows: the message, the search text, or a password masked (a `•` a
/// character, the cursor where it is).
fn editor(app: &App) -> Cow<'_, Editor> {
    match &app.mode {
        Mode::Search(s) => Cow::Borrowed(&s.query),
        Mode::Password(p) => {
            let text = p.input.text();
            let mut masked = Editor::with_text("•".repeat(text.chars().count()));
            for _ in text[p.input.cursor()..].chars() {
                masked.left();
            }
            Cow::Owned(masked)
        }
        _ => Cow::Borrowed(&app.input),
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let e = editor(app);
    let e = e.as_ref();
    let mut block = Block::bordered()
        .border_style(theme::border(!matches!(app.mode, Mode::Help { .. })))
        .title(title(app));
    if let Some(hint) = hint(app) {
        block = block.title_bottom(hint.right_aligned());
    }
    let inner = block.inner(area);
    f.render_widget(block, area);

    if e.is_empty() {
        let placeholder = match (&app.mode, app.current()) {
            (Mode::Search(_), _) => "type what to find",
            (Mode::Password(_), _) => "typed hidden; Enter when done",
            (_, None) => "/msg ID TEXT to write to someone · F1 for help",
            (_, Some(_)) => "write a message · /help for commands",
        };
        f.render_widget(
            Paragraph::new(Line::styled(placeholder, theme::dim())),
            inner,
        );
        if !matches!(app.mode, Mode::Help { .. }) {
            f.set_cursor_position(Position::new(inner.x, inner.y));
        }
        return;
    }

    let (rows, (crow, ccol)) = layout(e, inner.width as usize);
    let h = inner.height as usize;
    let first = (crow + 1).saturating_sub(h);
    let style = if commands::is_command(e.text()) && matches!(app.mode, Mode::Chat) {
        Style::new().fg(theme::ACCENT)
    } else {
        Style::new()
    };
    let lines: Vec<Line> = rows
        .into_iter()
        .skip(first)
        .take(h)
        .map(|r| Line::styled(r, style))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    if !matches!(app.mode, Mode::Help { .. }) {
        f.set_cursor_position(Position::new(
            inner.x + ccol as u16,
            inner.y + (crow - first) as u16,
        ));
    }
}

fn title(app: &App) -> Line<'static> {
    let dim = theme::dim();
    match (&app.mode, app.current()) {
        (Mode::Password(p), _) => {
            let which = match p.step {
                PasswordStep::Old => " your current password ",
                PasswordStep::New => " a new password (8 characters or more) ",
                PasswordStep::Again => " the new password again ",
            };
            Line::from(vec![
                Span::styled(" /passwd ", Style::new().fg(theme::WARN).bold()),
                Span::styled(which, dim),
            ])
        }
        (Mode::Search(s), Some(c)) => {
            let count = c.messages.iter().filter(|m| s.matches(&m.text)).count();
            let found = match (s.hit, count) {
                (_, 0) if s.query.is_empty() => String::new(),
                (_, 0) => " · no match".to_string(),
                (Some(h), n) => {
                    let nth = c.messages[h..]
                        .iter()
                        .filter(|m| s.matches(&m.text))
                        .count();
                    format!(" · match {nth} of {n} from the newest")
                }
                (None, n) => format!(" · {n} matches"),
            };
            Line::from(vec![
                Span::styled(" search ", Style::new().fg(theme::WARN).bold()),
                Span::styled(
                    format!("in {}{found} ", super::wrap::clean(&c.id.label())),
                    dim,
                ),
            ])
        }
        _ if commands::is_command(app.input.text()) => Line::from(Span::styled(
            " command ",
            Style::new().fg(theme::ACCENT).bold(),
        )),
        (_, Some(c)) => Line::from(vec![
            Span::styled(" to ", dim),
            Span::styled(
                super::wrap::clean(&c.id.label()),
                Style::new().fg(match c.id {
                    crate::model::ConvId::Person(_) => theme::PERSON,
                    crate::model::ConvId::Topic(_) => theme::TOPIC,
                }),
            ),
            Span::raw(" "),
        ]),
        (_, None) => Line::from(Span::styled(" message ", dim)),
    }
}

/// The right-hand note under the box: what Enter does, or why it must wait.
fn hint(app: &App) -> Option<Line<'static>> {
    match app.mode {
        Mode::Search(_) => Some(Line::styled(
            " Enter/↑ older · ↓ newer · Esc close ",
            theme::dim(),
        )),
        Mode::Help { .. } => None,
        Mode::Password(_) => Some(Line::styled(" Enter next · Esc cancel ", theme::dim())),
        Mode::Chat if !app.connected() && app.current().is_some() => Some(Line::styled(
            " offline: messages wait and go when reconnected ",
            Style::new().fg(theme::WARN),
        )),
        Mode::Chat => Some(Line::styled(
            " Enter send · Alt+Enter new line · F1 help ",
            theme::dim(),
        )),
    }
}

/// The editor's text cut into rows of `width` columns (at line breaks and wherever a row
/// is full), and the cursor's (row, column).
pub fn layout(e: &Editor, width: usize) -> (Vec<String>, (usize, usize)) {
    let width = width.max(1);
    let mut rows = vec![String::new()];
    let mut used = 0usize;
    let mut cursor = None;
    for (i, c) in e.text().char_indices() {
        if c == '\n' {
            if i == e.cursor() {
                // Before the break, on a full row: on its last cell.
                cursor = Some((rows.len() - 1, used.min(width - 1)));
            }
            rows.push(String::new());
            used = 0;
            continue;
        }
        let (shown, w) = match c {
            '\t' => (' ', 1),
            c if c.is_control() => ('\u{FFFD}', 1),
            c => (c, c.width().unwrap_or(0)),
        };
        if used + w > width {
            rows.push(String::new());
            used = 0;
        }
        if i == e.cursor() {
            cursor = Some((rows.len() - 1, used));
        }
        rows.last_mut().expect("a row").push(shown);
        used += w;
    }
    let cursor = match cursor {
        Some(c) => c,
        // At the end; a full row puts it at the start of the next.
        None if used >= width => {
            rows.push(String::new());
            (rows.len() - 1, 0)
        }
        None => (rows.len() - 1, used),
    };
    (rows, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_into_rows_and_the_cursor_found() {
        let e = Editor::with_text("hello world\nab");
        let (rows, cur) = layout(&e, 5);
        assert_eq!(rows, ["hello", " worl", "d", "ab"]);
        assert_eq!(cur, (3, 2));
        let mut e = Editor::with_text("abcde");
        assert_eq!(layout(&e, 5), (vec!["abcde".into(), String::new()], (1, 0)));
        e.left();
        assert_eq!(layout(&e, 5).1, (0, 4));
        let e = Editor::with_text("日本語");
        assert_eq!(layout(&e, 4).0, ["日本", "語"]);
    }
}
