//! `RoomActor`: one per active conversation; every send, close and typing indicator of that
//! conversation passes through it, so ordering, rate limits and broadcast live in one place.
//!
//! State: the conversation's participants, status and last seq (loaded once at start, then kept
//! current, so the send path reads nothing from the database); the joined sessions
//! (`Recipient<Deliver>`); typing indicators with their expiry timers; a governor keyed rate
//! limiter (per user). Handles [`Join`], [`Leave`], [`PostMessage`], [`SetTyping`] and
//! [`Close`], sent by sessions and HTTP handlers through the registry. Started by the
//! [`RoomRegistry`] on first use; stops itself after `realtime.room_idle_s` with no joined
//! session and nothing in flight, and tells the registry.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::time::Duration;

use actix::prelude::*;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;

use crate::actors::Deliver;
use crate::actors::db_writer::{CloseConversation, InsertMessage};
use crate::actors::room_registry::{RoomDeps, RoomRegistry, RoomStopped};
use crate::db::models::{ConversationRow, MessageView};
use crate::db::queries::conversations;
use crate::db::queries::messages::MessageDraft;
use crate::domain::{ConversationId, ConversationStatus, ProjectId, Role, SessionId, UserId};
use crate::error::{AppError, DbError};
use crate::protocol;

/// Start receiving the conversation's events. Answers the current last seq.
#[derive(Message, Clone)]
#[rtype(result = "Result<i64, AppError>")]
pub struct Join {
    /// The joining session.
    pub session_id: SessionId,
    /// Its user (must be a participant).
    pub user_id: UserId,
    /// The user's role (an admin who is not a participant gets `forbidden`).
    pub role: Role,
    /// Where to deliver frames.
    pub recipient: Recipient<Deliver>,
}

/// Stop receiving the conversation's events (also sent when a session ends).
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Leave {
    /// The leaving session.
    pub session_id: SessionId,
}

/// Post a message (WebSocket `message:send` or REST). Answers the stored message after commit.
#[derive(Message, Clone)]
#[rtype(result = "Result<MessageView, AppError>")]
pub struct PostMessage {
    /// Author.
    pub sender_id: UserId,
    /// Author's role (an admin who is not a participant gets `forbidden`, others `not_found`).
    pub sender_role: Role,
    /// Validated text.
    pub content: String,
    /// Idempotency key.
    pub client_msg_id: Option<String>,
    /// The sending session, which gets an ack instead of `message:new`.
    pub origin: Option<SessionId>,
}

/// `typing:start` (`typing: true`) or `typing:stop`.
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<(), AppError>")]
pub struct SetTyping {
    /// Who.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// From which session (not echoed back to it).
    pub session_id: SessionId,
    /// Started or stopped.
    pub typing: bool,
}

/// Close the conversation (agents and admins; the HTTP handler checks the role).
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<ConversationRow, AppError>")]
pub struct Close {
    /// Who closes it.
    pub closed_by: UserId,
}

/// `data` of `typing:start` / `typing:stop` events.
#[derive(Serialize)]
struct TypingEvent {
    conversation_id: ConversationId,
    user_id: UserId,
}

/// `data` of `message:new`.
#[derive(Serialize)]
pub struct MessageEvent<'a> {
    /// The stored message.
    pub message: &'a MessageView,
}

/// `data` of `conversation:closed`.
#[derive(Serialize)]
struct ClosedEvent {
    conversation_id: ConversationId,
    closed_by: Option<UserId>,
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How long a room for an id with no conversation lingers (answering `not_found`).
const MISSING_ROOM_TTL: Duration = Duration::from_secs(1);

enum RoomState {
    Loading,
    Missing,
    Ready {
        project_id: ProjectId,
        participants: HashSet<UserId>,
        status: ConversationStatus,
        last_seq: i64,
    },
}

struct Typist {
    session_id: SessionId,
    expiry: SpawnHandle,
}

/// The room actor of one conversation.
pub struct RoomActor {
    id: ConversationId,
    deps: RoomDeps,
    registry: Addr<RoomRegistry>,
    state: RoomState,
    sessions: HashMap<SessionId, Recipient<Deliver>>,
    typing: HashMap<UserId, Typist>,
    limiter: DefaultKeyedRateLimiter<UserId>,
    in_flight: usize,
    idle_check: Option<SpawnHandle>,
}

impl RoomActor {
    /// A room for `id`, loading its state when started.
    pub fn new(id: ConversationId, deps: RoomDeps, registry: Addr<RoomRegistry>) -> Self {
        let limits = &deps.settings.limits;
        let burst = NonZeroU32::new(limits.messages_per_window).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(limits.message_window_s) / burst.get();
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            id,
            deps,
            registry,
            state: RoomState::Loading,
            sessions: HashMap::new(),
            typing: HashMap::new(),
            limiter: RateLimiter::keyed(quota),
            in_flight: 0,
            idle_check: None,
        }
    }

    /// Checks that `user` may act here and the room is loaded.
    fn admit(&self, user: UserId, role: Role) -> Result<(), AppError> {
        match &self.state {
            RoomState::Ready { participants, .. } if participants.contains(&user) => Ok(()),
            RoomState::Ready { .. } if role == Role::Admin => {
                Err(AppError::Forbidden("only participants can do this".into()))
            }
            RoomState::Loading => Err(AppError::Unavailable("conversation is loading".into())),
            _ => Err(AppError::not_found("conversation")),
        }
    }

    fn broadcast(&self, frame: &bytestring::ByteString, except: Option<SessionId>) {
        for (id, session) in &self.sessions {
            if Some(*id) != except {
                session.do_send(Deliver {
                    frame: frame.clone(),
                });
            }
        }
    }

    fn typing_frame(&self, kind: &str, user_id: UserId) -> bytestring::ByteString {
        protocol::encode(
            kind,
            None,
            &TypingEvent {
                conversation_id: self.id,
                user_id,
            },
        )
    }

    /// Ends `user`'s typing indicator, telling the other sessions.
    fn stop_typing(&mut self, user_id: UserId, ctx: &mut Context<Self>) {
        if let Some(typist) = self.typing.remove(&user_id) {
            ctx.cancel_future(typist.expiry);
            let frame = self.typing_frame("typing:stop", user_id);
            self.broadcast(&frame, Some(typist.session_id));
        }
    }

    /// (Re)arms the idle timer; the room stops when it fires with nothing to do.
    fn schedule_idle_check(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.idle_check.take() {
            ctx.cancel_future(handle);
        }
        let idle = self.deps.settings.realtime.room_idle();
        self.idle_check = Some(ctx.run_later(idle, |room, ctx| {
            room.idle_check = None;
            // Sessions that died without a Leave (e.g. mid-join) must not keep the room alive.
            room.sessions.retain(|_, session| session.connected());
            if room.sessions.is_empty() && room.in_flight == 0 && room.typing.is_empty() {
                ctx.stop();
            } else {
                room.schedule_idle_check(ctx);
            }
        }));
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::MAILBOX_CAPACITY);
        let db = self.deps.db.clone();
        let id = self.id;
        let load = async move {
            let mut conn = db.read().await?;
            let Some(row) = conversations::find(&mut conn, id).await? else {
                return Ok::<_, DbError>(None);
            };
            let members = conversations::participant_ids(&mut conn, id).await?;
            Ok(Some((row, members)))
        };
        // `wait` holds the mailbox until the state is loaded, so no message sees `Loading`.
        ctx.wait(load.into_actor(self).map(|loaded, room, ctx| {
            room.state = match loaded {
                Ok(Some((row, members))) => RoomState::Ready {
                    project_id: row.project_id,
                    status: row.status(),
                    last_seq: row.last_seq,
                    participants: members.into_iter().collect(),
                },
                Ok(None) => {
                    // Answer what is queued with not_found, then go: a conversation created
                    // with this id later must get a fresh room (the registry also evicts it).
                    ctx.run_later(MISSING_ROOM_TTL, |_, ctx| ctx.stop());
                    room.state = RoomState::Missing;
                    return;
                }
                Err(err) => {
                    tracing::error!(conversation_id = %room.id, error = ?err, "room load failed");
                    // Stop so the next request starts a fresh room that tries again.
                    ctx.stop();
                    RoomState::Missing
                }
            };
            room.schedule_idle_check(ctx);
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.registry.do_send(RoomStopped {
            conversation_id: self.id,
        });
    }
}

impl Handler<Join> for RoomActor {
    type Result = Result<i64, AppError>;

    fn handle(&mut self, msg: Join, _: &mut Self::Context) -> Self::Result {
        self.admit(msg.user_id, msg.role)?;
        self.sessions.insert(msg.session_id, msg.recipient);
        match &self.state {
            RoomState::Ready { last_seq, .. } => Ok(*last_seq),
            _ => Err(AppError::not_found("conversation")),
        }
    }
}

impl Handler<Leave> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) {
        self.sessions.remove(&msg.session_id);
        let gone: Vec<UserId> = self
            .typing
            .iter()
            .filter(|(_, t)| t.session_id == msg.session_id)
            .map(|(user, _)| *user)
            .collect();
        for user in gone {
            self.stop_typing(user, ctx);
        }
    }
}

impl Handler<PostMessage> for RoomActor {
    type Result = ResponseActFuture<Self, Result<MessageView, AppError>>;

    fn handle(&mut self, msg: PostMessage, _: &mut Self::Context) -> Self::Result {
        let checked = self.admit(msg.sender_id, msg.sender_role).and_then(|()| {
            let RoomState::Ready {
                project_id, status, ..
            } = &self.state
            else {
                return Err(AppError::not_found("conversation"));
            };
            if *status == ConversationStatus::Closed {
                return Err(AppError::ConversationClosed);
            }
            if let Err(not_until) = self.limiter.check_key(&msg.sender_id) {
                return Err(AppError::RateLimited {
                    retry_after: not_until.wait_time_from(DefaultClock::default().now()),
                });
            }
            Ok(*project_id)
        });
        let project_id = match checked {
            Ok(project_id) => project_id,
            Err(err) => return Box::pin(fut::ready(Err(err))),
        };
        self.in_flight += 1;
        let insert = self.deps.writer.send(InsertMessage {
            draft: MessageDraft {
                project_id,
                conversation_id: self.id,
                sender_id: msg.sender_id,
                content: msg.content,
                client_msg_id: msg.client_msg_id,
            },
        });
        Box::pin(insert.into_actor(self).map(move |result, room, ctx| {
            room.in_flight -= 1;
            let inserted = result
                .map_err(|_| DbError::WriterGone)?
                .inspect_err(|err| {
                    if matches!(err, DbError::ConversationClosed)
                        && let RoomState::Ready { status, .. } = &mut room.state
                    {
                        *status = ConversationStatus::Closed;
                    }
                })?;
            let message = inserted.row.view();
            if !inserted.duplicate {
                if let RoomState::Ready { last_seq, .. } = &mut room.state {
                    *last_seq = (*last_seq).max(message.seq);
                }
                room.stop_typing(msg.sender_id, ctx);
                let frame =
                    protocol::encode("message:new", None, &MessageEvent { message: &message });
                room.broadcast(&frame, msg.origin);
            }
            Ok(message)
        }))
    }
}

impl Handler<SetTyping> for RoomActor {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: SetTyping, ctx: &mut Self::Context) -> Self::Result {
        self.admit(msg.user_id, msg.role)?;
        if !msg.typing {
            self.stop_typing(msg.user_id, ctx);
            return Ok(());
        }
        if let RoomState::Ready { status, .. } = &self.state
            && *status == ConversationStatus::Closed
        {
            return Err(AppError::ConversationClosed);
        }
        let timeout = self.deps.settings.realtime.typing_timeout();
        let user_id = msg.user_id;
        let expiry = ctx.run_later(timeout, move |room, ctx| room.stop_typing(user_id, ctx));
        let previous = self.typing.insert(
            user_id,
            Typist {
                session_id: msg.session_id,
                expiry,
            },
        );
        match previous {
            // A refresh: re-armed the timer, nothing new to tell.
            Some(old) => {
                ctx.cancel_future(old.expiry);
            }
            None => {
                let frame = self.typing_frame("typing:start", user_id);
                self.broadcast(&frame, Some(msg.session_id));
            }
        }
        Ok(())
    }
}

impl Handler<Close> for RoomActor {
    type Result = ResponseActFuture<Self, Result<ConversationRow, AppError>>;

    fn handle(&mut self, msg: Close, _: &mut Self::Context) -> Self::Result {
        self.in_flight += 1;
        let close = self.deps.writer.send(CloseConversation {
            conversation_id: self.id,
            closed_by: msg.closed_by,
        });
        Box::pin(close.into_actor(self).map(|result, room, ctx| {
            room.in_flight -= 1;
            let row = result.map_err(|_| DbError::WriterGone)??;
            let was_open = matches!(
                room.state,
                RoomState::Ready {
                    status: ConversationStatus::Open,
                    ..
                }
            );
            if let RoomState::Ready { status, .. } = &mut room.state {
                *status = ConversationStatus::Closed;
            }
            if was_open {
                let typists: Vec<UserId> = room.typing.keys().copied().collect();
                for user in typists {
                    room.stop_typing(user, ctx);
                }
                let frame = protocol::encode(
                    "conversation:closed",
                    None,
                    &ClosedEvent {
                        conversation_id: room.id,
                        closed_by: row.closed_by,
                        closed_at: row.closed_at.map(|t| t.and_utc()),
                    },
                );
                room.broadcast(&frame, None);
            }
            Ok(row)
        }))
    }
}
