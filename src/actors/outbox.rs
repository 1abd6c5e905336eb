//! [`Outbox`]: a session's outgoing queue as the rooms that feed it see it, bounded by
//! `realtime.max_queued_bytes`.
//!
//! Rooms and presence push complete WebSocket [`Frame`]s into it; the connection's
//! [`WireBody`] drains it into the HTTP dispatcher. A push takes a lock, appends a reference to
//! the shared frame, and wakes the connection only if it was idle: no actor message, no copy.
//! A live event's wake-up goes through the thread's [pacer](super::pacer), so a broadcast's
//! thousands of writes take turns with the rest of the thread's work, and frames that arrive
//! meanwhile go out with it.
//!
//! A client that stops reading stalls its connection's writes, and with them the draining; without
//! a bound every event of every joined conversation would pile up here. Past the bound the
//! outbox refuses further events and tells the session ([`SessionSignal::Overflowed`]), which
//! closes with 4008 (`slow consumer`); the client catches up by rejoining with `since_seq`
//! (docs/PROTOCOL.md §5.7).
//!
//! Three kinds of frames pass through it:
//! - live events ([`Outbox::send`]): a room's broadcasts and presence changes (`user:status`);
//!   counted, refused past the bound;
//! - frames a room holds back for a session while its join replay is out: counted against the
//!   same bound by the room ([`Outbox::fits`]) while they wait, then sent as live events;
//! - replayed history ([`Outbox::replay`]): counted but never refused; the replay waits
//!   ([`Outbox::drained`]) while half the bound is queued, so a replay streams at the client's
//!   pace instead of piling up in memory;
//! - answers to the client's own commands and control frames ([`Outbox::answer`]): not
//!   counted, bounded by what the client asked for.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use actix::prelude::*;
use tokio::sync::Notify;

use super::session::EndSession;
use super::wire::{Frame, WireBody};

/// What reaches a session actor other than its client's frames: from its connection
/// ([`Self::Overflowed`], [`Self::Gone`]) and from the presence registry ([`Self::Shutdown`],
/// [`Self::End`]). One message type, so that the session has one address (the one its
/// [`Outbox`] holds) for all of them: each actix address a session hands out is an allocation
/// it keeps for its whole life.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
#[rtype(result = "()")]
pub enum SessionSignal {
    /// A live event was refused: close with 4008.
    Overflowed,
    /// The connection is gone (the dispatcher dropped the body): stop.
    Gone,
    /// The server is stopping: finish what is in flight, then close with 1001 (going away).
    Shutdown,
    /// End the session now with this close code and reason (docs/PROTOCOL.md §5.7).
    End(EndSession),
}

/// The frames between the rooms and the connection.
#[derive(Default)]
struct Queue {
    /// Each frame, and whether it counts against the bound.
    frames: VecDeque<(Frame, bool)>,
    /// The connection's task, when it found the queue empty.
    waker: Option<Waker>,
    /// No more frames: the session closed, or the connection is gone.
    closed: bool,
}

/// The state an [`Outbox`] and its [`WireBody`] share.
pub(super) struct Shared {
    /// Bytes of counted frames queued and not yet taken by the connection.
    queued: AtomicUsize,
    /// Set once a live event was refused; the session closes with 4008.
    overflowed: AtomicBool,
    /// Wakes a replay waiting for the session to catch up.
    drained: Notify,
    queue: Mutex<Queue>,
    limit: usize,
    session: Recipient<SessionSignal>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue consistent (pushes and swaps only).
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `frame`; `false` once the queue is closed. An idle connection is woken now, or
    /// on its thread's pacer's next turn if `paced` (live events, [`super::pacer`]).
    fn push(&self, frame: Frame, counted: bool, paced: bool) -> bool {
        let waker = {
            let mut queue = self.queue();
            if queue.closed {
                return false;
            }
            queue.frames.push_back((frame, counted));
            queue.waker.take()
        };
        match waker {
            Some(waker) if paced => super::pacer::wake(waker),
            Some(waker) => waker.wake(),
            None => {}
        }
        true
    }

    /// Queues `frame` within the bound, its bytes already added to `queued` by the caller;
    /// gives them back if the queue is closed.
    fn push_counted(&self, frame: Frame, paced: bool) {
        let len = frame.len();
        if !self.push(frame, true, paced) {
            self.queued.fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Moves every queued frame into `batch` (empty), or registers `waker` when there is none;
    /// `false` once the queue is closed and empty (the body ends).
    pub(super) fn take_all(&self, batch: &mut VecDeque<(Frame, bool)>, waker: &Waker) -> bool {
        let mut queue = self.queue();
        if queue.frames.is_empty() {
            if queue.closed {
                return false;
            }
            if !queue.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                queue.waker = Some(waker.clone());
            }
            return true;
        }
        *batch = std::mem::take(&mut queue.frames);
        true
    }

    /// A frame of `len` bytes handed to the connection.
    pub(super) fn taken(&self, len: usize, counted: bool) {
        crate::monitor::delivered(len, counted);
        if counted {
            let before = self.queued.fetch_sub(len, Ordering::Relaxed);
            let after = before.saturating_sub(len);
            if after <= self.limit / 2 && before > self.limit / 2 {
                self.drained.notify_waiters();
            }
        }
    }

    /// Closes the queue: `discard` drops what is queued, then `last` (a close frame) goes
    /// behind whatever is left.
    fn close(&self, last: Option<Frame>, discard: bool) {
        let waker = {
            let mut queue = self.queue();
            if queue.closed {
                return;
            }
            if discard {
                queue.frames.clear();
                self.queued.store(0, Ordering::Relaxed);
            }
            if let Some(frame) = last {
                queue.frames.push_back((frame, false));
            }
            queue.closed = true;
            queue.waker.take()
        };
        self.drained.notify_waiters();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The connection dropped its body: nothing more can be written.
    pub(super) fn connection_gone(&self) {
        self.close(None, true);
        self.session.do_send(SessionSignal::Gone);
    }

    fn closed(&self) -> bool {
        self.queue().closed
    }
}

/// A session's bounded outgoing queue (cheap to clone; clones share the queue).
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

impl Outbox {
    /// The outbox of the session behind `session`, holding at most `limit` bytes of events,
    /// and the response body that drains it.
    pub fn new(session: Recipient<SessionSignal>, limit: usize) -> (Self, WireBody) {
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            overflowed: AtomicBool::new(false),
            drained: Notify::new(),
            queue: Mutex::new(Queue::default()),
            limit,
            session,
        });
        (
            Self {
                shared: shared.clone(),
            },
            WireBody::new(shared),
        )
    }

    /// Tells the session `signal`, behind the actor messages already in its mailbox (frames
    /// queued here are not waited for).
    pub fn signal(&self, signal: SessionSignal) {
        self.shared.session.do_send(signal);
    }

    /// Bytes of counted frames queued and not yet taken by the connection.
    pub fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Queues a live event; `false` (and the session is told it overflowed) when the session
    /// already holds `limit` bytes of unsent events.
    pub fn send(&self, frame: Frame) -> bool {
        let shared = &self.shared;
        if shared.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let len = frame.len();
        let before = shared.queued.fetch_add(len, Ordering::Relaxed);
        if before + len > shared.limit && before > 0 {
            shared.queued.fetch_sub(len, Ordering::Relaxed);
            self.overflow();
            return false;
        }
        shared.push_counted(frame, true);
        true
    }

    /// Whether `held` more bytes (frames a room keeps back for this session) fit beside what is
    /// queued; if not, the session is told it overflowed.
    pub fn fits(&self, held: usize) -> bool {
        let shared = &self.shared;
        if shared.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let queued = shared.queued.load(Ordering::Relaxed);
        if queued + held > shared.limit && held > 0 {
            self.overflow();
            return false;
        }
        true
    }

    /// Marks the session overflowed and tells it, so it closes now.
    fn overflow(&self) {
        if !self.shared.overflowed.swap(true, Ordering::Relaxed) {
            self.shared.session.do_send(SessionSignal::Overflowed);
        }
    }

    /// Queues a replayed message: counted, never refused (the replay paces itself with
    /// [`drained`](Self::drained)).
    pub fn replay(&self, frame: Frame) {
        self.shared.queued.fetch_add(frame.len(), Ordering::Relaxed);
        self.shared.push_counted(frame, false);
    }

    /// Waits until at most half the bound is queued, or the session is closed or overflowed.
    pub async fn drained(&self) {
        let shared = &self.shared;
        loop {
            let notified = shared.drained.notified();
            if shared.queued.load(Ordering::Relaxed) <= shared.limit / 2
                || shared.overflowed.load(Ordering::Relaxed)
                || shared.closed()
            {
                return;
            }
            notified.await;
        }
    }

    /// Queues an answer or a control frame, outside the bound.
    pub fn answer(&self, frame: Frame) {
        self.shared.push(frame, false, false);
    }

    /// Ends the queue (the session is closing): `discard` drops what is still queued (a slow
    /// consumer), else it is written first; then `last`, a close frame, if any. Frames pushed
    /// afterwards are dropped, and the connection ends once the rest is written.
    pub fn close(&self, last: Option<Frame>, discard: bool) {
        self.shared.close(last, discard);
    }

    /// The byte bound.
    pub fn limit(&self) -> usize {
        self.shared.limit
    }

    /// Whether the session still takes frames.
    pub fn connected(&self) -> bool {
        !self.shared.closed()
    }
}
