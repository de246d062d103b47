//! The open conversation's messages: time, sender, text, our delivery marks, day
//! separators; newest at the bottom, scrolled by whole lines. With nothing open: the
//! welcome screen.
//!
//! Only what can be seen is laid out: messages are wrapped from the newest back until the
//! screen (and the scroll) is filled.

use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::theme;
use super::wrap::{self, width};
use crate::app::{App, Mode, Search, View};
use crate::model::{ConvId, Conversation, Mark, Message};

/// The widest a sender's name column gets; longer names are cut.
const NAME_MAX: usize = 12;

/// Draws the open conversation (or the welcome) and returns `view` with what it drew:
/// the page, how far the conversation can scroll and how far it was drawn scrolled.
pub fn draw(f: &mut Frame, area: Rect, app: &App, view: View) -> View {
    let focused = matches!(app.mode, Mode::Chat | Mode::Search(_));
    let mut block = Block::bordered().border_style(theme::border(focused));
    let Some(conv) = app.current() else {
        let block = block.title(" fishchat ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        welcome(f, inner, app);
        return view;
    };
    block = block.title(title(conv));
    let inner = block.inner(area);
    let search = match &app.mode {
        Mode::Search(s) => Some(s),
        _ => None,
    };

    if conv.messages.is_empty() {
        f.render_widget(block, area);
        let hint = match &conv.id {
            ConvId::Person(p) => format!("No messages with {p} yet: type below and press Enter."),
            ConvId::Topic(t) => format!("No messages in #{t} yet: type below and press Enter."),
        };
        let p = Paragraph::new(Line::from(hint).style(theme::dim()))
            .alignment(Alignment::Center)
            .wrap(ratatui::widgets::Wrap { trim: true });
        let y = inner.y + inner.height / 2;
        f.render_widget(
            p,
            Rect {
                y,
                height: inner.height.saturating_sub(inner.height / 2),
                ..inner
            },
        );
        return View {
            page: inner.height as usize,
            max_scroll: 0,
            scroll: 0,
            ..view
        };
    }

    let page = inner.height as usize;
    let name_w = conv
        .messages
        .iter()
        .map(|m| width(&m.from))
        .max()
        .unwrap_or(0)
        .clamp(3, NAME_MAX);
    let hit = search.and_then(|s| s.hit);
    let want = conv.scroll + 2 * page.max(1);
    // Lay out newest first until enough lines (and the search's hit) are in hand.
    let mut chunks: Vec<Vec<Line<'static>>> = Vec::new();
    let mut total = 0usize;
    let mut hit_from_bottom = None;
    let mut complete = true;
    for (i, m) in conv.messages.iter().enumerate().rev() {
        let need = match (hit, hit_from_bottom) {
            // Until the hit is found, then a page above it.
            (Some(_), None) => usize::MAX,
            (Some(_), Some(fb)) => want.max(fb + page),
            (None, _) => want,
        };
        if total >= need {
            complete = false;
            break;
        }
        let prev = i.checked_sub(1).map(|p| &conv.messages[p]);
        let lines = message_lines(
            m,
            prev,
            inner.width as usize,
            name_w,
            search,
            hit == Some(i),
        );
        if hit == Some(i) {
            // Lines below the hit's first line (its own included).
            hit_from_bottom = Some(total + lines.len() - usize::from(sep_needed(m, prev)));
        }
        total += lines.len();
        chunks.push(lines);
    }
    let max_scroll = if complete {
        total.saturating_sub(page)
    } else {
        // More above: at least this much.
        total.saturating_sub(page).max(conv.scroll)
    };
    let mut scroll = conv.scroll.min(max_scroll);
    if let Some(from_bottom) = hit_from_bottom {
        // Keep the hit on screen, a third of the way down when it has to move.
        // `from_bottom`: lines from the bottom up to the hit's first line, itself included.
        let visible = from_bottom > scroll && from_bottom <= scroll + page;
        if !visible {
            scroll = from_bottom
                .saturating_sub(page - page / 3)
                .min(total.saturating_sub(page));
        }
    }
    let drawn = View {
        page,
        max_scroll,
        scroll,
        ..view
    };

    let lines: Vec<Line<'static>> = chunks.into_iter().rev().flatten().collect();
    let end = lines.len() - scroll.min(lines.len());
    let start = end.saturating_sub(page);
    let shown = &lines[start..end];
    // Few messages sit at the bottom, as in every chat.
    let pad = page.saturating_sub(shown.len()) as u16;

    if scroll > 0 {
        let below = if conv.unread > 0 {
            format!(" ↓ {} new · Esc: newest ", conv.unread)
        } else {
            format!(" ↓ {scroll} more lines · Esc: newest ")
        };
        block = block.title_bottom(
            Line::from(below)
                .right_aligned()
                .style(Style::new().fg(theme::WARN)),
        );
    }
    f.render_widget(block, area);
    f.render_widget(
        Paragraph::new(shown.to_vec()),
        Rect {
            y: inner.y + pad,
            height: inner.height - pad,
            ..inner
        },
    );
    drawn
}

fn title(conv: &Conversation) -> Line<'static> {
    let (label, color) = match &conv.id {
        ConvId::Person(_) => (conv.id.label(), theme::PERSON),
        ConvId::Topic(_) => (conv.id.label(), theme::TOPIC),
    };
    let kind = match &conv.id {
        ConvId::Person(_) => "person to person",
        ConvId::Topic(_) => "topic",
    };
    Line::from(vec![
        Span::raw(" "),
        Span::styled(wrap::clean(&label), Style::new().fg(color).bold()),
        Span::styled(format!(" · {kind} "), theme::dim()),
    ])
}

/// Whether a day separator goes before `m`.
fn sep_needed(m: &Message, prev: Option<&Message>) -> bool {
    prev.is_none_or(|p| theme::local(p.at_ms).date_naive() != theme::local(m.at_ms).date_naive())
}

/// One message as lines: a day separator where the day changes, then
/// `HH:MM  sender  text…` with the text wrapped under itself.
fn message_lines(
    m: &Message,
    prev: Option<&Message>,
    width: usize,
    name_w: usize,
    search: Option<&Search>,
    is_hit: bool,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if sep_needed(m, prev) {
        let label = format!(" {} ", theme::day(m.at_ms));
        let rest = width.saturating_sub(wrap::width(&label));
        let (left, right) = (rest / 2, rest - rest / 2);
        out.push(
            Line::from(format!("{}{label}{}", "─".repeat(left), "─".repeat(right)))
                .style(theme::dim()),
        );
    }
    let time = theme::clock(m.at_ms);
    let name = wrap::ellipsize(&wrap::clean(&m.from), name_w);
    let prefix_w = width_of_prefix(&time, name_w);
    let text_w = width.saturating_sub(prefix_w).max(8);

    let mut spans: Vec<Span<'static>> = Vec::new();
    if m.offline {
        spans.push(Span::styled(theme::OFFLINE_TAG, theme::offline()));
        spans.push(Span::raw(" "));
    }
    let note = m.mark == Mark::Note;
    let base = if note {
        Style::new().fg(theme::ACCENT)
    } else {
        Style::new()
    };
    spans.extend(highlight(&m.text, search, is_hit, base));
    if let Some((mark, style)) = theme::mark(&m.mark) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(mark, style));
    }
    let wrapped = wrap::wrap(&spans, text_w);
    for (i, row) in wrapped.into_iter().enumerate() {
        let mut line: Vec<Span<'static>> = if i == 0 {
            vec![
                Span::styled(time.clone(), theme::dim()),
                Span::raw("  "),
                Span::styled(
                    format!(
                        "{name}{}",
                        " ".repeat(name_w.saturating_sub(wrap::width(&name)))
                    ),
                    if note {
                        theme::dim()
                    } else {
                        theme::sender(&m.from, m.own())
                    },
                ),
                Span::raw("  "),
            ]
        } else {
            vec![Span::raw(" ".repeat(prefix_w))]
        };
        line.extend(row);
        let mut line = Line::from(line);
        if is_hit {
            line = line.style(Style::new().add_modifier(Modifier::BOLD));
        }
        out.push(line);
    }
    out
}

fn width_of_prefix(time: &str, name_w: usize) -> usize {
    wrap::width(time) + 2 + name_w + 2
}

/// The text with the search's matches highlighted.
fn highlight(text: &str, search: Option<&Search>, is_hit: bool, base: Style) -> Vec<Span<'static>> {
    let Some(s) = search.filter(|s| s.matches(text)) else {
        return vec![Span::styled(text.to_string(), base)];
    };
    let q = s.query.text().to_lowercase();
    let lower = text.to_lowercase();
    // Lower-casing can change lengths (rarely); then highlight the whole text.
    if lower.len() != text.len() {
        return vec![Span::styled(text.to_string(), base.reversed())];
    }
    let found = if is_hit {
        Style::new().black().on_yellow()
    } else {
        Style::new().yellow().reversed()
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&q) {
        let (a, b) = (at + i, at + i + q.len());
        if a > at {
            out.push(Span::styled(text[at..a].to_string(), base));
        }
        out.push(Span::styled(text[a..b].to_string(), found));
        at = b;
    }
    if at < text.len() {
        out.push(Span::styled(text[at..].to_string(), base));
    }
    out
}

/// The first start: what to type.
fn welcome(f: &mut Frame, area: Rect, app: &App) {
    let key = |k: &str| Span::styled(format!("{k:<18}"), Style::new().fg(theme::ACCENT).bold());
    let lines = vec![
        Line::from(vec![
            Span::raw("Welcome to fishchat, "),
            Span::styled(wrap::clean(&app.me), theme::sender(&app.me, true)),
            Span::raw("."),
        ]),
        Line::raw(""),
        Line::from(vec![key("/msg ID TEXT"), Span::raw("write to someone")]),
        Line::from(vec![
            key("/create TOPIC"),
            Span::raw("start a topic (a group)"),
        ]),
        Line::from(vec![key("/join TOPIC"), Span::raw("join a topic")]),
        Line::from(vec![key("F1 or /help"), Span::raw("every key and command")]),
        Line::from(vec![key("Ctrl+C or /quit"), Span::raw("leave")]),
        Line::raw(""),
        Line::styled(
            "Conversations and their history are kept between runs.",
            theme::dim(),
        ),
    ];
    let h = lines.len() as u16;
    let w = 58.min(area.width);
    let r = super::centered(area, w, h);
    f.render_widget(Paragraph::new(lines), r);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(wrap::ellipsize("bob", 5), "bob");
        assert_eq!(wrap::ellipsize("bartholomew", 5), "bart…");
    }

    #[test]
    fn matches_are_split_out_case_insensitively() {
        let s = Search {
            query: crate::editor::Editor::with_text("RUST"),
            hit: None,
        };
        let spans = highlight("I like rust and Rust", Some(&s), false, Style::new());
        let parts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(parts, ["I like ", "rust", " and ", "Rust"]);
        assert_ne!(spans[1].style, spans[0].style);
    }
}
