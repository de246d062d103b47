//! The main screens drawn into ratatui's `TestBackend`: first start, chatting, help,
//! disconnected (and search, scrolling, a narrow terminal), checked cell by cell where
//! colour matters.

use std::time::Duration;

use ratatui::style::{Color, Modifier};

use super::testing::{find, render, rows, screen};
use super::theme;
use crate::action::{Action, Scope};
use crate::app::{Account, App, Link, Mode};
use crate::keys::help_rows;
use crate::model::{ConvId, Conversation, Mark, Message};
use crate::net::Update;
use fishchat_cluster::protocol::account::{DeviceInfo, DeviceList};
use fishchat_cluster::protocol::P2pMessage;

/// 2023-11-14 22:13:20 UTC: shown in local time, as `theme::clock` says.
const T: u64 = 1_700_000_000_000;

fn msg(uuid: &str, from: &str, text: &str, mark: Mark, at_ms: u64) -> Message {
    Message {
        uuid: uuid.into(),
        from: from.into(),
        text: text.into(),
        at_ms,
        mark,
        offline: false,
    }
}

fn connected(app: &mut App) {
    app.apply(Update::Connected {
        server: "127.0.0.1:19001".into(),
    });
    app.apply(Update::Rtt(Duration::from_micros(3200)));
}

/// alice talking with bob, and a topic with unread messages.
fn chatting() -> App {
    let mut bob = Conversation::new(ConvId::Person("bob".into()));
    bob.push(Message {
        offline: true,
        ..msg(
            "b0",
            "bob",
            "sent while you were out",
            Mark::Incoming,
            T - 60_000,
        )
    });
    bob.push(msg("b1", "bob", "hi alice", Mark::Incoming, T));
    bob.push(msg("a1", "alice", "hello bob", Mark::Delivered, T + 60_000));
    bob.push(msg(
        "a2",
        "alice",
        "are you there?",
        Mark::Sent,
        T + 120_000,
    ));
    let mut rust = Conversation::new(ConvId::Topic("rust".into()));
    rust.push(msg("r1", "carol", "anyone here?", Mark::Incoming, T));
    rust.unread = 3;
    let mut app = App::new("alice", vec![bob, rust]);
    connected(&mut app);
    app
}

#[test]
fn first_start_says_what_to_type() {
    let mut app = App::new("alice", Vec::new());
    app.apply(Update::Connecting {
        via: "gateway 127.0.0.1:17000".into(),
        attempt: 1,
    });
    let b = render(&mut app, 100, 24);
    let s = screen(&b);
    for needle in [
        "Welcome to fishchat, alice.",
        "/msg ID TEXT",
        "/create TOPIC",
        "/join TOPIC",
        "F1 or /help",
        "none yet",
        "◌ connecting via gateway 127.0.0.1:17000",
        "/msg ID TEXT to write to someone · F1 for help",
    ] {
        assert!(find(&b, needle).is_some(), "{needle:?} missing:\n{s}");
    }
    // The connection state is yellow while connecting.
    let (x, y) = find(&b, "◌ connecting").unwrap();
    assert_eq!(b[(x, y)].fg, theme::WARN);
    // The status line is the last row.
    assert_eq!(y, 23);
}

#[test]
fn chatting_shows_times_senders_marks_and_unread_counts() {
    let mut app = chatting();
    let b = render(&mut app, 100, 24);
    let s = screen(&b);
    let t = theme::clock(T);
    for needle in [
        "1 @bob".to_string(),
        "2 #rust".to_string(),
        format!("{t}  bob    hi alice"),
        format!("{}  alice  hello bob ✓✓", theme::clock(T + 60_000)),
        format!("{}  alice  are you there? ✓", theme::clock(T + 120_000)),
        "[offline] sent while you were out".to_string(),
        "● connected to msg_server 127.0.0.1:19001 · rtt 3.2 ms · as alice".to_string(),
        " to @bob ".to_string(),
        "@bob · person to person".to_string(),
    ] {
        assert!(find(&b, &needle).is_some(), "{needle:?} missing:\n{s}");
    }
    // A day separator above the first message.
    assert!(s.contains(&theme::day(T - 60_000)), "{s}");
    // The unread badge: black on yellow, on the topic's row.
    let (_, row) = find(&b, "2 #rust").unwrap();
    let (bx, by) = find(&b, " 3 ").expect("a badge");
    assert_eq!(by, row);
    assert_eq!(
        (b[(bx + 1, by)].fg, b[(bx + 1, by)].bg),
        (Color::Black, theme::WARN)
    );
    // Delivered is green, sent is grey, the offline tag magenta, connected green.
    let (x, y) = find(&b, "✓✓").unwrap();
    assert_eq!(b[(x, y)].fg, theme::GOOD);
    let (x, y) = find(&b, "are you there? ✓").unwrap();
    assert_eq!(b[(x + 15, y)].fg, Color::DarkGray);
    let (x, y) = find(&b, "[offline]").unwrap();
    assert_eq!(b[(x, y)].fg, theme::TOPIC);
    let (x, y) = find(&b, "● connected").unwrap();
    assert_eq!(b[(x, y)].fg, theme::GOOD);
    // The selected conversation is highlighted; the other is not.
    let reversed = |x: u16, y: u16| b[(x, y)].modifier.contains(Modifier::REVERSED);
    let (x, y) = find(&b, "1 @bob").unwrap();
    assert!(reversed(x, y) && reversed(x + 2, y));
    let (x, y) = find(&b, "2 #rust").unwrap();
    assert!(!reversed(x + 2, y));
    // Few messages sit at the bottom, just above the input box.
    let (_, last) = find(&b, "are you there?").unwrap();
    let (_, input_top) = find(&b, " to @bob ").unwrap();
    assert_eq!(last + 2, input_top, "\n{s}");
}

#[test]
fn the_help_lists_every_key_and_command() {
    let mut app = chatting();
    app.update(Action::Help);
    let b = render(&mut app, 120, 80);
    let s = screen(&b);
    assert!(find(&b, "fishchat help").is_some(), "{s}");
    for scope in [Scope::Chat, Scope::Search, Scope::Global, Scope::Help] {
        for (label, what) in help_rows(scope) {
            let on_one_row = rows(&b).iter().any(|r| {
                let key = format!("  {label}  ");
                r.find(&key)
                    .is_some_and(|i| r[i + key.len()..].trim_start().starts_with(what))
            });
            assert!(on_one_row, "{label:?} then {what:?} missing:\n{s}");
        }
    }
    for c in crate::commands::COMMANDS {
        assert!(find(&b, c.usage).is_some(), "{} missing:\n{s}", c.usage);
    }
    for needle in [
        "✓✓",
        "[offline]",
        "Alt+1..9",
        "Tab, Ctrl+N",
        "Alt+Enter, Ctrl+J",
    ] {
        assert!(find(&b, needle).is_some(), "{needle:?} missing:\n{s}");
    }
    // On a small screen it scrolls, and says how.
    let b = render(&mut app, 100, 20);
    assert!(find(&b, "Esc closes").is_some(), "{}", screen(&b));
    assert!(app.view().help_max > 0);
    app.update(Action::PageDown);
    let Mode::Help { scroll } = app.mode else {
        panic!()
    };
    assert!(scroll > 0);
    let b2 = render(&mut app, 100, 20);
    assert_ne!(rows(&b), rows(&b2), "scrolling moved the help");
}

#[test]
fn disconnected_says_why_when_it_retries_and_keeps_what_was_typed() {
    let mut app = chatting();
    app.apply(Update::Disconnected {
        reason: "closed by the server".into(),
        retry_in: Duration::from_secs(9),
    });
    for c in "written while down".chars() {
        app.update(Action::Insert(c));
    }
    app.update(Action::Submit);
    for c in "unsent draft".chars() {
        app.update(Action::Insert(c));
    }
    let b = render(&mut app, 100, 24);
    let s = screen(&b);
    for needle in [
        "○ disconnected retry in 9 s (Ctrl+R: now) · 1 waiting to send · closed by the server",
        "written while down …",
        "unsent draft",
        "offline: messages wait and go when reconnected",
    ] {
        assert!(find(&b, needle).is_some(), "{needle:?} missing:\n{s}");
    }
    let (x, y) = find(&b, "○ disconnected").unwrap();
    assert_eq!(b[(x, y)].fg, theme::ERROR);
    assert!(!s.contains("rtt"), "no round trip while down:\n{s}");
    // Reconnected: the waiting message goes, the count disappears.
    connected(&mut app);
    assert_eq!(app.take_requests().len(), 1);
    assert!(matches!(app.link, Link::Connected { .. }));
}

#[test]
fn errors_show_in_red_on_the_status_line() {
    let mut app = chatting();
    app.apply(Update::Refused {
        what: "/join nope".into(),
        error: "no such topic (NO_SUCH_TOPIC)".into(),
    });
    let b = render(&mut app, 120, 24);
    let (x, y) = find(&b, "/join nope: no such topic (NO_SUCH_TOPIC)")
        .unwrap_or_else(|| panic!("{}", screen(&b)));
    assert_eq!(y, 23);
    assert_eq!(b[(x, y)].fg, theme::ERROR);
}

#[test]
fn a_search_brings_an_old_match_into_view_and_highlights_it() {
    let mut bob = Conversation::new(ConvId::Person("bob".into()));
    bob.push(msg("n", "bob", "the needle is here", Mark::Incoming, T));
    for i in 0..60 {
        bob.push(msg(
            &format!("h{i}"),
            "bob",
            &format!("hay {i}"),
            Mark::Incoming,
            T + i,
        ));
    }
    let mut app = App::new("alice", vec![bob]);
    connected(&mut app);
    let b = render(&mut app, 100, 24);
    assert!(find(&b, "needle").is_none());
    assert!(find(&b, "hay 59").is_some());

    app.update(Action::OpenSearch);
    for c in "NEEDLE".chars() {
        app.update(Action::Insert(c));
    }
    let b = render(&mut app, 100, 24);
    let s = screen(&b);
    let (x, y) = find(&b, "needle").unwrap_or_else(|| panic!("not brought into view:\n{s}"));
    assert_eq!((b[(x, y)].fg, b[(x, y)].bg), (Color::Black, Color::Yellow));
    assert!(
        find(&b, " search in @bob · match 1 of 1 from the newest ").is_some(),
        "{s}"
    );
    assert!(find(&b, "hay 59").is_none(), "{s}");
    // Esc stays there; Esc again goes back to the newest.
    app.update(Action::Escape);
    let b = render(&mut app, 100, 24);
    assert!(find(&b, "the needle is here").is_some(), "{}", screen(&b));
    assert!(find(&b, "Esc: newest").is_some(), "{}", screen(&b));
    app.update(Action::Escape);
    let b = render(&mut app, 100, 24);
    assert!(find(&b, "hay 59").is_some());
    assert!(find(&b, "needle").is_none());
}

#[test]
fn page_up_scrolls_and_says_how_much_is_below() {
    let mut bob = Conversation::new(ConvId::Person("bob".into()));
    for i in 0..40 {
        bob.push(msg(
            &format!("m{i}"),
            "bob",
            &format!("line {i}"),
            Mark::Incoming,
            T,
        ));
    }
    let mut app = App::new("alice", vec![bob]);
    connected(&mut app);
    render(&mut app, 100, 24);
    app.update(Action::PageUp);
    let b = render(&mut app, 100, 24);
    let s = screen(&b);
    assert!(find(&b, "line 39").is_none(), "{s}");
    assert!(find(&b, "more lines · Esc: newest").is_some(), "{s}");
    // A new message while scrolled up is counted, not scrolled to.
    app.apply(Update::P2p(P2pMessage {
        from: "bob".into(),
        msg: "line 40".into(),
        uuid: "m40".into(),
        sent_at_ms: Some(T),
        offline: false,
    }));
    let b = render(&mut app, 100, 24);
    assert!(
        find(&b, "↓ 1 new · Esc: newest").is_some(),
        "{}",
        screen(&b)
    );
    // The mouse wheel scrolls up to the top and no further.
    for _ in 0..50 {
        app.update(Action::Wheel(-3));
        render(&mut app, 100, 24);
    }
    let b = render(&mut app, 100, 24);
    assert!(find(&b, "line 0").is_some(), "{}", screen(&b));
}

#[test]
fn a_narrow_terminal_drops_the_sidebar_and_wraps_long_messages() {
    let mut bob = Conversation::new(ConvId::Person("bob".into()));
    bob.push(msg(
        "m",
        "bob",
        "a rather long message that cannot fit on one narrow line",
        Mark::Incoming,
        T,
    ));
    let mut app = App::new("alice", vec![bob]);
    connected(&mut app);
    let b = render(&mut app, 44, 16);
    let s = screen(&b);
    assert!(find(&b, "1 @bob").is_none(), "{s}");
    assert!(find(&b, "@bob · person to person").is_some(), "{s}");
    let (x1, y1) = find(&b, "a rather long").unwrap_or_else(|| panic!("{s}"));
    let (x2, y2) = find(&b, "cannot").unwrap_or_else(|| panic!("{s}"));
    assert!(y2 > y1, "wrapped:\n{s}");
    assert_eq!(x1, x2, "continuation lines sit under the text:\n{s}");
    // The status line keeps the connection readable rather than the help hint.
    assert!(find(&b, "msg_server 127.0.0.1:19001").is_some(), "{s}");
}

#[test]
fn a_multi_line_message_grows_the_input_box() {
    let mut app = chatting();
    let before = render(&mut app, 100, 24);
    let (_, top_before) = find(&before, " to @bob ").unwrap();
    for a in [
        Action::Insert('a'),
        Action::Newline,
        Action::Insert('b'),
        Action::Newline,
        Action::Insert('c'),
    ] {
        app.update(a);
    }
    let b = render(&mut app, 100, 24);
    let (_, top) = find(&b, " to @bob ").unwrap();
    assert_eq!(top + 2, top_before, "{}", screen(&b));
}

#[test]
fn the_status_line_says_how_we_are_known() {
    let mut app = chatting();
    let b = render(&mut app, 140, 24);
    let (x, y) =
        find(&b, "unclaimed id: anyone can use alice").unwrap_or_else(|| panic!("{}", screen(&b)));
    assert_eq!(y, 23);
    assert_eq!(b[(x, y)].fg, theme::WARN);
    assert!(!screen(&b).contains("signed in"));

    app.account = Account::SignedIn {
        device_id: "dev-42".into(),
    };
    let b = render(&mut app, 140, 24);
    let s = screen(&b);
    assert!(
        find(&b, "as alice · signed in · device dev-42").is_some(),
        "{s}"
    );
    assert!(!s.contains("unclaimed"), "{s}");

    app.apply(Update::SignedOut {
        reason: "signed out: this device was revoked".into(),
    });
    let b = render(&mut app, 140, 24);
    let s = screen(&b);
    let (x, y) = find(&b, "○ signed out restart fishchat chat to sign in again")
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(y, 23);
    assert_eq!(b[(x, y)].fg, theme::ERROR);
    assert!(s.contains("this device was revoked"), "{s}");
    assert!(!s.contains("● connected"), "{s}");
}

#[test]
fn a_password_is_typed_masked() {
    let mut app = chatting();
    app.account = Account::SignedIn {
        device_id: "d".into(),
    };
    for c in "/passwd".chars() {
        app.update(Action::Insert(c));
    }
    app.update(Action::Submit);
    for c in "hunter22".chars() {
        app.update(Action::Insert(c));
    }
    let b = render(&mut app, 100, 24);
    let s = screen(&b);
    assert!(find(&b, "••••••••").is_some(), "{s}");
    assert!(!s.contains("hunter22"), "{s}");
    assert!(
        s.contains("/passwd") && s.contains("your current password"),
        "{s}"
    );
    assert!(s.contains("Esc cancel"), "{s}");
}

#[test]
fn a_note_shows_in_the_conversation() {
    let mut app = chatting();
    app.account = Account::SignedIn {
        device_id: "d1".into(),
    };
    app.apply(Update::Devices(DeviceList {
        devices: vec![DeviceInfo {
            device_id: "d1".into(),
            name: "fishchat-chat on box".into(),
            created_at_ms: T,
            last_used_ms: T,
            current: true,
        }],
    }));
    let b = render(&mut app, 120, 24);
    let s = screen(&b);
    let (x, y) = find(&b, "your devices (1;").unwrap_or_else(|| panic!("{s}"));
    assert_eq!(b[(x, y)].fg, theme::ACCENT);
    assert!(s.contains("* d1  fishchat-chat on box  last used"), "{s}");
}
