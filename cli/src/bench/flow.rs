//! The message path of the tool: one task per connection that reads, writes and (for a
//! sender) produces messages as its window allows; the receivers that count deliveries;
//! and the streams that give a sender its window back when a message has arrived.
//!
//! A sender's window is the number of its messages in flight: sent, and not yet received
//! by every receiver it was meant for (one for p2p, every member for a topic). The tool
//! holds both ends, so it needs nothing from the server to know that; this is what lets
//! it use only the original's commands.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use fishchat_cluster::protocol::FrameCodec;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::stats::SeqSet;
use super::wire::{cmd_name, push_frame, Frame, Session, Stamp, MAX_FRAME};
use super::Live;

/// Messages a sender produces at once when its window has room.
const BATCH: usize = 64;
/// A sender stops producing while this many bytes wait to be written.
const HIGH_WATER: usize = 64 * 1024;
/// How long a closing connection may take to write what it still holds (its last acks).
const FLUSH_ON_END: Duration = Duration::from_secs(2);

/// One sender's stream of messages: its window and, where a message has several
/// receivers, how many of them have it so far.
pub struct Stream {
    pub window: Semaphore,
    /// Receivers each message is meant for.
    expected: u32,
    /// seq -> receivers that have it, for messages with more than one receiver.
    partial: Mutex<HashMap<u64, u32>>,
}

impl Stream {
    pub fn new(window: usize, expected: u32) -> Stream {
        Stream {
            window: Semaphore::new(window),
            expected: expected.max(1),
            partial: Mutex::new(HashMap::new()),
        }
    }

    /// One receiver has message `seq` for the first time; the last one frees a window slot.
    fn arrived(&self, seq: u64) {
        if self.expected == 1 {
            self.window.add_permits(1);
            return;
        }
        let done = {
            let mut p = self.partial.lock().unwrap_or_else(|e| e.into_inner());
            let n = p.entry(seq).or_insert(0);
            *n += 1;
            if *n >= self.expected {
                p.remove(&seq);
                true
            } else {
                false
            }
        };
        if done {
            self.window.add_permits(1);
        }
    }
}

/// What a connection does with the frames it reads.
pub trait Inbound: Send {
    /// Handles one frame body; may append frames to write (acks) to `out`.
    fn on_frame(&mut self, body: &[u8], out: &mut Vec<u8>);
    /// The frames read at once have all been handled.
    fn batch_done(&mut self) {}
}

/// What a sending connection writes: the next message, appended to `out`.
pub trait Outbound: Send {
    fn next(&mut self, out: &mut Vec<u8>);
}

/// A connection that sends nothing.
pub struct Silent;

impl Outbound for Silent {
    fn next(&mut self, _: &mut Vec<u8>) {}
}

/// Where messages come in, how a receiver reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `RESP_MESSAGE_P2P [msg, from, uuid, ..]`, acked with `P2P_ACK [me, uuid]`.
    P2p,
    /// `RESP_MESSAGE_TOPIC [topic, msg, from, ..]`.
    Topic,
    /// The floor's echo of our own `SEND_MESSAGE_P2P [to, msg, from]`, "acked" with a
    /// `P2P_ACK` frame like p2p so the frames per message are the same.
    Echo,
}

/// Counts what reaches one receiving connection.
pub struct Receiver {
    kind: Kind,
    me: String,
    live: Arc<Live>,
    streams: Arc<[Stream]>,
    /// Per sender, the seqs this receiver has seen.
    seen: HashMap<u32, SeqSet>,
    delivered: u64,
    duplicates: u64,
    foreign: u64,
}

impl Receiver {
    pub fn new(kind: Kind, me: &str, live: Arc<Live>, streams: Arc<[Stream]>) -> Receiver {
        Receiver {
            kind,
            me: me.to_string(),
            live,
            streams,
            seen: HashMap::new(),
            delivered: 0,
            duplicates: 0,
            foreign: 0,
        }
    }

    fn message(&mut self, msg: &str) {
        let Some(stamp) = Stamp::parse(msg) else {
            self.foreign += 1;
            return;
        };
        let sender = stamp.sender as usize;
        if sender >= self.streams.len() {
            self.foreign += 1;
            return;
        }
        if !self.seen.entry(stamp.sender).or_default().insert(stamp.seq) {
            self.duplicates += 1;
            return;
        }
        self.delivered += 1;
        let now = self.live.clock.now_ns();
        self.live.latency.record(now.saturating_sub(stamp.sent_ns));
        self.streams[sender].arrived(stamp.seq);
    }

    fn error(&self, body: &[u8]) {
        let text = match Frame::parse(body) {
            Ok(f) if f.cmd() == "ERROR" => format!("ERROR {} {}", f.arg(0), f.arg(1)),
            Ok(f) => format!("unexpected {}", f.cmd()),
            Err(e) => format!("unreadable frame: {e}"),
        };
        self.live.counters.error(|| format!("{}: {text}", self.me));
    }
}

impl Inbound for Receiver {
    fn on_frame(&mut self, body: &[u8], out: &mut Vec<u8>) {
        let name = cmd_name(body);
        let wanted: &[u8] = match self.kind {
            Kind::P2p => b"RESP_MESSAGE_P2P",
            Kind::Topic => b"RESP_MESSAGE_TOPIC",
            Kind::Echo => b"SEND_MESSAGE_P2P",
        };
        match name {
            Some(n) if n == wanted => {}
            Some(b"ERROR") | None => return self.error(body),
            // P2P_DELIVERED (this project tells senders), echoed acks, anything else.
            Some(_) => return,
        }
        let Ok(f) = Frame::parse(body) else {
            return self.error(body);
        };
        match self.kind {
            Kind::P2p => {
                self.message(f.arg(0));
                push_frame(out, "P2P_ACK", &[&self.me, f.arg(2)]);
            }
            Kind::Topic => self.message(f.arg(1)),
            Kind::Echo => {
                self.message(f.arg(1));
                push_frame(out, "P2P_ACK", &[&self.me, "echo"]);
            }
        }
    }

    fn batch_done(&mut self) {
        let c = &self.live.counters;
        for (n, counter) in [
            (&mut self.delivered, &c.delivered),
            (&mut self.duplicates, &c.duplicates),
            (&mut self.foreign, &c.foreign),
        ] {
            if *n > 0 {
                counter.fetch_add(*n, Ordering::Relaxed);
                *n = 0;
            }
        }
    }
}

/// Reads only to notice errors: a sender's connection, where the server may tell it of
/// deliveries (`P2P_DELIVERED`, this project's) or refuse something (`ERROR`).
pub struct Watcher {
    pub me: String,
    pub live: Arc<Live>,
}

impl Inbound for Watcher {
    fn on_frame(&mut self, body: &[u8], _: &mut Vec<u8>) {
        if matches!(cmd_name(body), Some(b"ERROR") | None) {
            let text = match Frame::parse(body) {
                Ok(f) => format!("{} {} {}", f.cmd(), f.arg(0), f.arg(1)),
                Err(e) => format!("unreadable frame: {e}"),
            };
            self.live.counters.error(|| format!("{}: {text}", self.me));
        }
    }
}

/// Produces the messages of one stream.
pub struct Producer {
    pub streams: Arc<[Stream]>,
    pub sender: u32,
    pub seq: u64,
    pub size: usize,
    pub live: Arc<Live>,
    /// `SEND_MESSAGE_P2P [to, msg, from]` or `SEND_MESSAGE_TOPIC [topic, msg]`.
    pub to: Dest,
    body: String,
}

/// Where a producer's messages go.
pub enum Dest {
    P2p { to: String, from: String },
    Topic(String),
}

impl Producer {
    pub fn new(
        streams: Arc<[Stream]>,
        sender: u32,
        size: usize,
        live: Arc<Live>,
        to: Dest,
    ) -> Producer {
        Producer {
            streams,
            sender,
            seq: 0,
            size,
            live,
            to,
            body: String::with_capacity(size + 48),
        }
    }

    fn window(&self) -> &Semaphore {
        &self.streams[self.sender as usize].window
    }
}

impl Outbound for Producer {
    fn next(&mut self, out: &mut Vec<u8>) {
        Stamp {
            sent_ns: self.live.clock.now_ns(),
            sender: self.sender,
            seq: self.seq,
        }
        .write(&mut self.body, self.size);
        self.seq += 1;
        match &self.to {
            Dest::P2p { to, from } => push_frame(out, "SEND_MESSAGE_P2P", &[to, &self.body, from]),
            Dest::Topic(topic) => push_frame(out, "SEND_MESSAGE_TOPIC", &[topic, &self.body]),
        }
    }
}

/// How a connection's task ended.
#[derive(Debug)]
pub enum Ended {
    /// The run ended it.
    Done,
    /// The server closed it, or it failed.
    Lost(String),
}

/// Runs one connection until `end`: reads and hands frames to `inbound`, writes what it
/// produces, and, while `sending` is not cancelled, lets `producer` fill the window.
pub async fn drive<I: Inbound>(
    session: Session,
    mut inbound: I,
    mut producer: Option<Producer>,
    sending: CancellationToken,
    end: CancellationToken,
) -> Ended {
    let Session {
        id,
        mut rd,
        mut wr,
        mut inbuf,
    } = session;
    let mut codec = FrameCodec::new(MAX_FRAME);
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut written = 0;
    let mut producing = producer.is_some();
    let live = producer.as_ref().map(|p| p.live.clone());
    // The window, apart from the producer, so that waiting on it does not borrow the
    // producer the branch then uses.
    let window = producer
        .as_ref()
        .map(|p| (p.streams.clone(), p.sender as usize));
    // Frames left over from the login.
    if let Err(why) = decode_all(&mut codec, &mut inbuf, &mut inbound, &mut out) {
        return Ended::Lost(format!("{id}: {why}"));
    }
    loop {
        let pending = out.len() - written;
        tokio::select! {
            biased;
            _ = end.cancelled() => break,
            _ = sending.cancelled(), if producing => producing = false,
            r = rd.read_buf(&mut inbuf) => {
                match r {
                    Ok(0) => return Ended::Lost(format!("{id}: the server closed the connection")),
                    Ok(_) => {}
                    Err(e) => return Ended::Lost(format!("{id}: read failed: {e}")),
                }
                if let Err(why) = decode_all(&mut codec, &mut inbuf, &mut inbound, &mut out) {
                    return Ended::Lost(format!("{id}: {why}"));
                }
            }
            r = wr.write(&out[written..]), if pending > 0 => match r {
                Ok(n) => written += n,
                Err(e) => return Ended::Lost(format!("{id}: write failed: {e}")),
            },
            permit = async {
                let (streams, i) = window.as_ref().expect("producing");
                streams[*i].window.acquire().await
            },
                if producing && pending < HIGH_WATER =>
            {
                let Ok(permit) = permit else { break };
                permit.forget();
                let p = producer.as_mut().expect("producing");
                let mut n = 1;
                while n < BATCH {
                    match p.window().try_acquire() {
                        Ok(permit) => {
                            permit.forget();
                            n += 1;
                        }
                        Err(_) => break,
                    }
                }
                for _ in 0..n {
                    p.next(&mut out);
                }
                if let Some(live) = &live {
                    live.counters.sent.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
        if written == out.len() {
            out.clear();
            written = 0;
        } else if written > HIGH_WATER {
            out.drain(..written);
            written = 0;
        }
    }
    // Write what is left (the last acks), so nothing stays in the server's inbox.
    if written < out.len() {
        let _ = tokio::time::timeout(FLUSH_ON_END, wr.write_all(&out[written..])).await;
    }
    let _ = wr.shutdown().await;
    Ended::Done
}

fn decode_all<I: Inbound>(
    codec: &mut FrameCodec,
    inbuf: &mut BytesMut,
    inbound: &mut I,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        match codec.decode(inbuf) {
            Ok(Some(body)) => inbound.on_frame(&body, out),
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    inbound.batch_done();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_for_many_frees_its_slot_once_all_have_it() {
        let s = Stream::new(2, 3);
        s.window.try_acquire().unwrap().forget();
        s.window.try_acquire().unwrap().forget();
        assert_eq!(s.window.available_permits(), 0);
        s.arrived(0);
        s.arrived(1);
        s.arrived(0);
        assert_eq!(s.window.available_permits(), 0);
        s.arrived(0);
        assert_eq!(s.window.available_permits(), 1);
        assert!(s.partial.lock().unwrap().len() == 1, "seq 1 still waits");
        let p2p = Stream::new(1, 1);
        p2p.arrived(7);
        assert_eq!(p2p.window.available_permits(), 2);
    }
}
