//! `CommitQueue`: group commit in front of the DbWriter.
//!
//! State: the writes waiting to go out (new messages, edits and deletions, each with the room
//! its outcome goes back to), the batches at the writers and their conversations. Handles
//! [`QueueWrite`] from room actors. While the writers commit, new writes queue up; when one
//! answers, what is queued (up to `database.group_commit_max_batch`) goes out as the next
//! batch, one transaction. So batches form by themselves under load and a lone write waits for
//! nothing, unless `database.group_commit_max_wait_us` asks to linger for company.
//!
//! On SQLite one batch is at the writer at a time; on PostgreSQL up to one per writer thread
//! (`database.writers`), but never two with the same conversation: a write waits while its
//! conversation is in a batch at the writers. So each conversation's writes commit, and take
//! their seqs, in the order they were queued, and their outcomes come back in that order: a
//! room that queued an edit of seq N after N's insert hears of N first. Every write is answered
//! only after its batch committed.
//!
//! One instance per thread that runs rooms, started on first use through
//! [`CommitQueues::local`]: a room and its queue share a thread, so a send crosses threads only
//! on the way to the writer and back, once per batch rather than once per message.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::actors::db_writer::{DbWriter, WriteBatch};
use crate::db::DbError;
use crate::db::queries::messages::{Write, Written};
use crate::domain::ConversationId;
use crate::stats::NodeStats;

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
    /// Batches at the writers.
    in_flight: usize,
    /// Most batches at the writers at once: 1 on SQLite, the number of writers on PostgreSQL.
    max_in_flight: usize,
    /// Conversations with a write in a batch at the writers: their next writes wait for it, so
    /// each conversation's writes commit (and take seqs) in the order they were queued.
    busy: HashSet<ConversationId>,
    /// A lone write is waiting `max_wait` for company.
    lingering: bool,
    /// `database.group_commit_max_batch`.
    max_batch: usize,
    /// `database.group_commit_max_wait_us`.
    max_wait: Duration,
    /// Counts the messages stored.
    stats: Arc<NodeStats>,
}

impl CommitQueue {
    /// A queue in front of `writer`, with at most `max_in_flight` batches at the writers at
    /// once. `max_batch` 1 disables batching.
    pub fn new(
        writer: Addr<DbWriter>,
        max_in_flight: usize,
        max_batch: usize,
        max_wait: Duration,
        stats: Arc<NodeStats>,
    ) -> Self {
        Self {
            writer,
            stats,
            pending: Vec::new(),
            in_flight: 0,
            max_in_flight: max_in_flight.max(1),
            busy: HashSet::new(),
            lingering: false,
            max_batch: max_batch.max(1),
            max_wait,
        }
    }

    /// Sends batches while a writer is free and writes of idle conversations wait.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        while self.in_flight < self.max_in_flight && !self.pending.is_empty() {
            if !self.send_batch(ctx) {
                break;
            }
        }
    }

    /// Takes up to `max_batch` waiting writes of conversations not already at the writers, in
    /// arrival order, and sends them as one batch. False when every waiting write belongs to a
    /// busy conversation.
    fn send_batch(&mut self, ctx: &mut Context<Self>) -> bool {
        let mut batch: Vec<Pending> = Vec::new();
        let mut rest: Vec<Pending> = Vec::new();
        for pending in std::mem::take(&mut self.pending) {
            let conversation = pending.0.conversation_id();
            if batch.len() < self.max_batch && !self.busy.contains(&conversation) {
                batch.push(pending);
            } else {
                rest.push(pending);
            }
        }
        self.pending = rest;
        if batch.is_empty() {
            return false;
        }
        let conversations: Vec<ConversationId> = batch
            .iter()
            .map(|(write, _, _)| write.conversation_id())
            .collect();
        self.busy.extend(conversations.iter().copied());
        let (writes, answers): (Vec<Write>, Vec<_>) = batch
            .into_iter()
            .map(|(write, token, reply_to)| (write, (token, reply_to)))
            .unzip();
        self.in_flight += 1;
        let (size, sent) = (writes.len(), std::time::Instant::now());
        let write = self.writer.send(WriteBatch { writes });
        ctx.spawn(write.into_actor(self).map(move |result, queue, ctx| {
            queue.in_flight -= 1;
            crate::monitor::committed(size, sent.elapsed());
            for conversation in &conversations {
                queue.busy.remove(conversation);
            }
            match result {
                Ok(Ok(results)) => {
                    let stored = results.iter().filter(|r| is_new_message(r)).count();
                    queue.stats.messages_stored(stored as u64);
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
        true
    }
}

/// Whether `result` stored a new message (not an edit, an annotation or a retry's duplicate).
fn is_new_message(result: &Result<Written, DbError>) -> bool {
    matches!(result, Ok(Written::Inserted(inserted)) if !inserted.duplicate)
}

/// Where rooms find their thread's [`CommitQueue`]: the writer and the batching settings every
/// queue is started with.
#[derive(Clone)]
pub struct CommitQueues {
    writer: Addr<DbWriter>,
    max_in_flight: usize,
    max_batch: usize,
    max_wait: Duration,
    stats: Arc<NodeStats>,
}

thread_local! {
    /// This thread's queue and the writer it feeds (a test process can run several servers).
    static LOCAL: RefCell<Vec<(Addr<DbWriter>, Addr<CommitQueue>)>> = const { RefCell::new(Vec::new()) };
}

impl CommitQueues {
    /// Queues in front of `writer`, each with at most `max_in_flight` batches at the writers
    /// (the number of writer threads); `max_batch` 1 disables batching. Stored messages are
    /// counted in `stats`.
    pub fn new(
        writer: Addr<DbWriter>,
        max_in_flight: usize,
        max_batch: usize,
        max_wait: Duration,
        stats: Arc<NodeStats>,
    ) -> Self {
        Self {
            writer,
            max_in_flight,
            max_batch,
            max_wait,
            stats,
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
                self.max_in_flight,
                self.max_batch,
                self.max_wait,
                self.stats.clone(),
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
        let lone = self.in_flight == 0 && self.pending.len() < self.max_batch;
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
