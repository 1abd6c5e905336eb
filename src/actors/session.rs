//! `SessionActor`: one per WebSocket connection.
//!
//! State: the authenticated user, the conversations this session joined (with their rooms'
//! addresses), heartbeat bookkeeping. Receives text frames from the browser (parsed into
//! [`ClientFrame`]s and forwarded as typed messages to room actors) and [`Deliver`] messages
//! from rooms and the presence registry (written to the socket as they are). Never touches the
//! database. Started by the `/api/v1/ws` handler after authentication; stops when the client
//! closes, on a protocol error, on a frame over `realtime.max_frame_bytes` (close code 1009) or
//! when the client is silent for `realtime.client_timeout_s`. On stop it leaves its rooms and
//! unregisters from presence.

use std::collections::HashMap;
use std::time::Instant;

use actix::prelude::*;
use actix_web::web;
use actix_web_actors::ws;
use serde::Serialize;

use crate::actors::Deliver;
use crate::actors::presence::{Connect, Disconnect};
use crate::actors::room::{Join, Leave, PostMessage, RoomActor, SetTyping};
use crate::actors::room_registry::{GetRoom, send_to_room};
use crate::auth::AuthUser;
use crate::db::models::{MessageView, UserView};
use crate::domain::{ConversationId, MessageContent, SessionId, validate_client_msg_id};
use crate::error::AppError;
use crate::protocol::{self, ClientFrame};
use crate::startup::AppState;

/// The session actor.
pub struct SessionActor {
    id: SessionId,
    auth: AuthUser,
    user: UserView,
    state: web::Data<AppState>,
    joined: HashMap<ConversationId, Addr<RoomActor>>,
    last_heard: Instant,
    unregistered: bool,
}

#[derive(Serialize)]
struct Welcome<'a> {
    user: &'a UserView,
    session_id: SessionId,
}

#[derive(Serialize)]
struct JoinAck {
    conversation_id: ConversationId,
    last_seq: i64,
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
            joined: HashMap::new(),
            last_heard: Instant::now(),
            unregistered: false,
        }
    }

    fn unregister(&mut self) {
        if std::mem::replace(&mut self.unregistered, true) {
            return;
        }
        for room in self.joined.values() {
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

    fn handle_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let (reference, frame) = match protocol::parse(text) {
            Ok(parsed) => parsed,
            Err(bad) => {
                let mut body = bad.error.body();
                if bad.unknown_event {
                    body.code = "unknown_event";
                }
                ctx.text(protocol::error(bad.reference.as_deref(), &body));
                return;
            }
        };
        let registry = self.state.rooms.clone();
        let user_id = self.auth.id;
        let session_id = self.id;
        match frame {
            ClientFrame::Join(data) => {
                let id = data.conversation_id;
                let recipient = ctx.address().recipient();
                let join = async move {
                    let room = registry
                        .send(GetRoom {
                            conversation_id: id,
                        })
                        .await?;
                    let join = Join {
                        session_id,
                        user_id,
                        recipient,
                    };
                    let last_seq = room.send(join).await??;
                    Ok::<_, AppError>((room, last_seq))
                };
                ctx.spawn(join.into_actor(self).map(move |result, session, ctx| {
                    let result = result.map(|(room, last_seq)| {
                        session.joined.insert(id, room);
                        JoinAck {
                            conversation_id: id,
                            last_seq,
                        }
                    });
                    Self::reply(ctx, reference.as_deref(), result);
                }));
            }
            ClientFrame::Leave(data) => {
                let id = data.conversation_id;
                if let Some(room) = self.joined.remove(&id) {
                    room.do_send(Leave { session_id });
                }
                Self::reply(
                    ctx,
                    reference.as_deref(),
                    Ok(ConversationAck {
                        conversation_id: id,
                    }),
                );
            }
            ClientFrame::Send(data) => {
                let limits = &self.state.settings.limits;
                let post = MessageContent::parse(&data.content, limits.message_max_chars).and_then(
                    |content| {
                        Ok(PostMessage {
                            sender_id: user_id,
                            sender_role: self.auth.role,
                            content: content.into_inner(),
                            client_msg_id: validate_client_msg_id(data.client_msg_id)?,
                            origin: Some(session_id),
                        })
                    },
                );
                let post = match post {
                    Ok(post) => post,
                    Err(err) => return Self::reply::<()>(ctx, reference.as_deref(), Err(err)),
                };
                let id = data.conversation_id;
                let send = async move { send_to_room(&registry, id, post).await? };
                ctx.spawn(send.into_actor(self).map(move |result, _, ctx| {
                    let result = result.map(|message| SendAck { message });
                    Self::reply(ctx, reference.as_deref(), result);
                }));
            }
            ClientFrame::TypingStart(data) => {
                self.set_typing(data.conversation_id, true, reference, ctx);
            }
            ClientFrame::TypingStop(data) => {
                self.set_typing(data.conversation_id, false, reference, ctx);
            }
        }
    }

    fn set_typing(
        &mut self,
        id: ConversationId,
        typing: bool,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let registry = self.state.rooms.clone();
        let set = SetTyping {
            user_id: self.auth.id,
            session_id: self.id,
            typing,
        };
        let send = async move { send_to_room(&registry, id, set).await? };
        ctx.spawn(send.into_actor(self).map(move |result, _, ctx| {
            let result = result.map(|()| ConversationAck {
                conversation_id: id,
            });
            Self::reply(ctx, reference.as_deref(), result);
        }));
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
        });
        self.heartbeat(ctx);
    }

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        self.unregister();
        Running::Stop
    }
}

impl Handler<Deliver> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
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
