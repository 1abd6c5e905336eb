//! A joined session's place in the room: live, or replaying with its live frames held.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::actors::{Frame, Outbox};
use crate::domain::UserId;

/// Frames held back for a session while its replay is out.
#[derive(Default)]
pub(super) struct Held {
    /// Each frame, and whether it is a live event (counted) or an answer to the session's own
    /// command (not counted, bounded by `realtime.max_in_flight`).
    pub(super) frames: Vec<(Frame, bool)>,
    /// Bytes of the events among them.
    pub(super) bytes: usize,
}

impl Held {
    /// Sends everything held, in order, once the replay is out.
    pub(super) fn release(self, outbox: &Outbox) {
        for (frame, event) in self.frames {
            if event {
                outbox.send(frame);
            } else {
                outbox.answer(frame);
            }
        }
    }
}

/// A joined session: live, or replaying (live frames held until the replay is out).
pub(super) struct Member {
    /// The session's user.
    pub(super) user_id: UserId,
    /// Whether they are an agent or admin (internal notes reach them).
    pub(super) staff: bool,
    pub(super) outbox: Outbox,
    pub(super) held: Option<Held>,
    /// Set when the session leaves during its replay, which then stops.
    pub(super) cancel: Arc<AtomicBool>,
}

impl Member {
    pub(super) fn live(user_id: UserId, staff: bool, outbox: Outbox) -> Self {
        Self {
            user_id,
            staff,
            outbox,
            held: None,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A live event: held during a replay (counted against the session's bound), else queued.
    pub(super) fn send(&mut self, frame: Frame) {
        match &mut self.held {
            Some(held) => {
                if self.outbox.fits(held.bytes + frame.len()) {
                    held.bytes += frame.len();
                    held.frames.push((frame, true));
                }
            }
            None => {
                self.outbox.send(frame);
            }
        }
    }

    /// An answer to this session's own command: behind its held frames during a replay, never
    /// counted against the bound.
    pub(super) fn answer(&mut self, frame: Frame) {
        match &mut self.held {
            Some(held) => held.frames.push((frame, false)),
            None => self.outbox.answer(frame),
        }
    }
}
