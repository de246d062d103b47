//! The state driven as keys and the network would drive it, without a terminal.

use std::io;
use std::path::Path;
use std::time::Duration;

use super::{Account, App, Mode, PasswordStep, View, MAX_MESSAGE};
use crate::action::{Action, Scope};
use crate::history::Record;
use crate::model::{ConvId, Mark};
use crate::net::{Request, Update};
use fishchat_cluster::protocol::account::{DeviceInfo, DeviceList, TopicMembers};
use fishchat_cluster::protocol::{P2pMessage, TopicMessage};

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(if c == '\n' {
            Action::Newline
        } else {
            Action::Insert(c)
        });
    }
}

fn enter(app: &mut App, s: &str) {
    typed(app, s);
    app.update(Action::Submit);
}

fn connected() -> App {
    let mut app = App::new("alice", Vec::new());
    app.apply(Update::Connected {
        server: "127.0.0.1:19000".into(),
    });
    app
}

/// A live message from `from`, as the worker reports it (shared with the run loop's tests).
pub(crate) fn p2p(from: &str, text: &str, uuid: &str) -> Update {
    Update::P2p(P2pMessage {
        from: from.into(),
        msg: text.into(),
        uuid: uuid.into(),
        sent_at_ms: Some(1_700_000_000_000),
        offline: false,
    })
}

#[test]
fn msg_opens_the_conversation_and_sends_with_a_tracked_uuid() {
    let mut app = connected();
    enter(&mut app, "/msg bob hello\nthere");
    assert!(app.input.is_empty());
    let c = app.current().unwrap();
    assert_eq!(c.id, ConvId::Person("bob".into()));
    let m = &c.messages[0];
    assert_eq!((m.text.as_str(), &m.mark), ("hello\nthere", &Mark::Pending));
    let uuid = m.uuid.clone();
    assert_eq!(
        app.take_requests(),
        [Request::SendP2p {
            to: "bob".into(),
            text: "hello\nthere".into(),
            uuid: uuid.clone()
        }]
    );

    app.apply(Update::Sent { uuid: uuid.clone() });
    assert_eq!(app.current().unwrap().messages[0].mark, Mark::Sent);
    app.apply(Update::Delivered {
        uuid: uuid.clone(),
        to: "bob".into(),
    });
    assert_eq!(app.current().unwrap().messages[0].mark, Mark::Delivered);
    // A late "sent" does not take "delivered" back.
    app.apply(Update::Sent { uuid });
    assert_eq!(app.current().unwrap().messages[0].mark, Mark::Delivered);

    // Plain text goes to the open conversation.
    enter(&mut app, "second");
    assert!(matches!(
        &app.take_requests()[..],
        [Request::SendP2p { to, text, .. }] if to == "bob" && text == "second"
    ));
}

#[test]
fn incoming_messages_are_acked_counted_and_deduplicated() {
    let mut app = connected();
    enter(&mut app, "/msg bob hi");
    app.take_requests();
    app.apply(p2p("carol", "psst", "u1"));
    app.apply(p2p("carol", "psst", "u1"));
    app.apply(Update::P2p(P2pMessage {
        from: "carol".into(),
        msg: "while you were away".into(),
        uuid: "u2".into(),
        sent_at_ms: Some(1_700_000_000_000),
        offline: true,
    }));
    // Both copies are acked; the message is shown once.
    assert_eq!(
        app.take_requests(),
        [
            Request::Ack { uuid: "u1".into() },
            Request::Ack { uuid: "u1".into() },
            Request::Ack { uuid: "u2".into() }
        ]
    );
    let carol = &app.convs[1];
    assert_eq!(carol.messages.len(), 2);
    assert!(carol.messages[1].offline);
    assert_eq!(carol.unread, 2);
    // Reading it clears the count.
    app.update(Action::NextConversation);
    assert_eq!(app.current().unwrap().id, ConvId::Person("carol".into()));
    assert_eq!(app.convs[1].unread, 0);
    // A message for the open conversation is not unread.
    app.apply(p2p("carol", "more", "u3"));
    assert_eq!(app.convs[1].unread, 0);
}

#[test]
fn the_first_message_opens_its_conversation() {
    let mut app = connected();
    assert!(app.current().is_none());
    app.apply(p2p("bob", "hi", "u1"));
    assert_eq!(app.selected, Some(0));
    assert_eq!(app.convs[0].unread, 0);
}

#[test]
fn topic_echoes_confirm_our_message_instead_of_repeating_it() {
    let mut app = connected();
    enter(&mut app, "/create rust");
    assert_eq!(
        app.take_requests(),
        [Request::Create {
            topic: "rust".into(),
            invite_only: false,
        }]
    );
    app.apply(Update::Created {
        topic: "rust".into(),
        invite_only: false,
    });
    assert_eq!(app.current().unwrap().id, ConvId::Topic("rust".into()));
    enter(&mut app, "hello topic");
    let uuid = match &app.take_requests()[..] {
        [Request::SendTopic { topic, uuid, .. }] if topic == "rust" => uuid.clone(),
        other => panic!("{other:?}"),
    };
    app.apply(Update::Topic(TopicMessage {
        topic: "rust".into(),
        from: "alice".into(),
        msg: "hello topic".into(),
        uuid: Some(uuid.clone()),
        sent_at_ms: None,
    }));
    let c = app.current().unwrap();
    assert_eq!(c.messages.len(), 1);
    assert_eq!(c.messages[0].mark, Mark::Sent);
    app.apply(Update::Topic(TopicMessage {
        topic: "rust".into(),
        from: "bob".into(),
        msg: "welcome".into(),
        uuid: Some("t2".into()),
        sent_at_ms: None,
    }));
    assert_eq!(app.current().unwrap().messages.len(), 2);
    assert_eq!(app.current().unwrap().messages[1].mark, Mark::Incoming);
}

#[test]
fn while_disconnected_messages_wait_and_go_once_connected() {
    let mut app = connected();
    enter(&mut app, "/msg bob one");
    let first = app.take_requests();
    assert_eq!(first.len(), 1);
    // The connection drops before the server confirmed it.
    app.apply(Update::Disconnected {
        reason: "closed by the server".into(),
        retry_in: Duration::from_secs(2),
    });
    let Request::SendP2p { uuid: u1, .. } = &first[0] else {
        panic!()
    };
    app.apply(Update::NotSent { uuid: u1.clone() });
    enter(&mut app, "two");
    assert!(app.take_requests().is_empty(), "nothing is sent while down");
    assert_eq!(app.waiting(), 2);
    // Topics need the server: refused, and the command stays typed.
    enter(&mut app, "/join rust");
    assert!(app.take_requests().is_empty());
    assert_eq!(app.input.text(), "/join rust");
    assert!(app.notice.as_ref().unwrap().error);
    app.update(Action::ClearInput);

    app.apply(Update::Connected {
        server: "127.0.0.1:19001".into(),
    });
    let again = app.take_requests();
    let texts: Vec<_> = again
        .iter()
        .map(|r| match r {
            Request::SendP2p { text, uuid, .. } => (text.as_str(), uuid.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0], ("one", u1.clone()), "same uuid: no duplicate");
    assert_eq!(texts[1].0, "two");
    assert!(app.notice.as_ref().unwrap().text.contains("2 waiting"));
    // In flight: a second connection does not send them twice.
    app.apply(Update::Connected {
        server: "127.0.0.1:19001".into(),
    });
    assert!(app.take_requests().is_empty());
}

#[test]
fn drafts_stay_with_their_conversation() {
    let mut app = connected();
    enter(&mut app, "/msg bob");
    enter(&mut app, "/msg carol");
    typed(&mut app, "for carol");
    app.update(Action::GoTo(0));
    assert!(app.input.is_empty());
    typed(&mut app, "for bob");
    app.update(Action::Tick);
    app.update(Action::NextConversation);
    assert_eq!(app.input.text(), "for carol");
    app.update(Action::PrevConversation);
    assert_eq!(app.input.text(), "for bob");
    app.update(Action::GoTo(5));
    assert!(app
        .notice
        .as_ref()
        .unwrap()
        .text
        .contains("no conversation 6"));
}

#[test]
fn bad_commands_keep_the_input_and_say_why() {
    let mut app = connected();
    enter(&mut app, "/frobnicate");
    assert_eq!(app.input.text(), "/frobnicate");
    let n = app.notice.clone().unwrap();
    assert!(n.error && n.text.contains("/help"), "{n:?}");
    app.update(Action::ClearInput);
    enter(&mut app, "no one to send to");
    assert!(app.notice.as_ref().unwrap().text.contains("/msg ID TEXT"));
    assert_eq!(app.input.text(), "no one to send to");
    app.update(Action::ClearInput);
    enter(&mut app, "/msg bob");
    enter(&mut app, "//not a command");
    assert_eq!(app.current().unwrap().messages[0].text, "/not a command");
    typed(&mut app, &"x".repeat(MAX_MESSAGE + 1));
    app.update(Action::Submit);
    assert!(app.notice.as_ref().unwrap().text.contains("KiB"));
    assert_eq!(app.input.text().len(), MAX_MESSAGE + 1);
}

#[test]
fn errors_from_the_server_mark_the_message_and_show() {
    let mut app = connected();
    enter(&mut app, "/msg bob x");
    let uuid = app.current().unwrap().messages[0].uuid.clone();
    app.apply(Update::SendFailed {
        uuid,
        error: "not allowed (FORBIDDEN)".into(),
    });
    assert!(matches!(
        app.current().unwrap().messages[0].mark,
        Mark::Failed(_)
    ));
    assert!(app.notice.as_ref().unwrap().text.contains("FORBIDDEN"));
    app.apply(Update::Refused {
        what: "/join x".into(),
        error: "no such topic".into(),
    });
    assert_eq!(app.notice.as_ref().unwrap().text, "/join x: no such topic");
    app.update(Action::Escape);
    assert!(app.notice.is_none());
}

#[test]
fn search_walks_matches_and_stays_where_it_was() {
    let mut app = connected();
    for (i, t) in ["Rust is fun", "tea?", "more rust", "bye"]
        .iter()
        .enumerate()
    {
        app.apply(p2p("bob", t, &format!("u{i}")));
    }
    enter(&mut app, "/search RUST");
    let hit = |app: &App| match &app.mode {
        Mode::Search(s) => s.hit,
        m => panic!("{m:?}"),
    };
    assert_eq!(hit(&app), Some(2));
    app.update(Action::SearchOlder);
    assert_eq!(hit(&app), Some(0));
    app.update(Action::SearchOlder);
    assert_eq!(hit(&app), Some(0));
    assert!(app.notice.as_ref().unwrap().text.contains("no older match"));
    app.update(Action::SearchNewer);
    assert_eq!(hit(&app), Some(2));
    // Typing changes the query and searches again from the newest.
    app.update(Action::ClearInput);
    typed(&mut app, "tea");
    assert_eq!(hit(&app), Some(1));
    app.drawn(View {
        scroll: 4,
        max_scroll: 9,
        ..View::default()
    });
    app.update(Action::Escape);
    assert_eq!(app.mode, Mode::Chat);
    assert_eq!(app.current().unwrap().scroll, 4);
    app.update(Action::Escape);
    assert_eq!(app.current().unwrap().scroll, 0);
}

#[test]
fn scrolling_is_clamped_and_reaching_the_bottom_reads_everything() {
    let mut app = connected();
    app.apply(p2p("bob", "hi", "u1"));
    app.drawn(View {
        page: 10,
        max_scroll: 15,
        ..View::default()
    });
    app.update(Action::PageUp);
    assert_eq!(app.current().unwrap().scroll, 9);
    app.update(Action::PageUp);
    assert_eq!(app.current().unwrap().scroll, 15);
    app.apply(p2p("bob", "new", "u2"));
    assert_eq!(app.convs[0].unread, 1, "scrolled up: not seen yet");
    app.update(Action::Wheel(3));
    assert_eq!(app.current().unwrap().scroll, 12);
    app.update(Action::PageDown);
    app.update(Action::PageDown);
    assert_eq!(app.current().unwrap().scroll, 0);
    assert_eq!(app.convs[0].unread, 0);
}

#[test]
fn help_opens_scrolls_and_closes() {
    let mut app = connected();
    enter(&mut app, "/msg bob");
    app.update(Action::Help);
    assert_eq!(app.scope(), Scope::Help);
    app.drawn(View {
        help_max: 5,
        page: 4,
        ..View::default()
    });
    app.update(Action::PageDown);
    app.update(Action::PageDown);
    assert_eq!(app.mode, Mode::Help { scroll: 5 });
    // A message that arrives under the help is unread until the help closes.
    app.apply(p2p("bob", "while you read", "h1"));
    assert_eq!(app.convs[0].unread, 1);
    app.update(Action::Escape);
    assert_eq!(app.mode, Mode::Chat);
    assert_eq!(app.convs[0].unread, 0);
    enter(&mut app, "/help");
    assert_eq!(app.scope(), Scope::Help);
    app.update(Action::Quit);
    assert!(app.quit);
}

#[test]
fn what_happens_comes_out_as_history_records() {
    let mut app = connected();
    assert!(app.take_saves().is_empty());
    enter(&mut app, "/msg bob hello");
    let bob = ConvId::Person("bob".into());
    let hello = app.current().unwrap().messages[0].clone();
    assert_eq!(hello.mark, Mark::Pending);
    assert_eq!(
        app.take_saves(),
        [
            Record::Conv { conv: bob.clone() },
            Record::Msg {
                conv: bob.clone(),
                msg: hello.clone()
            }
        ]
    );
    app.apply(Update::Delivered {
        uuid: hello.uuid.clone(),
        to: "bob".into(),
    });
    assert_eq!(
        app.take_saves(),
        [Record::Mark {
            conv: bob.clone(),
            uuid: hello.uuid.clone(),
            mark: Mark::Delivered
        }]
    );
    // A late "sent" changes nothing, so nothing is written.
    app.apply(Update::Sent {
        uuid: hello.uuid.clone(),
    });
    assert!(app.take_saves().is_empty());
    app.apply(p2p("bob", "hi back", "b1"));
    let back = app.convs[0].messages[1].clone();
    assert_eq!(back.text, "hi back");
    let saved = app.take_saves();
    assert_eq!(
        saved,
        [Record::Msg {
            conv: bob.clone(),
            msg: back
        }]
    );
    // A second copy is not kept twice.
    app.apply(p2p("bob", "hi back", "b1"));
    assert!(app.take_saves().is_empty());
    app.apply(Update::Joined {
        topic: "rust".into(),
    });
    assert_eq!(
        app.take_saves(),
        [Record::Conv {
            conv: ConvId::Topic("rust".into())
        }]
    );
}

#[test]
fn a_message_written_offline_is_kept_as_pending() {
    let mut app = App::new("alice", Vec::new());
    enter(&mut app, "/msg bob written offline");
    assert!(app.take_requests().is_empty());
    assert!(matches!(
        &app.take_saves()[..],
        [Record::Conv { .. }, Record::Msg { msg, .. }]
            if msg.text == "written offline" && msg.mark == Mark::Pending
    ));
}

#[test]
fn the_first_failed_history_write_is_shown_unless_newer_news_covers_it() {
    let path = Path::new("/data/chat/alice/history.jsonl");
    let full = io::Error::other("no space left");
    let mut app = connected();
    enter(&mut app, "/msg bob hello");
    assert_eq!(app.take_saves().len(), 2);
    app.save_failed(1, path, &full);
    let n = app.notice.clone().unwrap();
    assert!(n.error, "{n:?}");
    assert!(
        n.text.contains("/data/chat/alice/history.jsonl") && n.text.contains("no space left"),
        "{n:?}"
    );
    // Only the first failure is shown.
    app.update(Action::Escape);
    enter(&mut app, "again");
    app.take_saves();
    app.save_failed(0, path, &full);
    assert!(app.notice.is_none());

    // A notice set after the record that failed is newer: it stays.
    let mut app = connected();
    app.apply(Update::Joined {
        topic: "rust".into(),
    });
    assert_eq!(app.take_saves().len(), 1);
    app.save_failed(0, path, &full);
    assert_eq!(app.notice.as_ref().unwrap().text, "joined #rust");
}

fn signed_in(device_id: &str) -> App {
    let mut app = connected();
    app.account = Account::SignedIn {
        device_id: device_id.into(),
    };
    app
}

#[test]
fn passwd_asks_old_new_and_again_then_hands_both_over_and_forgets_them() {
    let mut app = signed_in("d1");
    enter(&mut app, "/passwd");
    assert!(matches!(&app.mode, Mode::Password(p) if p.step == PasswordStep::Old));
    assert!(app.input.is_empty(), "the command is not left in the box");
    enter(&mut app, "old secret");
    assert!(matches!(&app.mode, Mode::Password(p) if p.step == PasswordStep::New));
    // Too short: asked again.
    enter(&mut app, "short");
    assert!(matches!(&app.mode, Mode::Password(p) if p.step == PasswordStep::New));
    assert!(app.notice.as_ref().unwrap().error);
    enter(&mut app, "new secret 1");
    assert!(matches!(&app.mode, Mode::Password(p) if p.step == PasswordStep::Again));
    // A different second one starts the new password over.
    enter(&mut app, "new secret 2");
    assert!(matches!(&app.mode, Mode::Password(p) if p.step == PasswordStep::New));
    assert!(app.notice.as_ref().unwrap().text.contains("differ"));
    enter(&mut app, "new secret 1");
    enter(&mut app, "new secret 1");
    assert_eq!(app.mode, Mode::Chat);
    assert_eq!(
        app.take_requests(),
        [Request::Passwd {
            old: "old secret".into(),
            new: "new secret 1".into(),
            keep_devices: false
        }]
    );
    // Nothing typed went to the history or the message box.
    assert!(app.take_saves().is_empty());
    assert!(app.input.is_empty());
    app.apply(Update::PasswordChanged {
        kept_devices: false,
    });
    assert!(app.notice.as_ref().unwrap().text.contains("signed out"));
}

#[test]
fn esc_gives_up_a_password_change() {
    let mut app = signed_in("d1");
    enter(&mut app, "/passwd keep-devices");
    typed(&mut app, "half typed");
    app.update(Action::Escape);
    assert_eq!(app.mode, Mode::Chat);
    assert!(app.take_requests().is_empty());
    assert!(app.input.is_empty(), "the password is not left in the box");
    // Keys that move between conversations do nothing while a password is typed.
    enter(&mut app, "/passwd");
    app.update(Action::NextConversation);
    assert!(matches!(app.mode, Mode::Password(_)));
    assert_eq!(app.scope(), Scope::Chat);
}

#[test]
fn account_commands_need_an_account() {
    let mut app = connected();
    assert_eq!(app.account, Account::Unclaimed);
    for cmd in ["/devices", "/passwd", "/logout", "/revoke d1"] {
        enter(&mut app, cmd);
        let n = app.notice.clone().expect("a notice");
        assert!(n.error && n.text.contains("claim it"), "{cmd}: {}", n.text);
        assert!(app.take_requests().is_empty(), "{cmd}");
        assert_eq!(app.input.text(), cmd, "kept typed");
        app.input.take();
    }
    assert_eq!(app.mode, Mode::Chat);
}

#[test]
fn revoke_refuses_this_device_and_asks_for_others() {
    let mut app = signed_in("d1");
    enter(&mut app, "/revoke d1");
    assert!(app.notice.as_ref().unwrap().text.contains("/logout"));
    assert!(app.take_requests().is_empty());
    app.input.take();
    enter(&mut app, "/revoke d2");
    assert_eq!(
        app.take_requests(),
        [Request::Revoke {
            device_id: "d2".into()
        }]
    );
    app.apply(Update::Revoked {
        device_id: "d2".into(),
    });
    assert!(app.notice.as_ref().unwrap().text.contains("d2"));
}

#[test]
fn topic_commands_work_in_the_open_topic() {
    let mut app = signed_in("d1");
    enter(&mut app, "/invite bob");
    assert!(app
        .notice
        .as_ref()
        .unwrap()
        .text
        .contains("open a topic first"));
    assert!(app.take_requests().is_empty());
    app.input.take();

    enter(&mut app, "/create club invite");
    assert_eq!(
        app.take_requests(),
        [Request::Create {
            topic: "club".into(),
            invite_only: true
        }]
    );
    app.apply(Update::Created {
        topic: "club".into(),
        invite_only: true,
    });
    assert!(app.notice.as_ref().unwrap().text.contains("/invite"));
    for (line, want) in [
        (
            "/invite bob",
            Request::Invite {
                topic: "club".into(),
                id: "bob".into(),
            },
        ),
        (
            "/kick bob",
            Request::Kick {
                topic: "club".into(),
                id: "bob".into(),
            },
        ),
        (
            "/members",
            Request::Members {
                topic: "club".into(),
            },
        ),
        (
            "/leave",
            Request::Leave {
                topic: "club".into(),
            },
        ),
    ] {
        enter(&mut app, line);
        assert_eq!(app.take_requests(), [want], "{line}");
        assert!(app.input.is_empty());
    }
}

#[test]
fn lists_come_as_notes_in_the_conversation_and_are_not_kept() {
    let mut app = signed_in("d1");
    enter(&mut app, "/msg bob");
    app.take_saves();
    enter(&mut app, "/devices");
    assert_eq!(app.take_requests(), [Request::Devices]);
    app.apply(Update::Devices(DeviceList {
        devices: vec![
            DeviceInfo {
                device_id: "d1".into(),
                name: "fishchat-chat on box".into(),
                created_at_ms: 0,
                last_used_ms: 0,
                current: true,
            },
            DeviceInfo {
                device_id: "d2".into(),
                name: "phone".into(),
                created_at_ms: 0,
                last_used_ms: 0,
                current: false,
            },
        ],
    }));
    let note = app.current().unwrap().messages.last().unwrap().clone();
    assert_eq!(note.mark, Mark::Note);
    assert!(
        note.text.contains("* d1  fishchat-chat on box"),
        "{}",
        note.text
    );
    assert!(note.text.contains("\n  d2  phone"), "{}", note.text);
    assert!(!note.own());
    assert!(app.take_saves().is_empty(), "a note is not history");
    assert_eq!(app.waiting(), 0);

    app.apply(Update::Members(TopicMembers {
        topic: "club".into(),
        owner: "alice".into(),
        invite_only: true,
        members: vec!["alice".into()],
        invited: vec!["bob".into()],
    }));
    let c = app.current().unwrap();
    assert_eq!(c.id, ConvId::Topic("club".into()));
    let text = &c.messages.last().unwrap().text;
    assert!(text.contains("owner alice · invite-only"), "{text}");
    assert!(text.contains("invited (1): bob"), "{text}");
}

#[test]
fn signed_out_stops_what_needs_the_cluster_and_logout_quits() {
    let mut app = signed_in("d1");
    app.apply(Update::SignedIn {
        device_id: "d9".into(),
    });
    assert_eq!(
        app.account,
        Account::SignedIn {
            device_id: "d9".into()
        }
    );
    app.apply(Update::SignedOut {
        reason: "signed out: this device was revoked".into(),
    });
    assert!(matches!(&app.account, Account::SignedOut { reason } if reason.contains("revoked")));
    assert!(app
        .notice
        .as_ref()
        .unwrap()
        .text
        .contains("restart fishchat chat"));
    enter(&mut app, "/join rust");
    assert!(app.take_requests().is_empty());
    assert!(!app.quit);

    let mut app = signed_in("d1");
    enter(&mut app, "/logout");
    assert_eq!(app.take_requests(), [Request::Logout]);
    assert!(!app.quit, "not before the server has done it");
    app.apply(Update::LoggedOut);
    assert!(app.quit && app.logged_out);
}
