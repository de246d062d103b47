//! The floor: the p2p scenario's frames, echoed by a minimal tokio server inside the tool.
//!
//! The echo server only frames: it reads each frame and writes it back on the same
//! connection, on a runtime of its own with a worker per core (as a real server has).
//! Each of the `clients / 2` pairs is one connection carrying both ends of its stream:
//! the tool writes `SEND_MESSAGE_P2P` under the same window, reads it back as its
//! receiver would a delivery (latency, duplicates), and writes a `P2P_ACK` for it, whose
//! echo it reads and drops. So per message the tool encodes, writes, reads and parses
//! what it does in p2p. What this reaches is the most any FishChat server could deliver
//! on this machine with this tool driving it: the other scenarios are compared to it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use bytes::BytesMut;
use fishchat_cluster::protocol::FrameCodec;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::flow::{drive, Dest, Kind, Producer, Receiver, Stream};
use super::report::{load_average, Report};
use super::wire::{Session, MAX_FRAME};
use super::{finish, measure, message_report, net, run_tag, Live, Options, Phase};

pub async fn run(opts: &Options, live: Arc<Live>) -> Result<Report> {
    let load_before = load_average();
    let echo = EchoServer::start()?;
    let pairs = opts.clients / 2;
    net::raise_file_limit(opts.clients as u64 + 64);
    let tag = run_tag();
    live.set_phase(Phase::Connecting, pairs as u64);
    let mut sessions = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let stream = net::connect(echo.addr, None)
            .await
            .with_context(|| format!("connecting to the echo server at {}", echo.addr))?;
        sessions.push(Session::from_stream(stream, &format!("{tag}-f{i}")));
        live.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let streams: Arc<[Stream]> = (0..pairs).map(|_| Stream::new(opts.window, 1)).collect();
    let sending = CancellationToken::new();
    let end = CancellationToken::new();
    let mut tasks = Vec::with_capacity(pairs);
    for (i, s) in sessions.into_iter().enumerate() {
        let dest = Dest::P2p {
            to: format!("{tag}-r{i}"),
            from: s.id.clone(),
        };
        let producer = Producer::new(streams.clone(), i as u32, opts.size, live.clone(), dest);
        let receiver = Receiver::new(Kind::Echo, &s.id, live.clone(), streams.clone());
        tasks.push(tokio::spawn(drive(
            s,
            receiver,
            Some(producer),
            sending.clone(),
            end.clone(),
        )));
    }
    let measured = measure(opts, &live, &sending, 1).await;
    let lost = finish(&end, tasks).await;
    let mut report = message_report(opts, &live, &measured, &[echo.addr], 1, load_before, lost);
    report.connections = pairs as u64;
    drop(echo);
    Ok(report)
}

/// The echo server, on a runtime and thread of its own; stopped when dropped.
pub struct EchoServer {
    pub addr: SocketAddr,
    stop: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    pub fn start() -> Result<EchoServer> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("binding the floor's echo server on 127.0.0.1")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let stop = CancellationToken::new();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
            .thread_name("floor-echo")
            .enable_all()
            .build()
            .context("starting the floor's echo server runtime")?;
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("floor-echo".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    loop {
                        tokio::select! {
                            _ = s.cancelled() => break,
                            a = listener.accept() => if let Ok((stream, _)) = a {
                                let _ = stream.set_nodelay(true);
                                tokio::spawn(echo(stream, s.clone()));
                            },
                        }
                    }
                });
                runtime.shutdown_background();
            })
            .context("starting the floor's echo server thread")?;
        Ok(EchoServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads frames and writes each back, all that one read brought in one write.
async fn echo(stream: TcpStream, stop: CancellationToken) {
    let (mut rd, mut wr) = stream.into_split();
    let mut codec = FrameCodec::new(MAX_FRAME);
    let mut inbuf = BytesMut::with_capacity(16 * 1024);
    let mut out = Vec::with_capacity(16 * 1024);
    loop {
        let n = tokio::select! {
            _ = stop.cancelled() => return,
            n = rd.read_buf(&mut inbuf) => n,
        };
        if !matches!(n, Ok(n) if n > 0) {
            return;
        }
        loop {
            match codec.decode(&mut inbuf) {
                Ok(Some(frame)) => {
                    out.extend_from_slice(&(frame.len() as u32).to_be_bytes());
                    out.extend_from_slice(&frame);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        if wr.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
    }
}
