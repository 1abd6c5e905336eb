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

/// Mailbox capacity of the shared actors (rooms, registries). actix's default of 16 makes
/// `send` wait under bursts; `usize::MAX` overflows actix's channel arithmetic.
pub const MAILBOX_CAPACITY: usize = 1 << 16;
