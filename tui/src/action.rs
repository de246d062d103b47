//! What a key or the mouse asks for ([`Action`]) and where a key applies ([`Scope`]): the
//! words [`crate::keys`] (which key means what) and [`crate::app`] (what it does to the
//! state) share, kept below both so neither imports the other.

/// Everything a key or the mouse can ask for. [`crate::keys::BINDINGS`] maps keys to these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    // Editing the message (or the search text).
    Insert(char),
    Paste(String),
    Newline,
    Backspace,
    Delete,
    Left,
    Right,
    WordLeft,
    WordRight,
    LineStart,
    LineEnd,
    Up,
    Down,
    DeleteWord,
    ClearInput,
    /// Enter: send, or run the command.
    Submit,
    // Conversations.
    NextConversation,
    PrevConversation,
    /// The n-th conversation of the sidebar, from 0.
    GoTo(usize),
    // Scrolling.
    PageUp,
    PageDown,
    /// Lines to scroll: negative up (older), positive down.
    Wheel(i32),
    // Search.
    OpenSearch,
    SearchOlder,
    SearchNewer,
    // Screens and the rest.
    Escape,
    Help,
    Reconnect,
    Quit,
    /// Time passes (once a second): notices expire, countdowns move.
    Tick,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere, unless the current scope binds the key itself.
    Global,
    /// Reading and writing messages.
    Chat,
    /// Typing a search.
    Search,
    /// The help screen.
    Help,
}
