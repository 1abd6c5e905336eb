//! `PresenceRegistry`: who is online, and the one place that can reach every session of a user.
//!
//! State: user → their sessions (admitted and not yet started, or live). Handles [`Admit`]
//! (from the WebSocket upgrade, which it refuses past `realtime.max_sessions_per_user`),
//! [`Connect`] and [`Disconnect`] (sent by each `SessionActor` as it starts and stops, heartbeat
//! timeouts included), [`EndSessions`] (from the auth and user handlers: logout-all, refresh
//! token reuse, a role change, disabling), and [`ShutdownAll`] / [`CountSessions`] from
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

use crate::actors::Outbox;
use crate::actors::db_writer::{DbWriter, TouchLastSeen};
use crate::actors::session::{EndSession, Shutdown};
use crate::cluster::envelope::{Event, SessionEnd};
use crate::cluster::{Cluster, GlobalEvent, Recovered};
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
    /// rather than piling events up.
    pub outbox: Outbox,
    /// Where to tell this session that the server is stopping.
    pub shutdown: Recipient<Shutdown>,
    /// Where to tell this session that it must end.
    pub end: Recipient<EndSession>,
}

/// Tell every session the server is stopping. Answers how many sessions are still open.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct ShutdownAll;

/// How many sessions are open.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct CountSessions;

/// A live session's addresses.
struct Live {
    outbox: Outbox,
    shutdown: Recipient<Shutdown>,
    end: Recipient<EndSession>,
}

/// One of a user's places: admitted at the upgrade, live once the session starts.
enum Place {
    /// Admitted at this instant; the session has not started yet.
    Admitted(Instant),
    /// Admitted, then the user's sessions were ended before this one started: it is ended as
    /// soon as it starts (its token was checked before the revocation).
    Doomed(Instant, EndSession),
    /// Running.
    Live(Live),
}

impl Place {
    fn live(&self) -> Option<&Live> {
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

    fn live_sessions(&self, user: &UserId) -> impl Iterator<Item = &Live> {
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

    /// Cluster mode: refreshes this node's liveness, and announces offline the users of nodes
    /// that stopped refreshing theirs.
    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let Some(cluster) = self.deps.cluster.clone() else {
            return;
        };
        let beat = async move {
            cluster.heartbeat().await?;
            cluster.reap().await
        };
        ctx.spawn(beat.into_actor(self).map(|gone, registry, ctx| {
            for user_id in gone.unwrap_or_default() {
                if registry.is_online(&user_id) {
                    continue;
                }
                registry.transition(user_id, None, ctx, move |registry, found, ctx| {
                    registry.offline(user_id, found.contacts, ctx);
                });
            }
        }));
    }

    /// Sends `event` to every session of every user in `contacts`.
    fn tell(&self, contacts: &[UserId], event: StatusEvent) {
        let frame = status_frame(event);
        for contact in contacts {
            for session in self.live_sessions(contact) {
                session.outbox.send(frame.clone());
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
        if let Some(cluster) = &self.deps.cluster {
            let interval = cluster.heartbeat_interval();
            self.heartbeat(ctx);
            ctx.run_interval(interval, |registry, ctx| registry.heartbeat(ctx));
        }
    }
}

impl Handler<Admit> for PresenceRegistry {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: Admit, _: &mut Self::Context) -> Self::Result {
        let places = self.online.entry(msg.user_id).or_default();
        // Places of upgrades that never started are given back.
        places.retain(|_, place| {
            place
                .admitted_at()
                .is_none_or(|at| at.elapsed() <= ADMISSION_TTL)
        });
        if places.len() >= self.deps.max_sessions_per_user {
            if places.is_empty() {
                self.online.remove(&msg.user_id);
            }
            return Err(AppError::TooManySessions(format!(
                "at most {} open sessions per user (realtime.max_sessions_per_user); close one first",
                self.deps.max_sessions_per_user
            )));
        }
        places.insert(msg.session_id, Place::Admitted(Instant::now()));
        Ok(())
    }
}

impl Handler<Connect> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) {
        let doomed = self.online.get_mut(&msg.user_id).and_then(|places| {
            match places.get(&msg.session_id) {
                Some(Place::Doomed(_, end)) => {
                    let end = *end;
                    places.remove(&msg.session_id);
                    Some(end)
                }
                _ => None,
            }
        });
        if let Some(end) = doomed {
            msg.end.do_send(end);
            return;
        }
        let first = !self.is_online(&msg.user_id);
        let live = Live {
            outbox: msg.outbox.clone(),
            shutdown: msg.shutdown,
            end: msg.end,
        };
        self.online
            .entry(msg.user_id)
            .or_default()
            .insert(msg.session_id, Place::Live(live));
        let user_id = msg.user_id;
        self.transition(
            user_id,
            first.then_some(true),
            ctx,
            move |registry, found, _| {
                if found.changed {
                    tracing::debug!(user_id = %user_id, "user online");
                    let event = StatusEvent {
                        user_id,
                        status: Status::Online,
                        last_seen_at: None,
                    };
                    registry.announce(found.contacts.clone(), event);
                }
                // The new session learns who among its contacts is online already (on any node).
                let online: Vec<UserId> = match found.online {
                    Some(online) => online,
                    None => found
                        .contacts
                        .into_iter()
                        .filter(|c| registry.is_online(c))
                        .collect(),
                };
                for contact in online {
                    let frame = status_frame(StatusEvent {
                        user_id: contact,
                        status: Status::Online,
                        last_seen_at: None,
                    });
                    msg.outbox.send(frame);
                }
            },
        );
    }
}

impl PresenceRegistry {
    /// Ends every session of `user_id` on this node.
    fn end_sessions(&mut self, user_id: UserId, end: EndSession) {
        let places = self.online.get_mut(&user_id).into_iter();
        for place in places.flat_map(|p| p.values_mut()) {
            match place {
                Place::Live(live) => live.end.do_send(end),
                Place::Admitted(at) => *place = Place::Doomed(*at, end),
                Place::Doomed(..) => {}
            }
        }
    }
}

impl Handler<GlobalEvent> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: GlobalEvent, ctx: &mut Self::Context) {
        match &msg.0.header.event {
            Event::Presence { status, contacts } => self.tell(contacts, *status),
            Event::EndSessions { user_id, end } => self.end_sessions(*user_id, end.frame()),
            Event::CatchUp => self.catch_up(ctx),
            _ => {}
        }
    }
}

impl Handler<Recovered> for PresenceRegistry {
    type Result = ();

    /// Redis is back after an outage. Redis is made to hold exactly this node's users again:
    /// those who left meanwhile are dropped (and announced offline where they are online
    /// nowhere), those still here are registered again (and announced online where they had
    /// expired). Every session here then gets the current status of each of its contacts,
    /// since the other nodes' announcements of the outage never reached it; last, the other
    /// nodes are told to catch up ([`Event::CatchUp`]): their rooms read what they missed and
    /// their sessions get current statuses too.
    fn handle(&mut self, _: Recovered, ctx: &mut Self::Context) {
        let Some(cluster) = self.deps.cluster.clone() else {
            return;
        };
        let users = self.local_users();
        let sync = {
            let (users, cluster) = (users.clone(), cluster.clone());
            async move {
                // A restarted Redis has lost this node's liveness too.
                cluster.heartbeat().await?;
                cluster.presence_sync(&users).await
            }
        };
        ctx.wait(sync.into_actor(self).map(|gone, registry, ctx| {
            for user_id in gone.unwrap_or_default() {
                if registry.is_online(&user_id) {
                    continue;
                }
                registry.transition(user_id, None, ctx, move |registry, found, ctx| {
                    registry.offline(user_id, found.contacts, ctx);
                });
            }
        }));
        for user_id in users {
            self.transition(user_id, Some(true), ctx, move |registry, found, _| {
                if found.changed {
                    let event = StatusEvent {
                        user_id,
                        status: Status::Online,
                        last_seen_at: None,
                    };
                    registry.announce(found.contacts.clone(), event);
                }
                registry.refresh_picture(user_id, &found);
            });
        }
        // Then the other nodes refresh their sessions' pictures, this node's users counted.
        ctx.wait(fut::ready(()).map(move |(), _, _| {
            cluster.publish(Event::CatchUp, bytestring::ByteString::new());
        }));
    }
}

impl PresenceRegistry {
    /// The users with a live session on this node.
    fn local_users(&self) -> Vec<UserId> {
        self.online
            .keys()
            .copied()
            .filter(|u| self.is_online(u))
            .collect()
    }

    /// Sends every session of `user_id` the current status of each of its contacts (cluster
    /// mode, after this node or another lost Redis for a while): `online` or `offline`.
    fn refresh_picture(&self, user_id: UserId, found: &Transition) {
        let Some(online) = &found.online else {
            return;
        };
        let online: std::collections::HashSet<&UserId> = online.iter().collect();
        let sessions: Vec<&Live> = self.live_sessions(&user_id).collect();
        for contact in &found.contacts {
            let status = if online.contains(contact) || self.is_online(contact) {
                Status::Online
            } else {
                Status::Offline
            };
            let frame = status_frame(StatusEvent {
                user_id: *contact,
                status,
                last_seen_at: None,
            });
            for session in &sessions {
                session.outbox.send(frame.clone());
            }
        }
    }

    /// Another node is back from an outage: what it announced meanwhile never arrived, so
    /// every session here gets its contacts' current status.
    fn catch_up(&mut self, ctx: &mut Context<Self>) {
        if self.cluster_up().is_none() {
            return;
        }
        for user_id in self.local_users() {
            self.transition(user_id, None, ctx, move |registry, found, _| {
                registry.refresh_picture(user_id, &found);
            });
        }
    }
}

impl Handler<EndSessions> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: EndSessions, _: &mut Self::Context) {
        if let Some(cluster) = &self.deps.cluster {
            cluster.publish(
                Event::EndSessions {
                    user_id: msg.user_id,
                    end: SessionEnd::of(msg.end),
                },
                bytestring::ByteString::new(),
            );
        }
        self.end_sessions(msg.user_id, msg.end);
    }
}

impl Handler<ShutdownAll> for PresenceRegistry {
    type Result = usize;

    fn handle(&mut self, _: ShutdownAll, _: &mut Self::Context) -> usize {
        let mut count = 0;
        for live in self
            .online
            .values()
            .flat_map(|s| s.values().filter_map(Place::live))
        {
            live.shutdown.do_send(Shutdown);
            count += 1;
        }
        count
    }
}

impl Handler<CountSessions> for PresenceRegistry {
    type Result = usize;

    fn handle(&mut self, _: CountSessions, _: &mut Self::Context) -> usize {
        self.online
            .values()
            .flat_map(|s| s.values().filter_map(Place::live))
            .count()
    }
}

impl Handler<Disconnect> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, ctx: &mut Self::Context) {
        let Some(places) = self.online.get_mut(&msg.user_id) else {
            return;
        };
        let was_live = matches!(places.remove(&msg.session_id), Some(Place::Live(_)));
        if places.is_empty() {
            self.online.remove(&msg.user_id);
        }
        if !was_live || self.is_online(&msg.user_id) {
            return;
        }
        let user_id = msg.user_id;
        self.transition(user_id, Some(false), ctx, move |registry, found, ctx| {
            // Online again here meanwhile, or still online on another node: nothing changed.
            if found.changed && !registry.is_online(&user_id) {
                registry.offline(user_id, found.contacts, ctx);
            }
        });
    }
}
