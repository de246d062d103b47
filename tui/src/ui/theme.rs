//! Colours and marks, in one place so the screens agree. Only the 16 basic colours, so the
//! terminal's own palette (light or dark) decides how they look.

use chrono::{DateTime, Local, TimeZone};
use ratatui::style::{Color, Modifier, Style};

use crate::model::Mark;

pub const ACCENT: Color = Color::Cyan;
pub const TOPIC: Color = Color::Magenta;
pub const PERSON: Color = Color::Cyan;
pub const ERROR: Color = Color::Red;
pub const WARN: Color = Color::Yellow;
pub const GOOD: Color = Color::Green;

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(ACCENT)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

/// A sender's colour: ours is the accent; others get one of a few, by their name, so a
/// person keeps their colour.
pub fn sender(name: &str, own: bool) -> Style {
    const PALETTE: [Color; 6] = [
        Color::Yellow,
        Color::Green,
        Color::Magenta,
        Color::Blue,
        Color::LightRed,
        Color::LightGreen,
    ];
    if own {
        return Style::new().fg(ACCENT).add_modifier(Modifier::BOLD);
    }
    let h = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    Style::new()
        .fg(PALETTE[h as usize % PALETTE.len()])
        .add_modifier(Modifier::BOLD)
}

/// How a mark shows after our message.
pub fn mark(m: &Mark) -> Option<(String, Style)> {
    match m {
        Mark::Incoming | Mark::Note => None,
        Mark::Pending => Some(("…".into(), Style::new().fg(WARN))),
        Mark::Sent => Some(("✓".into(), dim())),
        Mark::Delivered => Some(("✓✓".into(), Style::new().fg(GOOD))),
        Mark::Failed(why) => Some((format!("✗ not sent: {why}"), Style::new().fg(ERROR))),
    }
}

/// The tag before a message that waited in the inbox while we were away.
pub const OFFLINE_TAG: &str = "[offline]";

pub fn offline() -> Style {
    Style::new().fg(TOPIC).add_modifier(Modifier::ITALIC)
}

/// Unix milliseconds in local time.
pub fn local(at_ms: u64) -> DateTime<Local> {
    Local
        .timestamp_millis_opt(at_ms as i64)
        .single()
        .unwrap_or_else(Local::now)
}

/// `14:05`.
pub fn clock(at_ms: u64) -> String {
    local(at_ms).format("%H:%M").to_string()
}

/// The day a message belongs to, for separators: "Today", "Yesterday", or a date.
pub fn day(at_ms: u64) -> String {
    let d = local(at_ms).date_naive();
    let today = Local::now().date_naive();
    if d == today {
        "Today".into()
    } else if today.pred_opt() == Some(d) {
        "Yesterday".into()
    } else {
        d.format("%A %-d %B %Y").to_string()
    }
}
