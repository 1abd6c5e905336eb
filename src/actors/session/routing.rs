//! How a session's commands reach rooms: in the order the client sent them, retried when a
//! room stopped in between, and answered when the room answers.

use actix::prelude::*;

use super::SessionActor;
use super::commands::Reply;
use crate::actors::room::{Origin, RoomActor};
use crate::actors::room_registry::{GetRoom, send_to_room};
use crate::domain::ConversationId;
use crate::error::AppError;

impl SessionActor {
    /// Runs `then` with the room of `id`. A cached, live address is used at once, so frames
    /// reach the room in the order the client sent them; on a miss the lookup is awaited with
    /// `ctx.wait`, which holds back later frames until it is done.
    pub(super) fn with_room(
        &mut self,
        id: ConversationId,
        reference: Option<String>,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Addr<RoomActor>, Option<String>, &mut Context<Self>) + 'static,
    ) {
        if let Some(room) = self.rooms.get(&id).filter(|room| room.connected()).cloned() {
            then(self, room, reference, ctx);
            return;
        }
        let lookup = self.deps.rooms.send(GetRoom::here(id));
        ctx.wait(
            lookup
                .into_actor(self)
                .map(move |room, session, ctx| match room {
                    Ok(room) => {
                        session.rooms.insert(id, room.clone());
                        then(session, room, reference, ctx);
                    }
                    Err(err) => session.reply(reference.as_deref(), Err(err.into())),
                }),
        );
    }

    /// Sends `msg` to `room` now (keeping order) and replies with `map(result)` when it
    /// answers. If the room stopped in the meantime the message is retried through the
    /// registry.
    pub(super) fn forward<M>(
        &mut self,
        id: ConversationId,
        room: Addr<RoomActor>,
        msg: M,
        reference: Option<String>,
        ctx: &mut Context<Self>,
        map: impl FnOnce(&mut Self, M::Result) -> Result<Reply, AppError> + 'static,
    ) where
        M: actix::Message + Send + Clone + 'static,
        M::Result: Send,
        RoomActor: Handler<M>,
    {
        let registry = self.deps.rooms.clone();
        let first = room.send(msg.clone());
        self.in_flight += 1;
        let call = async move {
            match first.await {
                Ok(result) => Ok(result),
                Err(_) => send_to_room(&registry, id, msg).await,
            }
        };
        ctx.spawn(call.into_actor(self).map(move |result, session, ctx| {
            session.in_flight -= 1;
            let result = match result {
                Ok(answer) => map(session, answer),
                Err(err) => Err(err.into()),
            };
            if matches!(result, Err(AppError::NotFound(_) | AppError::Forbidden(_))) {
                // Not a conversation this session can act in (or a room started for an id
                // before its conversation existed): keep no address for it, so the map holds
                // only the user's own conversations, and look the room up afresh next time.
                session.rooms.remove(&id);
            }
            session.reply(reference.as_deref(), result);
            session.close_if_drained(ctx);
        }));
    }

    /// Where a room sends this command's answer: this session's outbox.
    pub(super) fn origin(&self, reference: Option<String>) -> Origin {
        Origin {
            session_id: self.id,
            outbox: self.outbox.clone(),
            reference,
        }
    }
}
