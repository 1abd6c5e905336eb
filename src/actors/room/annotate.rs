//! Reactions, pins and mentions in the room.
//!
//! [`Annotate`] (a reaction or a pin, from sessions and REST handlers) is checked against the
//! access policy (`RoomAction::React`, `RoomAction::Pin`), then written through the commit
//! queue like an edit: it takes the conversation's next version, so `reaction:added`,
//! `reaction:removed`, `message:pinned` and `message:unpinned` are delivered in version order
//! on every node (published to the others like any change) and a resuming client gets the
//! message again. Adding what is there or removing what is not is answered with the message
//! and announces nothing. Reactions and pins do not count against the send rate (the
//! session's frame budget and the REST limits bound them).
//!
//! Mentions: `@all` and `@here` in a send or an edit need `RoomAction::MentionAll`; refused,
//! nothing is written. Once a message is stored (or edited), the users it newly mentions are
//! told `mention` on every session of theirs, through presence (every node's).

use actix::prelude::*;

use super::order::{Applied, Audience, Delivery};
use super::post::{Answer, ack_frame, answer_later};
use super::{Origin, Pending, RoomActor, event};
use crate::actors::presence::NotifyUsers;
use crate::api::MessageView;
use crate::cluster::envelope::Event;
use crate::db::DbError;
use crate::db::queries::messages::{Annotated, Annotation, AnnotationDraft, Write, Written};
use crate::domain::{MessageId, UserId, mentions};
use crate::error::AppError;
use crate::policy::{Action, Actor as PolicyActor, RoomAction};
use crate::protocol::{MentionEvent, PinnedEvent, ReactionEvent, ServerFrame, UnpinnedEvent};

/// React to a message or pin it, or take either back (WebSocket `reaction:add` and
/// `reaction:remove`; REST `POST`/`DELETE /api/v1/messages/{id}/reactions/{emoji}` and
/// `.../pin`). Answers the message after commit, reactions' `me` for the actor; a WebSocket
/// origin also gets its `ack` from the room, after the event.
#[derive(Message, Clone)]
#[rtype(result = "Result<MessageView, AppError>")]
pub struct Annotate {
    /// Who asks.
    pub actor: PolicyActor,
    /// Which message (of this conversation; another's is `not_found`).
    pub message_id: MessageId,
    /// What to do.
    pub annotation: Annotation,
    /// The session that asked.
    pub origin: Option<Origin>,
}

impl Handler<Annotate> for RoomActor {
    type Result = ResponseFuture<Result<MessageView, AppError>>;

    fn handle(&mut self, msg: Annotate, ctx: &mut Self::Context) -> Self::Result {
        let (answer, outcome) = answer_later();
        match self.allow(&msg.actor, msg.annotation.action()) {
            Ok(()) => {
                let draft = AnnotationDraft {
                    actor: msg.actor,
                    conversation_id: self.id,
                    message_id: msg.message_id,
                    annotation: msg.annotation.clone(),
                };
                self.queue(
                    Write::Annotate(draft),
                    Pending::Annotate { msg, answer },
                    ctx,
                );
            }
            // The message's conversation is not the caller's to see: the message is not.
            Err(AppError::NotFound(_)) => {
                let _ = answer.send(Err(AppError::not_found("message")));
            }
            Err(err) => {
                let _ = answer.send(Err(err));
            }
        }
        outcome
    }
}

impl RoomActor {
    /// The committed outcome of an [`Annotate`]: answered, and announced when it changed
    /// something.
    pub(super) fn annotated(
        &mut self,
        msg: Annotate,
        answer: Answer,
        result: Result<Written, DbError>,
        ctx: &mut Context<Self>,
    ) {
        let done: Annotated = match result {
            Ok(Written::Annotated(done)) => done,
            Ok(_) => {
                let error = AppError::internal(anyhow::anyhow!("write answered with another kind"));
                let _ = answer.send(Err(error));
                return;
            }
            Err(DbError::NotFound) => {
                let _ = answer.send(Err(AppError::not_found("message")));
                return;
            }
            Err(err) => {
                let _ = answer.send(Err(err.into()));
                return;
            }
        };
        let message = done
            .row
            .into_view(&self.deps.links)
            .with_extras(done.extras);
        let ack = msg
            .origin
            .as_ref()
            .map(|origin| (origin.clone(), ack_frame(origin, &message)));
        if !done.changed {
            if let Some((origin, ack)) = ack {
                self.send_to(&origin, ack);
            }
            let _ = answer.send(Ok(message));
            return;
        }
        let (conversation_id, message_id) = (self.id, message.id);
        let (by, version) = (msg.actor.user_id, message.version);
        let frame = event(&match msg.annotation {
            Annotation::React { emoji, add } => {
                let data = ReactionEvent {
                    conversation_id,
                    message_id,
                    emoji,
                    user_id: by,
                    count: done.count,
                    version,
                };
                if add {
                    ServerFrame::ReactionAdded { data }
                } else {
                    ServerFrame::ReactionRemoved { data }
                }
            }
            Annotation::Pin { add: true } => ServerFrame::MessagePinned {
                data: PinnedEvent {
                    conversation_id,
                    message_id,
                    pinned_by: by,
                    version,
                },
            },
            Annotation::Pin { add: false } => ServerFrame::MessageUnpinned {
                data: UnpinnedEvent {
                    conversation_id,
                    message_id,
                    unpinned_by: by,
                    version,
                },
            },
        });
        let change = Event::Message {
            conversation_id,
            version,
            seq: None,
            private: false,
        };
        self.publish(change, &frame);
        let delivery = Delivery {
            frame: Some(frame),
            except: None,
            ack,
            ack_first: false,
            audience: Audience::All,
            effect: Applied::Version { version, seq: None },
        };
        self.sequence_change(version, None, delivery, ctx);
        let _ = answer.send(Ok(message));
    }

    /// Whether `actor` may send `content`: `@all` and `@here` need `RoomAction::MentionAll`.
    pub(super) fn allow_mentions(
        &self,
        actor: &PolicyActor,
        content: &str,
    ) -> Result<(), AppError> {
        if mentions::parse(content).everyone() {
            self.allow(actor, Action::Room(RoomAction::MentionAll))
        } else {
            Ok(())
        }
    }

    /// Tells every session of `users` (on every node) that `message` mentions them.
    pub(super) fn notify_mentioned(&self, message: &MessageView, users: &[UserId]) {
        if users.is_empty() {
            return;
        }
        let frame = event(&ServerFrame::Mention {
            data: MentionEvent {
                conversation_id: message.conversation_id,
                message_id: message.id,
                seq: message.seq,
                sender_id: message.sender_id,
            },
        });
        self.deps.presence.do_send(NotifyUsers {
            users: users.to_vec(),
            frame,
        });
    }
}
