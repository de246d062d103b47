//! The p2p scenario: `clients / 2` sender/receiver pairs. Each sender keeps `window`
//! messages in flight to its receiver (`SEND_MESSAGE_P2P [to, msg, from]`); each receiver
//! acks every message (`P2P_ACK [me, uuid]`) as a real client does. With `--across` the
//! receivers are on other scenario_servers than their senders, so every message goes through
//! the router.

use std::sync::Arc;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use super::flow::{drive, Dest, Kind, Producer, Receiver, Stream, Watcher};
use super::report::{load_average, Report};
use super::{
    finish, login_all, measure, message_report, net, run_tag, scenario_servers, Live, Options,
};

pub async fn run(opts: &Options, live: Arc<Live>) -> Result<Report> {
    let load_before = load_average();
    let servers = scenario_servers(opts).await?;
    let pairs = opts.clients / 2;
    let tag = run_tag();
    let who = (0..pairs)
        .flat_map(|i| {
            let (s, r) = if opts.across {
                (servers[i % servers.len()], servers[(i + 1) % servers.len()])
            } else {
                (servers[0], servers[0])
            };
            [(s, format!("{tag}-s{i}")), (r, format!("{tag}-r{i}"))]
        })
        .collect();
    net::raise_file_limit(opts.clients as u64 + 64);
    let sources = net::Sources::for_target(servers[0], opts.clients, opts.sources);
    let sessions = login_all(opts, &live, &sources, who).await?;

    let streams: Arc<[Stream]> = (0..pairs).map(|_| Stream::new(opts.window, 1)).collect();
    let sending = CancellationToken::new();
    let end = CancellationToken::new();
    let mut tasks = Vec::with_capacity(pairs * 2);
    let mut sessions = sessions.into_iter();
    for i in 0..pairs {
        let (Some(s), Some(r)) = (sessions.next(), sessions.next()) else {
            unreachable!("login_all returns one session per client");
        };
        let dest = Dest::P2p {
            to: r.id.clone(),
            from: s.id.clone(),
        };
        let producer = Producer::new(streams.clone(), i as u32, opts.size, live.clone(), dest);
        let watcher = Watcher {
            me: s.id.clone(),
            live: live.clone(),
        };
        tasks.push(tokio::spawn(drive(
            s,
            watcher,
            Some(producer),
            sending.clone(),
            end.clone(),
        )));
        let receiver = Receiver::new(Kind::P2p, &r.id, live.clone(), streams.clone());
        tasks.push(tokio::spawn(drive(
            r,
            receiver,
            None,
            sending.clone(),
            end.clone(),
        )));
    }
    let measured = measure(opts, &live, &sending, 1).await;
    let lost = finish(&end, tasks).await;
    let mut report = message_report(opts, &live, &measured, &servers, 1, load_before, lost);
    report.connections = (pairs * 2) as u64;
    Ok(report)
}
