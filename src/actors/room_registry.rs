//! `RoomRegistry`: finds or starts the [`RoomActor`] of a conversation.
//!
//! State: conversation id → room address. A new room runs on the thread of whoever asked for it
//! first (see [`GetRoom`]). Handles [`GetRoom`] (from sessions and HTTP handlers,
//! through [`send_to_room`]), [`RoomStopped`] (from rooms as they stop when idle) and [`Evict`]
//! (from the create-conversation handler). One
//! instance, started by `startup`; it lives as long as the server.
//!
//! A room stops itself after `realtime.room_idle_s` with no joined session and nothing in
//! flight. A caller that raced with that stop sees its message bounce (`MailboxError::Closed`);
//! [`send_to_room`] then asks again and gets a fresh room, which reloads its state from the
//! database.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;

use crate::actors::commit_queue::CommitQueues;
use crate::actors::db_writer::DbWriter;
use crate::actors::room::RoomActor;
use crate::config::Settings;
use crate::db::Database;
use crate::domain::ConversationId;

/// What a room needs from the outside world.
#[derive(Clone)]
pub struct RoomDeps {
    /// For loading the conversation's state when the room starts.
    pub db: Database,
    /// Where writes go.
    pub writer: Addr<DbWriter>,
    /// Where message inserts go: the room's thread's group-commit queue.
    pub commit_queues: CommitQueues,
    /// Limits and timeouts.
    pub settings: Arc<Settings>,
}

/// Find or start the room of a conversation. The room itself answers `not_found` if the
/// conversation does not exist.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Addr<RoomActor>")]
pub struct GetRoom {
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// Where a new room runs: the caller's thread (`Arbiter::current()` of a session or an
    /// HTTP handler). A room's broadcasts then reach the sessions of that thread without
    /// waking another thread, which on a busy core costs a context switch per delivery.
    pub arbiter: ArbiterHandle,
}

impl GetRoom {
    /// Looks up `conversation_id`, placing a new room on the calling thread.
    pub fn here(conversation_id: ConversationId) -> Self {
        Self {
            conversation_id,
            arbiter: Arbiter::current(),
        }
    }
}

/// Sent by a room as it stops.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct RoomStopped {
    /// Which conversation.
    pub conversation_id: ConversationId,
}

/// Forget the room of a conversation (sent when a conversation is created, so a room started
/// earlier for that id, which found nothing, is not reused).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Evict {
    /// Which conversation.
    pub conversation_id: ConversationId,
}

/// The registry actor.
pub struct RoomRegistry {
    /// Live rooms.
    rooms: HashMap<ConversationId, Addr<RoomActor>>,
    /// Handed to each new room.
    deps: RoomDeps,
}

impl RoomRegistry {
    /// A registry with no rooms yet.
    pub fn new(deps: RoomDeps) -> Self {
        Self {
            rooms: HashMap::new(),
            deps,
        }
    }
}

impl Actor for RoomRegistry {
    type Context = Context<Self>;
}

impl Handler<GetRoom> for RoomRegistry {
    type Result = MessageResult<GetRoom>;

    fn handle(&mut self, msg: GetRoom, ctx: &mut Self::Context) -> Self::Result {
        if let Some(room) = self.rooms.get(&msg.conversation_id)
            && room.connected()
        {
            return MessageResult(room.clone());
        }
        let (id, deps, registry) = (msg.conversation_id, self.deps.clone(), ctx.address());
        let room = super::start_roomy_in(&msg.arbiter, move || RoomActor::new(id, deps, registry));
        self.rooms.insert(msg.conversation_id, room.clone());
        MessageResult(room)
    }
}

impl Handler<RoomStopped> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, msg: RoomStopped, _: &mut Self::Context) {
        if let Some(room) = self.rooms.get(&msg.conversation_id)
            && !room.connected()
        {
            self.rooms.remove(&msg.conversation_id);
        }
    }
}

impl Handler<Evict> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, msg: Evict, _: &mut Self::Context) {
        self.rooms.remove(&msg.conversation_id);
    }
}

/// Sends `msg` to the room of `conversation_id`, starting the room if needed and retrying when
/// the room stopped between lookup and delivery.
///
/// # Errors
/// A mailbox error when the registry is gone (shutdown) or the room keeps bouncing.
pub async fn send_to_room<M>(
    registry: &Addr<RoomRegistry>,
    conversation_id: ConversationId,
    msg: M,
) -> Result<M::Result, MailboxError>
where
    M: Message + Send + Clone + 'static,
    M::Result: Send,
    RoomActor: Handler<M>,
{
    let mut last = MailboxError::Closed;
    for _ in 0..3 {
        let room = registry.send(GetRoom::here(conversation_id)).await?;
        match room.send(msg.clone()).await {
            Ok(result) => return Ok(result),
            Err(err) => last = err,
        }
    }
    Err(last)
}
