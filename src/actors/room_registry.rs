//! `RoomRegistry`: finds or starts the [`RoomActor`] of a conversation, and finds which
//! conversation a message is in.
//!
//! State: conversation id → room address. A new room runs on the thread of whoever asked for it
//! first (see [`GetRoom`]). Handles [`GetRoom`] (from sessions and HTTP handlers, through
//! [`send_to_room`]), [`RoomStopped`] (from rooms as they stop when idle), [`Evict`] (from the
//! create-conversation handler) and [`LocateMessage`] (from sessions, which never read the
//! database themselves, before an edit or deletion). One instance, started by `startup`; it
//! lives as long as the server.
//!
//! A room stops itself after `realtime.room_idle_s` with no joined session and nothing in
//! flight. A caller that raced with that stop sees its message bounce (`MailboxError::Closed`);
//! [`send_to_room`] then asks again and gets a fresh room, which reloads its state from the
//! database.

use std::collections::HashMap;

use actix::prelude::*;

use crate::actors::MAILBOX_CAPACITY;
use crate::actors::room::{Behind, ChangeMessage, Origin, RoomActor, RoomDeps, RoomStopped};
use crate::cluster::envelope::Event;
use crate::cluster::{GlobalEvent, Recovered, RemoteEvent};
use crate::db::DbError;
use crate::db::queries::conversations;
use crate::db::queries::messages::{self, Change};
use crate::domain::{ConversationId, MessageId};
use crate::error::AppError;
use crate::policy::{Actor as PolicyActor, MessageFacts};

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

/// Forget the room of a conversation (sent when a conversation is created, so a room started
/// earlier for that id, which found nothing, is not reused).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Evict {
    /// Which conversation.
    pub conversation_id: ConversationId,
}

/// Where a message is, and what the access policy needs to know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLocation {
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its author and state.
    pub facts: MessageFacts,
}

impl MessageLocation {
    /// The room message that edits or deletes this message (`message_id`) for `actor`.
    pub fn change(
        self,
        actor: PolicyActor,
        message_id: MessageId,
        change: Change,
        origin: Option<Origin>,
    ) -> ChangeMessage {
        ChangeMessage {
            actor,
            message_id,
            message: self.facts,
            change,
            origin,
            online: None,
        }
    }
}

/// Finds where message `message_id` is, through `registry`.
///
/// # Errors
/// `not_found` when there is no such message; `unavailable` when the database or the registry
/// cannot be reached.
pub async fn locate(
    registry: &Addr<RoomRegistry>,
    message_id: MessageId,
) -> Result<MessageLocation, AppError> {
    registry
        .send(LocateMessage { message_id })
        .await??
        .ok_or_else(|| AppError::not_found("message"))
}

/// Look a message up by id: `None` when there is none.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<Option<MessageLocation>, DbError>")]
pub struct LocateMessage {
    /// Which message.
    pub message_id: MessageId,
}

/// How many rooms are live on this node.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct CountRooms;

/// The registry actor.
pub struct RoomRegistry {
    /// Live rooms.
    rooms: HashMap<ConversationId, Addr<RoomActor>>,
    /// Handed to each new room.
    deps: RoomDeps,
}

impl RoomRegistry {
    /// Starts the registry; `deps` makes what each room gets, given where rooms report their
    /// stop (the registry itself).
    pub fn start(deps: impl FnOnce(Recipient<RoomStopped>) -> RoomDeps) -> Addr<Self> {
        Self::create(|ctx| {
            ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
            Self {
                rooms: HashMap::new(),
                deps: deps(ctx.address().recipient()),
            }
        })
    }
}

/// How often the registry compares its rooms with the database in cluster mode.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl RoomRegistry {
    /// Cluster mode: reads the stored version of every live room's conversation, in one
    /// statement per thousand rooms, and tells each room; a room behind it for longer than
    /// `cluster.gap_fill_ms` reads what it missed. This covers events that never reached Redis
    /// (their node died between commit and publish) with no later event to reveal the gap.
    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let ids: Vec<ConversationId> = self.rooms.keys().copied().collect();
        if ids.is_empty() {
            return;
        }
        let db = self.deps.db.clone();
        let read = async move {
            let mut conn = db.read().await?;
            let mut versions = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(1000) {
                versions.extend(conversations::versions(&mut conn, chunk).await?);
            }
            Ok::<_, DbError>(versions)
        };
        ctx.spawn(
            read.into_actor(self)
                .map(|versions, registry, _| match versions {
                    Ok(versions) => {
                        for (id, version) in versions {
                            if let Some(room) = registry.rooms.get(&id) {
                                room.do_send(Behind { version });
                            }
                        }
                    }
                    Err(err) => tracing::warn!(error = ?err, "room sweep failed"),
                }),
        );
    }

    fn catch_up_all(&self) {
        for room in self.rooms.values() {
            room.do_send(RemoteEvent::CatchUp);
        }
    }
}

impl Actor for RoomRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.deps.cluster.is_some() {
            ctx.run_interval(SWEEP_INTERVAL, |registry, ctx| registry.sweep(ctx));
        }
    }
}

impl Handler<CountRooms> for RoomRegistry {
    type Result = usize;

    fn handle(&mut self, _: CountRooms, _: &mut Self::Context) -> usize {
        self.rooms.len()
    }
}

impl Handler<GlobalEvent> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, msg: GlobalEvent, _: &mut Self::Context) {
        if msg.0.header.event == Event::CatchUp {
            self.catch_up_all();
        }
    }
}

impl Handler<Recovered> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, _: Recovered, _: &mut Self::Context) {
        self.catch_up_all();
    }
}

impl Handler<GetRoom> for RoomRegistry {
    type Result = MessageResult<GetRoom>;

    fn handle(&mut self, msg: GetRoom, _: &mut Self::Context) -> Self::Result {
        if let Some(room) = self.rooms.get(&msg.conversation_id)
            && room.connected()
        {
            return MessageResult(room.clone());
        }
        let (id, deps) = (msg.conversation_id, self.deps.clone());
        let room = super::start_roomy_in(&msg.arbiter, move || RoomActor::new(id, deps));
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

impl Handler<LocateMessage> for RoomRegistry {
    type Result = ResponseFuture<Result<Option<MessageLocation>, DbError>>;

    fn handle(&mut self, msg: LocateMessage, _: &mut Self::Context) -> Self::Result {
        let db = self.deps.db.clone();
        Box::pin(async move {
            let mut conn = db.read().await?;
            let row = messages::find(&mut conn, msg.message_id).await?;
            Ok(row.map(|row| MessageLocation {
                conversation_id: row.conversation_id,
                facts: MessageFacts {
                    sender_id: row.sender_id,
                    deleted: row.deleted_at.is_some(),
                },
            }))
        })
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
