//! The embedded store's tables, how their keys and records are laid out, and the writes that
//! keep them consistent with each other (applied by [`super::writer`] inside a transaction).
//!
//! Records are JSON; keys are redb tuples, ordered so that one id's entries are one range
//! (its inbox in push order, its sessions by server then connection, its devices by device id).

use std::collections::HashMap;

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::{
    Account, ClientRecord, Device, SessionLoc, StoreError, StoreResult, StoredMessage, TopicRecord,
};

/// `(receiver, seq) -> StoredMessage` as JSON. `seq` comes from [`COUNTERS`], so a receiver's
/// range is its inbox in push order.
pub(super) const INBOX: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("inbox");
/// `(receiver, uuid) -> seq`: finds the message an ack names, and refuses a duplicate push.
pub(super) const INBOX_INDEX: TableDefinition<(&str, &str), u64> =
    TableDefinition::new("inbox_by_uuid");
/// `receiver -> pending messages`, absent when none, so `pending_count` reads one entry.
pub(super) const INBOX_LEN: TableDefinition<&str, u64> = TableDefinition::new("inbox_len");
/// Named counters; [`NEXT_INBOX_SEQ`] is the only one.
pub(super) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
pub(super) const NEXT_INBOX_SEQ: &str = "next_inbox_seq";
/// `(id, server, conn) -> ()`: one entry per connection, ordered as `sessions` answers.
pub(super) const SESSIONS: TableDefinition<(&str, &str, u64), ()> =
    TableDefinition::new("sessions");
/// `(server, id, conn) -> ()`: the same entries by server, for `clear_server`.
pub(super) const SESSIONS_BY_SERVER: TableDefinition<(&str, &str, u64), ()> =
    TableDefinition::new("sessions_by_server");
/// `name -> TopicRecord` as JSON.
pub(super) const TOPICS: TableDefinition<&str, &[u8]> = TableDefinition::new("topics");
/// `(topic, member) -> ()`.
pub(super) const TOPIC_MEMBERS: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("topic_members");
/// `(topic, id) -> ()`: the ids invited to a topic and not taken back.
pub(super) const TOPIC_INVITED: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("topic_invited");
/// `id -> ClientRecord` as JSON.
pub(super) const CLIENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("clients");
/// `uuid -> sender`: which sender each message id belongs to, kept for good (never pruned by
/// an ack), so that a uuid names one sender's message for ever.
pub(super) const MESSAGE_IDS: TableDefinition<&str, &str> = TableDefinition::new("message_ids");
/// `id -> Account` as JSON.
pub(super) const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
/// `(id, device_id) -> Device` as JSON: one account's devices are one range.
pub(super) const DEVICES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("devices");

// ---------------------------------------------------------------------------------------------
// Writes, applied by the writer thread inside a batch's transaction.

/// Every table, open for writing in one transaction.
pub(super) struct Tables<'txn> {
    inbox: Table<'txn, (&'static str, u64), &'static [u8]>,
    inbox_index: Table<'txn, (&'static str, &'static str), u64>,
    inbox_len: Table<'txn, &'static str, u64>,
    counters: Table<'txn, &'static str, u64>,
    sessions: Table<'txn, (&'static str, &'static str, u64), ()>,
    sessions_by_server: Table<'txn, (&'static str, &'static str, u64), ()>,
    topics: Table<'txn, &'static str, &'static [u8]>,
    topic_members: Table<'txn, (&'static str, &'static str), ()>,
    topic_invited: Table<'txn, (&'static str, &'static str), ()>,
    clients: Table<'txn, &'static str, &'static [u8]>,
    message_ids: Table<'txn, &'static str, &'static str>,
    accounts: Table<'txn, &'static str, &'static [u8]>,
    devices: Table<'txn, (&'static str, &'static str), &'static [u8]>,
    /// [`NEXT_INBOX_SEQ`] as this batch has moved it: read at the first push, written once
    /// by [`Tables::finish`] rather than at every push.
    next_seq: Option<u64>,
    /// How this batch changes each inbox's length, written once per inbox by
    /// [`Tables::finish`]: a batch often pushes or acks many messages of one inbox.
    len_changes: HashMap<String, i64>,
}

impl<'txn> Tables<'txn> {
    pub(super) fn open(txn: &'txn WriteTransaction) -> StoreResult<Self> {
        let what = "opening the tables";
        Ok(Tables {
            inbox: txn.open_table(INBOX).ctx(what)?,
            inbox_index: txn.open_table(INBOX_INDEX).ctx(what)?,
            inbox_len: txn.open_table(INBOX_LEN).ctx(what)?,
            counters: txn.open_table(COUNTERS).ctx(what)?,
            sessions: txn.open_table(SESSIONS).ctx(what)?,
            sessions_by_server: txn.open_table(SESSIONS_BY_SERVER).ctx(what)?,
            topics: txn.open_table(TOPICS).ctx(what)?,
            topic_members: txn.open_table(TOPIC_MEMBERS).ctx(what)?,
            topic_invited: txn.open_table(TOPIC_INVITED).ctx(what)?,
            clients: txn.open_table(CLIENTS).ctx(what)?,
            message_ids: txn.open_table(MESSAGE_IDS).ctx(what)?,
            accounts: txn.open_table(ACCOUNTS).ctx(what)?,
            devices: txn.open_table(DEVICES).ctx(what)?,
            next_seq: None,
            len_changes: HashMap::new(),
        })
    }

    /// Writes what the batch's jobs left to write at the end: the inbox seq counter and the
    /// inbox lengths. Called once, after the last job, before the commit.
    pub(super) fn finish(&mut self) -> StoreResult<()> {
        let what = "finishing a write";
        if let Some(next) = self.next_seq {
            self.counters.insert(NEXT_INBOX_SEQ, next).ctx(what)?;
        }
        for (id, change) in self.len_changes.drain() {
            if change == 0 {
                continue;
            }
            let len = get_u64(&self.inbox_len, &id, what)? as i64 + change;
            if len <= 0 {
                self.inbox_len.remove(id.as_str()).ctx(what)?;
            } else {
                self.inbox_len.insert(id.as_str(), len as u64).ctx(what)?;
            }
        }
        Ok(())
    }

    /// The seq the next pushed message gets (see [`Tables::take_seq`]).
    fn peek_seq(&mut self) -> StoreResult<u64> {
        if let Some(next) = self.next_seq {
            return Ok(next);
        }
        let next = get_u64(&self.counters, NEXT_INBOX_SEQ, "push")?;
        self.next_seq = Some(next);
        Ok(next)
    }

    fn take_seq(&mut self) -> StoreResult<u64> {
        let seq = self.peek_seq()?;
        self.next_seq = Some(seq + 1);
        Ok(seq)
    }

    fn change_len(&mut self, id: &str, by: i64) {
        match self.len_changes.get_mut(id) {
            Some(n) => *n += by,
            None => {
                self.len_changes.insert(id.to_owned(), by);
            }
        }
    }

    pub(super) fn add_session(&mut self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let what = "add_session";
        let server = loc.server.as_str();
        self.sessions.insert((id, server, loc.conn), ()).ctx(what)?;
        self.sessions_by_server
            .insert((server, id, loc.conn), ())
            .ctx(what)?;
        Ok(())
    }

    pub(super) fn remove_session(&mut self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let what = "remove_session";
        let server = loc.server.as_str();
        self.sessions.remove((id, server, loc.conn)).ctx(what)?;
        self.sessions_by_server
            .remove((server, id, loc.conn))
            .ctx(what)?;
        Ok(())
    }

    pub(super) fn clear_server(&mut self, server: &str) -> StoreResult<u64> {
        let what = "clear_server";
        let mut gone = Vec::new();
        for entry in self.sessions_by_server.range((server, "", 0)..).ctx(what)? {
            let (key, _) = entry.ctx(what)?;
            let (s, id, conn) = key.value();
            if s != server {
                break;
            }
            gone.push((id.to_owned(), conn));
        }
        for (id, conn) in &gone {
            self.sessions_by_server
                .remove((server, id.as_str(), *conn))
                .ctx(what)?;
            self.sessions
                .remove((id.as_str(), server, *conn))
                .ctx(what)?;
        }
        Ok(gone.len() as u64)
    }

    pub(super) fn create_topic(&mut self, topic: &TopicRecord) -> StoreResult<bool> {
        let what = "create_topic";
        let name = topic.name.as_str();
        if self.topics.get(name).ctx(what)?.is_some() {
            return Ok(false);
        }
        let record = encode(what, topic)?;
        self.topics.insert(name, record.as_slice()).ctx(what)?;
        self.topic_members
            .insert((name, topic.creator.as_str()), ())
            .ctx(what)?;
        Ok(true)
    }

    /// `NoSuchTopic` unless `topic` exists.
    fn topic_exists(&self, topic: &str, what: &str) -> StoreResult<()> {
        match self.topics.get(topic).ctx(what)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NoSuchTopic(topic.to_owned())),
        }
    }

    pub(super) fn add_member(&mut self, topic: &str, id: &str) -> StoreResult<bool> {
        let what = "add_member";
        self.topic_exists(topic, what)?;
        let before = self.topic_members.insert((topic, id), ()).ctx(what)?;
        Ok(before.is_none())
    }

    pub(super) fn remove_member(&mut self, topic: &str, id: &str) -> StoreResult<bool> {
        let what = "remove_member";
        self.topic_exists(topic, what)?;
        let before = self.topic_members.remove((topic, id)).ctx(what)?;
        Ok(before.is_some())
    }

    pub(super) fn set_invited(
        &mut self,
        topic: &str,
        id: &str,
        invited: bool,
    ) -> StoreResult<bool> {
        let what = "set_invited";
        self.topic_exists(topic, what)?;
        Ok(if invited {
            self.topic_invited
                .insert((topic, id), ())
                .ctx(what)?
                .is_none()
        } else {
            self.topic_invited.remove((topic, id)).ctx(what)?.is_some()
        })
    }

    /// Claims `uuid` for `from`: `true` where it was free or `from`'s already.
    pub(super) fn claim_message_id(&mut self, uuid: &str, from: &str) -> StoreResult<bool> {
        let what = "claim_message_id";
        // One lookup both claims a new id (the common case, once per push of a client-chosen
        // uuid) and finds an owner; another sender's claim (rare) gets its owner back.
        let before = self
            .message_ids
            .insert(uuid, from)
            .ctx(what)?
            .map(|owner| owner.value().to_owned());
        match before {
            Some(owner) if owner != from => {
                self.message_ids.insert(uuid, owner.as_str()).ctx(what)?;
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    pub(super) fn push(&mut self, msg: &StoredMessage) -> StoreResult<()> {
        let what = "push";
        let (to, uuid) = (msg.to.as_str(), msg.uuid.as_str());
        // A client-chosen uuid is claimed in the push's own transaction: refused here,
        // nothing below is written. A server-made uuid is not claimed.
        if msg.claims_uuid && !self.claim_message_id(uuid, &msg.from)? {
            return Err(StoreError::IdTaken(msg.uuid.clone()));
        }
        let record = encode(what, msg)?;
        let seq = self.peek_seq()?;
        // One lookup both finds a duplicate and indexes a new message; a duplicate (rare)
        // gets its old entry back.
        let before = self
            .inbox_index
            .insert((to, uuid), seq)
            .ctx(what)?
            .map(|old| old.value());
        if let Some(old) = before {
            self.inbox_index.insert((to, uuid), old).ctx(what)?;
            return Ok(());
        }
        self.take_seq()?;
        self.inbox.insert((to, seq), record.as_slice()).ctx(what)?;
        self.change_len(to, 1);
        Ok(())
    }

    pub(super) fn ack(&mut self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        let what = "ack";
        let seq = match self.inbox_index.remove((id, uuid)).ctx(what)? {
            Some(seq) => seq.value(),
            None => return Ok(None),
        };
        let msg: StoredMessage = match self.inbox.remove((id, seq)).ctx(what)? {
            Some(record) => decode(what, record.value())?,
            None => {
                return Err(StoreError::Corrupt(format!(
                    "{what}: message {uuid} of {id} is indexed at {seq} but not stored"
                )))
            }
        };
        self.change_len(id, -1);
        Ok(Some(msg))
    }

    pub(super) fn put_client(&mut self, client: &ClientRecord) -> StoreResult<()> {
        let what = "put_client";
        let record = encode(what, client)?;
        self.clients
            .insert(client.id.as_str(), record.as_slice())
            .ctx(what)?;
        Ok(())
    }

    pub(super) fn create_account(&mut self, account: &Account) -> StoreResult<bool> {
        let what = "create_account";
        let id = account.id.as_str();
        if self.accounts.get(id).ctx(what)?.is_some() {
            return Ok(false);
        }
        let record = encode(what, account)?;
        self.accounts.insert(id, record.as_slice()).ctx(what)?;
        Ok(true)
    }

    pub(super) fn set_password(&mut self, id: &str, password_hash: &str) -> StoreResult<bool> {
        let what = "set_password";
        let Some(mut account) = get_json::<Account>(&self.accounts, id, what)? else {
            return Ok(false);
        };
        account.password_hash = password_hash.to_owned();
        let record = encode(what, &account)?;
        self.accounts.insert(id, record.as_slice()).ctx(what)?;
        Ok(true)
    }

    /// Removes the account and, in the same transaction, every device of it.
    pub(super) fn delete_account(&mut self, id: &str) -> StoreResult<bool> {
        let what = "delete_account";
        if self.accounts.remove(id).ctx(what)?.is_none() {
            return Ok(false);
        }
        let mut device_ids = Vec::new();
        for entry in self.devices.range((id, "")..).ctx(what)? {
            let (key, _) = entry.ctx(what)?;
            let (owner, device_id) = key.value();
            if owner != id {
                break;
            }
            device_ids.push(device_id.to_owned());
        }
        for device_id in &device_ids {
            self.devices.remove((id, device_id.as_str())).ctx(what)?;
        }
        Ok(true)
    }

    pub(super) fn put_device(&mut self, id: &str, device: &Device) -> StoreResult<bool> {
        let what = "put_device";
        if self.accounts.get(id).ctx(what)?.is_none() {
            return Ok(false);
        }
        let record = encode(what, device)?;
        self.devices
            .insert((id, device.device_id.as_str()), record.as_slice())
            .ctx(what)?;
        Ok(true)
    }

    /// Rewrites the device's `last_used_ms` only where `(id, device_id)` is stored, read in
    /// this same write transaction: a device removed (or an account deleted) before it is
    /// never written back.
    pub(super) fn touch_device(
        &mut self,
        id: &str,
        device_id: &str,
        at_ms: u64,
    ) -> StoreResult<bool> {
        let what = "touch_device";
        let mut device: Device = match self.devices.get((id, device_id)).ctx(what)? {
            Some(record) => decode(what, record.value())?,
            None => return Ok(false),
        };
        device.last_used_ms = at_ms;
        let record = encode(what, &device)?;
        self.devices
            .insert((id, device_id), record.as_slice())
            .ctx(what)?;
        Ok(true)
    }

    pub(super) fn remove_device(&mut self, id: &str, device_id: &str) -> StoreResult<bool> {
        let what = "remove_device";
        Ok(self.devices.remove((id, device_id)).ctx(what)?.is_some())
    }
}

// ---------------------------------------------------------------------------------------------
// Reads, shared by read transactions and the writer's tables.

pub(super) fn get_u64(
    table: &impl ReadableTable<&'static str, u64>,
    key: &str,
    what: &str,
) -> StoreResult<u64> {
    Ok(table.get(key).ctx(what)?.map_or(0, |v| v.value()))
}

pub(super) fn get_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
    what: &str,
) -> StoreResult<Option<T>> {
    match table.get(key).ctx(what)? {
        Some(record) => decode(what, record.value()).map(Some),
        None => Ok(None),
    }
}

pub(super) fn all_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    what: &str,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    for entry in table.iter().ctx(what)? {
        let (_, record) = entry.ctx(what)?;
        out.push(decode(what, record.value())?);
    }
    Ok(out)
}

pub(super) fn encode<T: Serialize>(what: &str, value: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| StoreError::Corrupt(format!("{what}: cannot encode: {e}")))
}

pub(super) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("{what}: cannot decode a stored record: {e}")))
}

/// Maps a redb error to a [`StoreError`], saying what was being done.
pub(super) trait Context<T> {
    fn ctx(self, what: &str) -> StoreResult<T>;
}

impl<T, E: Into<redb::Error>> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> StoreResult<T> {
        self.map_err(|e| match e.into() {
            e @ (redb::Error::Corrupted(_)
            | redb::Error::TableIsMultimap(_)
            | redb::Error::TableIsNotMultimap(_)
            | redb::Error::TypeDefinitionChanged { .. }) => {
                StoreError::Corrupt(format!("{what}: {e}"))
            }
            e => StoreError::Unavailable(format!("{what}: {e}")),
        })
    }
}
