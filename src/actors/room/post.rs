//! Sends, edits and deletions: checked (access policy, then the per-user rate), queued for
//! group commit, and answered and broadcast in commit order.

use std::borrow::Cow;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::gate::{Gated, GatedWrite};
use super::order::{Applied, Audience, Delivery};
use super::{ChangeMessage, Origin, Pending, PostMessage, RoomActor, RoomState, event};
use crate::actors::commit_queue::{Committed, QueueWrite};
use crate::api::MessageView;
use crate::cluster::envelope::Event;
use crate::db::DbError;
use crate::db::queries::desk::DeskTouch;
use crate::db::queries::extras;
use crate::db::queries::messages::{Change, ChangeDraft, MessageDraft, Write, Written};
use crate::domain::ConversationStatus;
use crate::error::AppError;
use crate::policy::Action;
use crate::protocol::{self, Ack, MessageDeleted, MessagePayload, ServerFrame};

pub(super) type Answer = oneshot::Sender<Result<MessageView, AppError>>;

/// The future a handler returns: the answer the room sends once the write is committed.
pub(super) fn answer_later() -> (Answer, ResponseFuture<Result<MessageView, AppError>>) {
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
    pub(super) fn queue(&mut self, write: Write, pending: Pending, ctx: &mut Context<Self>) {
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
    fn posted(
        &mut self,
        msg: &PostMessage,
        message: &MessageView,
        new: bool,
        ctx: &mut Context<Self>,
    ) {
        let ack = msg
            .origin
            .as_ref()
            .map(|origin| (origin.clone(), ack_frame(origin, message)));
        if !new {
            // A retried client_msg_id: the original, to the sender alone, at once.
            if let Some((origin, ack)) = ack {
                self.send_to(&origin, ack);
            }
            return;
        }
        self.stop_typing(msg.actor.user_id, ctx);
        let data = MessagePayload {
            message: Cow::Borrowed(message),
        };
        let frame = event(&if message.private {
            ServerFrame::NoteNew { data }
        } else {
            ServerFrame::MessageNew { data }
        });
        self.publish(
            Event::Message {
                conversation_id: self.id,
                version: message.version,
                seq: Some(message.seq),
                private: message.private,
            },
            &frame,
        );
        let delivery = Delivery {
            frame: Some(frame),
            except: msg.origin.as_ref().map(|o| o.session_id),
            ack,
            ack_first: true,
            audience: Audience::of(message),
            effect: Applied::Version {
                version: message.version,
                seq: Some(message.seq),
            },
        };
        self.sequence_change(message.version, Some(message.seq), delivery, ctx);
    }

    fn changed(
        &mut self,
        msg: &ChangeMessage,
        message: &MessageView,
        changed: bool,
        ctx: &mut Context<Self>,
    ) {
        let ack = msg
            .origin
            .as_ref()
            .map(|origin| (origin.clone(), ack_frame(origin, message)));
        if !changed {
            if let Some((origin, ack)) = ack {
                self.send_to(&origin, ack);
            }
            return;
        }
        let frame = match msg.change {
            Change::Edit(_) => event(&ServerFrame::MessageUpdated {
                data: MessagePayload {
                    message: message.for_everyone(),
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
        self.publish(
            Event::Message {
                conversation_id: self.id,
                version: message.version,
                seq: None,
                private: message.private,
            },
            &frame,
        );
        let delivery = Delivery {
            frame: Some(frame),
            except: None,
            ack,
            ack_first: false,
            audience: Audience::of(message),
            effect: Applied::Version {
                version: message.version,
                seq: None,
            },
        };
        self.sequence_change(message.version, None, delivery, ctx);
    }

    /// Counts a send, edit or deletion that the access policy allowed against its sender's
    /// rate, then queues it: at once against this node's limiter, or, in cluster mode, after
    /// Redis answered for every node, keeping the arrival order.
    fn admit(&mut self, write: GatedWrite, ctx: &mut Context<Self>) {
        let user = write.user();
        let cluster = self.deps.cluster.clone().filter(|c| c.redis_up());
        let Some(cluster) = cluster else {
            let verdict = self.spend(user);
            if self.gate.is_empty() {
                return self.pass(write, verdict, ctx);
            }
            self.gate.push_back(Gated {
                ticket: 0,
                verdict: Some(verdict),
                write,
            });
            return self.drain_gate(ctx);
        };
        self.next_token += 1;
        let ticket = self.next_token;
        self.gate.push_back(Gated {
            ticket,
            verdict: None,
            write,
        });
        let key = format!("send:{}:{}", self.id, user);
        let quota = self.send_window().cluster_quota();
        let check = async move { cluster.rate(key, quota).await };
        ctx.spawn(check.into_actor(self).map(move |answer, room, ctx| {
            let verdict = match answer {
                Ok(Ok(())) => Ok(()),
                Ok(Err(retry_after)) => Err(AppError::rate_limited("send", retry_after)),
                // Redis failed: this node's own limiter decides.
                Err(_) => room.spend(user),
            };
            if let Some(gated) = room.gate.iter_mut().find(|g| g.ticket == ticket) {
                gated.verdict = Some(verdict);
            }
            room.drain_gate(ctx);
        }));
    }

    fn drain_gate(&mut self, ctx: &mut Context<Self>) {
        while self.gate.front().is_some_and(|g| g.verdict.is_some()) {
            let Some(Gated {
                verdict: Some(verdict),
                write,
                ..
            }) = self.gate.pop_front()
            else {
                break;
            };
            self.pass(write, verdict, ctx);
        }
    }

    fn pass(&mut self, write: GatedWrite, verdict: Result<(), AppError>, ctx: &mut Context<Self>) {
        match (write, verdict) {
            (GatedWrite::Post { mut msg, answer }, Ok(())) => {
                let draft = MessageDraft {
                    project_id: msg.actor.project_id,
                    conversation_id: self.id,
                    sender_id: msg.actor.user_id,
                    // Moved, not copied: the acknowledgement needs only the sender and origin.
                    content: std::mem::take(&mut msg.content),
                    client_msg_id: msg.client_msg_id.take(),
                    attachment_id: msg.attachment_id,
                    system: msg.system,
                    reply_to: msg.reply_to,
                    online: msg.online.take(),
                    private: msg.private,
                    desk: self.desk_touch(&msg),
                    canned: matches!(self.desk_touch(&msg), Some(DeskTouch::Team))
                        || (msg.private && msg.actor.role.is_staff()),
                };
                self.queue(Write::Insert(draft), Pending::Post { msg, answer }, ctx);
            }
            (GatedWrite::Post { msg, answer }, Err(err)) => self.refused(msg, err, answer, ctx),
            (GatedWrite::Change { msg, answer }, Ok(())) => {
                let draft = ChangeDraft {
                    actor: msg.actor,
                    conversation_id: self.id,
                    message_id: msg.message_id,
                    change: msg.change.clone(),
                    online: msg.online.clone(),
                };
                self.queue(Write::Change(draft), Pending::Change { msg, answer }, ctx);
            }
            (GatedWrite::Change { answer, .. }, Err(err)) => {
                let _ = answer.send(Err(err));
            }
        }
    }

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
        let links = self.deps.links.clone();
        let lookup = async move {
            let mut conn = db.read().await?;
            extras::retried(&mut conn, id, sender, &client_msg_id, &links).await
        };
        ctx.spawn(lookup.into_actor(self).map(move |found, room, ctx| {
            room.in_flight -= 1;
            let result = match found {
                Ok(Some(message)) => {
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

    fn handle(&mut self, msg: PostMessage, ctx: &mut Self::Context) -> Self::Result {
        let (answer, outcome) = answer_later();
        if msg.system {
            match self.allow_system(msg.actor.project_id) {
                Ok(()) => self.pass(GatedWrite::Post { msg, answer }, Ok(()), ctx),
                Err(err) => self.refused(msg, err, answer, ctx),
            }
            return outcome;
        }
        let allowed = self.allow_post(&msg);
        match allowed.and_then(|()| self.allow_mentions(&msg.actor, &msg.content)) {
            Ok(()) => self.admit(GatedWrite::Post { msg, answer }, ctx),
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
        let allowed = self.allow(&msg.actor, action);
        let allowed = match &msg.change {
            Change::Edit(text) => allowed.and_then(|()| self.allow_mentions(&msg.actor, text)),
            Change::Delete => allowed,
        };
        match allowed {
            Ok(()) => self.admit(GatedWrite::Change { msg, answer }, ctx),
            Err(err) => {
                let _ = answer.send(Err(err));
            }
        }
        outcome
    }
}

/// The `ack` frame of a send, edit or deletion.
pub(super) fn ack_frame(origin: &Origin, message: &MessageView) -> bytestring::ByteString {
    protocol::ack(
        origin.reference.as_deref(),
        Ack::Message(MessagePayload {
            message: Cow::Borrowed(message),
        }),
    )
}

impl Handler<Committed> for RoomActor {
    type Result = ();

    /// Outcomes arrive in commit order, so acks and events go out in seq (and version) order.
    fn handle(&mut self, committed: Committed, ctx: &mut Self::Context) {
        let pending = match self.pending.remove(&committed.token) {
            Some(Pending::Annotate { msg, answer }) => {
                return self.annotated(msg, answer, committed.result, ctx);
            }
            Some(pending) => pending,
            None => return,
        };
        if let Err(DbError::ConversationClosed) = &committed.result
            && let RoomState::Ready(loaded) = &mut self.state
        {
            loaded.status = ConversationStatus::Closed;
        }
        let links = self.deps.links.clone();
        match (pending, committed.result) {
            (Pending::Post { msg, answer }, Ok(Written::Inserted(inserted))) => {
                let message = inserted.row.into_view(&links).with_extras(inserted.extras);
                self.posted(&msg, &message, !inserted.duplicate, ctx);
                if !inserted.duplicate {
                    self.desk_posted(&msg, ctx);
                }
                self.notify_mentioned(&message, &inserted.mentioned);
                let _ = answer.send(Ok(message));
            }
            (Pending::Change { msg, answer }, Ok(Written::Changed(changed))) => {
                let message = changed.row.into_view(&links).with_extras(changed.extras);
                self.changed(&msg, &message, changed.changed, ctx);
                self.notify_mentioned(&message, &changed.mentioned);
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
            (Pending::Annotate { answer, .. }, _) => drop(answer), // routed to `annotated` above
        }
    }
}
