//! The bench's own lean client: frames written straight into a byte buffer, frames read
//! with borrowed JSON parsing, and a login that uses only the original's commands.
//!
//! The SDK (`fishchat_cluster::client`) is built for applications: a task per direction,
//! an event enum, `SYNC` barriers. A load generator shares the machine's cores with the
//! server it measures, so here every frame costs as little as it can: no `Command` values,
//! no channels, and the JSON is parsed without copying the strings in it.
//!
//! Logging in without `SYNC` (an addition of this project that other FishChat servers do
//! not have): `SEND_CLIENT_ID [id]`, then `SEND_MESSAGE_P2P [id, probe, id]` to ourselves.
//! A server acts on one connection's frames in order, so when the probe comes back the
//! login has been acted on. The probe is acked like any message.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use fishchat_cluster::protocol::{FrameCodec, FrameError, Level};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

use super::net;

/// The most a frame from the server may be; FishChat's own default.
pub const MAX_FRAME: usize = fishchat_cluster::protocol::DEFAULT_MAX_FRAME;

// ---------------------------------------------------------------------------------------
// Writing.

/// Appends one frame, `{"CmdName":cmd,"Args":[args..]}` plus the original's newline, with
/// its 4-byte big-endian length.
pub fn push_frame(out: &mut Vec<u8>, cmd: &str, args: &[&str]) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(b"{\"CmdName\":");
    push_str(out, cmd);
    out.extend_from_slice(b",\"Args\":[");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, a);
    }
    out.extend_from_slice(b"]}\n");
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// At the fishchat level, the `HELLO` that opens a connection (its `HELLO_OK` is passed
/// over like any frame the tool does not wait for); nothing at the original level.
pub fn push_hello(out: &mut Vec<u8>, level: Level) {
    if level == Level::Fishchat {
        let version = fishchat_cluster::protocol::level::VERSION.to_string();
        push_frame(out, "HELLO", &[&version, "fishchat-bench"]);
    }
}

/// A JSON string. The tool's own ids and bodies need no escaping; what the server hands
/// back (uuids) might, and goes through serde_json.
fn push_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string always serializes");
    }
}

/// Appends `n` in decimal.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[i..]).expect("digits are ASCII"));
}

// ---------------------------------------------------------------------------------------
// Message bodies.

/// What the tool puts in each message: when it was sent (nanoseconds on the run's
/// [`super::stats::Clock`]), which sender sent it, and its sequence number from that
/// sender, then padding to the requested size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sent_ns: u64,
    pub sender: u32,
    pub seq: u64,
}

impl Stamp {
    /// Writes `t=<ns>;s=<sender>;q=<seq>;` padded with `x` to `size` bytes (longer where
    /// the stamp alone is longer).
    pub fn write(&self, body: &mut String, size: usize) {
        body.clear();
        body.push_str("t=");
        push_u64(body, self.sent_ns);
        body.push_str(";s=");
        push_u64(body, u64::from(self.sender));
        body.push_str(";q=");
        push_u64(body, self.seq);
        body.push(';');
        while body.len() < size {
            body.push('x');
        }
    }

    /// Reads a body written by [`Stamp::write`]; `None` for anything else.
    pub fn parse(body: &str) -> Option<Stamp> {
        let mut fields = body.split(';');
        let mut next =
            |key: &str| -> Option<u64> { fields.next()?.strip_prefix(key)?.parse().ok() };
        let sent_ns = next("t=")?;
        let sender = u32::try_from(next("s=")?).ok()?;
        let seq = next("q=")?;
        Some(Stamp {
            sent_ns,
            sender,
            seq,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Reading.

/// A JSON string borrowed from the frame where it has no escapes, copied where it has.
#[derive(Debug)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Cow<'a, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(V(PhantomData)).map(Text)
    }
}

/// A frame body as the tool reads it: the command and its arguments; `AnyData` is skipped.
#[derive(Debug, Deserialize)]
pub struct Frame<'a> {
    #[serde(rename = "CmdName", borrow)]
    pub cmd: Text<'a>,
    /// Go encodes an empty slice as `null`.
    #[serde(rename = "Args", default, borrow)]
    pub args: Option<Vec<Text<'a>>>,
}

impl<'a> Frame<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Frame<'a>, serde_json::Error> {
        serde_json::from_slice(body)
    }

    pub fn cmd(&self) -> &str {
        &self.cmd.0
    }

    /// Argument `i`, or "" where there are fewer.
    pub fn arg(&self, i: usize) -> &str {
        self.args
            .as_ref()
            .and_then(|a| a.get(i))
            .map(|t| &*t.0)
            .unwrap_or("")
    }
}

/// The command name of a body without parsing it, where it is written first (the
/// original and this project both do); `None` otherwise, and the caller parses.
pub fn cmd_name(body: &[u8]) -> Option<&[u8]> {
    const START: &[u8] = b"{\"CmdName\":\"";
    let rest = body.strip_prefix(START)?;
    let end = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
    (rest[end] == b'"').then(|| &rest[..end])
}

/// One logged-in connection, split, with whatever the server sent past the login.
pub struct Session {
    pub id: String,
    pub rd: OwnedReadHalf,
    pub wr: OwnedWriteHalf,
    /// Bytes read and not yet decoded.
    pub inbuf: BytesMut,
}

/// Why a connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{addr} refused {what}: {detail}")]
    Refused {
        addr: SocketAddr,
        what: &'static str,
        detail: String,
    },
    #[error("{addr} closed the connection during {what}")]
    Closed {
        addr: SocketAddr,
        what: &'static str,
    },
    #[error("no answer from {addr} to {what} within {timeout:?}")]
    Timeout {
        addr: SocketAddr,
        what: &'static str,
        timeout: Duration,
    },
    #[error("reading from {addr} failed during {what}: {source}")]
    Io {
        addr: SocketAddr,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl SetupError {
    /// The OS error behind a failed connect, to say which limit was hit.
    pub fn os_error(&self) -> Option<&std::io::Error> {
        match self {
            SetupError::Connect { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads the next whole frame into `inbuf`'s front and returns it.
pub async fn read_frame(
    rd: &mut OwnedReadHalf,
    inbuf: &mut BytesMut,
) -> Result<Option<Bytes>, FrameError> {
    let mut codec = FrameCodec::new(MAX_FRAME);
    loop {
        if let Some(f) = codec.decode(inbuf)? {
            return Ok(Some(f));
        }
        if rd.read_buf(inbuf).await? == 0 {
            return Ok(None);
        }
    }
}

impl Session {
    /// Connects to `addr` (from `src` where given) and logs in as `id`, confirmed by the
    /// probe described in the module documentation.
    pub async fn login(
        addr: SocketAddr,
        src: Option<std::net::Ipv4Addr>,
        id: &str,
        level: Level,
        timeout: Duration,
    ) -> Result<Session, SetupError> {
        let stream = tokio::time::timeout(timeout, net::connect(addr, src))
            .await
            .map_err(|_| SetupError::Timeout {
                addr,
                what: "connect",
                timeout,
            })?
            .map_err(|source| SetupError::Connect { addr, source })?;
        let mut s = Session::from_stream(stream, id);
        let probe = format!("probe;{id}");
        let mut out = Vec::with_capacity(256);
        push_hello(&mut out, level);
        push_frame(&mut out, "SEND_CLIENT_ID", &[id]);
        push_frame(&mut out, "SEND_MESSAGE_P2P", &[id, &probe, id]);
        s.write(addr, &out, "login").await?;
        s.await_frame(addr, "login", timeout, |f| {
            (f.cmd() == "RESP_MESSAGE_P2P" && f.arg(0) == probe).then_some(())
        })
        .await
        .map(|()| s)
    }

    pub fn from_stream(stream: TcpStream, id: &str) -> Session {
        let (rd, wr) = stream.into_split();
        Session {
            id: id.to_string(),
            rd,
            wr,
            inbuf: BytesMut::with_capacity(512),
        }
    }

    pub async fn write(
        &mut self,
        addr: SocketAddr,
        bytes: &[u8],
        what: &'static str,
    ) -> Result<(), SetupError> {
        self.wr
            .write_all(bytes)
            .await
            .map_err(|source| SetupError::Io { addr, what, source })
    }

    /// Reads frames until `want` picks one, within `timeout`. Messages met on the way are
    /// acked (offline leftovers, the probe) so they do not wait in the inbox; an `ERROR`
    /// fails the setup.
    pub async fn await_frame<T>(
        &mut self,
        addr: SocketAddr,
        what: &'static str,
        timeout: Duration,
        mut want: impl FnMut(&Frame<'_>) -> Option<T>,
    ) -> Result<T, SetupError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, read_frame(&mut self.rd, &mut self.inbuf))
                .await
                .map_err(|_| SetupError::Timeout {
                    addr,
                    what,
                    timeout,
                })?;
            let body = match next {
                Ok(Some(b)) => b,
                Ok(None) => return Err(SetupError::Closed { addr, what }),
                Err(FrameError::Io(source)) => return Err(SetupError::Io { addr, what, source }),
                Err(e @ FrameError::TooLong { .. }) => {
                    return Err(SetupError::Refused {
                        addr,
                        what,
                        detail: e.to_string(),
                    })
                }
            };
            let Ok(f) = Frame::parse(&body) else {
                continue; // a monitor beat or something we do not read
            };
            if f.cmd() == "ERROR" {
                return Err(SetupError::Refused {
                    addr,
                    what,
                    detail: format!("ERROR {} {}", f.arg(0), f.arg(1)),
                });
            }
            let ack = (f.cmd() == "RESP_MESSAGE_P2P").then(|| {
                let mut out = Vec::new();
                push_frame(&mut out, "P2P_ACK", &[&self.id, f.arg(2)]);
                out
            });
            let found = want(&f);
            drop(f);
            if let Some(ack) = ack {
                self.write(addr, &ack, what).await?;
            }
            if let Some(t) = found {
                return Ok(t);
            }
        }
    }
}

/// Asks a gateway for a msg_server: `REQ_MSG_SERVER []` → `SELECT_MSG_SERVER_FOR_CLIENT
/// [addr]`.
pub async fn ask_gateway(
    gateway: SocketAddr,
    level: Level,
    timeout: Duration,
) -> Result<String, SetupError> {
    let stream = tokio::time::timeout(timeout, net::connect(gateway, None))
        .await
        .map_err(|_| SetupError::Timeout {
            addr: gateway,
            what: "connect",
            timeout,
        })?
        .map_err(|source| SetupError::Connect {
            addr: gateway,
            source,
        })?;
    let mut s = Session::from_stream(stream, "");
    let mut out = Vec::new();
    push_hello(&mut out, level);
    push_frame(&mut out, "REQ_MSG_SERVER", &[]);
    s.write(gateway, &out, "REQ_MSG_SERVER").await?;
    s.await_frame(gateway, "REQ_MSG_SERVER", timeout, |f| {
        (f.cmd() == "SELECT_MSG_SERVER_FOR_CLIENT").then(|| f.arg(0).to_string())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use fishchat_cluster::protocol::P2pMessage;
    use fishchat_cluster::protocol::{Body, Command};

    #[test]
    fn hello_opens_only_a_fishchat_level_connection() {
        let mut out = Vec::new();
        push_hello(&mut out, Level::Original);
        assert!(out.is_empty());
        push_hello(&mut out, Level::Fishchat);
        let env = Body::parse_envelope(&out[4..]).unwrap();
        assert!(matches!(
            Command::from_envelope(env).unwrap(),
            Command::Hello {
                version: 1,
                client: Some(_)
            }
        ));
    }

    #[test]
    fn frames_are_what_the_protocol_crate_reads() {
        let mut out = Vec::new();
        push_frame(
            &mut out,
            "SEND_MESSAGE_P2P",
            &["bob", "hi \"there\"\n", "alice"],
        );
        push_frame(&mut out, "REQ_MSG_SERVER", &[]);
        let len = u32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
        let env = Body::parse_envelope(&out[4..4 + len]).unwrap();
        assert_eq!(
            Command::from_envelope(env).unwrap(),
            Command::SendMessageP2p {
                to: "bob".into(),
                msg: "hi \"there\"\n".into(),
                from: Some("alice".into()),
                uuid: None,
                sent_at_ms: None,
            }
        );
        // The second frame is the contract's example, byte for byte.
        let mut want = vec![0, 0, 0, 0x27];
        want.extend_from_slice(b"{\"CmdName\":\"REQ_MSG_SERVER\",\"Args\":[]}\n");
        assert_eq!(&out[4 + len..], &want[..]);
    }

    #[test]
    fn reads_what_the_protocol_crate_writes() {
        let frame = Command::RespMessageP2p(P2pMessage {
            msg: "t=1;s=2;q=3;xx".into(),
            from: "al\"ice".into(),
            uuid: "u-1".into(),
            sent_at_ms: Some(5),
            offline: false,
        })
        .to_frame();
        let body = &frame[4..];
        assert_eq!(cmd_name(body), Some(&b"RESP_MESSAGE_P2P"[..]));
        let f = Frame::parse(body).unwrap();
        assert_eq!(f.cmd(), "RESP_MESSAGE_P2P");
        assert_eq!(f.arg(1), "al\"ice");
        assert!(matches!(f.args.as_ref().unwrap()[0].0, Cow::Borrowed(_)));
        assert_eq!(f.arg(9), "");
        let f = Frame::parse(b"{\"CmdName\":\"SEND_PING\",\"Args\":null,\"AnyData\":{\"a\":[1]}}")
            .unwrap();
        assert_eq!((f.cmd(), f.arg(0)), ("SEND_PING", ""));
        assert_eq!(cmd_name(b"{\"Args\":[],\"CmdName\":\"X\"}"), None);
    }

    #[test]
    fn stamps_round_trip_and_pad() {
        let s = Stamp {
            sent_ns: 123_456_789,
            sender: 7,
            seq: 0,
        };
        let mut body = String::new();
        s.write(&mut body, 64);
        assert_eq!(body.len(), 64);
        assert!(body.starts_with("t=123456789;s=7;q=0;xxx"), "{body}");
        assert_eq!(Stamp::parse(&body), Some(s));
        s.write(&mut body, 0);
        assert_eq!(body, "t=123456789;s=7;q=0;");
        assert_eq!(Stamp::parse("probe;alice"), None);
        assert_eq!(Stamp::parse("t=1;s=x;q=2;"), None);
        let mut n = String::new();
        push_u64(&mut n, u64::MAX);
        assert_eq!(n, u64::MAX.to_string());
    }
}
