//! Accounts: `REGISTER`, `LOGIN`, `LOGOUT`, `DEVICES`, `REVOKE`, `PASSWD`, `ACCOUNT`, and the
//! operators' `USER_*` and `KICK_USER`.

use crate::protocol::account::DeviceInfo;
use crate::store::Device;

/// A device as clients and operators see it: never its token's hash.
pub(crate) fn device_info(d: &Device, current: Option<&str>) -> DeviceInfo {
    DeviceInfo {
        device_id: d.device_id.clone(),
        name: d.name.clone(),
        created_at_ms: d.created_at_ms,
        last_used_ms: d.last_used_ms,
        current: current == Some(d.device_id.as_str()),
    }
}
