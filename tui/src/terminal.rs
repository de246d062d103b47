//! The terminal: raw mode, the alternate screen, mouse and bracketed paste on the way in;
//! all of it undone on the way out — by [`TerminalGuard`]'s drop, and by a panic hook, so
//! a crash never leaves the shell unusable.

use std::io::{self, IsTerminal, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    pub terminal: Tui,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        let _ = self.terminal.show_cursor();
    }
}

/// Takes over the terminal. Fails, saying so, where stdin or stdout is not a terminal.
pub fn enter() -> io::Result<TerminalGuard> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(io::Error::other(
            "fishchat chat needs a terminal (stdin and stdout are not one); run it in a terminal window",
        ));
    }
    install_panic_hook();
    ACTIVE.store(true, Ordering::SeqCst);
    if let Err(e) = enable_raw_mode() {
        restore();
        return Err(e);
    }
    let mut out = io::stdout();
    if let Err(e) = execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    ) {
        restore();
        return Err(e);
    }
    let terminal = match Terminal::new(CrosstermBackend::new(out)) {
        Ok(t) => t,
        Err(e) => {
            restore();
            return Err(e);
        }
    };
    Ok(TerminalGuard { terminal })
}

/// Whether the terminal is ours (between [`enter`] and [`restore`]).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Gives the terminal back as it was. Only the first call after [`enter`] acts: leaving the
/// alternate screen twice would move the cursor over what was printed in between (a panic's
/// report, say).
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}

/// On panic: restore the terminal first, log the panic, then let the usual report print
/// on the restored screen.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            tracing::error!(panic = %info, "the chat client panicked");
            previous(info);
        }));
    });
}
