//! A session's reactions (`reaction:add`, `reaction:remove`), and what its sends and edits
//! need first when they mention `@here`: who is online, asked of presence while later frames
//! wait (`ctx.wait`), so they still reach the room in the order sent.

use actix::prelude::*;

use super::SessionActor;
use super::commands::Reply;
use crate::actors::presence::OnlineIn;
use crate::actors::room::Annotate;
use crate::actors::room_registry::locate;
use crate::db::queries::messages::Annotation;
use crate::domain::{ConversationId, Emoji, UserId};
use crate::protocol::ReactionData;

impl SessionActor {
    /// Runs `then` with the participants of `id` online when `here` (a text with `@here`),
    /// else with `None` at once.
    pub(super) fn with_here(
        &mut self,
        id: ConversationId,
        here: bool,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Option<Vec<UserId>>, &mut Context<Self>) + 'static,
    ) {
        if !here {
            return then(self, None, ctx);
        }
        let lookup = self.deps.presence.send(OnlineIn {
            conversation_id: id,
        });
        ctx.wait(lookup.into_actor(self).map(move |online, session, ctx| {
            then(session, Some(online.unwrap_or_default()), ctx);
        }));
    }

    /// `reaction:add` (`add`) and `reaction:remove`: the registry finds the message's
    /// conversation (later frames wait meanwhile), then its room decides and acknowledges.
    pub(super) fn react(
        &mut self,
        data: ReactionData,
        add: bool,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let emoji = match Emoji::parse(&data.emoji) {
            Ok(emoji) => emoji.into_inner(),
            Err(err) => return self.reply(reference.as_deref(), Err(err.into())),
        };
        let (registry, message_id) = (self.deps.rooms.clone(), data.message_id);
        let lookup = async move { locate(&registry, message_id).await };
        let actor = self.auth.actor();
        ctx.wait(lookup.into_actor(self).map(move |found, session, ctx| {
            let id = match found {
                Ok(location) => location.conversation_id,
                Err(err) => return session.reply(reference.as_deref(), Err(err)),
            };
            session.with_room(id, reference, ctx, move |session, room, reference, ctx| {
                let msg = Annotate {
                    actor,
                    message_id,
                    annotation: Annotation::React { emoji, add },
                    origin: Some(session.origin(reference.clone())),
                };
                session.forward(id, room, msg, reference, ctx, |_, result| {
                    result.map(|_| Reply::Sent)
                });
            });
        }));
    }
}
