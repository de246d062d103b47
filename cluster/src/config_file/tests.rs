//! The role files' tests; the monitor's are beside its file, in `monitor.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::store::{EmbeddedOptions, MongoOptions};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

const ORIGINAL_MSG_SERVER: &str = r#"{
    "LocalIP"                  : "127.0.0.1:19000",
    "TransportProtocols"       : "tcp",
    "Listen"                   : "0.0.0.0:19000",
    "LogFile"                  : "msg_server.log",
    "ScanDeadSessionTimeout"   : 50,
    "Expire"                   : 100,
    "MonitorBeatTime"          : 5,
    "SessionManagerServerList" : ["127.0.0.1:18000"],
    "Redis" : {"Addr": "127.0.0.1", "Port": ":6379", "ConnectTimeout": 2000,
               "ReadTimeout": 1000, "WriteTimeout": 1000},
    "Mongo" : {"Addr": "127.0.0.1", "Port": ":27017", "User": "", "Password": ""}
}"#;

#[test]
fn the_originals_msg_server_file_is_accepted_as_it_is() {
    let f = RoleFile::parse(ORIGINAL_MSG_SERVER, Role::MsgServer).unwrap();
    let s = f.msg_server().unwrap();
    assert_eq!(s.listen, "0.0.0.0:19000");
    assert_eq!(s.config.advertise.as_deref(), Some("127.0.0.1:19000"));
    assert_eq!(s.config.scan_dead_session_timeout, Duration::from_secs(50));
    assert_eq!(s.config.expire, Duration::from_secs(100));
    assert_eq!(s.config.monitor_beat, Duration::from_secs(5));
    let StoreChoice::RedisMongo { redis, mongo } = s.store else {
        panic!("{:?}", s.store)
    };
    assert_eq!(redis.url, "redis://127.0.0.1:6379/");
    assert_eq!(redis.prefix, "IM:");
    assert_eq!(redis.timeouts.connect, Duration::from_millis(2000));
    assert_eq!(redis.timeouts.op, Duration::from_millis(1000));
    assert_eq!(mongo.url, "mongodb://127.0.0.1:27017/im");
    assert_eq!(f.unused().len(), 2);
}

#[test]
fn an_unknown_field_is_named() {
    let e = RoleFile::parse(r#"{"Listen": "127.0.0.1:1", "Lisen": "x"}"#, Role::Gateway)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `Lisen`"), "{e}");
    assert!(e.contains("`Listen`"), "{e}");
    let e = RoleFile::parse(
        r#"{"Listen": "127.0.0.1:1", "MsgServerList": ["a:1"], "Redis": {"Addr": "h", "Port": 1, "Prot": 2}}"#,
        Role::Router,
    )
    .unwrap_err().to_string();
    assert!(
        e.contains("`Redis.Prot`") || e.contains("unknown field `Prot`"),
        "{e}"
    );
}

#[test]
fn a_mistyped_field_is_named() {
    let e = RoleFile::parse(r#"{"Listen": 19000}"#, Role::Gateway)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("field `Listen`: invalid type: integer `19000`"),
        "{e}"
    );
    let e = RoleFile::parse(
        r#"{"Listen": "h:1", "Redis": {"Addr": "h", "Port": ":sixty"}}"#,
        Role::MsgServer,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("field `Redis.Port`: invalid value"), "{e}");
    let e = RoleFile::parse(r#"{"Listen": "h:1", "Expire": "100"}"#, Role::MsgServer)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("field `Expire`"), "{e}");
}

#[test]
fn a_field_of_another_role_is_named_with_the_role() {
    let e = RoleFile::parse(
        r#"{"Listen": "h:1", "MsgServerList": ["a:1"], "Redis": {"Addr": "h", "Port": 1}}"#,
        Role::Gateway,
    )
    .unwrap_err()
    .to_string();
    let every = RoleFile::parse(
        r#"{"UUID": "g", "Listen": "h:1", "MsgServerList": ["a:1"], "MongoURL": "mongodb://h/"}"#,
        Role::Gateway,
    )
    .unwrap_err()
    .to_string();
    assert!(
        every.starts_with(
            "fields `MongoURL`, `UUID` do not apply to the gateway (the gateway keeps no store)"
        ),
        "{every}"
    );
    assert!(
        e.starts_with("field `Redis` does not apply to the gateway (the gateway keeps no store)"),
        "{e}"
    );
    let e = RoleFile::parse(r#"{"Listen": "h:1", "LocalIP": "h:1"}"#, Role::Router)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("field `LocalIP` does not apply to the router"),
        "{e}"
    );
}

#[test]
fn missing_and_contradictory_settings_are_explained() {
    let router = |extra: &str| {
        RoleFile::parse(
            &format!(r#"{{"Listen": "h:1", "MsgServerList": ["a:1"]{extra}}}"#),
            Role::Router,
        )
        .unwrap()
        .router()
        .map(|r| r.store)
    };
    assert!(router("")
        .unwrap_err()
        .to_string()
        .starts_with("no store configured"));
    assert!(router(r#", "Store": "embedded""#)
        .unwrap_err()
        .to_string()
        .contains("needs `DataDir`"));
    assert!(router(r#", "Store": "redis""#)
        .unwrap_err()
        .to_string()
        .contains("needs `Redis`"));
    assert!(router(r#", "Store": "cassandra""#)
        .unwrap_err()
        .to_string()
        .contains("\"cassandra\" is not a store"));
    assert!(router(r#", "RedisURL": "http://x""#)
        .unwrap_err()
        .to_string()
        .contains("not a Redis URL"));
    assert!(
        router(r#", "RedisURL": "redis://h/", "Redis": {"Addr": "h", "Port": 1}"#)
            .unwrap_err()
            .to_string()
            .contains("not both")
    );
    assert!(
        router(r#", "MongoURL": "mongodb://h/im", "DataDir": "/tmp""#)
            .unwrap_err()
            .to_string()
            .contains("`DataDir` is for")
    );
    assert_eq!(
        router(r#", "Store": "embedded", "DataDir": "/d""#).unwrap(),
        StoreChoice::Embedded {
            path: PathBuf::from("/d/store.redb"),
            options: EmbeddedOptions::default()
        }
    );
    assert_eq!(
        router(r#", "MongoURL": "mongodb://h:1/chat""#).unwrap(),
        StoreChoice::Mongo(MongoOptions::new("mongodb://h:1/chat"))
    );

    let e = RoleFile::parse(r#"{"Listen": "h:1", "MsgServerList": []}"#, Role::Gateway)
        .unwrap()
        .gateway()
        .unwrap_err()
        .to_string();
    assert!(e.contains("`MsgServerList` is missing or empty"), "{e}");
    let e = RoleFile::parse(
        r#"{"Listen": "h:1", "MsgServerList": ["a:1"], "MsgServerNum": 2}"#,
        Role::Gateway,
    )
    .unwrap()
    .gateway()
    .unwrap_err()
    .to_string();
    assert!(e.contains("`MsgServerNum` is 2"), "{e}");
    let e = RoleFile::parse(r#"{"MsgServerList": ["a:1"]}"#, Role::Gateway)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`Listen` is missing"), "{e}");
    let e = RoleFile::parse(
        r#"{"Listen": "h:1", "TransportProtocols": "udp"}"#,
        Role::Gateway,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("only \"tcp\""), "{e}");
}

#[test]
fn credentials_are_escaped_into_the_urls() {
    let f = RoleFile::parse(
        r#"{"Listen": "h:1", "MsgServerList": ["a:1"],
            "Redis": {"Addr": "::1", "Port": 6380, "Password": "p@ss", "Prefix": "T:"},
            "Mongo": {"Addr": "db", "Port": ":27018", "User": "im", "Password": "a/b:c", "Database": "chat"}}"#,
        Role::Manager,
    )
    .unwrap();
    let StoreChoice::RedisMongo { redis, mongo } = f.manager().unwrap().store else {
        panic!()
    };
    assert_eq!(redis.url, "redis://:p%40ss@[::1]:6380/");
    assert_eq!(redis.prefix, "T:");
    assert_eq!(mongo.url, "mongodb://im:a%2Fb%3Ac@db:27018/chat");
}

#[test]
fn a_msg_server_listening_everywhere_needs_its_local_ip_or_the_bound_address() {
    let f = RoleFile::parse(
        r#"{"Listen": "0.0.0.0:19000", "RedisURL": "redis://h/"}"#,
        Role::MsgServer,
    )
    .unwrap();
    assert_eq!(f.msg_server().unwrap().config.advertise, None);
    let f = RoleFile::parse(
        r#"{"Listen": "127.0.0.1:0", "RedisURL": "redis://h/"}"#,
        Role::MsgServer,
    )
    .unwrap();
    assert_eq!(f.msg_server().unwrap().config.advertise, None);
    let f = RoleFile::parse(
        r#"{"Listen": "chat.example:19000", "RedisURL": "redis://h/"}"#,
        Role::MsgServer,
    )
    .unwrap();
    assert_eq!(
        f.msg_server().unwrap().config.advertise.as_deref(),
        Some("chat.example:19000")
    );
}

#[test]
fn the_testdata_set_is_a_complete_two_msg_server_cluster() {
    let gateway = RoleFile::load(&testdata("gateway.json"), Role::Gateway)
        .unwrap()
        .gateway()
        .unwrap();
    let mut servers = Vec::new();
    for name in ["msg_server.19000.json", "msg_server.19001.json"] {
        let s = RoleFile::load(&testdata(name), Role::MsgServer)
            .unwrap()
            .msg_server()
            .unwrap();
        assert_eq!(s.store.kind(), "redis+mongo", "{name}");
        servers.push(s.config.advertise.clone().unwrap());
    }
    let router = RoleFile::load(&testdata("router.json"), Role::Router)
        .unwrap()
        .router()
        .unwrap();
    let manager = RoleFile::load(&testdata("manager.json"), Role::Manager)
        .unwrap()
        .manager()
        .unwrap();
    assert_eq!(gateway.config.msg_servers, servers);
    assert_eq!(router.config.msg_servers, servers);
    assert_eq!(manager.config.msg_servers, servers);
    assert_eq!(router.store.kind(), "redis+mongo");
    assert_eq!(manager.store.kind(), "redis+mongo");
    let monitor = MonitorSetup::load(&testdata("monitor.json")).unwrap();
    assert_eq!(monitor.config.msg_servers, servers);
    let secrets = [
        gateway.config.link.common.secret,
        router.config.link.common.secret,
        manager.config.link.common.secret,
        monitor.config.link.common.secret,
    ];
    assert!(
        secrets.iter().all(|s| s.is_some() && *s == secrets[0]),
        "{secrets:?}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let e = RoleFile::load(Path::new("/nonexistent/router.json"), Role::Router).unwrap_err();
    assert_eq!(e.path, "/nonexistent/router.json");
    assert!(
        e.error
            .to_string()
            .starts_with("cannot read the router config file"),
        "{e}"
    );
}

#[test]
fn every_field_a_role_lists_is_one_its_file_takes() {
    for role in [Role::Gateway, Role::MsgServer, Role::Router, Role::Manager] {
        let taken = checks::deserialize::<RoleFile>(&role.every_field_null(), role);
        assert!(taken.is_ok(), "{role}: {}", taken.unwrap_err());
    }
}
