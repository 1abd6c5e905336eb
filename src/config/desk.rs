//! `[desk]`: the support desk (docs/PROTOCOL.md, *Support desk*): auto-assignment, what a
//! customer's message into a resolved conversation does, and the snooze sweep.

use std::time::Duration;

use serde::Deserialize;

use super::secs;

/// What a customer's message into a `resolved` support conversation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolvedReply {
    /// It is taken, and the conversation opens again (to the same assignee).
    Reopen,
    /// It is refused with `conversation_closed`: the customer starts a new conversation.
    New,
}

/// `[desk]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeskSettings {
    /// Give each new support conversation to the `online` agent with the fewest open
    /// conversations (round robin on ties); with nobody online it waits in the queue.
    pub auto_assign: bool,
    /// Auto-assignment skips agents with this many open (`open` or `pending`) conversations
    /// assigned already.
    pub max_open_per_agent: u32,
    /// `reopen` or `new`: what a customer's message into a resolved conversation does.
    pub resolved_reply: ResolvedReply,
    /// How often snoozed conversations whose time has come are opened again, in seconds
    /// (fractions allowed).
    pub snooze_sweep_interval_s: f64,
}

impl DeskSettings {
    /// `snooze_sweep_interval_s` as a duration (at least 10 ms).
    pub fn snooze_sweep_interval(&self) -> Duration {
        secs(self.snooze_sweep_interval_s.max(0.01))
    }
}

impl Default for DeskSettings {
    fn default() -> Self {
        Self {
            auto_assign: true,
            max_open_per_agent: 20,
            resolved_reply: ResolvedReply::Reopen,
            snooze_sweep_interval_s: 5.0,
        }
    }
}
