//! The actors. See the crate docs for the diagram.
//!
//! - [`session::SessionActor`]: one per WebSocket connection.
//! - [`room::RoomActor`]: one per active conversation, started and found by
//!   [`room_registry::RoomRegistry`].
//! - [`presence::PresenceRegistry`]: one; who is online.
//! - [`db_writer::DbWriter`]: a pool of synchronous writers (actix `SyncArbiter`).

pub mod commit_queue;
pub mod db_writer;
pub mod presence;
pub mod room;
pub mod room_registry;
pub mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix::prelude::*;
use bytestring::ByteString;

/// An encoded server frame for one session. Room broadcasts encode a frame once and send a
/// clone of the same bytes to every session.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    /// The JSON text frame.
    pub frame: ByteString,
    /// Counted in the session's [`Outbox`] (live events); `false` for answers and replays.
    pub counted: bool,
}

impl Deliver {
    /// A frame outside any [`Outbox`] bound: answers, replays, presence.
    pub fn uncounted(frame: ByteString) -> Self {
        Self {
            frame,
            counted: false,
        }
    }
}

/// A session's outgoing queue, as the rooms that send it live events see it: how many bytes of
/// events were sent and not yet taken by the session, against `realtime.max_queued_bytes`.
///
/// A client that stops reading stalls its connection's writes, and with them the session's
/// mailbox; without a bound every event of every joined conversation would pile up there. Past
/// the bound the outbox refuses further events and marks the session overflowed; the session
/// closes with 4008 (`slow consumer`) as soon as it runs again, and the client catches up by
/// rejoining with `since_seq` (docs/PROTOCOL.md §5.7). Answers to the client's own commands and
/// join replays are not counted: they are bounded by what the client asked for.
#[derive(Clone)]
pub struct Outbox {
    recipient: Recipient<Deliver>,
    queued: Arc<AtomicUsize>,
    overflowed: Arc<AtomicBool>,
    limit: usize,
}

impl Outbox {
    /// The outbox of the session behind `recipient`, holding at most `limit` bytes of events.
    pub fn new(recipient: Recipient<Deliver>, limit: usize) -> Self {
        Self {
            recipient,
            queued: Arc::new(AtomicUsize::new(0)),
            overflowed: Arc::new(AtomicBool::new(false)),
            limit,
        }
    }

    /// Queues a live event; `false` (and the session is marked overflowed) when the session
    /// already holds `limit` bytes of unsent events.
    pub fn send(&self, frame: ByteString) -> bool {
        if self.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let before = self.queued.fetch_add(frame.len(), Ordering::Relaxed);
        if before + frame.len() > self.limit && before > 0 {
            self.queued.fetch_sub(frame.len(), Ordering::Relaxed);
            self.overflowed.store(true, Ordering::Relaxed);
            // Wakes the session if it is idle, so it closes now rather than at its next frame.
            self.recipient
                .do_send(Deliver::uncounted(ByteString::new()));
            return false;
        }
        self.recipient.do_send(Deliver {
            frame,
            counted: true,
        });
        true
    }

    /// Queues an answer or a replayed message, outside the bound.
    pub fn answer(&self, frame: ByteString) {
        self.recipient.do_send(Deliver::uncounted(frame));
    }

    /// Called by the session as it takes a delivery; `true` once the outbox has overflowed.
    pub fn taken(&self, delivery: &Deliver) -> bool {
        if delivery.counted {
            self.queued
                .fetch_sub(delivery.frame.len(), Ordering::Relaxed);
        }
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Whether the session is still running.
    pub fn connected(&self) -> bool {
        self.recipient.connected()
    }
}

/// Mailbox capacity of the shared actors (rooms, registries, the commit queue). actix's default
/// of 16 makes `send` park messages under bursts, and parked messages are retried in no
/// particular order, which would reorder a session's sends; `usize::MAX` overflows actix's
/// channel arithmetic.
pub const MAILBOX_CAPACITY: usize = 1 << 16;

/// Starts `actor` with [`MAILBOX_CAPACITY`] set before any message can arrive (setting it in
/// `started` is too late: messages sent before the actor first runs meet the default).
pub fn start_roomy<A>(actor: A) -> Addr<A>
where
    A: Actor<Context = Context<A>>,
{
    A::create(|ctx| {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        actor
    })
}

/// [`start_roomy`] on another thread's arbiter: `make` builds the actor there (so it can pick
/// up that thread's resources, such as its commit queue).
pub fn start_roomy_in<A, F>(arbiter: &ArbiterHandle, make: F) -> Addr<A>
where
    A: Actor<Context = Context<A>>,
    F: FnOnce() -> A + Send + 'static,
{
    A::start_in_arbiter(arbiter, |ctx| {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        make()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Receives nothing: its context is never run, like a session whose client stopped reading.
    struct Stalled;

    impl Actor for Stalled {
        type Context = Context<Self>;
    }

    impl Handler<Deliver> for Stalled {
        type Result = ();
        fn handle(&mut self, _: Deliver, _: &mut Self::Context) {}
    }

    fn frame(bytes: usize) -> ByteString {
        ByteString::from("x".repeat(bytes))
    }

    #[actix::test]
    async fn outbox_refuses_events_past_its_bound_until_the_session_catches_up() {
        let stalled: Context<Stalled> = Context::new();
        let outbox = Outbox::new(stalled.address().recipient(), 1000);
        // Answers are never refused and do not count.
        outbox.answer(frame(5000));
        assert!(outbox.send(frame(400)));
        assert!(outbox.send(frame(400)));
        let first = Deliver {
            frame: frame(400),
            counted: true,
        };
        // 1200 bytes would be over 1000: refused, and the session is marked.
        assert!(!outbox.send(frame(400)));
        assert!(outbox.taken(&first), "the session learns it overflowed");
        // Once overflowed, nothing more is queued even with room to spare.
        assert!(!outbox.send(frame(1)));
    }

    #[actix::test]
    async fn outbox_admits_events_as_the_session_takes_them() {
        let stalled: Context<Stalled> = Context::new();
        let outbox = Outbox::new(stalled.address().recipient(), 1000);
        for _ in 0..50 {
            assert!(outbox.send(frame(600)));
            let delivered = Deliver {
                frame: frame(600),
                counted: true,
            };
            assert!(!outbox.taken(&delivered));
        }
        // A single event larger than the bound still goes to an empty queue.
        assert!(outbox.send(frame(5000)));
    }
}
