//! `CommitQueue`: group commit in front of the DbWriter.
//!
//! State: the messages waiting to be written (each with the channel its answer goes back on)
//! and whether a batch is being written. Handles [`QueueMessage`] from room actors. While the
//! writer commits one batch, new messages queue up; when it answers, everything queued (up to
//! `database.group_commit_max_batch`) goes out as the next batch, one transaction. So batches
//! form by themselves under load and a lone message waits for nothing, unless
//! `database.group_commit_max_wait_us` asks to linger for company. Every message is answered
//! only after its batch committed. One instance, started by `startup`; lives as long as the
//! server.

use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::actors::db_writer::{DbWriter, InsertBatch};
use crate::db::queries::messages::{Inserted, MessageDraft};
use crate::error::DbError;

/// Store a message with the next seq of its conversation (answered after commit).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Inserted, DbError>")]
pub struct QueueMessage {
    /// What to store.
    pub draft: MessageDraft,
}

type Pending = (MessageDraft, oneshot::Sender<Result<Inserted, DbError>>);

/// The group-commit queue.
pub struct CommitQueue {
    writer: Addr<DbWriter>,
    pending: Vec<Pending>,
    writing: bool,
    lingering: bool,
    max_batch: usize,
    max_wait: Duration,
}

impl CommitQueue {
    /// A queue in front of `writer`. `max_batch` 1 disables batching.
    pub fn new(writer: Addr<DbWriter>, max_batch: usize, max_wait: Duration) -> Self {
        Self {
            writer,
            pending: Vec::new(),
            writing: false,
            lingering: false,
            max_batch: max_batch.max(1),
            max_wait,
        }
    }

    /// Sends the next batch if the writer is free.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.writing || self.pending.is_empty() {
            return;
        }
        let take = self.pending.len().min(self.max_batch);
        let batch: Vec<Pending> = self.pending.drain(..take).collect();
        let (drafts, answers): (Vec<MessageDraft>, Vec<_>) = batch.into_iter().unzip();
        self.writing = true;
        let write = self.writer.send(InsertBatch { drafts });
        ctx.spawn(write.into_actor(self).map(|result, queue, ctx| {
            queue.writing = false;
            match result {
                Ok(Ok(results)) => {
                    for (answer, result) in answers.into_iter().zip(results) {
                        let _ = answer.send(result);
                    }
                }
                Ok(Err(err)) => {
                    tracing::error!(error = ?err, "group commit failed");
                    let text = err.to_string();
                    for answer in answers {
                        let _ = answer.send(Err(DbError::Commit(text.clone())));
                    }
                }
                Err(_) => {
                    for answer in answers {
                        let _ = answer.send(Err(DbError::WriterGone));
                    }
                }
            }
            queue.flush(ctx);
        }));
    }
}

impl Actor for CommitQueue {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::MAILBOX_CAPACITY);
    }
}

impl Handler<QueueMessage> for CommitQueue {
    type Result = ResponseFuture<Result<Inserted, DbError>>;

    fn handle(&mut self, msg: QueueMessage, ctx: &mut Self::Context) -> Self::Result {
        let (answer, receiver) = oneshot::channel();
        self.pending.push((msg.draft, answer));
        let lone = !self.writing && self.pending.len() < self.max_batch;
        if lone && !self.max_wait.is_zero() {
            if !self.lingering {
                self.lingering = true;
                ctx.run_later(self.max_wait, |queue, ctx| {
                    queue.lingering = false;
                    queue.flush(ctx);
                });
            }
        } else {
            self.flush(ctx);
        }
        Box::pin(async move { receiver.await.unwrap_or(Err(DbError::WriterGone)) })
    }
}
