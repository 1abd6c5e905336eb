//! A session's commands: each text frame is counted against the session's budget, parsed, and
//! carried out by the conversation's room (or, for `auth:refresh`, by the session itself).

use std::time::Duration;

use actix::prelude::*;
use actix_http::ws;
use governor::clock::MonotonicClock;

use super::SessionActor;
use crate::actors::Frame;
use crate::actors::room::{Join, Leave, MarkReceipt, PostMessage, SetTyping, Since};
use crate::actors::room_registry::locate;
use crate::db::queries::messages::Change;
use crate::domain::{
    ConversationId, MessageContent, MessageId, ReceiptKind, mentions, validate_client_msg_id,
};
use crate::error::AppError;
use crate::protocol::{
    self, Ack, ClientCommand, ConversationAck, JoinData, ReceiptData, RefreshAck, SendData,
};

/// What a command's reply will be, once its room answers.
#[expect(
    clippy::large_enum_variant,
    reason = "built to be serialized at once, never stored or moved around"
)]
pub(super) enum Reply {
    /// The room sent the `ack` itself (in order with its events).
    Sent,
    /// Send this `ack`.
    Ack(Ack<'static>),
}

impl SessionActor {
    /// Answers a command: its `ack`, or an `error` frame.
    pub(super) fn reply(&self, reference: Option<&str>, result: Result<Reply, AppError>) {
        match result {
            Ok(Reply::Sent) => {}
            Ok(Reply::Ack(data)) => self.say(protocol::ack(reference, data)),
            Err(err) => self.say(protocol::error(reference, &err)),
        }
    }

    /// Queues one of the session's own frames (an answer, outside the outbox's bound).
    pub(super) fn say(&self, text: bytestring::ByteString) {
        self.outbox.answer(Frame::text(&text));
    }

    /// Counts one frame against the session's budget: `Err(Some(error))` to answer when it is
    /// spent; `Err(None)` when the client keeps flooding and the session was closed with 1008
    /// (a closed socket gets no reply: RFC 6455 §5.5.1 allows no data after Close).
    fn admit_frame(&mut self, ctx: &mut Context<Self>) -> Result<(), Option<AppError>> {
        if let Err(not_until) = self.commands.check() {
            if self.refusals.check().is_err() {
                tracing::info!(session_id = %self.id, "command flood, closing");
                self.end(ws::CloseCode::Policy, "too many frames", ctx);
                return Err(None);
            }
            let refused = AppError::rate_limited_until::<MonotonicClock>("frames", &not_until);
            return Err(Some(refused));
        }
        if self.in_flight >= self.deps.config.max_in_flight {
            // Not a budget that refills with time: the client should wait for replies.
            let retry_after = Duration::from_millis(100);
            return Err(Some(AppError::rate_limited("in_flight", retry_after)));
        }
        Ok(())
    }

    pub(super) fn handle_binary(&mut self, ctx: &mut Context<Self>) {
        let err = match self.admit_frame(ctx) {
            Ok(()) => {
                AppError::BadRequest("only unfragmented JSON text frames are accepted".into())
            }
            Err(Some(err)) => err,
            Err(None) => return,
        };
        self.say(protocol::error(None, &err));
    }

    pub(super) fn handle_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        let parsed = protocol::parse(text);
        let reference = match &parsed {
            Ok(frame) => frame.reference.clone(),
            Err(bad) => bad.reference.clone(),
        };
        if self.draining {
            let err = AppError::Unavailable("the server is shutting down".into());
            return self.say(protocol::error(reference.as_deref(), &err));
        }
        match self.admit_frame(ctx) {
            Ok(()) => {}
            Err(Some(err)) => return self.say(protocol::error(reference.as_deref(), &err)),
            Err(None) => return,
        }
        let frame = match parsed {
            Ok(frame) => frame,
            Err(bad) => return self.say(protocol::error(bad.reference.as_deref(), &bad.error)),
        };
        match frame.command {
            ClientCommand::Join(data) => self.join(data, reference, ctx),
            ClientCommand::Leave(data) => self.leave(data.conversation_id, reference, ctx),
            ClientCommand::Send(data) => self.post(data, reference, ctx),
            ClientCommand::Edit(data) => {
                let limit = self.deps.config.message_max_chars;
                match MessageContent::parse(&data.content, limit) {
                    Ok(content) => {
                        let change = Change::Edit(content.into_inner());
                        self.change(data.message_id, change, reference, ctx);
                    }
                    Err(err) => self.reply(reference.as_deref(), Err(err.into())),
                }
            }
            ClientCommand::Delete(data) => {
                self.change(data.message_id, Change::Delete, reference, ctx);
            }
            ClientCommand::Delivered(data) => {
                self.receipt(data, ReceiptKind::Delivered, reference, ctx);
            }
            ClientCommand::Read(data) => self.receipt(data, ReceiptKind::Read, reference, ctx),
            ClientCommand::TypingStart(data) => {
                self.set_typing(data.conversation_id, true, reference, ctx);
            }
            ClientCommand::TypingStop(data) => {
                self.set_typing(data.conversation_id, false, reference, ctx);
            }
            ClientCommand::Refresh(data) => {
                let result = self.refresh(&data.access_token, ctx);
                self.reply(reference.as_deref(), result);
            }
            ClientCommand::ReactionAdd(data) => self.react(data, true, reference, ctx),
            ClientCommand::ReactionRemove(data) => self.react(data, false, reference, ctx),
        }
    }

    /// `auth:refresh`: continues the session on a newer access token of the same user.
    fn refresh(&mut self, token: &str, ctx: &mut Context<Self>) -> Result<Reply, AppError> {
        let renewed = self.deps.jwt.verify(token)?;
        if renewed.id != self.auth.id || renewed.project_id != self.auth.project_id {
            return Err(AppError::Forbidden(
                "auth:refresh needs a token of the session's own user".into(),
            ));
        }
        if renewed.generation != self.auth.generation || renewed.role != self.auth.role {
            return Err(AppError::Unauthorized(
                "this token was issued before the account changed; reconnect".into(),
            ));
        }
        if renewed.expires_at() < self.auth.expires_at() {
            return Err(AppError::Validation(
                "access_token: must not expire before the session's current token".into(),
            ));
        }
        self.auth = renewed;
        self.arm_timer(ctx);
        Ok(Reply::Ack(Ack::Refreshed(RefreshAck {
            token_expires_at: self.auth.expires_at(),
        })))
    }

    fn join(&mut self, data: JoinData, reference: Option<String>, ctx: &mut Context<Self>) {
        let since = match (data.since_seq, data.since_version) {
            (Some(_), Some(_)) => {
                let err =
                    AppError::Validation("data: give since_seq or since_version, not both".into());
                return self.reply(reference.as_deref(), Err(err));
            }
            (Some(seq), None) => Since::Seq(seq),
            (None, Some(version)) => Since::Version(version),
            (None, None) => Since::Now,
        };
        let (id, actor) = (data.conversation_id, self.auth.actor());
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            let join = Join {
                origin: session.origin(reference.clone()),
                actor,
                since,
            };
            // The room's address is kept (`with_room`), so a stop before the answer still
            // sends it Leave.
            session.forward(id, room, join, reference, ctx, |_, result| {
                result.map(|()| Reply::Sent)
            });
        });
    }

    fn leave(&mut self, id: ConversationId, reference: Option<String>, ctx: &mut Context<Self>) {
        let ack = Ack::Conversation(ConversationAck {
            conversation_id: id,
        });
        if !self.rooms.get(&id).is_some_and(Addr::connected) {
            // No room this session has talked to: nothing joined or typing there to end.
            return self.reply(reference.as_deref(), Ok(Reply::Ack(ack)));
        }
        let leave = Leave {
            session_id: self.id,
        };
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            session.forward(id, room, leave, reference, ctx, move |_, ()| {
                Ok(Reply::Ack(Ack::Conversation(ConversationAck {
                    conversation_id: id,
                })))
            });
        });
    }

    fn post(&mut self, data: SendData, reference: Option<String>, ctx: &mut Context<Self>) {
        let checked = MessageContent::parse_with_attachment(
            &data.content,
            self.deps.config.message_max_chars,
            data.attachment_id.is_some(),
        )
        .and_then(|content| Ok((content, validate_client_msg_id(data.client_msg_id)?)));
        let (content, client_msg_id) = match checked {
            Ok(checked) => checked,
            Err(err) => return self.reply(reference.as_deref(), Err(err.into())),
        };
        let (id, actor) = (data.conversation_id, self.auth.actor());
        let here = mentions::parse(content.as_str()).here;
        self.with_here(id, here, ctx, move |session, online, ctx| {
            session.with_room(id, reference, ctx, move |session, room, reference, ctx| {
                let post = PostMessage {
                    actor,
                    content: content.into_inner(),
                    client_msg_id,
                    attachment_id: data.attachment_id,
                    origin: Some(session.origin(reference.clone())),
                    system: false,
                    reply_to: data.reply_to,
                    online,
                    private: data.private,
                };
                session.forward(id, room, post, reference, ctx, |_, result| {
                    result.map(|_| Reply::Sent)
                });
            });
        });
    }

    /// `message:edit` and `message:delete`: the registry finds the message's conversation
    /// (later frames wait meanwhile, keeping their order), then its room decides.
    fn change(
        &mut self,
        message_id: MessageId,
        change: Change,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let registry = self.deps.rooms.clone();
        let lookup = async move { locate(&registry, message_id).await };
        let actor = self.auth.actor();
        ctx.wait(lookup.into_actor(self).map(move |found, session, ctx| {
            let location = match found {
                Ok(location) => location,
                Err(err) => return session.reply(reference.as_deref(), Err(err)),
            };
            let id = location.conversation_id;
            let here = matches!(&change, Change::Edit(text) if mentions::parse(text).here);
            session.with_here(id, here, ctx, move |session, online, ctx| {
                session.with_room(id, reference, ctx, move |session, room, reference, ctx| {
                    let origin = Some(session.origin(reference.clone()));
                    let mut msg = location.change(actor, message_id, change, origin);
                    msg.online = online;
                    session.forward(id, room, msg, reference, ctx, |_, result| {
                        result.map(|_| Reply::Sent)
                    });
                });
            });
        }));
    }

    fn receipt(
        &mut self,
        data: ReceiptData,
        kind: ReceiptKind,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let mark = MarkReceipt {
            actor: self.auth.actor(),
            kind,
            seq: data.seq,
            session_id: Some(self.id),
        };
        let id = data.conversation_id;
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            session.forward(id, room, mark, reference, ctx, |_, result| {
                result.map(|marks| Reply::Ack(Ack::Watermarks(marks)))
            });
        });
    }

    fn set_typing(
        &mut self,
        id: ConversationId,
        typing: bool,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let set = SetTyping {
            actor: self.auth.actor(),
            session_id: self.id,
            typing,
        };
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            session.forward(id, room, set, reference, ctx, move |_, result| {
                result.map(|()| {
                    Reply::Ack(Ack::Conversation(ConversationAck {
                        conversation_id: id,
                    }))
                })
            });
        });
    }
}
