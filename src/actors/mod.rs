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

use actix::prelude::*;
use bytestring::ByteString;

/// An encoded server frame for one session. Room broadcasts encode a frame once and send a
/// clone of the same bytes to every session.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    /// The JSON text frame.
    pub frame: ByteString,
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
