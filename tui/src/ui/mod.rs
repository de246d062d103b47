//! Drawing: the state in [`crate::app::App`] onto a ratatui frame, one file per screen
//! area — [`sidebar`] (conversations), [`messages`], [`input`], [`status`] (the bottom
//! line), [`help`] (drawn over the rest). Nothing here changes the state: [`draw`] returns
//! what the message list and the help drew ([`crate::app::View`]), which the run loop
//! hands to the app so that scrolling can be clamped.

pub mod help;
pub mod input;
pub mod messages;
pub mod sidebar;
pub mod status;
pub mod theme;
pub mod wrap;

#[cfg(test)]
mod tests;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::Frame;

use crate::app::{App, Mode, View};

/// Below this width the sidebar is left out (the messages' title names the conversation).
pub const SIDEBAR_MIN_WIDTH: u16 = 60;

/// Draws the whole screen; returns what was drawn, for [`App::drawn`].
pub fn draw(f: &mut Frame, app: &App) -> View {
    let area = f.area();
    let [main, status_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let right = if main.width >= SIDEBAR_MIN_WIDTH {
        let side_w = (main.width / 4).clamp(20, 32);
        let [side, right] =
            Layout::horizontal([Constraint::Length(side_w), Constraint::Min(1)]).areas(main);
        sidebar::draw(f, side, app);
        right
    } else {
        main
    };
    let input_h = input::height(app, right.width).min(right.height.saturating_sub(3).max(3));
    let [msgs, inp] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(input_h)]).areas(right);
    let mut view = messages::draw(f, msgs, app, app.view());
    input::draw(f, inp, app);
    status::draw(f, status_area, app);
    if let Mode::Help { scroll } = app.mode {
        view = help::draw(f, area, scroll, view);
    }
    view
}

/// A rectangle `w`×`h` centred in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Drawing into ratatui's `TestBackend`, and reading the buffer back.

    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use ratatui::Terminal;

    use crate::app::App;

    /// Draws `app` on a `w`×`h` screen as the run loop does (handing what was drawn back
    /// to it) and returns the buffer.
    pub fn render(app: &mut App, w: u16, h: u16) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut view = app.view();
        t.draw(|f| view = super::draw(f, app)).unwrap();
        app.drawn(view);
        t.backend().buffer().clone()
    }

    /// The buffer's rows as text.
    pub fn rows(b: &Buffer) -> Vec<String> {
        (0..b.area.height)
            .map(|y| {
                let mut s = String::new();
                for x in 0..b.area.width {
                    let sym = b[(x, y)].symbol();
                    s.push_str(sym);
                }
                s
            })
            .collect()
    }

    /// The whole screen as one string (rows joined by newlines), for failure messages.
    pub fn screen(b: &Buffer) -> String {
        rows(b).join("\n")
    }

    /// Where `needle` starts on screen: (column, row), counting columns in cells.
    pub fn find(b: &Buffer, needle: &str) -> Option<(u16, u16)> {
        for y in 0..b.area.height {
            let cells: Vec<&str> = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
            for x in 0..cells.len() {
                let mut s = String::new();
                for c in &cells[x..] {
                    s.push_str(c);
                    if s.len() >= needle.len() {
                        break;
                    }
                }
                if s.starts_with(needle) {
                    return Some((x as u16, y));
                }
            }
        }
        None
    }
}
