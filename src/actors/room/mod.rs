//! `RoomActor`: one per active conversation. Every send, edit, deletion, close, receipt and
//! typing indicator of that conversation passes through it, so ordering, rate limits and
//! broadcast live in one place.
//!
//! State: the conversation's project, status, last seq and version, and its participants with
//! their watermarks (loaded once at start, then kept current, so the send path reads nothing
//! from the database); the joined sessions, each live or still replaying history (with the live
//! frames held back until its replay is out); typing indicators with their expiry timers; a
//! governor rate limiter keyed by user, shared by sends, edits and deletions.
//!
//! Handles [`Join`] and [`Leave`] (`join.rs`), [`PostMessage`] and [`ChangeMessage`] with
//! their [`Committed`] outcomes (`post.rs`), [`Annotate`] (reactions and pins, `annotate.rs`,
//! which also tells mentioned users), [`SetTyping`] (`typing.rs`), [`MarkReceipt`]
//! (`receipts.rs`), [`Close`] (`close.rs`) and [`ChangeParticipants`] (`membership.rs`), sent
//! by sessions and HTTP handlers through the
//! registry. Every one of them asks the access policy ([`crate::policy`]) first. Started by the
//! [`RoomRegistry`](super::room_registry::RoomRegistry) on first use; stops itself after
//! `realtime.room_idle_s` with no joined session and nothing in flight, and reports that
//! through [`RoomDeps::on_stop`].
//!
//! Ordering: a session's `ack` for a join, a send, an edit or a deletion is delivered through
//! the same outbox as the room's events, so every session sees one consistent order: replayed
//! history, then the join `ack`, then live events; a sender sees its `ack` for seq N before any
//! `message:new` after N. Edits and deletions are written through the same commit queue as
//! sends, so `message:updated` for seq N always follows N's `message:new`.

mod access;
mod annotate;
mod close;
mod desk;
mod fill;
mod gate;
mod join;
mod member;
mod membership;

use member::{Held, Member};
mod messages;
mod order;
mod post;
mod rate;
mod receipts;
mod typing;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use crate::actors::Frame;
use crate::actors::commit_queue::{CommitQueue, CommitQueues};
use crate::actors::db_writer::DbWriter;
use crate::api::{DownloadLinks, MessageView};
use crate::cluster::Cluster;
use crate::cluster::sequencer::Sequencer;
use crate::config::Settings;
use crate::db::queries::{conversations, participants};
use crate::db::{Database, DbError};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MemberRole, ProjectId, ReceiptKind,
    SessionId, UserId, Visibility,
};
use crate::error::AppError;
use crate::protocol::{self, ServerFrame};

pub use annotate::Annotate;
pub use close::Close;
pub use desk::DeskAnnounce;
pub use membership::ChangeParticipants;
pub use messages::{
    ChangeMessage, Join, Leave, MarkReceipt, Origin, PostMessage, RoomStopped, SetTyping, Since,
};
pub use order::Behind;
use order::Delivery;
pub use rate::SendWindow;

/// How long a room for an id with no conversation lingers (answering `not_found`).
const MISSING_ROOM_TTL: Duration = Duration::from_secs(1);

/// The settings a room uses.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// `realtime.typing_timeout_s`.
    pub typing_timeout: Duration,
    /// `realtime.typing_broadcast_interval_s`.
    pub typing_broadcast_interval: Duration,
    /// `realtime.room_idle_s`.
    pub room_idle: Duration,
    /// `realtime.max_replay`.
    pub max_replay: i64,
    /// Sends, edits and deletions per user: `limits.messages_per_window` per
    /// `limits.message_window_s` (a project's settings may override them).
    pub send_window: SendWindow,
    /// `cluster.gap_fill_ms`: how long a change waits for its predecessors.
    pub gap_fill: Duration,
    /// `desk.resolved_reply = "reopen"`: a customer's message opens a resolved support
    /// conversation again (else it is refused).
    pub reopen_resolved: bool,
}

impl RoomConfig {
    /// The room's part of the configuration.
    pub fn new(settings: &Settings) -> Self {
        let limits = &settings.limits;
        Self {
            typing_timeout: settings.realtime.typing_timeout(),
            typing_broadcast_interval: settings.realtime.typing_broadcast_interval(),
            room_idle: settings.realtime.room_idle(),
            max_replay: i64::from(settings.realtime.max_replay),
            send_window: SendWindow {
                per_window: limits.messages_per_window,
                window_s: limits.message_window_s,
            },
            gap_fill: settings.cluster.gap_fill(),
            reopen_resolved: settings.desk.resolved_reply == crate::config::ResolvedReply::Reopen,
        }
    }
}

/// What a room needs from the outside world.
#[derive(Clone)]
pub struct RoomDeps {
    /// For loading the conversation's state and replaying history.
    pub db: Database,
    /// Where receipts and closes go.
    pub writer: Addr<DbWriter>,
    /// Where messages, edits and deletions go: the room's thread's group-commit queue.
    pub commit_queues: CommitQueues,
    /// Limits and timeouts.
    pub config: Arc<RoomConfig>,
    /// Signs the download links of attachments in the messages it sends.
    pub links: DownloadLinks,
    /// Told when the room stops.
    pub on_stop: Recipient<RoomStopped>,
    /// The other nodes, in cluster mode.
    pub cluster: Option<Cluster>,
    /// Every project's settings (the send rate).
    pub projects: Arc<crate::project_settings::ProjectSettingsRegistry>,
    /// Where `mention` events go: presence reaches every session of a user, on every node.
    pub presence: Recipient<crate::actors::presence::NotifyUsers>,
}

/// A participant's watermarks and role as the room knows them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Marks {
    delivered: i64,
    read: i64,
    role: MemberRole,
}

/// The conversation, once loaded.
struct Loaded {
    project_id: ProjectId,
    kind: ConversationKind,
    visibility: Visibility,
    status: ConversationStatus,
    last_seq: i64,
    version: i64,
    /// Participant → watermarks.
    participants: HashMap<UserId, Marks>,
}

enum RoomState {
    Loading,
    Missing,
    Ready(Loaded),
}

/// A write waiting for its commit, with where its answer goes.
enum Pending {
    Post {
        msg: PostMessage,
        answer: tokio::sync::oneshot::Sender<Result<MessageView, AppError>>,
    },
    Change {
        msg: ChangeMessage,
        answer: tokio::sync::oneshot::Sender<Result<MessageView, AppError>>,
    },
    Annotate {
        msg: Annotate,
        answer: tokio::sync::oneshot::Sender<Result<MessageView, AppError>>,
    },
}

/// A running typing indicator.
struct Typist {
    session_id: SessionId,
    expiry: SpawnHandle,
    /// Whether its `typing:start` went out (it may wait for the broadcast interval).
    announced: bool,
}

/// The room actor of one conversation.
pub struct RoomActor {
    id: ConversationId,
    deps: RoomDeps,
    /// This thread's group-commit queue.
    commit_queue: Addr<CommitQueue>,
    state: RoomState,
    /// Joined sessions; bounded by the sessions of the participants.
    members: HashMap<SessionId, Member>,
    /// Running typing indicators, one per participant at most.
    typing: HashMap<UserId, Typist>,
    /// When each participant's `typing:start` was last broadcast.
    typing_announced: HashMap<UserId, Instant>,
    /// Sends, edits and deletions per user.
    limiter: DefaultKeyedRateLimiter<UserId>,
    /// The window `limiter` counts (rebuilt when the project's settings change it).
    limiter_window: SendWindow,
    /// Writes queued for commit, by token.
    pending: HashMap<u64, Pending>,
    next_token: u64,
    /// Highest receipt announced per user and kind, so a late answer never moves it back.
    announced: HashMap<(UserId, ReceiptKind), i64>,
    /// Database reads and writes under way (replays, receipts, closes, lookups).
    in_flight: usize,
    idle_check: Option<SpawnHandle>,
    /// Puts changes committed here and on other nodes in version order (`order.rs`).
    sequencer: Sequencer<Delivery>,
    /// The read of missing changes, when armed.
    gap_timer: Option<SpawnHandle>,
    /// A read of missing changes is under way.
    filling: bool,
    /// A version the conversation is known to have reached (from events and the sweep).
    known_version: i64,
    /// Another node (or this one) is back from a Redis outage: the next read of missing
    /// changes also reads the watermarks, and then the members are told to `resync`.
    catching_up: bool,
    /// Sends, edits and deletions waiting for the cluster-wide rate limit's answer, in arrival
    /// order (cluster mode); bounded by the sessions' `realtime.max_in_flight`.
    gate: VecDeque<gate::Gated>,
}

impl RoomActor {
    /// A room for `id`, loading its state when started. Call it on the thread the room will run
    /// on (inside `start_in_arbiter`): it picks that thread's commit queue.
    pub fn new(id: ConversationId, deps: RoomDeps) -> Self {
        Self {
            id,
            commit_queue: deps.commit_queues.local(),
            limiter: RateLimiter::keyed(deps.config.send_window.quota()),
            limiter_window: deps.config.send_window,
            deps,
            state: RoomState::Loading,
            members: HashMap::new(),
            typing: HashMap::new(),
            typing_announced: HashMap::new(),
            pending: HashMap::new(),
            next_token: 0,
            announced: HashMap::new(),
            in_flight: 0,
            idle_check: None,
            sequencer: Sequencer::new(0, 0),
            gap_timer: None,
            filling: false,
            known_version: 0,
            catching_up: false,
            gate: VecDeque::new(),
        }
    }

    fn loaded(&self) -> Result<&Loaded, AppError> {
        match &self.state {
            RoomState::Ready(loaded) => Ok(loaded),
            RoomState::Loading => Err(AppError::Unavailable("conversation is loading".into())),
            RoomState::Missing => Err(AppError::not_found("conversation")),
        }
    }

    /// Counts one send, edit or deletion against `user`'s rate.
    fn last_seq(&self) -> i64 {
        self.loaded().map_or(0, |l| l.last_seq)
    }

    fn is_closed(&self) -> bool {
        self.loaded()
            .is_ok_and(|l| l.status == ConversationStatus::Closed)
    }

    /// Sends an answer to one session, behind its held frames if it is replaying here.
    fn send_to(&mut self, origin: &Origin, json: ByteString) {
        let frame = Frame::from(json);
        match self.members.get_mut(&origin.session_id) {
            Some(member) => member.answer(frame),
            None => origin.outbox.answer(frame),
        }
    }

    /// (Re)arms the idle timer; the room stops when it fires with nothing to do.
    fn schedule_idle_check(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.idle_check.take() {
            ctx.cancel_future(handle);
        }
        let idle = self.deps.config.room_idle;
        self.idle_check = Some(ctx.run_later(idle, |room, ctx| {
            room.idle_check = None;
            // Sessions that died without a Leave must not keep the room alive.
            room.members.retain(|_, m| m.outbox.connected());
            let interval = room.deps.config.typing_broadcast_interval;
            room.typing_announced
                .retain(|_, at| at.elapsed() < interval);
            let busy = room.in_flight > 0
                || !room.pending.is_empty()
                || !room.typing.is_empty()
                || !room.gate.is_empty()
                || !room.sequencer.is_empty();
            if room.members.is_empty() && !busy {
                ctx.stop();
            } else {
                room.schedule_idle_check(ctx);
            }
        }));
    }
}

/// Encodes an event for broadcast.
fn event(frame: &ServerFrame<'_>) -> ByteString {
    protocol::encode(frame)
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        super::pacer::install();
        if let Some(cluster) = &self.deps.cluster {
            // Events published from now on queue in the mailbox while the state loads.
            cluster.subscribe(self.id, ctx.address().recipient());
        }
        let db = self.deps.db.clone();
        let id = self.id;
        let load = async move {
            let mut conn = db.read().await?;
            let Some(row) = conversations::find(&mut conn, id).await? else {
                return Ok::<_, DbError>(None);
            };
            let marks = participants::members_of(&mut conn, id).await?;
            Ok(Some((row, marks)))
        };
        // `wait` holds the mailbox until the state is loaded, so no message sees `Loading`.
        ctx.wait(load.into_actor(self).map(|loaded, room, ctx| match loaded {
            Ok(Some((row, marks))) => {
                room.sequencer = Sequencer::new(row.version, row.last_seq);
                room.known_version = row.version;
                room.state = RoomState::Ready(Loaded {
                    project_id: row.project_id,
                    kind: ConversationKind::from_stored(&row.kind),
                    visibility: Visibility::from_stored(&row.visibility),
                    status: row.status(),
                    last_seq: row.last_seq,
                    version: row.version,
                    participants: marks
                        .into_iter()
                        .map(|(m, role)| {
                            let marks = Marks {
                                delivered: m.last_delivered_seq,
                                read: m.last_read_seq,
                                role,
                            };
                            (m.user_id, marks)
                        })
                        .collect(),
                });
                room.schedule_idle_check(ctx);
            }
            Ok(None) => {
                // Answer what is queued with not_found, then go: a conversation created with
                // this id later must get a fresh room (the registry also evicts it).
                room.state = RoomState::Missing;
                ctx.run_later(MISSING_ROOM_TTL, |_, ctx| ctx.stop());
            }
            Err(err) => {
                tracing::error!(conversation_id = %room.id, error = ?err, "room load failed");
                room.state = RoomState::Missing;
                // Stop so the next request starts a fresh room that tries again.
                ctx.stop();
            }
        }));
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        if let Some(cluster) = &self.deps.cluster {
            cluster.unsubscribe(self.id, &ctx.address().recipient());
        }
        self.deps.on_stop.do_send(RoomStopped {
            conversation_id: self.id,
        });
    }
}
