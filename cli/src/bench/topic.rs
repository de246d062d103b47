//! The topic scenario: one topic of `members` members, `clients` of whom send, each with
//! `window` messages in flight. A message is in flight until every member (its sender
//! included, as the protocol says) has it, so fanout is measured as deliveries per second.
//!
//! Setup with the original's commands only: the first member sends `CREATE_TOPIC` and
//! then a probe `SEND_MESSAGE_TOPIC`, which comes back to it once the topic exists; every
//! other member sends `JOIN_TOPIC [topic, id]` and waits for `LOCATE_TOPIC_MSG_ADDR`. With
//! `--across` the members are spread over every msg_server, and the router carries the
//! topic's messages to the members away from the sender's msg_server.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::{Context, Result};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::flow::{drive, Dest, Kind, Producer, Receiver, Stream};
use super::report::{load_average, Report};
use super::wire::{push_frame, Session};
use super::{
    explain, finish, login_all, measure, message_report, net, run_tag, scenario_servers, Live,
    Options, Phase,
};

pub async fn run(opts: &Options, live: Arc<Live>) -> Result<Report> {
    let load_before = load_average();
    let servers = scenario_servers(opts).await?;
    let tag = run_tag();
    let topic = format!("{tag}-topic");
    let members = opts.members;
    let who = (0..members)
        .map(|j| {
            let s = if opts.across {
                servers[j % servers.len()]
            } else {
                servers[0]
            };
            (s, format!("{tag}-m{j}"))
        })
        .collect::<Vec<_>>();
    let addrs: Vec<_> = who.iter().map(|(a, _)| *a).collect();
    net::raise_file_limit(members as u64 + 64);
    let sources = net::Sources::for_target(servers[0], members, opts.sources);
    let mut sessions = login_all(opts, &live, &sources, who).await?;

    // The creator makes the topic and sees its own probe come back.
    let creator = &mut sessions[0];
    let probe = format!("probe;{topic}");
    let mut out = Vec::new();
    push_frame(&mut out, "CREATE_TOPIC", &[&topic]);
    push_frame(&mut out, "SEND_MESSAGE_TOPIC", &[&topic, &probe]);
    creator.write(addrs[0], &out, "CREATE_TOPIC").await?;
    creator
        .await_frame(addrs[0], "CREATE_TOPIC", opts.timeout, |f| {
            (f.cmd() == "RESP_MESSAGE_TOPIC" && f.arg(1) == probe).then_some(())
        })
        .await
        .with_context(|| format!("creating the topic {topic}"))?;

    // Everyone else joins, `window`-many at a time.
    live.set_phase(Phase::Connecting, members as u64);
    live.done.store(1, Ordering::Relaxed);
    let mut rest: Vec<(usize, &mut Session)> = sessions.iter_mut().enumerate().skip(1).collect();
    let results: Vec<Result<(), String>> = futures::stream::iter(rest.iter_mut())
        .map(|(j, s)| {
            let (addr, topic, live) = (addrs[*j], &topic, &live);
            async move {
                let mut out = Vec::new();
                push_frame(&mut out, "JOIN_TOPIC", &[topic, &s.id]);
                let r = async {
                    s.write(addr, &out, "JOIN_TOPIC").await?;
                    s.await_frame(addr, "JOIN_TOPIC", opts.timeout, |f| {
                        (f.cmd() == "LOCATE_TOPIC_MSG_ADDR" && f.arg(1) == topic.as_str())
                            .then_some(())
                    })
                    .await
                }
                .await;
                live.done.fetch_add(1, Ordering::Relaxed);
                r.map_err(|e| {
                    format!(
                        "member {} joining {topic}: {}",
                        s.id,
                        explain(&e, None, opts.server_pid)
                    )
                })
            }
        })
        .buffer_unordered(opts.window.clamp(1, 256))
        .collect()
        .await;
    drop(rest);
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        anyhow::bail!(e);
    }

    let senders = opts.clients;
    let streams: Arc<[Stream]> = (0..senders)
        .map(|_| Stream::new(opts.window, members as u32))
        .collect();
    let sending = CancellationToken::new();
    let end = CancellationToken::new();
    let mut tasks = Vec::with_capacity(members);
    for (j, s) in sessions.into_iter().enumerate() {
        let receiver = Receiver::new(Kind::Topic, &s.id, live.clone(), streams.clone());
        let producer = (j < senders).then(|| {
            Producer::new(
                streams.clone(),
                j as u32,
                opts.size,
                live.clone(),
                Dest::Topic(topic.clone()),
            )
        });
        tasks.push(tokio::spawn(drive(
            s,
            receiver,
            producer,
            sending.clone(),
            end.clone(),
        )));
    }
    let measured = measure(opts, &live, &sending, members as u64).await;
    let lost = finish(&end, tasks).await;
    let mut report = message_report(
        opts,
        &live,
        &measured,
        &servers,
        members as u64,
        load_before,
        lost,
    );
    report.connections = members as u64;
    Ok(report)
}
