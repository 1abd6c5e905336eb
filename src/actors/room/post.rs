//! Sends, edits and deletions: checked (access policy, then the per-user rate), queued for
//! group commit, and answered and broadcast in commit order.

use std::borrow::Cow;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::{ChangeMessage, Origin, Pending, PostMessage, RoomActor, RoomState, event};
use crate::actors::commit_queue::{Committed, QueueWrite};
use crate::api::MessageView;
use crate::db::DbError;
use crate::db::queries::messages::{self, Change, ChangeDraft, MessageDraft, Write, Written};
use crate::domain::ConversationStatus;
use crate::error::AppError;
use crate::policy::Action;
use crate::protocol::{self, Ack, MessageDeleted, MessagePayload, ServerFrame};

type Answer = oneshot::Sender<Result<MessageView, AppError>>;

/// The future a handler returns: the answer the room sends once the write is committed.
fn answer_later() -> (Answer, ResponseFuture<Result<MessageView, AppError>>) {
    let (answer, receiver) = oneshot::channel();
    let outcome = async move {
        receiver
            .await
            .unwrap_or_else(|_| Err(AppError::Unavailable("the server is stopping".into())))
    };
    (answer, Box::pin(outcome))
}

impl RoomActor {
    /// Queues `write` for commit; its outcome comes back as [`Committed`] with `pending`.
    fn queue(&mut self, write: Write, pending: Pending, ctx: &mut Context<Self>) {
        self.next_token += 1;
        let token = self.next_token;
        self.pending.insert(token, pending);
        self.commit_queue.do_send(QueueWrite {
            write,
            token,
            reply_to: ctx.address().recipient(),
        });
    }

    /// Checks a send before it is queued: the policy, then the rate.
    fn check_post(&self, msg: &PostMessage) -> Result<(), AppError> {
        self.allow(&msg.actor, Action::Post)?;
        self.spend(msg.actor.user_id)
    }

    /// Acknowledges a stored message to its origin and, if new, tells everyone else.
    fn posted(
        &mut self,
        msg: &PostMessage,
        message: &MessageView,
        new: bool,
        ctx: &mut Context<Self>,
    ) {
        if new {
            if let RoomState::Ready(loaded) = &mut self.state {
                loaded.last_seq = loaded.last_seq.max(message.seq);
                loaded.version = loaded.version.max(message.version);
            }
            self.stop_typing(msg.actor.user_id, ctx);
        }
        if let Some(origin) = &msg.origin {
            self.acknowledge(origin, message);
        }
        if new {
            let frame = event(&ServerFrame::MessageNew {
                data: MessagePayload {
                    message: Cow::Borrowed(message),
                },
            });
            self.broadcast(&frame, msg.origin.as_ref().map(|o| o.session_id));
        }
    }

    /// Sends `{message}` as the `ack` of `origin`'s command, in order with the room's events.
    fn acknowledge(&mut self, origin: &Origin, message: &MessageView) {
        let ack = protocol::ack(
            origin.reference.as_deref(),
            Ack::Message(MessagePayload {
                message: Cow::Borrowed(message),
            }),
        );
        self.send_to(origin, ack);
    }

    /// Tells every joined session of an edit or deletion, then acknowledges it.
    fn changed(&mut self, msg: &ChangeMessage, message: &MessageView, changed: bool) {
        if changed {
            if let RoomState::Ready(loaded) = &mut self.state {
                loaded.version = loaded.version.max(message.version);
            }
            let frame = match msg.change {
                Change::Edit(_) => event(&ServerFrame::MessageUpdated {
                    data: MessagePayload {
                        message: Cow::Borrowed(message),
                    },
                }),
                Change::Delete => event(&ServerFrame::MessageDeleted {
                    data: MessageDeleted {
                        conversation_id: message.conversation_id,
                        message_id: message.id,
                        seq: message.seq,
                        version: message.version,
                    },
                }),
            };
            self.broadcast(&frame, None);
        }
        if let Some(origin) = &msg.origin {
            self.acknowledge(origin, message);
        }
    }

    /// Broadcasts a pending `conversation:closed` once no write queued before it is unanswered.
    pub(super) fn announce_close_when_settled(&mut self) {
        if self.pending.is_empty()
            && let Some(frame) = self.closed_frame.take()
        {
            self.broadcast(&frame, None);
        }
    }

    /// A send refused before queuing. A retry of a message that was already stored (same
    /// `client_msg_id`) still gets the original: exactly-once holds even after a close or under
    /// the rate limit.
    fn refused(
        &mut self,
        msg: PostMessage,
        err: AppError,
        answer: Answer,
        ctx: &mut Context<Self>,
    ) {
        let retryable = matches!(
            err,
            AppError::ConversationClosed | AppError::RateLimited { .. }
        );
        let Some(client_msg_id) = msg.client_msg_id.clone().filter(|_| retryable) else {
            let _ = answer.send(Err(err));
            return;
        };
        self.in_flight += 1;
        let (db, id, sender) = (self.deps.db.clone(), self.id, msg.actor.user_id);
        let lookup = async move {
            let mut conn = db.read().await?;
            messages::find_by_client_msg_id(&mut conn, id, sender, &client_msg_id).await
        };
        ctx.spawn(lookup.into_actor(self).map(move |found, room, ctx| {
            room.in_flight -= 1;
            let result = match found {
                Ok(Some(row)) => {
                    let message = row.into_view(&room.deps.links);
                    room.posted(&msg, &message, false, ctx);
                    Ok(message)
                }
                _ => Err(err),
            };
            let _ = answer.send(result);
        }));
    }
}

impl Handler<PostMessage> for RoomActor {
    type Result = ResponseFuture<Result<MessageView, AppError>>;

    fn handle(&mut self, mut msg: PostMessage, ctx: &mut Self::Context) -> Self::Result {
        let (answer, outcome) = answer_later();
        match self.check_post(&msg) {
            Ok(()) => {
                let draft = MessageDraft {
                    project_id: msg.actor.project_id,
                    conversation_id: self.id,
                    sender_id: msg.actor.user_id,
                    // Moved, not copied: the acknowledgement needs only the sender and origin.
                    content: std::mem::take(&mut msg.content),
                    client_msg_id: msg.client_msg_id.take(),
                    attachment_id: msg.attachment_id,
                };
                self.queue(Write::Insert(draft), Pending::Post { msg, answer }, ctx);
            }
            Err(err) => self.refused(msg, err, answer, ctx),
        }
        outcome
    }
}

impl Handler<ChangeMessage> for RoomActor {
    type Result = ResponseFuture<Result<MessageView, AppError>>;

    fn handle(&mut self, msg: ChangeMessage, ctx: &mut Self::Context) -> Self::Result {
        let (answer, outcome) = answer_later();
        let action = match msg.change {
            Change::Edit(_) => Action::Edit(msg.message),
            Change::Delete => Action::Delete(msg.message),
        };
        let checked = self
            .allow(&msg.actor, action)
            .and_then(|()| self.spend(msg.actor.user_id));
        match checked {
            Ok(()) => {
                let draft = ChangeDraft {
                    actor: msg.actor,
                    conversation_id: self.id,
                    message_id: msg.message_id,
                    change: msg.change.clone(),
                };
                self.queue(Write::Change(draft), Pending::Change { msg, answer }, ctx);
            }
            Err(err) => {
                let _ = answer.send(Err(err));
            }
        }
        outcome
    }
}

impl Handler<Committed> for RoomActor {
    type Result = ();

    /// Outcomes arrive in commit order, so acks and events go out in seq (and version) order.
    fn handle(&mut self, committed: Committed, ctx: &mut Self::Context) {
        let Some(pending) = self.pending.remove(&committed.token) else {
            return;
        };
        if let Err(DbError::ConversationClosed) = &committed.result
            && let RoomState::Ready(loaded) = &mut self.state
        {
            loaded.status = ConversationStatus::Closed;
        }
        let links = self.deps.links.clone();
        match (pending, committed.result) {
            (Pending::Post { msg, answer }, Ok(Written::Inserted(inserted))) => {
                let message = inserted.row.into_view(&links);
                self.posted(&msg, &message, !inserted.duplicate, ctx);
                let _ = answer.send(Ok(message));
            }
            (Pending::Change { msg, answer }, Ok(Written::Changed(changed))) => {
                let message = changed.row.into_view(&links);
                self.changed(&msg, &message, changed.changed);
                let _ = answer.send(Ok(message));
            }
            (Pending::Post { answer, .. } | Pending::Change { answer, .. }, Ok(_)) => {
                let error = AppError::internal(anyhow::anyhow!("write answered with another kind"));
                let _ = answer.send(Err(error));
            }
            (Pending::Change { answer, .. }, Err(DbError::NotFound)) => {
                let _ = answer.send(Err(AppError::not_found("message")));
            }
            (Pending::Post { answer, .. } | Pending::Change { answer, .. }, Err(err)) => {
                let _ = answer.send(Err(AppError::from(err)));
            }
        }
        self.announce_close_when_settled();
    }
}
