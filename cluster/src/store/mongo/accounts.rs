//! The MongoDB backend's accounts: one document per account in `accounts`, its devices in it
//! (see the table in [`super`]).
//!
//! Devices in the account's own document make `delete_account` one write that takes them
//! too, and `put_device` unable to add one to an account that is gone. Without transactions,
//! and without relying on array update operators (`$`, `$ne` on array fields) that not every
//! MongoDB-wire server answers alike, a device change is a compare-and-set: read `Devices`
//! and `Rev`, change the list, and write it back with `Rev + 1` only where `Rev` is still the
//! one read; where another change came between, wait a short random while (so that the
//! racers spread out rather than collide again) and read again. Changes to one account's
//! devices are rare (a sign-in, a revocation), so this seldom loops.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{self, doc};
use rand::Rng;

use super::docs::{AccountDoc, DeviceDoc, DevicesDoc};
use super::{unless_duplicate, MongoStore, ACCOUNTS};
use crate::store::backend::to_i64;
use crate::store::{Account, AccountStore, Device, StoreError, StoreResult};

/// How often a device change reads again after losing a race, before it gives up as
/// unavailable.
const DEVICE_CHANGE_ATTEMPTS: u32 = 32;
/// The longest wait before reading again; the first waits are shorter (up to a tenth of it,
/// growing with each lost race).
const DEVICE_CHANGE_MAX_WAIT: Duration = Duration::from_millis(50);

impl MongoStore {
    /// The devices of `id` and their revision; `None` where there is no such account.
    async fn read_devices(&self, what: &str, id: &str) -> StoreResult<Option<DevicesDoc>> {
        let coll = self.coll::<DevicesDoc>(ACCOUNTS);
        self.op(
            what,
            coll.find_one(doc! {"_id": id})
                .projection(doc! {"Devices": 1, "Rev": 1}),
        )
        .await
    }

    /// Applies `change` to the devices of `id` by compare-and-set on `Rev` (see the module
    /// documentation). `change` answers `false` where it changes nothing, which is then
    /// answered without a write; `Ok(false)` as well where there is no such account.
    async fn change_devices(
        &self,
        what: &str,
        id: &str,
        change: impl Fn(&mut Vec<DeviceDoc>) -> bool,
    ) -> StoreResult<bool> {
        let coll = self.coll::<AccountDoc>(ACCOUNTS);
        for attempt in 0..DEVICE_CHANGE_ATTEMPTS {
            if attempt > 0 {
                let ceiling = DEVICE_CHANGE_MAX_WAIT.min(DEVICE_CHANGE_MAX_WAIT * attempt / 10);
                let wait = rand::rng().random_range(Duration::ZERO..=ceiling);
                tokio::time::sleep(wait).await;
            }
            let Some(mut read) = self.read_devices(what, id).await? else {
                return Ok(false);
            };
            if !change(&mut read.devices) {
                return Ok(false);
            }
            let devices = bson::to_bson(&read.devices).map_err(|e| self.corrupt(what, e))?;
            let r = self
                .op(
                    what,
                    coll.update_one(
                        doc! {"_id": id, "Rev": read.rev},
                        doc! {"$set": {"Devices": devices, "Rev": read.rev + 1}},
                    ),
                )
                .await?;
            if r.matched_count == 1 {
                return Ok(true);
            }
        }
        Err(StoreError::Unavailable(format!(
            "{}: {what}: the devices of {id:?} kept changing; try again",
            self.name
        )))
    }
}

#[async_trait]
impl AccountStore for MongoStore {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        let coll = self.coll::<AccountDoc>(ACCOUNTS);
        // `_id` is the id: a second account for it is a duplicate key.
        unless_duplicate(
            self,
            "create_account",
            coll.insert_one(AccountDoc::new(account)?),
        )
        .await
    }

    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        let coll = self.coll::<AccountDoc>(ACCOUNTS);
        self.op(
            "account",
            coll.find_one(doc! {"_id": id})
                .projection(doc! {"Devices": 0}),
        )
        .await?
        .map(|d| d.record())
        .transpose()
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let coll = self.coll::<AccountDoc>(ACCOUNTS);
        let docs: Vec<AccountDoc> = self
            .op("accounts", async move {
                coll.find(doc! {})
                    .projection(doc! {"Devices": 0})
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        let mut accounts = docs
            .iter()
            .map(AccountDoc::record)
            .collect::<StoreResult<Vec<_>>>()?;
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(accounts)
    }

    /// One `$set` of the hash: it leaves `Devices` and `Rev` alone, so it never races a device
    /// change.
    async fn set_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        let coll = self.coll::<AccountDoc>(ACCOUNTS);
        let r = self
            .op(
                "set_password",
                coll.update_one(
                    doc! {"_id": id},
                    doc! {"$set": {"PasswordHash": password_hash}},
                ),
            )
            .await?;
        Ok(r.matched_count == 1)
    }

    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        let coll = self.coll::<AccountDoc>(ACCOUNTS);
        let r = self
            .op("delete_account", coll.delete_one(doc! {"_id": id}))
            .await?;
        Ok(r.deleted_count == 1)
    }

    async fn put_device(&self, id: &str, device: &Device) -> StoreResult<bool> {
        let new = DeviceDoc::new(device)?;
        self.change_devices("put_device", id, |devices| {
            devices.retain(|d| d.device_id != new.device_id);
            devices.push(new.clone());
            true
        })
        .await
    }

    /// Changes only a device that is there, never adding one: where a removal (or the
    /// account's deletion) came first, nothing is written; where it comes between the read and
    /// the write, `Rev` has moved and the next read no longer finds the device.
    async fn touch_device(&self, id: &str, device_id: &str, at_ms: u64) -> StoreResult<bool> {
        let at_ms = to_i64("device last use time", at_ms)?;
        self.change_devices("touch_device", id, |devices| {
            match devices.iter_mut().find(|d| d.device_id == device_id) {
                Some(device) => {
                    device.last_used_ms = at_ms;
                    true
                }
                None => false,
            }
        })
        .await
    }

    async fn devices(&self, id: &str) -> StoreResult<Vec<Device>> {
        let Some(read) = self.read_devices("devices", id).await? else {
            return Ok(Vec::new());
        };
        let mut devices = read
            .devices
            .iter()
            .map(DeviceDoc::record)
            .collect::<StoreResult<Vec<_>>>()?;
        devices
            .sort_by(|a, b| (a.created_at_ms, &a.device_id).cmp(&(b.created_at_ms, &b.device_id)));
        Ok(devices)
    }

    async fn remove_device(&self, id: &str, device_id: &str) -> StoreResult<bool> {
        self.change_devices("remove_device", id, |devices| {
            let before = devices.len();
            devices.retain(|d| d.device_id != device_id);
            devices.len() != before
        })
        .await
    }
}
