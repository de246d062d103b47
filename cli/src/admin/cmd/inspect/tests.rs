//! `fishchat-admin inspect`: its output, without a cluster.

use super::text::*;
use super::*;
use fishchat_cluster::protocol::account::{AccountSummary, DeviceInfo};
use fishchat_cluster::protocol::inspect::{ClientInfo, Location, MemberInfo, TopicInfo};

fn plain(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

#[test]
fn sessions_are_a_table_with_a_summary() {
    let rows = vec![
        SessionRow {
            id: "alice".into(),
            server: "127.0.0.1:19000".into(),
            conn: 3,
            client_addr: "127.0.0.1:40000".into(),
            since_ms: 0,
            level: "fishchat".into(),
            client_name: Some("fishchat-chat/0.1.0".into()),
        },
        SessionRow {
            id: "alice".into(),
            server: "127.0.0.1:19001".into(),
            conn: 12,
            client_addr: "127.0.0.1:40001".into(),
            since_ms: 0,
            level: "original".into(),
            client_name: None,
        },
    ];
    let text = plain(&sessions_text(&rows));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(
            "ID     MSG_SERVER       CONN  CLIENT_ADDR      LEVEL     CLIENT               SINCE"
        ),
        "{text}"
    );
    assert!(
        lines[1].starts_with(
            "alice  127.0.0.1:19000     3  127.0.0.1:40000  fishchat  fishchat-chat/0.1.0  "
        ),
        "{text}"
    );
    assert!(
        lines[2].starts_with("alice  127.0.0.1:19001    12  127.0.0.1:40001  original  -   "),
        "{text}"
    );
    assert_eq!(lines[3], "2 connections of 1 id on 2 msg_servers");
    assert_eq!(sessions_text(&[]), "no one is logged in\n");
}

#[test]
fn servers_show_numbers_and_what_is_down() {
    let up = RoleRow {
        role: "msg_server".into(),
        addr: "127.0.0.1:19000".into(),
        up: true,
        status: Some(
            json!({"connections": 2, "clients": 1, "topics_here": 0, "msg_in": 5,
            "msg_out": 4, "acks": 3, "pending_acks": 1, "uptime_secs": 3725, "store": "embedded"}),
        ),
        error: None,
    };
    let down = RoleRow {
        role: "msg_server".into(),
        addr: "127.0.0.1:19001".into(),
        up: false,
        status: None,
        error: Some("cannot reach msg_server 127.0.0.1:19001".into()),
    };
    let router = RoleRow {
        role: "router".into(),
        addr: "127.0.0.1:20000".into(),
        up: true,
        status: Some(
            json!({"routed_p2p": 7, "routed_topic": 1, "routed_receipts": 2,
            "unroutable": 0, "msg_servers": [{"addr": "a", "up": true}, {"addr": "b", "up": false}]}),
        ),
        error: None,
    };
    let text = plain(&servers_text(&[up, down], &[router]));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("127.0.0.1:19000  up") && lines[1].contains("1h02m  embedded"),
        "{text}"
    );
    assert!(
        lines[1].contains("      -  "),
        "no offline depth known: {text}"
    );
    assert_eq!(lines[2], "127.0.0.1:19001  down");
    assert!(
        text.contains("routed p2p 7, topic 1, receipts 2; unroutable 0; msg_servers up 1/2"),
        "{text}"
    );
    assert!(
        text.ends_with("cannot reach msg_server 127.0.0.1:19001\n"),
        "{text}"
    );
}

#[test]
fn a_topic_lists_its_members_and_where_they_are() {
    let r = TopicResult {
        name: "news".into(),
        creator: "alice".into(),
        home: "127.0.0.1:19000".into(),
        created_at_ms: 0,
        members: vec![
            MemberInfo {
                id: "alice".into(),
                sessions: vec![Location {
                    server: "127.0.0.1:19000".into(),
                    conn: 3,
                }],
            },
            MemberInfo {
                id: "bob".into(),
                sessions: vec![],
            },
        ],
        total_members: 2,
    };
    let text = plain(&topic_text(&r));
    assert!(
        text.starts_with("topic    news\nhome     127.0.0.1:19000\n"),
        "{text}"
    );
    assert!(
        text.contains("alice   127.0.0.1:19000 (conn 3)\n"),
        "{text}"
    );
    assert!(text.contains("bob     offline\n"), "{text}");
}

#[test]
fn a_user_says_where_it_is_and_what_waits() {
    let r = UserResult {
        id: "carol".into(),
        sessions: vec![],
        pending: 1,
        client: None,
        account: None,
    };
    let text = plain(&user_text(&r));
    assert!(text.contains("account       none: unclaimed"), "{text}");
    assert!(text.contains("connected at  offline\n"), "{text}");
    assert!(text.contains("inbox         1 message waiting\n"), "{text}");
    assert!(text.contains("never"), "{text}");
    let r = UserResult {
        client: Some(ClientInfo {
            client_addr: "127.0.0.1:5".into(),
            msg_server: "127.0.0.1:19000".into(),
            alive: true,
            last_seen_ms: 0,
        }),
        ..r
    };
    assert!(plain(&user_text(&r)).contains("(logged in) from 127.0.0.1:5 on 127.0.0.1:19000"));
    let r = UserResult {
        account: Some(AccountSummary {
            id: "carol".into(),
            created_at_ms: 0,
            devices: vec![DeviceInfo {
                device_id: "d-1".into(),
                name: "fishchat-chat on box".into(),
                created_at_ms: 0,
                last_used_ms: 0,
                current: false,
            }],
        }),
        ..r
    };
    let text = plain(&user_text(&r));
    assert!(text.contains("1 device"), "{text}");
    assert!(text.contains("DEVICE  NAME"), "{text}");
    assert!(text.contains("d-1     fishchat-chat on box"), "{text}");
}

#[test]
fn topics_say_when_the_list_was_cut() {
    let r = TopicsResult {
        topics: vec![TopicInfo {
            name: "news".into(),
            creator: "alice".into(),
            home: "h:1".into(),
            created_at_ms: 0,
            members: 3,
        }],
        total: 20_000,
    };
    let text = plain(&topics_table(&r));
    assert!(text.contains("news   h:1   alice"), "{text}");
    assert!(text.ends_with("showing 1 of 20000 topics\n"), "{text}");
}

#[test]
fn durations_read_at_a_glance() {
    assert_eq!(duration(45), "45s");
    assert_eq!(duration(192), "3m12s");
    assert_eq!(duration(3725), "1h02m");
    assert_eq!(duration(2 * 86400 + 3 * 3600), "2d03h");
}
