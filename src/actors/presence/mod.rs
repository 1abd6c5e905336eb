//! `PresenceRegistry`: who is online, and the one place that can reach every session of a user.
//! Rooms send it [`NotifyUsers`] (a `mention`) for every session of some users, and callers ask
//! it [`OnlineIn`] (who `@here` mentions).
//!
//! State: user → their sessions (admitted and not yet started, or live). Handles [`Admit`]
//! (from the WebSocket upgrade, which it refuses past `realtime.max_sessions_per_user`),
//! [`Connect`] and [`Disconnect`] (sent by each `SessionActor` as it starts and stops, heartbeat
//! timeouts included), [`EndSessions`] (from the auth and user handlers: logout-all, refresh
//! token reuse, a role change, disabling), [`TokensRevoked`] (from the server API), and [`ShutdownAll`] / [`CountSessions`] from
//! `startup` when the server stops. On a user's first session it tells every connected session
//! of the users who share a conversation with them `user:status {user_id, status: "online"}`; on the last one it stores
//! `last_seen_at` through the DbWriter and tells them `{user_id, status: "offline",
//! last_seen_at}`. Every new session also gets `user:status online` for each of its contacts
//! already online, so clients start from a true picture. Only conversations of at most
//! `realtime.presence_max_participants` count (see [`users::contacts`]). One instance, started
//! by `startup`, living as long as the server.
//!
//! Transitions are handled one at a time (`ctx.wait` around the contacts query), so an online
//! event can never overtake the offline event that preceded it.
//!
//! In cluster mode (docs/SCALING.md) Redis decides whether a transition changes the user's
//! status for everyone ([`crate::cluster::presence`]): the user is online while a session of
//! theirs lives on any node. Announcements go to this node's sessions and, through Redis, to
//! the others' ([`GlobalEvent`]). A heartbeat keeps this node alive in Redis and reaps dead
//! nodes, announcing their users offline. After a Redis outage ([`Recovered`]) the node
//! registers its users again and every session gets its contacts' current status.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::prelude::*;

mod cluster;
mod notify;
mod online;
mod sessions;

pub use cluster::{load_project_settings, load_revoked};
pub use notify::NotifyUsers;
pub use online::{OnlineAmong, OnlineIn, online_for_here};

use crate::actors::db_writer::{DbWriter, TouchLastSeen};
use crate::actors::session::EndSession;
use crate::actors::{Frame, Outbox, SessionSignal};
use crate::auth::JwtKeys;
use crate::cluster::envelope::{Event, SessionEnd};
use crate::cluster::{Cluster, GlobalEvent, Recovered};
use crate::db::queries::user_tokens::Revocation;
use crate::db::queries::users;
use crate::db::{Database, DbError, now};
use crate::domain::{SessionId, UserId};
use crate::error::AppError;
use crate::protocol::{self, ServerFrame, Status, StatusEvent};

/// How long an admitted session may take to start before its place is given back.
const ADMISSION_TTL: Duration = Duration::from_secs(30);

/// A WebSocket upgrade for `user_id` is about to start session `session_id`: take one of the
/// user's `realtime.max_sessions_per_user` places for it.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<(), AppError>")]
pub struct Admit {
    /// Whose.
    pub user_id: UserId,
    /// The session to come.
    pub session_id: SessionId,
}

/// End every session of `user_id` now, closing each with `code` and `reason`.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct EndSessions {
    /// Whose.
    pub user_id: UserId,
    /// The close frame: 4001 (signed out) or 4003 (role changed, disabled).
    pub end: EndSession,
}

/// User tokens of `user_id` were revoked, and are on this node's deny list: tell the other
/// nodes, and end the sessions that run on them (4003).
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct TokensRevoked {
    /// Whose.
    pub user_id: UserId,
    /// Each token's id and expiry (Unix seconds).
    pub tokens: Vec<Revocation>,
}

/// A session of `user_id` started.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect {
    /// Whose.
    pub user_id: UserId,
    /// Which session.
    pub session_id: SessionId,
    /// Where to deliver presence events for this session: its bounded outbox, so a client
    /// that reads too slowly while its contacts come and go is closed as a slow consumer
    /// rather than piling events up. Also how the session is told that the server is stopping
    /// or that it must end ([`Outbox::signal`]).
    pub outbox: Outbox,
}

/// Tell every session the server is stopping. Answers how many sessions are still open.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct ShutdownAll;

/// How many sessions are open.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct CountSessions;

/// How many users have a session open on this node, and how many sessions.
#[derive(Message, Clone, Copy)]
#[rtype(result = "OnlineCounts")]
pub struct CountOnline;

/// The answer to [`CountOnline`].
#[derive(Debug, Clone, Copy, MessageResponse)]
pub struct OnlineCounts {
    /// Users with at least one live session.
    pub users: usize,
    /// Live sessions.
    pub sessions: usize,
    /// Bytes of events queued for the live sessions and not yet written, summed.
    pub queued_bytes: usize,
    /// The fullest session's queued bytes.
    pub queued_bytes_max: usize,
}

/// One of a user's places: admitted at the upgrade, live once the session starts.
enum Place {
    /// Admitted at this instant; the session has not started yet.
    Admitted(Instant),
    /// Admitted, then the user's sessions were ended before this one started: it is ended as
    /// soon as it starts (its token was checked before the revocation).
    Doomed(Instant, EndSession),
    /// Running: its outbox.
    Live(Outbox),
}

impl Place {
    fn live(&self) -> Option<&Outbox> {
        match self {
            Self::Live(live) => Some(live),
            Self::Admitted(_) | Self::Doomed(..) => None,
        }
    }

    fn admitted_at(&self) -> Option<Instant> {
        match self {
            Self::Admitted(at) | Self::Doomed(at, _) => Some(*at),
            Self::Live(_) => None,
        }
    }
}

/// A session of `user_id` ended.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    /// Whose.
    pub user_id: UserId,
    /// Which session.
    pub session_id: SessionId,
}

/// What the presence registry needs.
pub struct PresenceDeps {
    /// For the contacts of a user.
    pub db: Database,
    /// For `last_seen_at`.
    pub writer: Addr<DbWriter>,
    /// Conversations larger than this carry no presence (`realtime.presence_max_participants`).
    pub presence_max_participants: u32,
    /// `realtime.max_sessions_per_user`.
    pub max_sessions_per_user: usize,
    /// The other nodes, in cluster mode: presence is then decided in Redis.
    pub cluster: Option<Cluster>,
    /// Whose deny list other nodes' revocations fill, and which is read again from the
    /// database after a Redis outage.
    pub jwt: JwtKeys,
    /// Every project's settings: other nodes' changes arrive here.
    pub projects: std::sync::Arc<crate::project_settings::ProjectSettingsRegistry>,
}

/// What a user's presence transition found.
struct Transition {
    /// The user came online (or went offline) for everyone: announce it.
    changed: bool,
    /// Who shares a small enough conversation with the user.
    contacts: Vec<UserId>,
    /// Those of the contacts online on any node (cluster mode; `None`: ask this node).
    online: Option<Vec<UserId>>,
}

/// The presence actor.
pub struct PresenceRegistry {
    deps: PresenceDeps,
    /// User → their places; a user is online while one place is live. Bounded by
    /// `max_sessions_per_user` per user.
    online: HashMap<UserId, HashMap<SessionId, Place>>,
}

impl PresenceRegistry {
    /// An empty registry.
    pub fn new(deps: PresenceDeps) -> Self {
        Self {
            deps,
            online: HashMap::new(),
        }
    }

    fn live_sessions(&self, user: &UserId) -> impl Iterator<Item = &Outbox> {
        self.online
            .get(user)
            .into_iter()
            .flat_map(|places| places.values().filter_map(Place::live))
    }

    fn is_online(&self, user: &UserId) -> bool {
        self.live_sessions(user).next().is_some()
    }

    /// The cluster, when Redis answers (otherwise presence is this node's alone until it is
    /// back).
    fn cluster_up(&self) -> Option<Cluster> {
        self.deps.cluster.clone().filter(Cluster::redis_up)
    }

    /// Records a transition of `user_id` (`up`: a first session, `down`: a last one) and looks
    /// up their contacts, then runs `then`. In cluster mode Redis decides whether the user's
    /// status changed for everyone; on a single node (or with Redis down) this node does. The
    /// actor handles nothing else meanwhile (`ctx.wait`), so presence events keep their order.
    fn transition(
        &mut self,
        user_id: UserId,
        change: Option<bool>,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Transition, &mut Context<Self>) + 'static,
    ) {
        let db = self.deps.db.clone();
        let max_participants = self.deps.presence_max_participants;
        let cluster = self.cluster_up();
        let lookup = async move {
            let changed = match (&cluster, change) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(cluster), Some(true)) => cluster.presence_up(user_id).await.unwrap_or(true),
                (Some(cluster), Some(false)) => {
                    cluster.presence_down(user_id).await.unwrap_or(true)
                }
            };
            let contacts = {
                let mut conn = db.read().await?;
                users::contacts(&mut conn, user_id, max_participants).await?
            };
            let online = match &cluster {
                Some(cluster) => cluster.online_among(&contacts).await.ok(),
                None => None,
            };
            Ok::<_, DbError>(Transition {
                changed,
                contacts,
                online,
            })
        };
        ctx.wait(lookup.into_actor(self).map(move |found, registry, ctx| match found {
            Ok(found) => then(registry, found, ctx),
            Err(err) => {
                tracing::warn!(user_id = %user_id, error = ?err, "presence contacts lookup failed");
            }
        }));
    }

    /// Tells `contacts` here of `event`, and the other nodes' sessions through Redis.
    fn announce(&self, contacts: Vec<UserId>, event: StatusEvent) {
        self.tell(&contacts, event);
        if let Some(cluster) = &self.deps.cluster {
            cluster.publish(
                Event::Presence {
                    status: event,
                    contacts,
                },
                bytestring::ByteString::new(),
            );
        }
    }

    /// A user went offline everywhere (their last session ended, or their node died): store
    /// `last_seen_at` and announce it.
    fn offline(&mut self, user_id: UserId, contacts: Vec<UserId>, ctx: &mut Context<Self>) {
        tracing::debug!(user_id = %user_id, "user offline");
        let at = now();
        let touch = self.deps.writer.send(TouchLastSeen { user_id, at });
        ctx.spawn(
            async move {
                if let Ok(Err(err)) | Err(err) = touch.await.map_err(|_| DbError::WriterGone) {
                    tracing::warn!(user_id = %user_id, error = ?err, "storing last_seen_at failed");
                }
            }
            .into_actor(self),
        );
        let event = StatusEvent {
            user_id,
            status: Status::Offline,
            last_seen_at: Some(at.and_utc()),
        };
        self.announce(contacts, event);
    }

    /// Sends `event` to every session of every user in `contacts`.
    fn tell(&self, contacts: &[UserId], event: StatusEvent) {
        let frame = Frame::from(status_frame(event));
        for contact in contacts {
            for session in self.live_sessions(contact) {
                session.send(frame.clone());
            }
        }
    }
}

fn status_frame(data: StatusEvent) -> bytestring::ByteString {
    protocol::encode(&ServerFrame::UserStatus { data })
}

impl Actor for PresenceRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        super::pacer::install();
        if let Some(cluster) = &self.deps.cluster {
            let interval = cluster.heartbeat_interval();
            self.heartbeat(ctx);
            ctx.run_interval(interval, |registry, ctx| registry.heartbeat(ctx));
        }
    }
}
