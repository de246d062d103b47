//! The Redis backend's accounts: a hash per account (`P<id>account`), a hash of its devices
//! (`P<id>account_devices`, device id → JSON) and the set of every account id
//! (`Paccount_list`); see the table in [`super`]. Writes that must find the account first, or
//! touch several keys, are one Lua script each ([`super::scripts`]).

use std::collections::HashMap;

use async_trait::async_trait;

use super::layout::{account_from_hash, account_to_hash, to_json, DeviceJson, PASSWORD_HASH};
use super::RedisStore;
use crate::store::{Account, AccountStore, Device, StoreError, StoreResult};

/// How often `touch_device` reads again after the device changed under it, before it gives up
/// as unavailable. Each change it lost to was a whole write to that one device (a sign-in, a
/// revocation), so this seldom loops even once.
const TOUCH_ATTEMPTS: u32 = 16;

impl RedisStore {
    fn account_from(
        &self,
        what: &str,
        fields: HashMap<String, String>,
    ) -> StoreResult<Option<Account>> {
        account_from_hash(fields).map_err(|e| self.corrupt(what, e))
    }
}

#[async_trait]
impl AccountStore for RedisStore {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        let mut call = self
            .scripts
            .create_account
            .key(self.keys.account(&account.id));
        call.key(self.keys.account_list()).arg(&account.id);
        for (field, value) in account_to_hash(account) {
            call.arg(field).arg(value);
        }
        let created: i64 = self.script("create_account", call).await?;
        Ok(created == 1)
    }

    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(self.keys.account(id));
        let fields = self.run("account", cmd).await?;
        self.account_from("account", fields)
    }

    /// The list, then every account's hash in pipelines of a bounded size; an id listed but
    /// deleted meanwhile is left out.
    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let ids = self.smembers("accounts", self.keys.account_list()).await?;
        let mut accounts = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let mut p = redis::pipe();
            for id in chunk {
                p.hgetall(self.keys.account(id));
            }
            let hashes: Vec<HashMap<String, String>> = self.pipe("accounts", p).await?;
            for fields in hashes {
                accounts.extend(self.account_from("accounts", fields)?);
            }
        }
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(accounts)
    }

    async fn set_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        let mut call = self.scripts.set_password.key(self.keys.account(id));
        call.arg(PASSWORD_HASH).arg(password_hash);
        let set: i64 = self.script("set_password", call).await?;
        Ok(set == 1)
    }

    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        let mut call = self.scripts.delete_account.key(self.keys.account(id));
        call.key(self.keys.account_devices(id))
            .key(self.keys.account_list())
            .arg(id);
        let deleted: i64 = self.script("delete_account", call).await?;
        Ok(deleted == 1)
    }

    async fn put_device(&self, id: &str, device: &Device) -> StoreResult<bool> {
        let mut call = self.scripts.put_device.key(self.keys.account(id));
        call.key(self.keys.account_devices(id))
            .arg(&device.device_id)
            .arg(to_json(&DeviceJson::from(device)));
        let put: i64 = self.script("put_device", call).await?;
        Ok(put == 1)
    }

    /// A compare-and-set: reads the device's JSON, and writes it back with the new
    /// `last_used_ms` in one script that checks the account, the device and that JSON are
    /// still what was read (so the JSON is decoded and encoded here, in serde's hands, not in
    /// Lua, whose numbers are doubles). Where it changed between, reads again.
    async fn touch_device(&self, id: &str, device_id: &str, at_ms: u64) -> StoreResult<bool> {
        let what = "touch_device";
        for _ in 0..TOUCH_ATTEMPTS {
            let mut cmd = redis::cmd("HGET");
            cmd.arg(self.keys.account_devices(id)).arg(device_id);
            let Some(read): Option<String> = self.run(what, cmd).await? else {
                return Ok(false);
            };
            let mut device = self.decode::<DeviceJson>(what, &read).map(Device::from)?;
            device.last_used_ms = at_ms;
            let mut call = self.scripts.touch_device.key(self.keys.account(id));
            call.key(self.keys.account_devices(id))
                .arg(device_id)
                .arg(&read)
                .arg(to_json(&DeviceJson::from(&device)));
            match self.script::<i64>(what, call).await? {
                1 => return Ok(true),
                0 => return Ok(false),
                _ => {}
            }
        }
        Err(StoreError::Unavailable(format!(
            "{}: {what}: device {device_id:?} of {id:?} kept changing; try again",
            self.name
        )))
    }

    async fn devices(&self, id: &str) -> StoreResult<Vec<Device>> {
        let mut cmd = redis::cmd("HVALS");
        cmd.arg(self.keys.account_devices(id));
        let records: Vec<String> = self.run("devices", cmd).await?;
        let mut devices = records
            .iter()
            .map(|j| self.decode::<DeviceJson>("devices", j).map(Device::from))
            .collect::<StoreResult<Vec<_>>>()?;
        devices
            .sort_by(|a, b| (a.created_at_ms, &a.device_id).cmp(&(b.created_at_ms, &b.device_id)));
        Ok(devices)
    }

    async fn remove_device(&self, id: &str, device_id: &str) -> StoreResult<bool> {
        let mut cmd = redis::cmd("HDEL");
        cmd.arg(self.keys.account_devices(id)).arg(device_id);
        let removed: i64 = self.run("remove_device", cmd).await?;
        Ok(removed == 1)
    }
}
