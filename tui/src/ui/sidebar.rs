//! The sidebar: every conversation, numbered for Alt+1..9, with its unread count.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{theme, wrap};
use crate::app::App;
use crate::model::ConvId;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let block = Block::bordered()
        .border_style(theme::border(false))
        .title(Line::from(vec![
            Span::raw(" "),
            Span::styled(wrap::clean(&app.me), theme::sender(&app.me, true)),
            Span::styled(" · conversations ", theme::dim()),
        ]));
    let inner = block.inner(area);
    f.render_widget(block, area);

    if app.convs.is_empty() {
        let lines = vec![
            Line::styled("none yet", theme::dim()),
            Line::raw(""),
            Line::styled("/msg ID TEXT", Style::new().fg(theme::ACCENT)),
            Line::styled("/join TOPIC", Style::new().fg(theme::ACCENT)),
        ];
        f.render_widget(Paragraph::new(lines), inner);
        return;
    }

    let width = inner.width as usize;
    let h = inner.height as usize;
    // Keep the selected one in view.
    let first = app.selected.map_or(0, |s| (s + 1).saturating_sub(h));
    let mut lines = Vec::new();
    for (i, c) in app.convs.iter().enumerate().skip(first).take(h) {
        let selected = app.selected == Some(i);
        let number = if i < 9 {
            format!("{} ", i + 1)
        } else {
            "  ".to_string()
        };
        let color = match c.id {
            ConvId::Person(_) => theme::PERSON,
            ConvId::Topic(_) => theme::TOPIC,
        };
        let badge = if c.unread > 0 {
            let n = if c.unread > 999 {
                "999+".to_string()
            } else {
                c.unread.to_string()
            };
            format!(" {n} ")
        } else {
            String::new()
        };
        let room = width.saturating_sub(2 + wrap::width(&badge) + 1);
        let label = wrap::ellipsize(&wrap::clean(&c.id.label()), room);
        let pad = width.saturating_sub(2 + wrap::width(&label) + wrap::width(&badge));
        let mut label_style = Style::new().fg(color);
        if c.unread > 0 || selected {
            label_style = label_style.add_modifier(Modifier::BOLD);
        }
        let mut spans = vec![
            Span::styled(number, theme::dim()),
            Span::styled(label, label_style),
            Span::raw(" ".repeat(pad)),
        ];
        if !badge.is_empty() {
            spans.push(Span::styled(
                badge,
                Style::new()
                    .fg(Color::Black)
                    .bg(theme::WARN)
                    .bold()
                    .remove_modifier(Modifier::REVERSED),
            ));
        }
        let mut line = Line::from(spans);
        if selected {
            // Reversed reads on light and dark terminals alike.
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}
