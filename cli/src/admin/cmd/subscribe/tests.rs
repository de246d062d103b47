//! `fishchat-admin subscribe`: its output, without a cluster.

use super::*;
use chrono::TimeZone;

fn plain(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

fn chans(p: &[&str]) -> Result<Vec<Channel>> {
    parse_channels(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn channels_by_name_pattern_or_all() {
    assert_eq!(chans(&["/sysctrl/monitor"]).unwrap(), [Channel::Monitor]);
    assert_eq!(
        chans(&["/store/*", "/store/client-info"]).unwrap(),
        [Channel::StoreClientInfo, Channel::StoreTopicInfo]
    );
    assert_eq!(chans(&["/sysctrl/*"]).unwrap().len(), 5);
    assert_eq!(chans(&["all"]).unwrap(), Channel::ALL);
    let e = chans(&["/sysctrl/nope"]).unwrap_err().to_string();
    assert!(e.contains("/sysctrl/monitor") && e.contains("all"), "{e}");
    let e = chans(&["/nope/*"]).unwrap_err().to_string();
    assert!(
        e.contains("matches no channel") && e.contains("/store/topic-info"),
        "{e}"
    );
}

fn session(id: &str, alive: bool) -> Command {
    Command::StoreSession {
        id: id.into(),
        data: json!({"ClientID": id, "ClientAddr": "127.0.0.1:5555",
                     "MsgServerAddr": "127.0.0.1:19000", "ID": "7", "Alive": alive}),
    }
}

fn topic(name: &str, creator: &str, members: &[&str]) -> Command {
    let list: Vec<Value> = members.iter().map(|m| json!({"ID": m})).collect();
    Command::CacheTopic {
        topic: name.into(),
        data: json!({"TopicName": name, "CreaterID": creator, "MemberList": list,
                     "MsgServerAddr": "127.0.0.1:19000", "MaxAge": 100}),
    }
}

fn human(p: &mut Printer, c: Command) -> String {
    let ch = channel_of(&c);
    let t = Local.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    plain(&p.human("127.0.0.1:19000", ch, t, &Frame::Command(c)))
}

#[test]
fn a_line_per_event_says_what_happened() {
    let mut p = Printer::new(false, 15);
    assert_eq!(
        human(&mut p, session("alice", true)),
        "07:08:09.000  127.0.0.1:19000  /store/client-info      alice logged in from 127.0.0.1:5555 (conn 7)"
    );
    assert!(human(&mut p, session("alice", false)).ends_with("alice logged out (conn 7)"));

    assert!(human(&mut p, topic("news", "alice", &["alice"]))
        .ends_with("alice created news (home 127.0.0.1:19000)"));
    assert!(human(&mut p, topic("news", "alice", &["alice", "bob"]))
        .ends_with("bob joined news (2 members)"));
    let mut fresh = Printer::new(false, 15);
    let seven = ["a", "b", "c", "d", "e", "f", "g"];
    assert!(human(&mut fresh, topic("big", "a", &seven))
        .ends_with("big: 7 members: a, b, c, d, e and 2 more (home 127.0.0.1:19000)"));
}

#[test]
fn bodies_are_hidden_unless_asked_for() {
    let send = Command::SendMessageP2p {
        to: "bob".into(),
        msg: "top secret\n".into(),
        from: Some("alice".into()),
        uuid: Some("0123456789abcdef".into()),
        sent_at_ms: None,
    };
    let mut p = Printer::new(false, 15);
    let line = human(&mut p, send.clone());
    assert!(line.contains("/sysctrl/send"), "{line}");
    assert!(
        line.ends_with("alice → bob  01234567  <hidden: 11 bytes>"),
        "{line}"
    );
    let t = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    let j: Value =
        serde_json::from_str(&p.json("s:1", Some(Channel::Send), t, &Frame::Command(send.clone())))
            .unwrap();
    assert_eq!(j["event"]["Args"][1], "<hidden: 11 bytes>");
    assert!(!j.to_string().contains("top secret"));

    let mut p = Printer::new(true, 15);
    assert!(human(&mut p, send.clone()).ends_with(r#"01234567  "top secret\n""#));
    let j: Value =
        serde_json::from_str(&p.json("s:1", Some(Channel::Send), t, &Frame::Command(send)))
            .unwrap();
    assert_eq!(j["event"]["Args"][1], "top secret\n");
}

#[test]
fn json_lines_carry_server_channel_time_and_the_frame() {
    let mut p = Printer::new(false, 0);
    let t = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    let beat = json!({"SessionNum": 3, "Server": "s:1"});
    let line = p.json(
        "s:1",
        Some(Channel::Monitor),
        t,
        &Frame::Beat(beat.as_object().unwrap().clone()),
    );
    assert!(!line.contains('\n'));
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        v,
        json!({"server": "s:1", "channel": "/sysctrl/monitor",
               "time": "2024-05-06T07:08:09.000Z", "event": beat})
    );
    let v: Value = serde_json::from_str(&p.json(
        "s:1",
        Some(Channel::StoreClientInfo),
        t,
        &Frame::Command(session("bob", true)),
    ))
    .unwrap();
    assert_eq!(v["event"]["CmdName"], "STORE_SESSION");
    assert_eq!(v["event"]["AnyData"]["ClientID"], "bob");
}

#[test]
fn a_beat_shows_the_numbers_it_has() {
    let full = json!({"SessionNum": 2, "ClientNum": 1, "TopicNum": 0, "MsgIn": 5,
                      "MsgOut": 4, "Acks": 3, "PendingAcks": 1, "SlowDrops": 0,
                      "UptimeSecs": 12, "OfflineDepth": 6});
    assert_eq!(
        plain(&beat(full.as_object().unwrap())),
        "beat sessions 2  clients 1  topics 0  in 5  out 4  acks 3  pending_acks 1  offline 6  slow_drops 0  up_secs 12"
    );
    // The original's beat has SessionNum alone.
    let original = json!({"SessionNum": 4});
    assert_eq!(
        plain(&beat(original.as_object().unwrap())),
        "beat sessions 4"
    );
}
