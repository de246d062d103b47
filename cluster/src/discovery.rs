//! Finding a cluster: `cluster.json`, the file a local cluster (`fishchat up`) writes to
//! say where its roles are and which secret they share. The admin tools and the chat
//! client read it; [`crate::local`] writes it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a cluster file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a cluster file: {source}", path.display())]
    NotAClusterFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// `cluster.json`: where a local cluster's roles are, for the admin tools and the TUI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterFile {
    pub gateway: String,
    pub msg_servers: Vec<String>,
    pub router: String,
    pub manager: String,
    /// The monitor role, where one runs.
    pub monitor: Option<String>,
    /// The monitor's web dashboard, where one runs.
    pub web: Option<String>,
    pub secret: String,
}

impl ClusterFile {
    pub fn read(path: &Path) -> Result<ClusterFile, DiscoveryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DiscoveryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| DiscoveryError::NotAClusterFile {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the file atomically (a reader never sees half of it), readable by the owner
    /// only, since it holds the secret.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a cluster file serializes");
        crate::private::write_atomic(path, (text + "\n").as_bytes())
    }
}
