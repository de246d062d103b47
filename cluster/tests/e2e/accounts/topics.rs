//! Topics with owners: invite-only topics, invitations, kicks, leaving, member lists.

use fishchat_cluster::client::Event;
use fishchat_cluster::protocol::ErrorCode;

use super::refused;
use crate::harness::*;
use crate::original::OriginalClient;

#[tokio::test]
async fn an_invite_only_topic_refuses_the_uninvited_and_takes_the_invited() {
    let c = start(2).await;
    let mut owner = login(&c, 0, "olga").await;
    let mut eve = login(&c, 1, "eve").await;
    let mut frank = login(&c, 1, "frank").await;
    owner.create_invite_only_topic("secret").await.unwrap();

    let detail = refused(eve.join_topic("secret").await, ErrorCode::Forbidden);
    assert!(
        detail.contains("invite-only") && detail.contains("olga"),
        "{detail}"
    );
    // Nor by an original client's CREATE_TOPIC of a topic that exists (which joins it).
    let mut sneak = OriginalClient::at(&c.file().msg_servers[0], "mallory").await;
    sneak.login().await;
    sneak.create_topic("secret").await;
    sneak.quiet().await;
    let members = owner.topic_members("secret").await.unwrap();
    assert_eq!(
        members.members,
        vec!["olga".to_string()],
        "mallory did not get in"
    );
    refused(
        eve.invite_topic("secret", "eve").await,
        ErrorCode::Forbidden,
    );

    owner.invite_topic("secret", "frank").await.unwrap();
    let members = owner.topic_members("secret").await.unwrap();
    assert_eq!(members.invited, vec!["frank".to_string()]);
    assert!(members.invite_only);
    assert_eq!(members.owner, "olga");
    frank.join_topic("secret").await.expect("invited");
    let members = frank.topic_members("secret").await.unwrap();
    assert_eq!(
        members.members,
        vec!["frank".to_string(), "olga".to_string()]
    );
    assert!(members.invited.is_empty(), "the invitation is used up");
    refused(eve.topic_members("secret").await, ErrorCode::Forbidden);

    frank.sender().send_topic("secret", "hi all").unwrap();
    for client in [&mut owner, &mut frank] {
        match next(client).await {
            Event::Topic(m) => assert_eq!((m.msg.as_str(), m.from.as_str()), ("hi all", "frank")),
            other => panic!("expected the topic message, got {other:?}"),
        }
    }
    assert_quiet(&mut eve).await;
}

#[tokio::test]
async fn a_kicked_member_stops_receiving() {
    let c = start(2).await;
    let mut owner = login(&c, 0, "olga").await;
    let mut gina = login(&c, 1, "gina").await;
    owner.create_topic("club").await.unwrap();
    gina.join_topic("club").await.unwrap();
    refused(gina.kick_topic("club", "olga").await, ErrorCode::Forbidden);
    refused(owner.kick_topic("club", "olga").await, ErrorCode::BadArgs);

    owner.kick_topic("club", "gina").await.unwrap();
    refused(owner.kick_topic("club", "gina").await, ErrorCode::BadArgs);
    owner.sender().send_topic("club", "after the kick").unwrap();
    match next(&mut owner).await {
        Event::Topic(m) => assert_eq!(m.msg, "after the kick"),
        other => panic!("expected the owner's own message, got {other:?}"),
    }
    assert_quiet(&mut gina).await;
    gina.sender().send_topic("club", "still here?").unwrap();
    let (code, _) = gina.sync().await.unwrap().expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
}

#[tokio::test]
async fn a_member_leaves_and_hears_no_more() {
    let c = start(1).await;
    let mut owner = login(&c, 0, "olga").await;
    let mut hal = login(&c, 0, "hal").await;
    owner.create_topic("club").await.unwrap();
    hal.join_topic("club").await.unwrap();
    hal.leave_topic("club").await.unwrap();
    refused(hal.leave_topic("club").await, ErrorCode::BadArgs);
    refused(hal.leave_topic("nowhere").await, ErrorCode::NoSuchTopic);
    owner.sender().send_topic("club", "bye").unwrap();
    next(&mut owner).await;
    assert_quiet(&mut hal).await;
    let members = owner.topic_members("club").await.unwrap();
    assert_eq!(members.members, vec!["olga".to_string()]);
}
