//! The Redis backend's inboxes: a sorted set of messages by push sequence, a hash of them by
//! uuid, each push and each ack one Lua script ([`super::scripts`]); and the message ids,
//! which a push of a client-chosen uuid claims inside its script.
//!
//! Pushes and acks go through [`RedisStore::inbox_calls`], one trip for however many: a batch
//! ([`InboxStore::apply_batch`]) is one pipeline, wrapped in one MULTI.

use async_trait::async_trait;
use redis::{ErrorKind, RedisResult, Script, ScriptInvocation, ServerErrorKind, Value};

use super::layout::{to_json, MessageJson};
use super::RedisStore;
use crate::store::backend::to_u64;
use crate::store::{InboxOp, InboxResult, InboxStore, StoreError, StoreResult, StoredMessage};

/// Which inbox script a call runs, and so how its answer reads.
#[derive(Clone, Copy)]
enum InboxScript<'a> {
    /// A push of the message `uuid`, refused where it claims the uuid and the uuid is another
    /// sender's.
    Push {
        uuid: &'a str,
    },
    Ack,
}

impl RedisStore {
    fn inbox_call<'a>(&self, script: &'a Script, id: &str, uuid: &str) -> ScriptInvocation<'a> {
        let mut call = script.key(self.keys.inbox(id));
        call.key(self.keys.inbox_uuids(id))
            .key(self.keys.inbox_seq(id))
            .key(self.keys.inbox_total())
            .arg(uuid);
        call
    }

    fn push_call<'a>(&'a self, msg: &'a StoredMessage) -> (InboxScript<'a>, ScriptInvocation<'a>) {
        let mut call = self.inbox_call(&self.scripts.push, &msg.to, &msg.uuid);
        // An empty sender: the uuid is the server's, not claimed (see the script).
        let claimant = if msg.claims_uuid {
            msg.from.as_str()
        } else {
            ""
        };
        call.key(self.keys.message_id(&msg.uuid))
            .arg(to_json(&MessageJson::from(msg)))
            .arg(claimant);
        (InboxScript::Push { uuid: &msg.uuid }, call)
    }

    fn ack_call(&self, id: &str, uuid: &str) -> (InboxScript<'static>, ScriptInvocation<'_>) {
        (
            InboxScript::Ack,
            self.inbox_call(&self.scripts.ack, id, uuid),
        )
    }

    /// Runs inbox scripts in order, in one trip, and answers each call in its place.
    ///
    /// Where Redis does not know a script (it restarted, or its scripts were flushed), a call to
    /// it fails with NOSCRIPT and changes nothing; both inbox scripts are then loaded, together,
    /// and those calls sent again. Several calls go in one MULTI, where every call sees the
    /// same scripts; as the two are only ever loaded together, either every call found its
    /// script or none did, so the calls sent again keep their order.
    async fn inbox_calls(
        &self,
        what: &str,
        calls: &[(InboxScript<'_>, ScriptInvocation<'_>)],
    ) -> Vec<InboxResult> {
        let mut replies: Vec<StoreResult<RedisResult<Value>>> =
            match self.send_calls(what, calls.iter().map(|(_, c)| c)).await {
                Ok(replies) => replies.into_iter().map(Ok).collect(),
                Err(e) => return calls.iter().map(|_| Err(e.clone())).collect(),
            };
        let again: Vec<usize> = (0..replies.len())
            .filter(|&i| matches!(&replies[i], Ok(Err(e)) if no_script(e)))
            .collect();
        if !again.is_empty() {
            let sent = match self.load_inbox_scripts(what).await {
                Ok(()) => {
                    self.send_calls(what, again.iter().map(|&i| &calls[i].1))
                        .await
                }
                Err(e) => Err(e),
            };
            match sent {
                Ok(retried) => {
                    for (&i, reply) in again.iter().zip(retried) {
                        replies[i] = Ok(reply);
                    }
                }
                Err(e) => {
                    for &i in &again {
                        replies[i] = Err(e.clone());
                    }
                }
            }
        }
        calls
            .iter()
            .zip(replies)
            .map(|((script, _), reply)| self.answer(what, *script, reply))
            .collect()
    }

    /// Sends `calls` in one pipeline (in one MULTI where there are several), and gives back
    /// each one's reply: one per call, in order. `Err` where the pipeline itself failed.
    async fn send_calls<'c>(
        &self,
        what: &str,
        calls: impl ExactSizeIterator<Item = &'c ScriptInvocation<'c>>,
    ) -> StoreResult<Vec<RedisResult<Value>>> {
        let n = calls.len();
        let mut p = redis::pipe();
        if n > 1 {
            p.atomic();
        }
        p.ignore_errors();
        for call in calls {
            p.invoke_script(call);
        }
        let replies: Vec<RedisResult<Value>> = self.pipe(what, p).await?;
        if replies.len() != n {
            return Err(self.corrupt(what, format!("{n} scripts sent, {} answers", replies.len())));
        }
        Ok(replies)
    }

    /// Loads both inbox scripts, in one MULTI (see [`RedisStore::inbox_calls`]).
    async fn load_inbox_scripts(&self, what: &str) -> StoreResult<()> {
        let mut p = redis::pipe();
        p.atomic()
            .load_script(&self.scripts.push)
            .ignore()
            .load_script(&self.scripts.ack)
            .ignore();
        self.pipe(what, p).await
    }

    /// What one call's reply means.
    fn answer(
        &self,
        what: &str,
        script: InboxScript<'_>,
        reply: StoreResult<RedisResult<Value>>,
    ) -> InboxResult {
        let value =
            reply?.map_err(|e| StoreError::Unavailable(format!("{}: {what}: {e}", self.name)))?;
        match script {
            InboxScript::Push { uuid } => {
                let pushed: i64 =
                    redis::from_redis_value(value).map_err(|e| self.corrupt(what, e))?;
                if pushed == -1 {
                    return Err(StoreError::IdTaken(uuid.to_string()));
                }
                Ok(None)
            }
            InboxScript::Ack => {
                let json: Option<String> =
                    redis::from_redis_value(value).map_err(|e| self.corrupt(what, e))?;
                json.map(|j| self.decode::<MessageJson>(what, &j).map(Into::into))
                    .transpose()
            }
        }
    }
}

fn no_script(e: &redis::RedisError) -> bool {
    e.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
}

/// The one answer of a trip with one call.
fn only(answers: Vec<InboxResult>) -> InboxResult {
    answers
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(StoreError::Unavailable("no answer".into())))
}

#[async_trait]
impl InboxStore for RedisStore {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        only(self.inbox_calls("push", &[self.push_call(msg)]).await).map(|_| ())
    }

    /// One script: `SET NX` of `P<uuid>message_id`, else a comparison with its owner.
    async fn claim_message_id(&self, uuid: &str, from: &str) -> StoreResult<bool> {
        let mut call = self
            .scripts
            .claim_message_id
            .key(self.keys.message_id(uuid));
        call.arg(from);
        let claimed: i64 = self.script("claim_message_id", call).await?;
        Ok(claimed == 1)
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
        only(self.inbox_calls("ack", &[self.ack_call(id, uuid)]).await)
    }

    /// One pipeline, in one MULTI: one trip, and no other client's write lands between two
    /// of the batch's.
    async fn apply_batch(&self, ops: &[InboxOp]) -> Vec<InboxResult> {
        if ops.is_empty() {
            return Vec::new();
        }
        let calls: Vec<_> = ops
            .iter()
            .map(|op| match op {
                InboxOp::Push(msg) => self.push_call(msg),
                InboxOp::Ack { id, uuid } => self.ack_call(id, uuid),
            })
            .collect();
        self.inbox_calls("apply_batch", &calls).await
    }

    /// `Poffline_msg_total`, kept by `push` and `ack`: one read.
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.inbox_total());
        let total: Option<i64> = self.run("pending_total", cmd).await?;
        to_u64("pending total", total.unwrap_or(0)).map(Some)
    }
}
