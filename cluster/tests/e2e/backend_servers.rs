//! Real backend servers for tests: `redis-server`, and a MongoDB-wire server (`nx-27017`,
//! or a real `mongod`), each on a free loopback port with a temp directory, stopped by its
//! guard's `Drop`.
//!
//! Where the server's program is missing, [`RedisServer::start`] and [`MongoServer::start`]
//! answer `None` after a loud SKIPPED line on stderr, except under
//! `FISHCHAT_REQUIRE_BACKENDS=1` (CI), where a missing backend fails the test.
//!
//! Programs are found through `FISHCHAT_REDIS_SERVER` / `FISHCHAT_MONGO_SERVER` (a path), or
//! on `PATH` (`redis-server`; `nx-27017`, then `mongod`). DEVELOPERS.md says how to install
//! them. The file is also compiled into the CLI's tests (`#[path]`), so it uses nothing but
//! std, tokio and tempfile.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(20);

fn required() -> bool {
    std::env::var("FISHCHAT_REQUIRE_BACKENDS").is_ok_and(|v| v == "1")
}

/// Finds `program`: the path in `env_var`, else the first of `names` on `PATH`.
fn find(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{env_var}={} does not name a file; unset it or point it at the server program",
            p.display()
        );
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Where the program is missing: fail under `FISHCHAT_REQUIRE_BACKENDS=1`, else say so
/// loudly (the caller then skips).
fn missing(what: &str, env_var: &str, test: &str) {
    let msg = format!("{what} not found (set {env_var} or put it on PATH; see DEVELOPERS.md)");
    if required() {
        panic!("FISHCHAT_REQUIRE_BACKENDS=1 and {msg}");
    }
    // Straight to the process's stderr: `eprintln!` would be captured, and so unseen, in a
    // test that passes.
    let _ = writeln!(std::io::stderr(), "\n!!!!! SKIPPED {test}: {msg} !!!!!\n");
}

/// A port the OS says is free now. The server is started on it at once; [`start_on_free_port`]
/// tries again where another process took it in between.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .unwrap()
        .port()
}

/// One server process with its data directory.
struct Process {
    program: PathBuf,
    args: Vec<String>,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    name: &'static str,
}

impl Process {
    fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the server accepts connections and `ready` says it answers.
    fn wait_ready(&mut self, ready: fn(u16) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!("{} exited at start ({status})", self.name));
                }
            }
            if ready(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not accept connections on port {} within {START_TIMEOUT:?}",
                    self.name, self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start(&mut self, ready: fn(u16) -> bool) -> Result<(), String> {
        self.spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        self.wait_ready(ready).inspect_err(|_| self.kill())
    }

    /// SIGKILL, as a crash or a lost machine would; waits until the process is gone.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a server on a free port, trying a few ports where one was taken meanwhile.
fn start_on_free_port(
    name: &'static str,
    program: PathBuf,
    args: impl Fn(u16, &Path) -> Vec<String>,
    ready: fn(u16) -> bool,
) -> Process {
    let mut last = String::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut p = Process {
            args: args(port, dir.path()),
            program: program.clone(),
            dir,
            port,
            child: None,
            name,
        };
        match p.start(ready) {
            Ok(()) => return p,
            Err(e) => last = format!("{e}; its log:\n{}", p.log_text()),
        }
    }
    panic!("{last}");
}

/// Sends `request` to the port and reads until `want` is in the answer (or 2 s pass).
fn answers(port: u16, request: &[u8], want: &[u8]) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if !request.is_empty() && s.write_all(request).is_err() {
        return false;
    }
    if want.is_empty() {
        return true;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(want.len()).any(|w| w == want) {
            return true;
        }
    }
    false
}

fn redis_ready(port: u16) -> bool {
    answers(port, b"PING\r\n", b"+PONG")
}

/// A MongoDB-wire server has no plain-text ping; accepting a connection is what is asked.
fn mongo_ready(port: u16) -> bool {
    answers(port, b"", b"")
}

/// A `redis-server` of its own, persisting every write (append-only file, fsync always), so
/// that [`RedisServer::restart`] after [`RedisServer::kill`] finds everything it accepted.
pub struct RedisServer {
    p: Process,
}

impl RedisServer {
    /// Starts one, or answers `None` (skipping loudly) where `redis-server` is missing.
    pub fn start(test: &str) -> Option<RedisServer> {
        let Some(program) = find("FISHCHAT_REDIS_SERVER", &["redis-server"]) else {
            missing("redis-server", "FISHCHAT_REDIS_SERVER", test);
            return None;
        };
        let p = start_on_free_port(
            "redis-server",
            program,
            |port, dir| {
                [
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    &dir.display().to_string(),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                ]
                .map(String::from)
                .to_vec()
            },
            redis_ready,
        );
        Some(RedisServer { p })
    }

    pub fn port(&self) -> u16 {
        self.p.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.p.port)
    }

    /// SIGKILL: the server is lost.
    pub fn kill(&mut self) {
        self.p.kill();
    }

    /// Starts it again on the same port and data, after [`Self::kill`].
    pub fn restart(&mut self) {
        self.p.kill();
        self.p.start(redis_ready).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Where `redis-cli` is, next to the server program or on `PATH`.
    pub fn cli(&self) -> Option<PathBuf> {
        let beside = self.p.program.with_file_name("redis-cli");
        beside
            .is_file()
            .then_some(beside)
            .or_else(|| find("FISHCHAT_REDIS_CLI", &["redis-cli"]))
    }
}

/// A MongoDB-wire server of its own: `nx-27017` (SQLite underneath) or a real `mongod`.
pub struct MongoServer {
    p: Process,
    ready: fn(u16) -> bool,
}

impl MongoServer {
    /// Starts one, or answers `None` (skipping loudly) where no server program is found.
    pub fn start(test: &str) -> Option<MongoServer> {
        let Some(program) = find("FISHCHAT_MONGO_SERVER", &["nx-27017", "mongod"]) else {
            missing("nx-27017 (or mongod)", "FISHCHAT_MONGO_SERVER", test);
            return None;
        };
        let is_mongod = program
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("mongod"));
        let p = start_on_free_port(
            if is_mongod { "mongod" } else { "nx-27017" },
            program,
            move |port, dir| {
                let port = port.to_string();
                let dir = dir.display().to_string();
                if is_mongod {
                    [
                        "--port",
                        &port,
                        "--bind_ip",
                        "127.0.0.1",
                        "--dbpath",
                        &dir,
                        "--quiet",
                    ]
                    .map(String::from)
                    .to_vec()
                } else {
                    let file = |name: &str| format!("{dir}/{name}");
                    [
                        "--host",
                        "127.0.0.1",
                        "-p",
                        &port,
                        "--data-dir",
                        &dir,
                        "--log-file",
                        &file("nx.log"),
                        "--pid-file",
                        &file("nx.pid"),
                    ]
                    .map(String::from)
                    .to_vec()
                }
            },
            mongo_ready,
        );
        Some(MongoServer {
            p,
            ready: mongo_ready,
        })
    }

    pub fn port(&self) -> u16 {
        self.p.port
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("mongodb://127.0.0.1:{}/{db}", self.p.port)
    }

    /// SIGKILL: the server is lost.
    pub fn kill(&mut self) {
        self.p.kill();
    }

    /// Starts it again on the same port and data, after [`Self::kill`].
    pub fn restart(&mut self) {
        self.p.kill();
        self.p.start(self.ready).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A Python with pymongo: the one beside `nx-27017` in its venv, else `python3` on
    /// `PATH`, where `import pymongo` works there.
    pub fn python_with_pymongo(&self) -> Option<PathBuf> {
        let beside = self.p.program.with_file_name("python");
        [Some(beside), find("FISHCHAT_PYTHON", &["python3"])]
            .into_iter()
            .flatten()
            .find(|py| {
                Command::new(py)
                    .args(["-c", "import pymongo"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
    }
}
