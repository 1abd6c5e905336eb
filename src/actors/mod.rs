//! The actors. See the crate docs for the diagram.
//!
//! - [`session::SessionActor`]: one per WebSocket connection.
//! - [`room::RoomActor`]: one per active conversation, started and found by
//!   [`room_registry::RoomRegistry`].
//! - [`presence::PresenceRegistry`]: one; who is online, and the one place that can end a
//!   user's sessions.
//! - [`commit_queue::CommitQueue`]: one per thread that runs rooms; group commit.
//! - [`db_writer::DbWriter`]: a pool of synchronous writers (actix `SyncArbiter`).
//!
//! Each actor gets a narrow dependency struct (the addresses and settings it uses), never the
//! HTTP layer's state.

pub mod commit_queue;
pub mod db_writer;
pub mod desk;
mod outbox;
#[cfg(test)]
mod outbox_tests;
pub mod pacer;
pub mod presence;
pub mod room;
pub mod room_registry;
pub mod session;
pub mod wire;

pub use outbox::{Outbox, SessionSignal};
pub use wire::Frame;

use actix::prelude::*;

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
