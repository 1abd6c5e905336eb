//! `SessionActor`: one per WebSocket connection.
//!
//! State: the authenticated user, the conversations this session joined, the addresses of the
//! rooms it has talked to (so its frames reach each room in the order sent), heartbeat
//! bookkeeping. Receives text frames from the browser (parsed into
//! [`ClientFrame`]s and forwarded as typed messages to room actors) and [`Deliver`] messages
//! from rooms and the presence registry (written to the socket as they are). Never touches the
//! database. Started by the `/api/v1/ws` handler after authentication; stops when the client
//! closes, on a protocol error, on a frame over `realtime.max_frame_bytes` (close code 1009) or
//! when the client is silent for `realtime.client_timeout_s`, or on [`Shutdown`] once its
//! in-flight commands are answered (close code 1001). On stop it leaves its rooms and
//! unregisters from presence.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use actix::prelude::*;
use actix_web::web;
use actix_web_actors::ws;
use serde::Serialize;

use crate::actors::presence::{Connect, Disconnect};
use crate::actors::room::{Join, Leave, MarkReceipt, Origin, PostMessage, RoomActor, SetTyping};
use crate::actors::room_registry::{GetRoom, send_to_room};
use crate::actors::{Deliver, Outbox};
use crate::auth::AuthUser;
use crate::chat;
use crate::db::models::{MessageView, UserView};
use crate::db::queries::participants::ReceiptKind;
use crate::domain::{ConversationId, MessageContent, MessageId, SessionId, validate_client_msg_id};
use crate::error::AppError;
use crate::protocol::{self, ClientFrame};
use crate::startup::AppState;

/// The session actor.
pub struct SessionActor {
    id: SessionId,
    auth: AuthUser,
    user: UserView,
    state: web::Data<AppState>,
    /// Conversations joined (or being joined) by this session.
    joined: HashSet<ConversationId>,
    /// Room addresses this session has used, so its frames reach each room in order.
    rooms: HashMap<ConversationId, Addr<RoomActor>>,
    last_heard: Instant,
    unregistered: bool,
    /// Commands sent on and not yet answered.
    in_flight: usize,
    /// Set by [`Shutdown`]: no new commands; close with 1001 once `in_flight` is 0.
    draining: bool,
    /// The bounded queue rooms send live events through; made on first use.
    outbox: Option<Outbox>,
}

/// Close code for a session whose client read too slowly (its outbox overflowed): private-use
/// range (RFC 6455 §7.4.2), as 3008 `slow` is Centrifugo's. docs/PROTOCOL.md §5.7.
pub const SLOW_CONSUMER: u16 = 4008;

/// The server is stopping: finish what is in flight, then close with 1001 (going away).
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Shutdown;

#[derive(Serialize)]
struct Welcome<'a> {
    user: &'a UserView,
    session_id: SessionId,
}

#[derive(Serialize)]
struct ConversationAck {
    conversation_id: ConversationId,
}

#[derive(Serialize)]
struct SendAck {
    message: MessageView,
}

impl SessionActor {
    /// A session for an authenticated user.
    pub fn new(auth: AuthUser, user: UserView, state: web::Data<AppState>) -> Self {
        Self {
            id: SessionId::new(),
            auth,
            user,
            state,
            joined: HashSet::new(),
            rooms: HashMap::new(),
            last_heard: Instant::now(),
            unregistered: false,
            in_flight: 0,
            draining: false,
            outbox: None,
        }
    }

    fn unregister(&mut self) {
        if std::mem::replace(&mut self.unregistered, true) {
            return;
        }
        // Every room this session touched: joined ones drop its recipient, the others end any
        // typing indicator it started.
        for room in self.rooms.values() {
            room.do_send(Leave {
                session_id: self.id,
            });
        }
        self.state.presence.do_send(Disconnect {
            user_id: self.auth.id,
            session_id: self.id,
        });
    }

    fn heartbeat(&self, ctx: &mut ws::WebsocketContext<Self>) {
        let realtime = &self.state.settings.realtime;
        let timeout = realtime.client_timeout();
        ctx.run_interval(realtime.heartbeat_interval(), move |session, ctx| {
            if session.last_heard.elapsed() > timeout {
                tracing::debug!(session_id = %session.id, "client timed out");
                session.unregister();
                ctx.close(Some(ws::CloseCode::Away.into()));
                ctx.stop();
            } else {
                ctx.ping(b"");
            }
        });
    }

    fn reply<T: Serialize>(
        ctx: &mut ws::WebsocketContext<Self>,
        reference: Option<&str>,
        result: Result<T, AppError>,
    ) {
        match result {
            Ok(data) => ctx.text(protocol::ack(reference, &data)),
            Err(err) => {
                err.log();
                ctx.text(protocol::error(reference, &err.body()));
            }
        }
    }

    /// Runs `then` with the room of `id`. A cached, live address is used at once, so frames
    /// reach the room in the order the client sent them; on a miss the lookup is awaited with
    /// `ctx.wait`, which holds back later frames until it is done.
    fn with_room(
        &mut self,
        id: ConversationId,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
        then: impl FnOnce(&mut Self, Addr<RoomActor>, Option<String>, &mut ws::WebsocketContext<Self>)
        + 'static,
    ) {
        if let Some(room) = self.rooms.get(&id).filter(|room| room.connected()).cloned() {
            then(self, room, reference, ctx);
            return;
        }
        let lookup = self.state.rooms.send(GetRoom::here(id));
        ctx.wait(
            lookup
                .into_actor(self)
                .map(move |room, session, ctx| match room {
                    Ok(room) => {
                        session.rooms.insert(id, room.clone());
                        then(session, room, reference, ctx);
                    }
                    Err(err) => Self::reply::<()>(ctx, reference.as_deref(), Err(err.into())),
                }),
        );
    }

    /// Sends `msg` to `room` now (keeping order) and replies with `map(result)` when it answers;
    /// `Ok(None)` means the room has already sent the reply itself. If the room stopped in the
    /// meantime the message is retried through the registry.
    fn forward<M, T>(
        &mut self,
        id: ConversationId,
        room: Addr<RoomActor>,
        msg: M,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
        map: impl FnOnce(&mut Self, M::Result) -> Result<Option<T>, AppError> + 'static,
    ) where
        M: actix::Message + Send + Clone + 'static,
        M::Result: Send,
        RoomActor: Handler<M>,
        T: Serialize,
    {
        let registry = self.state.rooms.clone();
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
            if matches!(result, Err(AppError::NotFound(_))) {
                // Possibly a room started for an id before its conversation existed: look the
                // room up afresh next time.
                session.rooms.remove(&id);
            }
            match result {
                Ok(None) => {}
                Ok(Some(data)) => Self::reply(ctx, reference.as_deref(), Ok(data)),
                Err(err) => Self::reply::<()>(ctx, reference.as_deref(), Err(err)),
            }
            session.close_if_drained(ctx);
        }));
    }

    /// While draining, closes with 1001 once nothing is in flight.
    fn close_if_drained(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        if self.draining && self.in_flight == 0 {
            self.unregister();
            ctx.close(Some(ws::CloseReason {
                code: ws::CloseCode::Away,
                description: Some("server shutting down".into()),
            }));
            ctx.stop();
        }
    }

    fn handle_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        if self.draining {
            let err = AppError::Unavailable("the server is shutting down".into());
            let reference = protocol::parse(text).ok().and_then(|(r, _)| r);
            return Self::reply::<()>(ctx, reference.as_deref(), Err(err));
        }
        let (reference, frame) = match protocol::parse(text) {
            Ok(parsed) => parsed,
            Err(bad) => {
                ctx.text(protocol::error(bad.reference.as_deref(), &bad.error.body()));
                return;
            }
        };
        match frame {
            ClientFrame::Join(data) => {
                self.join(data.conversation_id, data.since_seq, reference, ctx);
            }
            ClientFrame::Leave(data) => self.leave(data.conversation_id, reference, ctx),
            ClientFrame::Send(data) => self.post(data, reference, ctx),
            ClientFrame::TypingStart(data) => {
                self.set_typing(data.conversation_id, true, reference, ctx);
            }
            ClientFrame::TypingStop(data) => {
                self.set_typing(data.conversation_id, false, reference, ctx);
            }
            ClientFrame::Delivered(data) => {
                self.receipt(data, ReceiptKind::Delivered, reference, ctx);
            }
            ClientFrame::Read(data) => self.receipt(data, ReceiptKind::Read, reference, ctx),
            ClientFrame::Edit(data) => {
                self.change(data.message_id, Some(data.content), reference, ctx);
            }
            ClientFrame::Delete(data) => self.change(data.message_id, None, reference, ctx),
        }
    }

    fn origin(
        &mut self,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Origin {
        let limit = self.state.settings.realtime.max_queued_bytes;
        let outbox = self
            .outbox
            .get_or_insert_with(|| Outbox::new(ctx.address().recipient(), limit));
        Origin {
            session_id: self.id,
            outbox: outbox.clone(),
            reference,
        }
    }

    fn join(
        &mut self,
        id: ConversationId,
        since_seq: Option<i64>,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let (user_id, role) = (self.auth.id, self.auth.role);
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            let join = Join {
                origin: session.origin(reference.clone(), ctx),
                user_id,
                role,
                since_seq,
            };
            // Counted as joined from now on, so a stop before the answer still sends Leave.
            session.joined.insert(id);
            session.forward(id, room, join, reference, ctx, move |session, result| {
                if result.is_err() {
                    session.joined.remove(&id);
                }
                // The room sends the ack itself, after any replayed messages.
                result.map(|()| None::<()>)
            });
        });
    }

    fn leave(
        &mut self,
        id: ConversationId,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        self.joined.remove(&id);
        let leave = Leave {
            session_id: self.id,
        };
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            session.forward(id, room, leave, reference, ctx, move |_, ()| {
                Ok(Some(ConversationAck {
                    conversation_id: id,
                }))
            });
        });
    }

    fn post(
        &mut self,
        data: protocol::SendData,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let limits = &self.state.settings.limits;
        let has_attachment = data.attachment_id.is_some();
        let checked = MessageContent::parse_with_attachment(
            &data.content,
            limits.message_max_chars,
            has_attachment,
        )
        .and_then(|content| Ok((content, validate_client_msg_id(data.client_msg_id)?)));
        let (content, client_msg_id) = match checked {
            Ok(checked) => checked,
            Err(err) => return Self::reply::<()>(ctx, reference.as_deref(), Err(err)),
        };
        let (sender_id, sender_role) = (self.auth.id, self.auth.role);
        let id = data.conversation_id;
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            let post = PostMessage {
                sender_id,
                sender_role,
                content: content.into_inner(),
                client_msg_id,
                attachment_id: data.attachment_id,
                origin: Some(session.origin(reference.clone(), ctx)),
            };
            // The room acks a stored message itself, in order with the events it sends.
            session.forward(id, room, post, reference, ctx, |_, result| {
                result.map(|_| None::<()>)
            });
        });
    }

    fn receipt(
        &mut self,
        data: protocol::ReceiptData,
        kind: ReceiptKind,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let mark = MarkReceipt {
            user_id: self.auth.id,
            role: self.auth.role,
            kind,
            seq: data.seq,
            session_id: Some(self.id),
        };
        let id = data.conversation_id;
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            session.forward(id, room, mark, reference, ctx, |_, result| result.map(Some));
        });
    }

    fn change(
        &mut self,
        message_id: MessageId,
        content: Option<String>,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let state = self.state.clone();
        let (user, role) = (self.auth.id, self.auth.role);
        let change = async move {
            chat::change_message(&state, user, role, message_id, content.as_deref()).await
        };
        self.in_flight += 1;
        ctx.spawn(change.into_actor(self).map(move |result, session, ctx| {
            session.in_flight -= 1;
            let result = result.map(|message| SendAck { message });
            Self::reply(ctx, reference.as_deref(), result);
            session.close_if_drained(ctx);
        }));
    }

    fn set_typing(
        &mut self,
        id: ConversationId,
        typing: bool,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let set = SetTyping {
            user_id: self.auth.id,
            role: self.auth.role,
            session_id: self.id,
            typing,
        };
        self.with_room(id, reference, ctx, move |session, room, reference, ctx| {
            session.forward(id, room, set, reference, ctx, move |_, result| {
                result.map(|()| {
                    Some(ConversationAck {
                        conversation_id: id,
                    })
                })
            });
        });
    }
}

impl Actor for SessionActor {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::debug!(session_id = %self.id, user_id = %self.auth.id, "session started");
        ctx.text(protocol::encode(
            "welcome",
            None,
            &Welcome {
                user: &self.user,
                session_id: self.id,
            },
        ));
        self.state.presence.do_send(Connect {
            user_id: self.auth.id,
            session_id: self.id,
            recipient: ctx.address().recipient(),
            shutdown: ctx.address().recipient(),
        });
        self.heartbeat(ctx);
    }

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        self.unregister();
        Running::Stop
    }
}

impl Handler<Shutdown> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Self::Context) {
        self.draining = true;
        self.close_if_drained(ctx);
    }
}

impl Handler<Deliver> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        if self
            .outbox
            .as_ref()
            .is_some_and(|outbox| outbox.taken(&msg))
        {
            if !self.unregistered {
                tracing::info!(session_id = %self.id, "slow consumer: outgoing queue full, closing");
                self.unregister();
                ctx.close(Some(ws::CloseReason {
                    code: ws::CloseCode::Other(SLOW_CONSUMER),
                    description: Some("slow consumer".into()),
                }));
                ctx.stop();
            }
            return;
        }
        ctx.text(msg.frame);
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for SessionActor {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let message = match item {
            Ok(message) => message,
            Err(ws::ProtocolError::Overflow) => {
                tracing::debug!(session_id = %self.id, "frame too large");
                ctx.close(Some(ws::CloseReason {
                    code: ws::CloseCode::Size,
                    description: Some("frame exceeds realtime.max_frame_bytes".into()),
                }));
                ctx.stop();
                return;
            }
            Err(err) => {
                tracing::debug!(session_id = %self.id, error = %err, "protocol error");
                ctx.close(Some(ws::CloseCode::Protocol.into()));
                ctx.stop();
                return;
            }
        };
        self.last_heard = Instant::now();
        match message {
            ws::Message::Text(text) => self.handle_text(&text, ctx),
            ws::Message::Ping(bytes) => ctx.pong(&bytes),
            ws::Message::Pong(_) | ws::Message::Nop => {}
            ws::Message::Binary(_) | ws::Message::Continuation(_) => {
                let err =
                    AppError::BadRequest("only unfragmented JSON text frames are accepted".into());
                ctx.text(protocol::error(None, &err.body()));
            }
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
        }
    }
}
