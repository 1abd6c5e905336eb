//! The send rate: sends, edits and deletions per user and conversation, counted by the room
//! (and, in cluster mode, in Redis for every node). The window is the server's
//! `limits.messages_per_window` per `limits.message_window_s`, or the project's own
//! (`messages_per_window`, `message_window_s` in its settings), read on every send so that a
//! change applies at once.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::DefaultClock;
use governor::{Quota, RateLimiter};

use super::RoomActor;
use crate::domain::UserId;
use crate::error::AppError;

/// `per_window` sends per `window_s` seconds, as a burst that refills evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    /// Sends per window (the burst).
    pub per_window: u32,
    /// The window, in seconds.
    pub window_s: u64,
}

impl SendWindow {
    /// The limit as a governor quota.
    pub fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.per_window).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(self.window_s) / burst.get();
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst)
    }

    /// The limit as counted in Redis.
    pub fn cluster_quota(self) -> crate::cluster::rate::Quota {
        crate::cluster::rate::Quota::per(self.per_window, Duration::from_secs(self.window_s))
    }
}

impl RoomActor {
    /// The window of this conversation's project.
    pub(super) fn send_window(&self) -> SendWindow {
        let server = self.deps.config.send_window;
        let Ok(loaded) = self.loaded() else {
            return server;
        };
        let project = self.deps.projects.get(loaded.project_id);
        SendWindow {
            per_window: project.messages_per_window.unwrap_or(server.per_window),
            window_s: project.message_window_s.unwrap_or(server.window_s),
        }
    }

    /// Counts one send, edit or deletion of `user` on this node.
    ///
    /// # Errors
    /// `rate_limited` past the window.
    pub(super) fn spend(&mut self, user: UserId) -> Result<(), AppError> {
        let window = self.send_window();
        if window != self.limiter_window {
            self.limiter = RateLimiter::keyed(window.quota());
            self.limiter_window = window;
        }
        self.limiter
            .check_key(&user)
            .map_err(|not_until| AppError::rate_limited_until::<DefaultClock>("send", &not_until))
    }
}
