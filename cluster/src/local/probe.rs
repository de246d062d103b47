//! Waiting for a role to be ready: asked with `ROLE_STATUS` until it says every msg_server
//! it links to is up.

use std::time::Duration;

use super::StartError;
use crate::client::role_status;

/// Asks a role for `ROLE_STATUS` until every msg_server it links to is up.
pub async fn wait_ready(role: &str, addr: &str, timeout: Duration) -> Result<(), StartError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = match role_status(addr).await {
            Ok(data) => {
                let servers = data["msg_servers"].as_array().cloned().unwrap_or_default();
                let down: Vec<String> = servers
                    .iter()
                    .filter(|s| s["up"] != serde_json::Value::Bool(true))
                    .filter_map(|s| s["addr"].as_str().map(str::to_string))
                    .collect();
                if down.is_empty() {
                    return Ok(());
                }
                format!("msg_servers not linked yet: {}", down.join(", "))
            }
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(StartError::NotReady {
                role: role.to_string(),
                addr: addr.to_string(),
                detail: last,
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
