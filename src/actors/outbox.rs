//! [`Outbox`]: a session's outgoing queue as the rooms that feed it see it, bounded by
//! `realtime.max_queued_bytes`.
//!
//! A client that stops reading stalls its connection's writes, and with them the session's
//! mailbox; without a bound every event of every joined conversation would pile up there. Past
//! the bound the outbox refuses further events and marks the session overflowed; the session
//! closes with 4008 (`slow consumer`) as soon as it runs again, and the client catches up by
//! rejoining with `since_seq` (docs/PROTOCOL.md §5.7).
//!
//! Three kinds of frames pass through it:
//! - live events ([`Outbox::send`]): a room's broadcasts and presence changes (`user:status`);
//!   counted, refused past the bound;
//! - frames a room holds back for a session while its join replay is out: counted against the
//!   same bound by the room ([`Outbox::fits`]) while they wait, then sent as live events;
//! - replayed history ([`Outbox::replay`]): counted but never refused; the replay waits
//!   ([`Outbox::drained`]) while half the bound is queued, so a replay streams at the client's
//!   pace instead of piling up in memory;
//! - answers to the client's own commands ([`Outbox::answer`]): not counted, bounded by what the
//!   client asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix::prelude::*;
use bytestring::ByteString;
use tokio::sync::Notify;

use super::Deliver;

struct Shared {
    /// Bytes of counted frames sent and not yet taken by the session.
    queued: AtomicUsize,
    /// Set once a live event was refused; the session closes with 4008.
    overflowed: AtomicBool,
    /// Wakes a replay waiting for the session to catch up.
    drained: Notify,
}

/// A session's bounded outgoing queue (cheap to clone; clones share the count).
#[derive(Clone)]
pub struct Outbox {
    recipient: Recipient<Deliver>,
    shared: Arc<Shared>,
    limit: usize,
}

impl Outbox {
    /// The outbox of the session behind `recipient`, holding at most `limit` bytes of events.
    pub fn new(recipient: Recipient<Deliver>, limit: usize) -> Self {
        Self {
            recipient,
            shared: Arc::new(Shared {
                queued: AtomicUsize::new(0),
                overflowed: AtomicBool::new(false),
                drained: Notify::new(),
            }),
            limit,
        }
    }

    /// Bytes of counted frames queued and not yet taken by the session.
    pub fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Queues a live event; `false` (and the session is marked overflowed) when the session
    /// already holds `limit` bytes of unsent events.
    pub fn send(&self, frame: ByteString) -> bool {
        if self.shared.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let before = self.shared.queued.fetch_add(frame.len(), Ordering::Relaxed);
        if before + frame.len() > self.limit && before > 0 {
            self.shared.queued.fetch_sub(frame.len(), Ordering::Relaxed);
            self.overflow();
            return false;
        }
        self.recipient.do_send(Deliver {
            frame,
            counted: true,
        });
        true
    }

    /// Whether `held` more bytes (frames a room keeps back for this session) fit beside what is
    /// queued; if not, the session is marked overflowed.
    pub fn fits(&self, held: usize) -> bool {
        if self.shared.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let queued = self.shared.queued.load(Ordering::Relaxed);
        if queued + held > self.limit && held > 0 {
            self.overflow();
            return false;
        }
        true
    }

    /// Marks the session overflowed and wakes it, so it closes now rather than at its next
    /// frame.
    fn overflow(&self) {
        self.shared.overflowed.store(true, Ordering::Relaxed);
        self.recipient
            .do_send(Deliver::uncounted(ByteString::new()));
    }

    /// Queues a replayed message: counted, never refused (the replay paces itself with
    /// [`drained`](Self::drained)).
    pub fn replay(&self, frame: ByteString) {
        self.shared.queued.fetch_add(frame.len(), Ordering::Relaxed);
        self.recipient.do_send(Deliver {
            frame,
            counted: true,
        });
    }

    /// Waits until at most half the bound is queued, or the session is gone or overflowed.
    pub async fn drained(&self) {
        loop {
            let notified = self.shared.drained.notified();
            if self.shared.queued.load(Ordering::Relaxed) <= self.limit / 2
                || !self.recipient.connected()
                || self.shared.overflowed.load(Ordering::Relaxed)
            {
                return;
            }
            notified.await;
        }
    }

    /// Queues an answer or a frame outside the bound.
    pub fn answer(&self, frame: ByteString) {
        self.recipient.do_send(Deliver::uncounted(frame));
    }

    /// Called by the session as it takes a delivery; `true` once the outbox has overflowed.
    pub fn taken(&self, delivery: &Deliver) -> bool {
        if delivery.counted {
            let before = self
                .shared
                .queued
                .fetch_sub(delivery.frame.len(), Ordering::Relaxed);
            let after = before.saturating_sub(delivery.frame.len());
            if after <= self.limit / 2 && before > self.limit / 2 {
                self.shared.drained.notify_waiters();
            }
        }
        self.shared.overflowed.load(Ordering::Relaxed)
    }

    /// The byte bound.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the session is still running.
    pub fn connected(&self) -> bool {
        self.recipient.connected()
    }
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

    fn counted(bytes: usize) -> Deliver {
        Deliver {
            frame: frame(bytes),
            counted: true,
        }
    }

    #[actix::test]
    async fn outbox_refuses_events_past_its_bound_until_the_session_catches_up() {
        let stalled: Context<Stalled> = Context::new();
        let outbox = Outbox::new(stalled.address().recipient(), 1000);
        // Answers are never refused and do not count.
        outbox.answer(frame(5000));
        assert!(outbox.send(frame(400)));
        assert!(outbox.send(frame(400)));
        // 1200 bytes would be over 1000: refused, and the session is marked.
        assert!(!outbox.send(frame(400)));
        assert!(
            outbox.taken(&counted(400)),
            "the session learns it overflowed"
        );
        // Once overflowed, nothing more is queued even with room to spare.
        assert!(!outbox.send(frame(1)));
    }

    #[actix::test]
    async fn outbox_admits_events_as_the_session_takes_them() {
        let stalled: Context<Stalled> = Context::new();
        let outbox = Outbox::new(stalled.address().recipient(), 1000);
        for _ in 0..50 {
            assert!(outbox.send(frame(600)));
            assert!(!outbox.taken(&counted(600)));
        }
        // A single event larger than the bound still goes to an empty queue.
        assert!(outbox.send(frame(5000)));
    }

    #[actix::test]
    async fn held_frames_count_against_the_same_bound() {
        let stalled: Context<Stalled> = Context::new();
        let outbox = Outbox::new(stalled.address().recipient(), 1000);
        assert!(outbox.send(frame(600)));
        assert!(outbox.fits(400));
        assert!(!outbox.fits(401), "600 queued + 401 held is over 1000");
        assert!(!outbox.send(frame(1)), "the session is marked overflowed");
    }

    #[actix::test]
    async fn a_replay_waits_while_half_the_bound_is_queued() {
        let stalled: Context<Stalled> = Context::new();
        let outbox = Outbox::new(stalled.address().recipient(), 1000);
        outbox.replay(frame(800));
        use futures_util::FutureExt as _;
        assert!(
            outbox.drained().now_or_never().is_none(),
            "800 of 1000 queued: the replay waits"
        );
        let waiting = outbox.clone();
        let wait = tokio::spawn(async move { waiting.drained().await });
        tokio::task::yield_now().await;
        assert!(!outbox.taken(&counted(800)));
        assert!(wait.await.is_ok(), "taken: the replay goes on");
        assert!(outbox.drained().now_or_never().is_some());
        // Replayed frames are never refused, whatever is queued.
        outbox.replay(frame(5000));
        assert!(!outbox.taken(&counted(5000)));
    }
}
