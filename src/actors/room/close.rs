//! Closing: written by the writer, then announced after the last message committed before it
//! (the close's `last_seq`), so `conversation:closed` follows the `message:new` of every one of
//! them, on this node and, through Redis, on the others.

use actix::prelude::*;

use super::order::{Applied, Audience, Delivery};
use super::{RoomActor, RoomState, event};
use crate::actors::db_writer::CloseConversation;
use crate::actors::desk::WriteStatus;
use crate::cluster::envelope::{Effect, Event};
use crate::db::DbError;
use crate::db::models::ConversationRow;
use crate::db::queries::desk::StatusChange;
use crate::domain::{ConversationKind, ConversationStatus, UserId};
use crate::error::AppError;
use crate::policy::{Action, Actor as PolicyActor};
use crate::protocol::{ClosedEvent, ServerFrame};

/// Close the conversation (agents and admins, per the access policy). Idempotent: closing a
/// closed conversation answers it unchanged and announces nothing.
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<ConversationRow, AppError>")]
pub struct Close {
    /// Who closes it.
    pub actor: PolicyActor,
}

impl Handler<Close> for RoomActor {
    type Result = ResponseActFuture<Self, Result<ConversationRow, AppError>>;

    fn handle(&mut self, msg: Close, _: &mut Self::Context) -> Self::Result {
        if let Err(err) = self.allow(&msg.actor, Action::Close) {
            return Box::pin(fut::ready(Err(err)));
        }
        if self
            .loaded()
            .is_ok_and(|l| l.kind == ConversationKind::Support)
        {
            return self.resolve(msg.actor.user_id);
        }
        self.in_flight += 1;
        let close = self.deps.writer.send(CloseConversation {
            conversation_id: self.id,
            closed_by: msg.actor.user_id,
        });
        Box::pin(close.into_actor(self).map(|result, room, ctx| {
            room.in_flight -= 1;
            let row = result.map_err(|_| DbError::WriterGone)??;
            let was_open = !room.is_closed();
            if let RoomState::Ready(loaded) = &mut room.state {
                loaded.status = ConversationStatus::Closed;
            }
            if was_open {
                room.stop_all_typing(ctx);
                let frame = event(&ServerFrame::ConversationClosed {
                    data: ClosedEvent {
                        conversation_id: room.id,
                        closed_by: row.closed_by,
                        closed_at: row.closed_at.map(|t| t.and_utc()),
                    },
                });
                room.publish(
                    Event::After {
                        conversation_id: room.id,
                        seq: row.last_seq,
                        effect: Effect::Closed,
                    },
                    &frame,
                );
                let delivery = Delivery {
                    frame: Some(frame),
                    except: None,
                    ack: None,
                    ack_first: true,
                    audience: Audience::All,
                    effect: Applied::Closed,
                };
                room.sequence_after(row.last_seq, delivery, ctx);
            }
            Ok(row)
        }))
    }
}

impl RoomActor {
    /// Closing a support conversation resolves it (docs/PROTOCOL.md, *Support desk*).
    fn resolve(
        &mut self,
        by: UserId,
    ) -> ResponseActFuture<Self, Result<ConversationRow, AppError>> {
        self.in_flight += 1;
        let write = self.deps.writer.send(WriteStatus(StatusChange {
            conversation_id: self.id,
            status: ConversationStatus::Resolved,
            snoozed_until: None,
            by: Some(by),
        }));
        Box::pin(write.into_actor(self).map(move |result, room, ctx| {
            room.in_flight -= 1;
            let (row, changed) = result.map_err(|_| DbError::WriterGone)??;
            if changed {
                room.announce_status(&row, Some(by), ctx);
            }
            Ok(row)
        }))
    }
}
