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

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::prelude::*;

use crate::actors::Outbox;
use crate::actors::db_writer::{DbWriter, TouchLastSeen};
use crate::actors::session::{EndSession, Shutdown};
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

    /// Looks up the contacts of `user_id`, then runs `then` with them. The actor handles nothing
    /// else meanwhile (`ctx.wait`), so presence events keep their order.
    fn with_contacts(
        &mut self,
        user_id: UserId,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Vec<UserId>) + 'static,
    ) {
        let db = self.deps.db.clone();
        let max_participants = self.deps.presence_max_participants;
        let lookup = async move {
            let mut conn = db.read().await?;
            users::contacts(&mut conn, user_id, max_participants).await
        };
        ctx.wait(lookup.into_actor(self).map(move |contacts, registry, _| match contacts {
            Ok(contacts) => then(registry, contacts),
            Err(err) => {
                tracing::warn!(user_id = %user_id, error = ?err, "presence contacts lookup failed");
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
        self.with_contacts(user_id, ctx, move |registry, contacts| {
            if first {
                tracing::debug!(user_id = %user_id, "user online");
                let event = StatusEvent {
                    user_id,
                    status: Status::Online,
                    last_seen_at: None,
                };
                registry.tell(&contacts, event);
            }
            // The new session learns who among its contacts is online already.
            for contact in contacts.iter().filter(|c| registry.is_online(c)) {
                let frame = status_frame(StatusEvent {
                    user_id: *contact,
                    status: Status::Online,
                    last_seen_at: None,
                });
                msg.outbox.send(frame);
            }
        });
    }
}

impl Handler<EndSessions> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: EndSessions, _: &mut Self::Context) {
        let places = self.online.get_mut(&msg.user_id).into_iter();
        for place in places.flat_map(|p| p.values_mut()) {
            match place {
                Place::Live(live) => live.end.do_send(msg.end),
                Place::Admitted(at) => *place = Place::Doomed(*at, msg.end),
                Place::Doomed(..) => {}
            }
        }
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
        tracing::debug!(user_id = %msg.user_id, "user offline");
        let at = now();
        let user_id = msg.user_id;
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
        self.with_contacts(user_id, ctx, move |registry, contacts| {
            registry.tell(&contacts, event);
        });
    }
}
