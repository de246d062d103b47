//! Keys and the mouse → [`Action`]s, from one table ([`BINDINGS`]) that the help screen
//! ([`crate::ui::help`]) lists, so what the help says is what the keys do.
//!
//! A key is looked up in the bindings of the current [`Scope`] (a search falls back to the
//! chat's keys), then in those for every scope; a printable character bound nowhere is
//! typed into the focused input.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use crate::action::{Action, Scope};

/// What sets a binding off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Key(KeyCode, KeyModifiers),
    WheelUp,
    WheelDown,
}

/// One row of the key table.
pub struct Binding {
    pub scope: Scope,
    pub triggers: &'static [Trigger],
    pub action: Action,
    /// What the help screen says it does.
    pub help: &'static str,
    /// How the help screen names the triggers, where listing them one by one would not
    /// read well ("Alt+1..9"). `None`: their names joined.
    pub label: Option<&'static str>,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

const fn key(code: KeyCode, m: KeyModifiers) -> Trigger {
    Trigger::Key(code, m)
}

const fn ch(c: char, m: KeyModifiers) -> Trigger {
    Trigger::Key(KeyCode::Char(c), m)
}

const fn bind(
    scope: Scope,
    triggers: &'static [Trigger],
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        scope,
        triggers,
        action,
        help,
        label: None,
    }
}

/// Alt+digit: the n-th conversation.
macro_rules! go_to {
    ($n:expr, $c:expr) => {
        Binding {
            scope: Scope::Chat,
            triggers: &[ch($c, ALT)],
            action: Action::GoTo($n),
            help: "go to conversation 1 … 9 (the numbers in the sidebar)",
            label: Some("Alt+1..9"),
        }
    };
}

use Scope::{Chat, Global, Help, Search};

/// Every binding, in the order the help screen lists them.
pub const BINDINGS: &[Binding] = &[
    // Chat: sending and moving around.
    bind(
        Chat,
        &[key(KeyCode::Enter, NONE)],
        Action::Submit,
        "send the message, or run the /command",
    ),
    bind(
        Chat,
        &[key(KeyCode::Enter, ALT), ch('j', CTRL)],
        Action::Newline,
        "new line in the message",
    ),
    bind(
        Chat,
        &[key(KeyCode::Tab, NONE), ch('n', CTRL)],
        Action::NextConversation,
        "next conversation",
    ),
    bind(
        Chat,
        &[key(KeyCode::BackTab, SHIFT), ch('p', CTRL)],
        Action::PrevConversation,
        "previous conversation",
    ),
    go_to!(0, '1'),
    go_to!(1, '2'),
    go_to!(2, '3'),
    go_to!(3, '4'),
    go_to!(4, '5'),
    go_to!(5, '6'),
    go_to!(6, '7'),
    go_to!(7, '8'),
    go_to!(8, '9'),
    bind(
        Chat,
        &[key(KeyCode::PageUp, NONE), key(KeyCode::PageDown, NONE)],
        Action::PageUp,
        "scroll the messages a page up / down",
    ),
    bind(
        Chat,
        &[Trigger::WheelUp, Trigger::WheelDown],
        Action::Wheel(0),
        "scroll the messages (Shift+drag selects text)",
    ),
    bind(
        Chat,
        &[ch('f', CTRL)],
        Action::OpenSearch,
        "search this conversation (or /search TEXT)",
    ),
    bind(
        Chat,
        &[key(KeyCode::Esc, NONE)],
        Action::Escape,
        "back to the newest message; dismiss the notice",
    ),
    // Chat: editing.
    bind(
        Chat,
        &[key(KeyCode::Left, NONE), key(KeyCode::Right, NONE)],
        Action::Left,
        "move in the message",
    ),
    bind(
        Chat,
        &[
            key(KeyCode::Left, CTRL),
            key(KeyCode::Right, CTRL),
            ch('b', ALT),
            ch('f', ALT),
        ],
        Action::WordLeft,
        "move by words",
    ),
    bind(
        Chat,
        &[
            key(KeyCode::Home, NONE),
            key(KeyCode::End, NONE),
            ch('a', CTRL),
            ch('e', CTRL),
        ],
        Action::LineStart,
        "start / end of the line",
    ),
    bind(
        Chat,
        &[key(KeyCode::Up, NONE), key(KeyCode::Down, NONE)],
        Action::Up,
        "line above / below in a message of several lines",
    ),
    bind(
        Chat,
        &[key(KeyCode::Backspace, NONE), key(KeyCode::Delete, NONE)],
        Action::Backspace,
        "delete before / after the cursor",
    ),
    bind(
        Chat,
        &[ch('w', CTRL), key(KeyCode::Backspace, ALT)],
        Action::DeleteWord,
        "delete the word before the cursor",
    ),
    bind(
        Chat,
        &[ch('u', CTRL)],
        Action::ClearInput,
        "clear the message",
    ),
    // Search.
    bind(
        Search,
        &[key(KeyCode::Enter, NONE), key(KeyCode::Up, NONE)],
        Action::SearchOlder,
        "older match",
    ),
    bind(
        Search,
        &[key(KeyCode::Down, NONE)],
        Action::SearchNewer,
        "newer match",
    ),
    bind(
        Search,
        &[key(KeyCode::Esc, NONE)],
        Action::Escape,
        "close the search, staying at the match",
    ),
    bind(
        Search,
        &[key(KeyCode::Backspace, NONE)],
        Action::Backspace,
        "edit the search text (type to search)",
    ),
    bind(
        Search,
        &[Trigger::WheelUp, Trigger::WheelDown],
        Action::Wheel(0),
        "scroll the messages",
    ),
    // Help.
    bind(
        Help,
        &[
            key(KeyCode::Up, NONE),
            key(KeyCode::Down, NONE),
            Trigger::WheelUp,
            Trigger::WheelDown,
        ],
        Action::Wheel(0),
        "scroll the help",
    ),
    bind(
        Help,
        &[key(KeyCode::PageUp, NONE), key(KeyCode::PageDown, NONE)],
        Action::PageUp,
        "scroll the help a page",
    ),
    bind(
        Help,
        &[
            key(KeyCode::Esc, NONE),
            ch('q', NONE),
            key(KeyCode::F(1), NONE),
        ],
        Action::Escape,
        "close the help",
    ),
    // Everywhere.
    bind(
        Global,
        &[key(KeyCode::F(1), NONE)],
        Action::Help,
        "this help (or /help)",
    ),
    bind(Global, &[ch('r', CTRL)], Action::Reconnect, "reconnect now"),
    bind(Global, &[ch('c', CTRL)], Action::Quit, "quit (or /quit)"),
];

/// Some rows bind a pair of opposite moves under one action (Left for "Left / Right"):
/// the trigger's position picks the action actually meant.
fn resolve(b: &Binding, i: usize, t: Trigger) -> Action {
    use Action::*;
    match (b.action.clone(), i) {
        (Left, 1) => Right,
        (WordLeft, 1 | 3) => WordRight,
        (LineStart, 1 | 3) => LineEnd,
        (Up, 1) => Down,
        (Backspace, 1) => Delete,
        (PageUp, 1) => PageDown,
        (Wheel(_), _) => match (b.scope, t) {
            (Scope::Help, Trigger::Key(KeyCode::Up, _)) => Wheel(-1),
            (Scope::Help, Trigger::Key(KeyCode::Down, _)) => Wheel(1),
            (_, Trigger::WheelUp) => Wheel(-3),
            (_, _) => Wheel(3),
        },
        (a, _) => a,
    }
}

/// The action for `t` in `scope`, if any.
pub fn lookup(scope: Scope, t: Trigger) -> Option<Action> {
    let t = normalize(t);
    // A search is typed like a message: the chat's editing and moving keys work there too.
    let chain: &[Scope] = match scope {
        Search => &[Search, Chat, Global],
        Chat => &[Chat, Global],
        Help => &[Help, Global],
        Global => &[Global],
    };
    for &s in chain {
        for b in BINDINGS.iter().filter(|b| b.scope == s) {
            if let Some(i) = b.triggers.iter().position(|x| *x == t) {
                return Some(resolve(b, i, t));
            }
        }
    }
    None
}

/// Terminals differ in what they add: Shift+Tab comes as BackTab with or without SHIFT,
/// and a shifted letter carries SHIFT on top of being upper case.
fn normalize(t: Trigger) -> Trigger {
    match t {
        Trigger::Key(KeyCode::BackTab, _) => key(KeyCode::BackTab, SHIFT),
        Trigger::Key(KeyCode::Char(c), m) if m.contains(CTRL) || m.contains(ALT) => {
            Trigger::Key(KeyCode::Char(c.to_ascii_lowercase()), m - SHIFT)
        }
        other => other,
    }
}

/// The action for a key press, or None for releases and unbound keys.
pub fn for_key(scope: Scope, k: KeyEvent) -> Option<Action> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    if let Some(a) = lookup(scope, Trigger::Key(k.code, k.modifiers)) {
        return Some(a);
    }
    match k.code {
        // Typed text: plain or shifted characters (AltGr arrives as Ctrl+Alt on some
        // systems, and is text too).
        KeyCode::Char(c)
            if (k.modifiers - SHIFT).is_empty() || k.modifiers.contains(CTRL | ALT) =>
        {
            (scope != Help).then_some(Action::Insert(c))
        }
        _ => None,
    }
}

/// The action for a mouse event, if any.
pub fn for_mouse(scope: Scope, m: MouseEvent) -> Option<Action> {
    match m.kind {
        MouseEventKind::ScrollUp => lookup(scope, Trigger::WheelUp),
        MouseEventKind::ScrollDown => lookup(scope, Trigger::WheelDown),
        _ => None,
    }
}

/// How a trigger reads in the help: "Ctrl+N", "Alt+Enter", "PgUp", "wheel".
pub fn name(t: &Trigger) -> String {
    let (code, m) = match t {
        Trigger::WheelUp => return "wheel up".into(),
        Trigger::WheelDown => return "wheel down".into(),
        Trigger::Key(c, m) => (c, *m),
    };
    let mut s = String::new();
    let shown_shift = !matches!(code, KeyCode::BackTab);
    for (flag, text) in [(CTRL, "Ctrl+"), (ALT, "Alt+"), (SHIFT, "Shift+")] {
        if m.contains(flag) && (flag != SHIFT || shown_shift) {
            s.push_str(text);
        }
    }
    match code {
        KeyCode::Char(c) if m.contains(CTRL) || m.contains(ALT) => s.push(c.to_ascii_uppercase()),
        KeyCode::Char(c) => s.push(*c),
        KeyCode::F(n) => s.push_str(&format!("F{n}")),
        KeyCode::BackTab => s.push_str("Shift+Tab"),
        KeyCode::PageUp => s.push_str("PgUp"),
        KeyCode::PageDown => s.push_str("PgDn"),
        KeyCode::Esc => s.push_str("Esc"),
        KeyCode::Backspace => s.push_str("Backspace"),
        other => s.push_str(&format!("{other:?}")),
    }
    s
}

/// A binding's triggers as the help shows them.
pub fn label(b: &Binding) -> String {
    if let Some(l) = b.label {
        return l.to_string();
    }
    if b.triggers.contains(&Trigger::WheelUp) && b.triggers.contains(&Trigger::WheelDown) {
        let keys: Vec<String> = b
            .triggers
            .iter()
            .filter(|t| matches!(t, Trigger::Key(..)))
            .map(name)
            .collect();
        let mut parts = keys;
        parts.push("mouse wheel".into());
        return parts.join(", ");
    }
    b.triggers.iter().map(name).collect::<Vec<_>>().join(", ")
}

/// The rows the help screen shows for `scope`: each label once (Alt+1..9 is nine bindings).
pub fn help_rows(scope: Scope) -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = Vec::new();
    for b in BINDINGS.iter().filter(|b| b.scope == scope) {
        let l = label(b);
        if !rows.iter().any(|(x, _)| *x == l) {
            rows.push((l, b.help));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn the_issue_s_keys_do_what_it_says() {
        let k = |c, m| for_key(Chat, press(c, m));
        assert_eq!(k(KeyCode::Enter, NONE), Some(Action::Submit));
        assert_eq!(k(KeyCode::Enter, ALT), Some(Action::Newline));
        assert_eq!(k(KeyCode::Char('j'), CTRL), Some(Action::Newline));
        assert_eq!(k(KeyCode::Tab, NONE), Some(Action::NextConversation));
        assert_eq!(k(KeyCode::Char('n'), CTRL), Some(Action::NextConversation));
        assert_eq!(k(KeyCode::Char('p'), CTRL), Some(Action::PrevConversation));
        assert_eq!(k(KeyCode::BackTab, NONE), Some(Action::PrevConversation));
        assert_eq!(k(KeyCode::BackTab, SHIFT), Some(Action::PrevConversation));
        assert_eq!(k(KeyCode::Char('1'), ALT), Some(Action::GoTo(0)));
        assert_eq!(k(KeyCode::Char('9'), ALT), Some(Action::GoTo(8)));
        assert_eq!(k(KeyCode::PageUp, NONE), Some(Action::PageUp));
        assert_eq!(k(KeyCode::PageDown, NONE), Some(Action::PageDown));
        assert_eq!(k(KeyCode::F(1), NONE), Some(Action::Help));
        assert_eq!(k(KeyCode::Char('c'), CTRL), Some(Action::Quit));
        assert_eq!(k(KeyCode::Char('C'), CTRL | SHIFT), Some(Action::Quit));
        assert_eq!(k(KeyCode::Right, NONE), Some(Action::Right));
        assert_eq!(k(KeyCode::Char('e'), CTRL), Some(Action::LineEnd));
        assert_eq!(k(KeyCode::Delete, NONE), Some(Action::Delete));
        let wheel = |kind| {
            for_mouse(
                Chat,
                MouseEvent {
                    kind,
                    column: 0,
                    row: 0,
                    modifiers: NONE,
                },
            )
        };
        assert_eq!(wheel(MouseEventKind::ScrollUp), Some(Action::Wheel(-3)));
        assert_eq!(wheel(MouseEventKind::ScrollDown), Some(Action::Wheel(3)));
    }

    #[test]
    fn printable_keys_are_typed_and_slash_is_text() {
        assert_eq!(
            for_key(Chat, press(KeyCode::Char('/'), NONE)),
            Some(Action::Insert('/'))
        );
        assert_eq!(
            for_key(Chat, press(KeyCode::Char('Q'), SHIFT)),
            Some(Action::Insert('Q'))
        );
        assert_eq!(
            for_key(Search, press(KeyCode::Char('q'), NONE)),
            Some(Action::Insert('q'))
        );
        // In the help, q closes it and other letters do nothing.
        assert_eq!(
            for_key(Help, press(KeyCode::Char('q'), NONE)),
            Some(Action::Escape)
        );
        assert_eq!(for_key(Help, press(KeyCode::Char('x'), NONE)), None);
        let mut release = press(KeyCode::Enter, NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(for_key(Chat, release), None);
    }

    #[test]
    fn scopes_override_global_keys() {
        assert_eq!(
            for_key(Help, press(KeyCode::F(1), NONE)),
            Some(Action::Escape)
        );
        assert_eq!(
            for_key(Search, press(KeyCode::Enter, NONE)),
            Some(Action::SearchOlder)
        );
        assert_eq!(
            for_key(Search, press(KeyCode::Char('c'), CTRL)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn every_binding_is_reachable_through_its_own_trigger() {
        for b in BINDINGS {
            for (i, t) in b.triggers.iter().enumerate() {
                let got = lookup(b.scope, *t);
                assert_eq!(
                    got,
                    Some(resolve(b, i, *t)),
                    "{} in {:?} is shadowed",
                    name(t),
                    b.scope
                );
            }
        }
    }

    #[test]
    fn help_rows_name_keys_as_people_write_them() {
        let rows = help_rows(Chat);
        let labels: Vec<&str> = rows.iter().map(|(l, _)| l.as_str()).collect();
        assert!(labels.contains(&"Tab, Ctrl+N"), "{labels:?}");
        assert!(labels.contains(&"Shift+Tab, Ctrl+P"), "{labels:?}");
        assert!(labels.contains(&"Alt+Enter, Ctrl+J"), "{labels:?}");
        assert!(labels.contains(&"Alt+1..9"), "{labels:?}");
        assert!(labels.contains(&"mouse wheel"), "{labels:?}");
        assert_eq!(labels.iter().filter(|l| **l == "Alt+1..9").count(), 1);
        assert!(help_rows(Global).iter().any(|(l, _)| l == "F1"));
    }
}
