//! The Redis backend's inboxes: a sorted set of messages by push sequence, a hash of them by
//! uuid, each write one Lua script ([`super::scripts`]).

use async_trait::async_trait;
use redis::Script;

use super::layout::{to_json, MessageJson};
use super::RedisStore;
use crate::store::backend::to_u64;
use crate::store::{InboxStore, StoreResult, StoredMessage};

impl RedisStore {
    fn inbox_call<'a>(
        &self,
        script: &'a Script,
        id: &str,
        uuid: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut call = script.key(self.keys.inbox(id));
        call.key(self.keys.inbox_uuids(id))
            .key(self.keys.inbox_seq(id))
            .key(self.keys.inbox_total())
            .arg(uuid);
        call
    }
}

#[async_trait]
impl InboxStore for RedisStore {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        let mut call = self.inbox_call(&self.scripts.push, &msg.to, &msg.uuid);
        call.arg(to_json(&MessageJson::from(msg)));
        let _added: i64 = self.script("push", call).await?;
        Ok(())
    }

    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>> {
        let mut cmd = redis::cmd("ZRANGE");
        cmd.arg(self.keys.inbox(id)).arg(0).arg(-1);
        let items: Vec<String> = self.run("pending", cmd).await?;
        items
            .iter()
            .map(|j| self.decode::<MessageJson>("pending", j).map(Into::into))
            .collect()
    }

    async fn pending_count(&self, id: &str) -> StoreResult<u64> {
        let mut cmd = redis::cmd("ZCARD");
        cmd.arg(self.keys.inbox(id));
        self.run("pending_count", cmd).await
    }

    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        let call = self.inbox_call(&self.scripts.ack, id, uuid);
        let json: Option<String> = self.script("ack", call).await?;
        json.map(|j| self.decode::<MessageJson>("ack", &j).map(Into::into))
            .transpose()
    }

    /// `Poffline_msg_total`, kept by `push` and `ack`: one read.
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.inbox_total());
        let total: Option<i64> = self.run("pending_total", cmd).await?;
        to_u64("pending total", total.unwrap_or(0)).map(Some)
    }
}
