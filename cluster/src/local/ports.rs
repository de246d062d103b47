//! Which ports a local cluster binds: the seed's (plus an offset), or any the OS chooses.

/// The seed's ports: gateway 17000, manager 18000, msg_servers 19000 and up, router 20000.
pub const SEED_GATEWAY: u16 = 17000;
pub const SEED_MANAGER: u16 = 18000;
pub const SEED_MSG_SERVER: u16 = 19000;
pub const SEED_ROUTER: u16 = 20000;
pub const SEED_MONITOR: u16 = 21000;
pub const SEED_WEB: u16 = 30000;

/// Why the seed's ports cannot be used as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortsError {
    #[error("port offset {offset} takes port {port} past 65535")]
    PastTheEnd { offset: u16, port: u16 },
    #[error("at most {0} msg_servers fit between the seed's ports")]
    TooMany(u16),
}

/// The ports to bind; 0 lets the OS choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    pub gateway: u16,
    pub manager: u16,
    pub msg_servers: Vec<u16>,
    pub router: u16,
    /// The monitor's role port (answers `ROLE_STATUS`).
    pub monitor: u16,
    /// The monitor's web dashboard.
    pub web: u16,
}

impl Ports {
    /// The seed's ports plus `offset`, with `msg_servers` msg_servers.
    pub fn seed(offset: u16, msg_servers: usize) -> Result<Ports, PortsError> {
        let add = |p: u16| {
            p.checked_add(offset)
                .ok_or(PortsError::PastTheEnd { offset, port: p })
        };
        // msg_servers count up from 19000 and must not run into the router at 20000.
        let room = SEED_ROUTER - SEED_MSG_SERVER;
        let mut servers = Vec::new();
        for i in 0..msg_servers {
            let i = u16::try_from(i).map_err(|_| PortsError::TooMany(room))?;
            servers.push(add(SEED_MSG_SERVER
                .checked_add(i)
                .ok_or(PortsError::TooMany(room))?)?);
        }
        if msg_servers > usize::from(room) {
            return Err(PortsError::TooMany(room));
        }
        Ok(Ports {
            gateway: add(SEED_GATEWAY)?,
            manager: add(SEED_MANAGER)?,
            msg_servers: servers,
            router: add(SEED_ROUTER)?,
            monitor: add(SEED_MONITOR)?,
            web: add(SEED_WEB)?,
        })
    }

    /// Every port chosen by the OS.
    pub fn any(msg_servers: usize) -> Ports {
        Ports {
            gateway: 0,
            manager: 0,
            msg_servers: vec![0; msg_servers],
            router: 0,
            monitor: 0,
            web: 0,
        }
    }
}
