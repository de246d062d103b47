//! What lets many connections fit on one machine, and what says which limit stopped them.
//!
//! - The open-file limit (`RLIMIT_NOFILE`): raised as far as this process may.
//! - Source addresses: a loopback connection bound to `127.0.0.x` draws its port from that
//!   address's ephemeral range (about 28,000 ports), so spreading clients over several
//!   `127.0.0.x` lets 50,000 and more reach one server port.
//! - `/proc`: a server's memory (`VmRSS`) and open files, given its pid.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpSocket, TcpStream};

/// This process's open-file limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    pub soft: u64,
    pub hard: u64,
}

/// The open-file limit now.
pub fn file_limit() -> io::Result<FileLimit> {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(FileLimit {
        soft: l.rlim_cur,
        hard: l.rlim_max,
    })
}

fn set_file_limit(soft: u64, hard: u64) -> io::Result<()> {
    let l = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads one rlimit from the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the open-file limit to at least `want` where this process may: the soft limit
/// up to the hard one, and the hard one too where the process has the privilege
/// (`CAP_SYS_RESOURCE`). Returns the limit it ends with, which may be below `want`.
pub fn raise_file_limit(want: u64) -> FileLimit {
    let Ok(now) = file_limit() else {
        return FileLimit { soft: 0, hard: 0 };
    };
    if now.soft >= want {
        return now;
    }
    if want > now.hard && set_file_limit(want, want).is_ok() {
        return file_limit().unwrap_or(now);
    }
    let _ = set_file_limit(want.min(now.hard), now.hard);
    file_limit().unwrap_or(now)
}

/// The ephemeral port range, `net.ipv4.ip_local_port_range`.
pub fn port_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|p| p.parse().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999))
}

/// The source addresses client sockets are spread over.
pub struct Sources {
    addrs: Vec<Ipv4Addr>,
    next: AtomicUsize,
}

impl Sources {
    /// Enough `127.0.0.x` addresses for `clients` connections to `target` (or `explicit`
    /// many), where `target` is an IPv4 loopback address; none (the OS chooses) otherwise.
    pub fn for_target(target: SocketAddr, clients: usize, explicit: Option<usize>) -> Sources {
        let loopback = matches!(target.ip(), IpAddr::V4(ip) if ip.is_loopback());
        let count = match explicit {
            Some(n) => n,
            None if !loopback => 0,
            None => {
                let (lo, hi) = port_range();
                // Leave room for everything else on the machine using the range.
                let per_source = (usize::from(hi.saturating_sub(lo)) * 8 / 10).max(1000);
                clients.div_ceil(per_source)
            }
        };
        let count = if loopback { count.min(254) } else { 0 };
        Sources {
            addrs: (0..count)
                .map(|i| Ipv4Addr::new(127, 0, 0, 1 + i as u8))
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next source address, round robin; `None` when the OS chooses.
    pub fn pick(&self) -> Option<Ipv4Addr> {
        if self.addrs.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.addrs[i % self.addrs.len()])
    }

    /// How many addresses; 0 when the OS chooses.
    pub fn count(&self) -> usize {
        self.addrs.len()
    }
}

/// Connects to `addr`, from `src` where given, with Nagle off.
pub async fn connect(addr: SocketAddr, src: Option<Ipv4Addr>) -> io::Result<TcpStream> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let (Some(ip), SocketAddr::V4(_)) = (src, addr) {
        bind_without_port(&socket);
        socket.bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Lets the kernel pick the port at connect time rather than at bind, so a port is only
/// needed per destination (Linux's `IP_BIND_ADDRESS_NO_PORT`); best effort.
#[cfg(target_os = "linux")]
fn bind_without_port(socket: &TcpSocket) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket fd, and an int option of the size we pass.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn bind_without_port(_: &TcpSocket) {}

/// Which limit a failed connect ran into, in words, with what to do about it.
pub fn explain_connect_error(e: &io::Error, src: Option<Ipv4Addr>) -> String {
    let limit = file_limit().ok();
    match e.raw_os_error() {
        Some(libc::EMFILE) => format!(
            "this tool's open-file limit (RLIMIT_NOFILE {}): raise it with `ulimit -n` \
             (above the hard limit of {} only root can, e.g. `ulimit -Hn 200000` before starting)",
            limit.map_or("?".into(), |l| l.soft.to_string()),
            limit.map_or("?".into(), |l| l.hard.to_string()),
        ),
        Some(libc::ENFILE) => {
            "the system-wide open-file limit (fs.file-max): raise it with sysctl".to_string()
        }
        Some(libc::EADDRNOTAVAIL) | Some(libc::EADDRINUSE) => {
            let (lo, hi) = port_range();
            format!(
                "no free source port{} (net.ipv4.ip_local_port_range is {lo}-{hi}): spread \
                 the clients over more source addresses with --sources",
                src.map(|s| format!(" on {s}")).unwrap_or_default()
            )
        }
        Some(libc::ENOBUFS) | Some(libc::ENOMEM) => {
            "kernel memory for sockets (net.ipv4.tcp_mem): the machine is out of it".to_string()
        }
        Some(libc::ECONNREFUSED) => "the server refused the connection: it is not listening, \
             or its accept backlog (net.core.somaxconn) is full"
            .to_string(),
        _ => format!("the connection failed: {e}"),
    }
}

/// A process's resident memory in bytes, from `/proc/PID/status` (`VmRSS`).
pub fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("/proc/{pid}/status has no VmRSS line"),
            )
        })
}

/// A process's open files and its open-file limit (soft), from `/proc`.
pub fn open_files(pid: u32) -> io::Result<(u64, Option<u64>)> {
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64;
    let limit = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        });
    Ok((open, limit))
}

/// Why a server may have stopped taking connections, from what `/proc` says of it.
pub fn explain_server(pid: u32) -> Option<String> {
    let (open, limit) = open_files(pid).ok()?;
    let limit = limit?;
    (open + 16 >= limit).then(|| {
        format!(
            "the server's open-file limit: process {pid} has {open} files open of its limit of \
             {limit}; start it with a higher `ulimit -n` (as root `ulimit -Hn` first, or \
             `prlimit --pid {pid} --nofile=N:N`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_spread_loopback_clients_only() {
        let lo: SocketAddr = "127.0.0.1:19000".parse().unwrap();
        let s = Sources::for_target(lo, 10, None);
        assert_eq!(s.count(), 1);
        let s = Sources::for_target(lo, 60_000, None);
        assert!(s.count() >= 3, "{}", s.count());
        let picks: Vec<_> = (0..4).map(|_| s.pick().unwrap()).collect();
        assert_eq!(picks[0], Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(picks[1], Ipv4Addr::new(127, 0, 0, 2));
        let far: SocketAddr = "10.1.2.3:19000".parse().unwrap();
        assert_eq!(Sources::for_target(far, 60_000, Some(4)).pick(), None);
        assert_eq!(Sources::for_target(lo, 1, Some(4)).count(), 4);
    }

    #[test]
    fn reads_this_process_from_proc() {
        let me = std::process::id();
        assert!(rss_bytes(me).unwrap() > 0);
        let (open, limit) = open_files(me).unwrap();
        assert!(open > 0);
        assert_eq!(limit, Some(file_limit().unwrap().soft));
        assert!(rss_bytes(u32::MAX).is_err());
    }

    #[test]
    fn raising_never_lowers() {
        let before = file_limit().unwrap();
        let after = raise_file_limit(before.soft + 1);
        assert!(after.soft >= before.soft);
        assert!(after.soft >= (before.soft + 1).min(after.hard));
    }

    #[test]
    fn names_the_limit() {
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        assert!(explain_connect_error(&e, None).contains("open-file limit"));
        let e = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        let why = explain_connect_error(&e, Some(Ipv4Addr::new(127, 0, 0, 3)));
        assert!(
            why.contains("127.0.0.3") && why.contains("--sources"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn connects_from_another_loopback_address() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let src = Ipv4Addr::new(127, 0, 0, 2);
        let (c, accepted) = tokio::join!(connect(addr, Some(src)), l.accept());
        let c = c.unwrap();
        assert_eq!(c.local_addr().unwrap().ip(), IpAddr::V4(src));
        assert_eq!(accepted.unwrap().1.ip(), IpAddr::V4(src));
    }
}
