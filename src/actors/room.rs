//! `RoomActor`: one per active conversation; every send, close, receipt and typing indicator of
//! that conversation passes through it, so ordering, rate limits and broadcast live in one place.
//!
//! State: the conversation's participants, status and last seq (loaded once at start, then kept
//! current, so the send path reads nothing from the database); the joined sessions, each either
//! live or still replaying history (with a buffer of the live frames held back until the replay
//! is out); typing indicators with their expiry timers; a governor keyed rate limiter (per
//! user). Handles [`Join`], [`Leave`], [`PostMessage`], [`SetTyping`], [`MarkReceipt`],
//! [`Close`] and [`Publish`], sent by sessions and HTTP handlers through the registry. Started by
//! the [`RoomRegistry`] on first use; stops itself after `realtime.room_idle_s` with no joined
//! session and nothing in flight, and tells the registry.
//!
//! Ordering: a session's `ack` for a join or a send is delivered through the same mailbox as the
//! room's events, so every session sees one consistent order: replayed history, then the join
//! `ack`, then live events; a sender sees its `ack` for seq N before any `message:new` after N.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::actors::Outbox;
use crate::actors::commit_queue::{CommitQueue, Committed, QueueMessage};
use crate::actors::db_writer::{CloseConversation, UpdateWatermark};
use crate::actors::room_registry::{RoomDeps, RoomRegistry, RoomStopped};
use crate::db::models::{ConversationRow, MessageView};
use crate::db::queries::messages::{self, MessageDraft, PageRequest};
use crate::db::queries::{conversations, participants::ReceiptKind, participants::Watermarks};
use crate::domain::{
    ConversationId, ConversationStatus, ProjectId, Role, SessionId, UploadId, UserId,
};
use crate::error::{AppError, DbError};
use crate::protocol;

/// Messages replayed per database read when a session joins with `since_seq`.
const REPLAY_PAGE: i64 = 500;
/// How long a room for an id with no conversation lingers (answering `not_found`).
const MISSING_ROOM_TTL: Duration = Duration::from_secs(1);

/// Where a session-originated command came from, so the room can answer in order.
#[derive(Clone)]
pub struct Origin {
    /// The session.
    pub session_id: SessionId,
    /// Its outgoing queue.
    pub outbox: Outbox,
    /// The client's `ref`, echoed in the `ack`.
    pub reference: Option<String>,
}

/// Start receiving the conversation's events, first replaying stored messages with
/// `seq > since_seq`. On success the room itself sends the `ack {conversation_id, last_seq}`
/// (after the replay); errors are returned.
#[derive(Message, Clone)]
#[rtype(result = "Result<(), AppError>")]
pub struct Join {
    /// The joining session, its mailbox and the `ref` to acknowledge.
    pub origin: Origin,
    /// Its user (must be a participant).
    pub user_id: UserId,
    /// The user's role (an admin who is not a participant gets `forbidden`).
    pub role: Role,
    /// Replay messages after this seq before going live.
    pub since_seq: Option<i64>,
}

/// Stop receiving the conversation's events (also sent when a session ends).
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Leave {
    /// The leaving session.
    pub session_id: SessionId,
}

/// Post a message (WebSocket `message:send` or REST). Answers the stored message after commit;
/// a WebSocket origin also gets its `ack` from the room.
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
    /// An upload of the sender's to attach.
    pub attachment_id: Option<UploadId>,
    /// The sending session, which gets an `ack` instead of `message:new`.
    pub origin: Option<Origin>,
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

/// Move a delivery or read watermark forward (`message:delivered`, `message:read`, REST read).
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<Watermarks, AppError>")]
pub struct MarkReceipt {
    /// Whose watermark.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// Which watermark.
    pub kind: ReceiptKind,
    /// Up to which seq (clamped to the conversation's last seq).
    pub seq: i64,
    /// The session that sent it (not told about its own receipt).
    pub session_id: Option<SessionId>,
}

/// Close the conversation (agents and admins; the HTTP handler checks the role).
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<ConversationRow, AppError>")]
pub struct Close {
    /// Who closes it.
    pub closed_by: UserId,
}

/// Broadcast an already encoded frame to every joined session (edits and deletions, which the
/// writer stores first).
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Publish {
    /// The frame.
    pub frame: ByteString,
}

#[derive(Serialize)]
struct TypingEvent {
    conversation_id: ConversationId,
    user_id: UserId,
}

/// `data` of `message:new` and of a send's `ack`.
#[derive(Serialize)]
pub struct MessageEvent<'a> {
    /// The stored message.
    pub message: &'a MessageView,
}

#[derive(Serialize)]
struct JoinAck {
    conversation_id: ConversationId,
    last_seq: i64,
}

#[derive(Serialize)]
struct ReceiptEvent {
    conversation_id: ConversationId,
    user_id: UserId,
    seq: i64,
}

#[derive(Serialize)]
struct ClosedEvent {
    conversation_id: ConversationId,
    closed_by: Option<UserId>,
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
}

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

/// A joined session: live, or replaying (live frames held in `held` until the replay is out).
struct Member {
    outbox: Outbox,
    held: Option<Vec<ByteString>>,
}

impl Member {
    /// A live event: held during a replay, else queued within the session's bound.
    fn send(&mut self, frame: ByteString) {
        match &mut self.held {
            Some(held) => held.push(frame),
            None => {
                self.outbox.send(frame);
            }
        }
    }
}

/// A send waiting for its commit.
struct PendingPost {
    msg: PostMessage,
    answer: oneshot::Sender<Result<MessageView, AppError>>,
}

struct Typist {
    session_id: SessionId,
    expiry: SpawnHandle,
}

/// The room actor of one conversation.
pub struct RoomActor {
    id: ConversationId,
    deps: RoomDeps,
    /// This thread's group-commit queue.
    commit_queue: Addr<CommitQueue>,
    registry: Addr<RoomRegistry>,
    state: RoomState,
    members: HashMap<SessionId, Member>,
    typing: HashMap<UserId, Typist>,
    limiter: DefaultKeyedRateLimiter<UserId>,
    /// Sends queued for commit, by token.
    posts: HashMap<u64, PendingPost>,
    next_token: u64,
    /// Highest receipt announced per user and kind, so a late answer never moves it back.
    announced: HashMap<(UserId, ReceiptKind), i64>,
    /// A `conversation:closed` frame waiting for the sends committed before the close to be
    /// announced first.
    closed_frame: Option<ByteString>,
    in_flight: usize,
    idle_check: Option<SpawnHandle>,
}

impl RoomActor {
    /// A room for `id`, loading its state when started. Call it on the thread the room will run
    /// on (inside `start_in_arbiter`): it picks that thread's commit queue.
    pub fn new(id: ConversationId, deps: RoomDeps, registry: Addr<RoomRegistry>) -> Self {
        let limits = &deps.settings.limits;
        let burst = NonZeroU32::new(limits.messages_per_window).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(limits.message_window_s) / burst.get();
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            id,
            commit_queue: deps.commit_queues.local(),
            deps,
            registry,
            state: RoomState::Loading,
            members: HashMap::new(),
            typing: HashMap::new(),
            limiter: RateLimiter::keyed(quota),
            posts: HashMap::new(),
            next_token: 0,
            announced: HashMap::new(),
            closed_frame: None,
            in_flight: 0,
            idle_check: None,
        }
    }

    /// Checks that `user` may act here.
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

    fn last_seq(&self) -> i64 {
        match &self.state {
            RoomState::Ready { last_seq, .. } => *last_seq,
            _ => 0,
        }
    }

    fn is_closed(&self) -> bool {
        matches!(
            self.state,
            RoomState::Ready {
                status: ConversationStatus::Closed,
                ..
            }
        )
    }

    fn broadcast(&mut self, frame: &ByteString, except: Option<SessionId>) {
        for (id, member) in &mut self.members {
            if Some(*id) != except {
                member.send(frame.clone());
            }
        }
    }

    /// Sends `frame` to one session, behind its held frames if it is replaying here.
    fn send_to(&mut self, origin: &Origin, frame: ByteString) {
        match self.members.get_mut(&origin.session_id) {
            Some(member) => member.send(frame),
            None => origin.outbox.answer(frame),
        }
    }

    fn typing_frame(&self, kind: &str, user_id: UserId) -> ByteString {
        let event = TypingEvent {
            conversation_id: self.id,
            user_id,
        };
        protocol::encode(kind, None, &event)
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
            // Sessions that died without a Leave must not keep the room alive.
            room.members.retain(|_, m| m.outbox.connected());
            let busy = room.in_flight > 0 || !room.posts.is_empty() || !room.typing.is_empty();
            if room.members.is_empty() && !busy {
                ctx.stop();
            } else {
                room.schedule_idle_check(ctx);
            }
        }));
    }

    /// Checks a send before it is queued: participation, status, rate.
    fn check_post(&self, msg: &PostMessage) -> Result<ProjectId, AppError> {
        self.admit(msg.sender_id, msg.sender_role)?;
        let RoomState::Ready { project_id, .. } = &self.state else {
            return Err(AppError::not_found("conversation"));
        };
        if self.is_closed() {
            return Err(AppError::ConversationClosed);
        }
        if let Err(not_until) = self.limiter.check_key(&msg.sender_id) {
            return Err(AppError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            });
        }
        Ok(*project_id)
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
            if let RoomState::Ready { last_seq, .. } = &mut self.state {
                *last_seq = (*last_seq).max(message.seq);
            }
            self.stop_typing(msg.sender_id, ctx);
        }
        if let Some(origin) = &msg.origin {
            let ack = protocol::ack(origin.reference.as_deref(), &MessageEvent { message });
            self.send_to(origin, ack);
        }
        if new {
            let frame = protocol::encode("message:new", None, &MessageEvent { message });
            self.broadcast(&frame, msg.origin.as_ref().map(|o| o.session_id));
        }
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
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
            match loaded {
                Ok(Some((row, members))) => {
                    room.state = RoomState::Ready {
                        project_id: row.project_id,
                        status: row.status(),
                        last_seq: row.last_seq,
                        participants: members.into_iter().collect(),
                    };
                    room.schedule_idle_check(ctx);
                }
                Ok(None) => {
                    // Answer what is queued with not_found, then go: a conversation created
                    // with this id later must get a fresh room (the registry also evicts it).
                    room.state = RoomState::Missing;
                    ctx.run_later(MISSING_ROOM_TTL, |_, ctx| ctx.stop());
                }
                Err(err) => {
                    tracing::error!(conversation_id = %room.id, error = ?err, "room load failed");
                    room.state = RoomState::Missing;
                    // Stop so the next request starts a fresh room that tries again.
                    ctx.stop();
                }
            }
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.registry.do_send(RoomStopped {
            conversation_id: self.id,
        });
    }
}

impl Handler<Join> for RoomActor {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: Join, ctx: &mut Self::Context) -> Self::Result {
        self.admit(msg.user_id, msg.role)?;
        let last_seq = self.last_seq();
        let origin = msg.origin;
        let ack = protocol::ack(
            origin.reference.as_deref(),
            &JoinAck {
                conversation_id: self.id,
                last_seq,
            },
        );
        if self
            .members
            .get(&origin.session_id)
            .is_some_and(|m| m.held.is_some())
        {
            return Err(AppError::BadRequest(
                "an earlier join of this conversation is still replaying; wait for its ack".into(),
            ));
        }
        let since = msg.since_seq.unwrap_or(last_seq).max(0);
        if since >= last_seq {
            origin.outbox.answer(ack);
            let member = Member {
                outbox: origin.outbox,
                held: None,
            };
            self.members.insert(origin.session_id, member);
            return Ok(());
        }
        // Live frames for this session wait in `held` until every stored message in
        // (since, last_seq] has been sent, so the client sees no gap and no duplicate.
        let member = Member {
            outbox: origin.outbox.clone(),
            held: Some(Vec::new()),
        };
        self.members.insert(origin.session_id, member);
        self.in_flight += 1;
        let (db, id, session_id) = (self.deps.db.clone(), self.id, origin.session_id);
        let replay = async move {
            let mut conn = db.read().await?;
            let mut frames = Vec::new();
            let mut after = since;
            while after < last_seq {
                let request = PageRequest {
                    before_seq: Some(last_seq + 1),
                    after_seq: Some(after),
                    limit: REPLAY_PAGE,
                };
                let page = messages::page(&mut conn, id, request).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for row in &page {
                    let view = row.view();
                    let event = MessageEvent { message: &view };
                    frames.push(protocol::encode("message:new", None, &event));
                }
            }
            Ok::<_, DbError>(frames)
        };
        ctx.spawn(replay.into_actor(self).map(move |frames, room, _| {
            room.in_flight -= 1;
            let Some(member) = room.members.get_mut(&session_id) else {
                // Left during the replay: the join still gets its answer.
                origin.outbox.answer(ack);
                return;
            };
            let held = member.held.take().unwrap_or_default();
            match frames {
                Ok(frames) => {
                    for frame in frames.into_iter().chain([ack]) {
                        member.outbox.answer(frame);
                    }
                    for frame in held {
                        member.outbox.send(frame);
                    }
                }
                Err(err) => {
                    tracing::warn!(conversation_id = %room.id, error = ?err, "replay failed");
                    let error =
                        AppError::Unavailable("could not replay history; join again".into());
                    let frame = protocol::error(origin.reference.as_deref(), &error.body());
                    member.outbox.answer(frame);
                    room.members.remove(&session_id);
                }
            }
        }));
        Ok(())
    }
}

impl Handler<Leave> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) {
        self.members.remove(&msg.session_id);
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
    type Result = ResponseFuture<Result<MessageView, AppError>>;

    fn handle(&mut self, mut msg: PostMessage, ctx: &mut Self::Context) -> Self::Result {
        let (answer, receiver) = oneshot::channel();
        let outcome = async move {
            receiver
                .await
                .unwrap_or_else(|_| Err(AppError::Unavailable("the server is stopping".into())))
        };
        match self.check_post(&msg) {
            Ok(project_id) => {
                let draft = MessageDraft {
                    project_id,
                    conversation_id: self.id,
                    sender_id: msg.sender_id,
                    // Moved, not copied: the acknowledgement needs only the sender and origin.
                    content: std::mem::take(&mut msg.content),
                    client_msg_id: msg.client_msg_id.take(),
                    attachment_id: msg.attachment_id,
                };
                self.next_token += 1;
                let token = self.next_token;
                self.posts.insert(token, PendingPost { msg, answer });
                self.commit_queue.do_send(QueueMessage {
                    draft,
                    token,
                    reply_to: ctx.address().recipient(),
                });
            }
            Err(err) => self.refused(msg, err, answer, ctx),
        }
        Box::pin(outcome)
    }
}

impl Handler<Committed> for RoomActor {
    type Result = ();

    /// Outcomes arrive in commit order, so acks and `message:new` go out in seq order.
    fn handle(&mut self, committed: Committed, ctx: &mut Self::Context) {
        let Some(PendingPost { msg, answer }) = self.posts.remove(&committed.token) else {
            return;
        };
        let result = match committed.result {
            Ok(inserted) => {
                let message = inserted.row.into_view();
                self.posted(&msg, &message, !inserted.duplicate, ctx);
                Ok(message)
            }
            Err(err) => {
                if matches!(err, DbError::ConversationClosed)
                    && let RoomState::Ready { status, .. } = &mut self.state
                {
                    *status = ConversationStatus::Closed;
                }
                Err(AppError::from(err))
            }
        };
        let _ = answer.send(result);
        self.announce_close_when_settled();
    }
}

impl RoomActor {
    /// Broadcasts a pending `conversation:closed` once no send queued before it is unanswered.
    fn announce_close_when_settled(&mut self) {
        if self.posts.is_empty()
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
        answer: oneshot::Sender<Result<MessageView, AppError>>,
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
        let (db, id, sender) = (self.deps.db.clone(), self.id, msg.sender_id);
        let lookup = async move {
            let mut conn = db.read().await?;
            messages::find_by_client_msg_id(&mut conn, id, sender, &client_msg_id).await
        };
        ctx.spawn(lookup.into_actor(self).map(move |found, room, ctx| {
            room.in_flight -= 1;
            let result = match found {
                Ok(Some(row)) => {
                    let message = row.view();
                    room.posted(&msg, &message, false, ctx);
                    Ok(message)
                }
                _ => Err(err),
            };
            let _ = answer.send(result);
        }));
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
        if self.is_closed() {
            return Err(AppError::ConversationClosed);
        }
        let timeout = self.deps.settings.realtime.typing_timeout();
        let user_id = msg.user_id;
        let expiry = ctx.run_later(timeout, move |room, ctx| room.stop_typing(user_id, ctx));
        let typist = Typist {
            session_id: msg.session_id,
            expiry,
        };
        match self.typing.insert(user_id, typist) {
            // A refresh: the timer is re-armed, nothing new to tell.
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

impl Handler<MarkReceipt> for RoomActor {
    type Result = ResponseActFuture<Self, Result<Watermarks, AppError>>;

    fn handle(&mut self, msg: MarkReceipt, _: &mut Self::Context) -> Self::Result {
        if let Err(err) = self.admit(msg.user_id, msg.role) {
            return Box::pin(fut::ready(Err(err)));
        }
        if msg.seq < 0 {
            let err = AppError::Validation("seq: must not be negative".into());
            return Box::pin(fut::ready(Err(err)));
        }
        self.in_flight += 1;
        let update = self.deps.writer.send(UpdateWatermark {
            conversation_id: self.id,
            user_id: msg.user_id,
            kind: msg.kind,
            // Nothing beyond the last message can have been delivered or read.
            seq: msg.seq.min(self.last_seq()),
        });
        Box::pin(update.into_actor(self).map(move |result, room, _| {
            room.in_flight -= 1;
            let outcome = result.map_err(|_| DbError::WriterGone)??;
            let seq = match msg.kind {
                ReceiptKind::Delivered => outcome.watermarks.last_delivered_seq,
                ReceiptKind::Read => outcome.watermarks.last_read_seq,
            };
            let announced = room.announced.entry((msg.user_id, msg.kind)).or_insert(0);
            if outcome.moved && seq > *announced {
                *announced = seq;
                let event = ReceiptEvent {
                    conversation_id: room.id,
                    user_id: msg.user_id,
                    seq,
                };
                let frame = protocol::encode(msg.kind.event(), None, &event);
                room.broadcast(&frame, msg.session_id);
            }
            Ok(outcome.watermarks)
        }))
    }
}

impl Handler<Publish> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Publish, _: &mut Self::Context) {
        self.broadcast(&msg.frame, None);
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
            let was_open = !room.is_closed();
            if let RoomState::Ready { status, .. } = &mut room.state {
                *status = ConversationStatus::Closed;
            }
            if was_open {
                let typists: Vec<UserId> = room.typing.keys().copied().collect();
                for user in typists {
                    room.stop_typing(user, ctx);
                }
                let event = ClosedEvent {
                    conversation_id: room.id,
                    closed_by: row.closed_by,
                    closed_at: row.closed_at.map(|t| t.and_utc()),
                };
                room.closed_frame = Some(protocol::encode("conversation:closed", None, &event));
                room.announce_close_when_settled();
            }
            Ok(row)
        }))
    }
}
