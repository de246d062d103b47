//! The MongoDB backend's inboxes: a claim of a client-chosen uuid in `message_ids`, a
//! sequence number per push from `counters`, the message in `offline_msg`, and on ack a copy
//! in `message_history` (see [`super`] for why).

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;

use super::docs::{CounterDoc, MessageDoc, MessageIdDoc};
use super::{duplicate_key, unless_duplicate, MongoStore, COUNTERS, HISTORY, INBOX, MESSAGE_IDS};
use crate::store::backend::to_i64;
use crate::store::{InboxStore, StoreError, StoreResult, StoredMessage};

impl MongoStore {
    /// The next push sequence number of `to`'s inbox.
    async fn next_seq(&self, to: &str) -> StoreResult<i64> {
        let coll = self.coll::<CounterDoc>(COUNTERS);
        let key = format!("{INBOX}:{to}");
        // The first push to an inbox upserts its counter; where two do so at once, one may
        // be refused by the `_id` index, and its retry finds the counter there.
        for _ in 0..3 {
            let r = self
                .op("push (sequence)", async {
                    match coll
                        .find_one_and_update(doc! {"_id": &key}, doc! {"$inc": {"Seq": 1_i64}})
                        .upsert(true)
                        .return_document(ReturnDocument::After)
                        .await
                    {
                        Ok(d) => Ok(d),
                        Err(e) if duplicate_key(&e) => Ok(None),
                        Err(e) => Err(e),
                    }
                })
                .await?;
            if let Some(c) = r {
                return Ok(c.seq);
            }
        }
        Err(StoreError::Unavailable(format!(
            "{}: push: could not take a sequence number for the inbox of {to:?}",
            self.name
        )))
    }
}

#[async_trait]
impl InboxStore for MongoStore {
    /// Claims first (only a client-chosen uuid, `msg.claims_uuid`), then pushes: with no
    /// transaction, a push that fails after its claim leaves the claim, which its retry (the
    /// same sender) finds its own.
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        let sent_at_ms = to_i64("send time", msg.sent_at_ms)?;
        if msg.claims_uuid && !self.claim_message_id(&msg.uuid, &msg.from).await? {
            return Err(StoreError::IdTaken(msg.uuid.clone()));
        }
        let seq = self.next_seq(&msg.to).await?;
        let d = MessageDoc {
            oid: None,
            to: msg.to.clone(),
            seq,
            uuid: msg.uuid.clone(),
            from: msg.from.clone(),
            msg: msg.msg.clone(),
            sent_at_ms,
            acked_at_ms: None,
        };
        let coll = self.coll::<MessageDoc>(INBOX);
        // A duplicate (ToID, Uuid) is a uuid pending already: it keeps its place.
        unless_duplicate(self, "push", coll.insert_one(d)).await?;
        Ok(())
    }

    /// An insert with the uuid as `_id`; where that is a duplicate key, the owner is read
    /// back and compared.
    async fn claim_message_id(&self, uuid: &str, from: &str) -> StoreResult<bool> {
        let coll = self.coll::<MessageIdDoc>(MESSAGE_IDS);
        let claim = MessageIdDoc {
            uuid: uuid.to_string(),
            from: from.to_string(),
        };
        if unless_duplicate(self, "claim_message_id", coll.insert_one(claim)).await? {
            return Ok(true);
        }
        let owner = self
            .op(
                "claim_message_id (owner)",
                coll.find_one(doc! {"_id": uuid}),
            )
            .await?
            .ok_or_else(|| {
                self.corrupt(
                    "claim_message_id",
                    format!("message id {uuid} refused as a duplicate but not found"),
                )
            })?;
        Ok(owner.from == from)
    }

    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>> {
        let coll = self.coll::<MessageDoc>(INBOX);
        let mut docs: Vec<MessageDoc> = self
            .op("pending", async move {
                coll.find(doc! {"ToID": id})
                    .sort(doc! {"Seq": 1})
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        // Sorted again here, so the order never rests on the server's sort alone.
        docs.sort_by_key(|d| d.seq);
        docs.iter().map(MessageDoc::message).collect()
    }

    async fn pending_count(&self, id: &str) -> StoreResult<u64> {
        let coll = self.coll::<Document>(INBOX);
        self.op("pending_count", coll.count_documents(doc! {"ToID": id}))
            .await
    }

    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        let inbox = self.coll::<MessageDoc>(INBOX);
        let Some(mut d) = self
            .op(
                "ack (find)",
                inbox.find_one(doc! {"ToID": id, "Uuid": uuid}),
            )
            .await?
        else {
            return Ok(None);
        };
        let oid = d
            .oid
            .ok_or_else(|| self.corrupt("ack", "a pending message has no _id"))?;
        let message = d.message()?;
        d.acked_at_ms = Some(to_i64("ack time", crate::protocol::events::now_ms())?);
        // History first: a failure between the two leaves the message pending (and acked
        // again later), never lost. A retry finds its copy there already.
        let history = self.coll::<MessageDoc>(HISTORY);
        unless_duplicate(self, "ack (history)", history.insert_one(&d)).await?;
        let r = self
            .op("ack (delete)", inbox.delete_one(doc! {"_id": oid}))
            .await?;
        Ok((r.deleted_count == 1).then_some(message))
    }

    /// An estimate from the collection's metadata: no scan.
    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        let coll = self.coll::<Document>(INBOX);
        self.op("pending_total", coll.estimated_document_count())
            .await
            .map(Some)
    }
}
