//! `CommitQueue`: group commit in front of the DbWriter.
//!
//! State: the writes waiting to go out (new messages, edits and deletions, each with the room
//! its outcome goes back to) and whether a batch is being written. Handles [`QueueWrite`] from
//! room actors. While the writer commits one batch, new writes queue up; when it answers,
//! everything queued (up to `database.group_commit_max_batch`) goes out as the next batch, one
//! transaction. So batches form by themselves under load and a lone write waits for nothing,
//! unless `database.group_commit_max_wait_us` asks to linger for company. Every write is
//! answered only after its batch committed, and outcomes come back in the order the writes
//! were queued: a room that queued an edit of seq N after N's insert hears of N first.
//!
//! One instance per thread that runs rooms, started on first use through
//! [`CommitQueues::local`]: a room and its queue share a thread, so a send crosses threads only
//! on the way to the writer and back, once per batch rather than once per message.

use std::cell::RefCell;
use std::time::Duration;

use actix::prelude::*;

use crate::actors::db_writer::{DbWriter, WriteBatch};
use crate::db::DbError;
use crate::db::queries::messages::{Write, Written};

/// Store a message with the next seq of its conversation, or edit or delete one. The outcome
/// comes back as a [`Committed`] message to `reply_to` after the commit; outcomes reach each
/// recipient in the order the writes were queued (mailboxes are FIFO), which is seq order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct QueueWrite {
    /// What to write.
    pub write: Write,
    /// The caller's token for this write, echoed in [`Committed`].
    pub token: u64,
    /// Where the outcome goes.
    pub reply_to: Recipient<Committed>,
}

/// The outcome of a [`QueueWrite`], sent after its batch committed (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Committed {
    /// The token of the [`QueueWrite`].
    pub token: u64,
    /// What was written, or why not.
    pub result: Result<Written, DbError>,
}

type Pending = (Write, u64, Recipient<Committed>);

/// The group-commit queue.
pub struct CommitQueue {
    writer: Addr<DbWriter>,
    /// Writes waiting for the next batch, in arrival order. Bounded by the rooms feeding it:
    /// each room queues only what passed its per-user rate limit.
    pending: Vec<Pending>,
    /// A batch is at the writer.
    writing: bool,
    /// A lone write is waiting `max_wait` for company.
    lingering: bool,
    /// `database.group_commit_max_batch`.
    max_batch: usize,
    /// `database.group_commit_max_wait_us`.
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
        let (writes, answers): (Vec<Write>, Vec<_>) = batch
            .into_iter()
            .map(|(write, token, reply_to)| (write, (token, reply_to)))
            .unzip();
        self.writing = true;
        let write = self.writer.send(WriteBatch { writes });
        ctx.spawn(write.into_actor(self).map(|result, queue, ctx| {
            queue.writing = false;
            match result {
                Ok(Ok(results)) => {
                    for ((token, reply_to), result) in answers.into_iter().zip(results) {
                        reply_to.do_send(Committed { token, result });
                    }
                }
                Ok(Err(err)) => {
                    tracing::error!(error = ?err, "group commit failed");
                    let text = err.to_string();
                    for (token, reply_to) in answers {
                        let result = Err(DbError::Commit(text.clone()));
                        reply_to.do_send(Committed { token, result });
                    }
                }
                Err(_) => {
                    for (token, reply_to) in answers {
                        let result = Err(DbError::WriterGone);
                        reply_to.do_send(Committed { token, result });
                    }
                }
            }
            queue.flush(ctx);
        }));
    }
}

/// Where rooms find their thread's [`CommitQueue`]: the writer and the batching settings every
/// queue is started with.
#[derive(Clone)]
pub struct CommitQueues {
    writer: Addr<DbWriter>,
    max_batch: usize,
    max_wait: Duration,
}

thread_local! {
    /// This thread's queue and the writer it feeds (a test process can run several servers).
    static LOCAL: RefCell<Vec<(Addr<DbWriter>, Addr<CommitQueue>)>> = const { RefCell::new(Vec::new()) };
}

impl CommitQueues {
    /// Queues in front of `writer`; `max_batch` 1 disables batching.
    pub fn new(writer: Addr<DbWriter>, max_batch: usize, max_wait: Duration) -> Self {
        Self {
            writer,
            max_batch,
            max_wait,
        }
    }

    /// The queue of the calling thread, started on its arbiter if there is none (or the one
    /// there stopped with its actix system). Must be called from an actix context.
    pub fn local(&self) -> Addr<CommitQueue> {
        LOCAL.with_borrow_mut(|queues| {
            queues.retain(|(_, queue)| queue.connected());
            if let Some((_, queue)) = queues.iter().find(|(writer, _)| *writer == self.writer) {
                return queue.clone();
            }
            let queue = super::start_roomy(CommitQueue::new(
                self.writer.clone(),
                self.max_batch,
                self.max_wait,
            ));
            queues.push((self.writer.clone(), queue.clone()));
            queue
        })
    }
}

impl Actor for CommitQueue {
    type Context = Context<Self>;
}

impl Handler<QueueWrite> for CommitQueue {
    type Result = ();

    fn handle(&mut self, msg: QueueWrite, ctx: &mut Self::Context) {
        self.pending.push((msg.write, msg.token, msg.reply_to));
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
    }
}
