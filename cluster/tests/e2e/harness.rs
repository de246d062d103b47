//! Harness for the end-to-end tests: a local cluster on OS-chosen ports in a temp dir,
//! raw connections for malformed input, and a store whose backend can be "down".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::P2pMessage;
use fishchat_cluster::protocol::{Body, Command};
use fishchat_cluster::store::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const WAIT: Duration = Duration::from_secs(10);
pub const SECRET: &str = "test-secret";

pub struct TestCluster {
    pub cluster: LocalCluster,
    /// Holds the store; removed when the test ends.
    pub _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestCluster {
    type Target = LocalCluster;
    fn deref(&self) -> &LocalCluster {
        &self.cluster
    }
}

impl std::ops::DerefMut for TestCluster {
    fn deref_mut(&mut self) -> &mut LocalCluster {
        &mut self.cluster
    }
}

pub fn options(dir: &std::path::Path, msg_servers: usize) -> LocalOptions {
    let mut o = LocalOptions::new(dir, SECRET, Ports::any(msg_servers));
    o.msg_server.monitor_beat = Duration::from_millis(200);
    o.retry_max = Duration::from_millis(200);
    o
}

pub async fn start(msg_servers: usize) -> TestCluster {
    start_with(msg_servers, |_| {}).await
}

pub async fn start_with(msg_servers: usize, tune: impl FnOnce(&mut LocalOptions)) -> TestCluster {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(dir.path(), msg_servers);
    tune(&mut o);
    let cluster = LocalCluster::start(o, |_| {})
        .await
        .expect("cluster starts");
    TestCluster { cluster, _dir: dir }
}

/// Logs `id` in directly at msg_server `i`.
pub async fn login(c: &LocalCluster, i: usize, id: &str) -> Client {
    Client::login_at(&c.file().msg_servers[i], id)
        .await
        .expect("login")
}

/// The next event that is not a beat, within the harness's wait.
pub async fn next(c: &mut Client) -> Event {
    loop {
        match c.next_event_within(WAIT).await {
            Ok(Event::Beat(_)) => continue,
            Ok(e) => return e,
            Err(e) => panic!("expected an event, got {e}"),
        }
    }
}

/// The next p2p message: (msg, from, uuid, offline).
pub async fn next_p2p(c: &mut Client) -> (String, String, String, bool) {
    match next(c).await {
        Event::P2p(P2pMessage {
            msg,
            from,
            uuid,
            offline,
            ..
        }) => (msg, from, uuid, offline),
        other => panic!("expected RESP_MESSAGE_P2P, got {other:?}"),
    }
}

/// Asserts nothing but beats arrives: a barrier (SYNC) round trip first, then a short
/// grace period for anything in flight from other servers.
pub async fn assert_quiet(c: &mut Client) {
    c.sync().await.expect("sync");
    loop {
        match c.next_event_within(Duration::from_millis(300)).await {
            Err(fishchat_cluster::client::ClientError::Timeout(_)) => return,
            Ok(Event::Beat(_)) => continue,
            Ok(e) => panic!("expected nothing more, got {e:?}"),
            Err(e) => panic!("connection failed: {e}"),
        }
    }
}

/// A raw connection, for bytes no SDK would send.
///
/// [`Raw::connect`] leaves the connection at the original protocol level (it sends no
/// `HELLO`): it gets only the original's frames, and never an `ERROR`. [`Raw::fishchat`]
/// says `HELLO` first, for the tests of our answers (`ERROR`, `SYNC_DONE`, receipts).
pub struct Raw {
    pub stream: TcpStream,
    /// Bytes read but not yet taken as frames: reads are cancelled by timeouts, so what
    /// one read got is kept here rather than lost mid-frame.
    buf: Vec<u8>,
}

/// What a raw connection read within a wait.
#[derive(Debug)]
pub enum Next {
    /// A frame's body.
    Body(Vec<u8>),
    /// The server closed the connection.
    Closed,
    /// Nothing arrived within the wait.
    Silent,
}

impl Raw {
    /// A connection at the original level.
    pub async fn connect(addr: &str) -> Raw {
        Raw {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// A connection at the fishchat level: `HELLO` first, answered `HELLO_OK`.
    pub async fn fishchat(addr: &str) -> Raw {
        let mut raw = Raw::connect(addr).await;
        raw.send(&Command::Hello {
            version: 1,
            client: Some("e2e".into()),
        })
        .await;
        match raw.next_body_within(WAIT).await {
            Next::Body(body) => match Command::from_body(&body) {
                Ok(Command::HelloOk { version, .. }) => assert_eq!(version, 1, "HELLO_OK version"),
                other => panic!(
                    "expected HELLO_OK, got {other:?} ({})",
                    String::from_utf8_lossy(&body)
                ),
            },
            other => panic!("expected HELLO_OK, got {other:?}"),
        }
        raw
    }

    pub async fn send_body(&mut self, body: &[u8]) {
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        self.stream.write_all(&f).await.unwrap();
    }

    pub async fn send(&mut self, c: &Command) {
        let f: Bytes = c.to_frame();
        self.stream.write_all(&f).await.unwrap();
    }

    /// The next frame's body within `within`, whatever it holds.
    pub async fn next_body_within(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.buf.len() >= 4 {
                let len = u32::from_be_bytes(self.buf[..4].try_into().unwrap()) as usize;
                if self.buf.len() >= 4 + len {
                    let body = self.buf[4..4 + len].to_vec();
                    self.buf.drain(..4 + len);
                    return Next::Body(body);
                }
            }
            // `read_buf` is cancel-safe: a timeout loses nothing already read.
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Next::Silent,
                Ok(Ok(0)) | Ok(Err(_)) => return Next::Closed,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next command, or None when the server closed the connection.
    pub async fn recv(&mut self) -> Option<Command> {
        loop {
            match self.next_body_within(WAIT).await {
                Next::Closed => return None,
                Next::Silent => panic!("no frame within {WAIT:?}"),
                Next::Body(body) => match Body::parse(&body).unwrap() {
                    Body::Envelope(e) => return Some(Command::from_envelope(e).unwrap()),
                    Body::Bare(_) => continue,
                },
            }
        }
    }

    pub async fn expect_error(&mut self, code: fishchat_cluster::protocol::ErrorCode) -> String {
        match self.recv().await {
            Some(Command::Error { code: got, detail }) => {
                assert_eq!(got, code, "detail: {detail}");
                detail
            }
            other => panic!("expected ERROR {code}, got {other:?}"),
        }
    }

    /// Whether the server closed the connection (within the wait).
    pub async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(WAIT, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// A store that can be switched "down": every operation then fails with `Unavailable`,
/// as a lost backend would.
pub struct Switchable {
    pub inner: Arc<dyn Store>,
    pub down: AtomicBool,
}

impl Switchable {
    fn check(&self) -> StoreResult<()> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(
                "backend switched off by the test".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl SessionStore for Switchable {
    async fn add_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        self.check()?;
        self.inner.add_session(id, loc).await
    }
    async fn remove_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        self.check()?;
        self.inner.remove_session(id, loc).await
    }
    async fn sessions(&self, id: &str) -> StoreResult<Vec<SessionLoc>> {
        self.check()?;
        self.inner.sessions(id).await
    }
    async fn all_sessions(&self) -> StoreResult<Vec<(String, SessionLoc)>> {
        self.check()?;
        self.inner.all_sessions().await
    }
    async fn clear_server(&self, server: &str) -> StoreResult<u64> {
        self.check()?;
        self.inner.clear_server(server).await
    }
}

#[async_trait]
impl TopicStore for Switchable {
    async fn create_topic(&self, topic: &TopicRecord) -> StoreResult<bool> {
        self.check()?;
        self.inner.create_topic(topic).await
    }
    async fn topic(&self, name: &str) -> StoreResult<Option<TopicRecord>> {
        self.check()?;
        self.inner.topic(name).await
    }
    async fn topics(&self) -> StoreResult<Vec<TopicRecord>> {
        self.check()?;
        self.inner.topics().await
    }
    async fn add_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.add_member(topic, id).await
    }
    async fn members(&self, topic: &str) -> StoreResult<Vec<String>> {
        self.check()?;
        self.inner.members(topic).await
    }
    async fn remove_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.remove_member(topic, id).await
    }
    async fn set_invited(&self, topic: &str, id: &str, invited: bool) -> StoreResult<bool> {
        self.check()?;
        self.inner.set_invited(topic, id, invited).await
    }
    async fn invited(&self, topic: &str) -> StoreResult<Vec<String>> {
        self.check()?;
        self.inner.invited(topic).await
    }
}

#[async_trait]
impl InboxStore for Switchable {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        self.check()?;
        self.inner.push(msg).await
    }
    async fn claim_message_id(&self, uuid: &str, from: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.claim_message_id(uuid, from).await
    }
    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>> {
        self.check()?;
        self.inner.pending(id).await
    }
    async fn pending_count(&self, id: &str) -> StoreResult<u64> {
        self.check()?;
        self.inner.pending_count(id).await
    }
    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        self.check()?;
        self.inner.ack(id, uuid).await
    }
    async fn apply_batch(&self, ops: &[InboxOp]) -> Vec<InboxResult> {
        match self.check() {
            Ok(()) => self.inner.apply_batch(ops).await,
            Err(e) => ops.iter().map(|_| Err(e.clone())).collect(),
        }
    }
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        self.check()?;
        self.inner.pending_total().await
    }
}

#[async_trait]
impl ClientStore for Switchable {
    async fn put_client(&self, client: &ClientRecord) -> StoreResult<()> {
        self.check()?;
        self.inner.put_client(client).await
    }
    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        self.check()?;
        self.inner.client(id).await
    }
    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        self.check()?;
        self.inner.clients().await
    }
}

#[async_trait]
impl AccountStore for Switchable {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        self.check()?;
        self.inner.create_account(account).await
    }
    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        self.check()?;
        self.inner.account(id).await
    }
    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        self.check()?;
        self.inner.accounts().await
    }
    async fn set_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.set_password(id, password_hash).await
    }
    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.delete_account(id).await
    }
    async fn put_device(&self, id: &str, device: &Device) -> StoreResult<bool> {
        self.check()?;
        self.inner.put_device(id, device).await
    }
    async fn touch_device(&self, id: &str, device_id: &str, at_ms: u64) -> StoreResult<bool> {
        self.check()?;
        self.inner.touch_device(id, device_id, at_ms).await
    }
    async fn devices(&self, id: &str) -> StoreResult<Vec<Device>> {
        self.check()?;
        self.inner.devices(id).await
    }
    async fn remove_device(&self, id: &str, device_id: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.remove_device(id, device_id).await
    }
}

#[async_trait]
impl Store for Switchable {
    fn backend(&self) -> &'static str {
        "switchable"
    }
    async fn flush(&self) -> StoreResult<()> {
        self.inner.flush().await
    }
}
