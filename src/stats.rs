//! [`NodeStats`]: what this node has done lately, for the console's dashboard
//! (`GET /api/v1/admin/stats`, docs/PROTOCOL.md).
//!
//! Counts live in memory and start at zero with the process; on several nodes each node
//! reports its own.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Seconds in the sliding window of [`NodeStats::messages_per_minute`].
const WINDOW_S: usize = 60;

/// Messages stored by this node: a running total and a one-minute sliding window of
/// one-second buckets (bounded: 60 buckets whatever the rate).
#[derive(Debug)]
pub struct NodeStats {
    started: Instant,
    stored: AtomicU64,
    window: Mutex<Window>,
}

/// Per-second counts; `stamp[i]` is the second (since start) whose count `count[i]` holds.
#[derive(Debug)]
struct Window {
    stamp: [u64; WINDOW_S],
    count: [u64; WINDOW_S],
}

impl Default for Window {
    fn default() -> Self {
        Self {
            stamp: [0; WINDOW_S],
            count: [0; WINDOW_S],
        }
    }
}

impl Window {
    fn add(&mut self, second: u64, n: u64) {
        let slot = Self::slot(second);
        if self.stamp[slot] != second {
            self.stamp[slot] = second;
            self.count[slot] = 0;
        }
        self.count[slot] += n;
    }

    /// The counts of the 60 seconds up to and including `second`.
    fn sum(&self, second: u64) -> u64 {
        let oldest = second.saturating_sub(WINDOW_S as u64 - 1);
        self.stamp
            .iter()
            .zip(&self.count)
            .filter(|(stamp, _)| (oldest..=second).contains(*stamp))
            .map(|(_, count)| count)
            .sum()
    }

    fn slot(second: u64) -> usize {
        usize::try_from(second % WINDOW_S as u64).unwrap_or(0)
    }
}

impl Default for NodeStats {
    fn default() -> Self {
        Self::new()
    }
}

impl NodeStats {
    /// Empty counts, starting now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            stored: AtomicU64::new(0),
            window: Mutex::new(Window::default()),
        }
    }

    /// Counts `n` messages stored now.
    pub fn messages_stored(&self, n: u64) {
        crate::monitor::messages_stored(n);
        if n == 0 {
            return;
        }
        self.stored.fetch_add(n, Ordering::Relaxed);
        let second = self.started.elapsed().as_secs();
        if let Ok(mut window) = self.window.lock() {
            window.add(second, n);
        }
    }

    /// Messages stored since the process started.
    pub fn stored_total(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Messages stored in the last 60 seconds (this second included).
    pub fn messages_per_minute(&self) -> u64 {
        let second = self.started.elapsed().as_secs();
        self.window.lock().map_or(0, |window| window.sum(second))
    }

    /// Seconds since the process started.
    pub fn uptime_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_the_last_sixty_seconds_only() {
        let mut window = Window::default();
        window.add(0, 5);
        window.add(30, 2);
        window.add(59, 1);
        assert_eq!(window.sum(59), 8);
        // Second 60 reuses second 0's bucket: the 5 leave the window.
        window.add(60, 4);
        assert_eq!(window.sum(60), 7);
        assert_eq!(window.sum(89), 7, "second 30 is still in at 89");
        assert_eq!(window.sum(90), 5, "and has left at 90");
        assert_eq!(window.sum(500), 0, "long silence empties it");
    }

    #[test]
    fn totals_add_up() {
        let stats = NodeStats::new();
        stats.messages_stored(3);
        stats.messages_stored(0);
        stats.messages_stored(2);
        assert_eq!(stats.stored_total(), 5);
        assert_eq!(stats.messages_per_minute(), 5);
    }
}
