//! `PresenceRegistry`: who is online.
//!
//! State: user → their live sessions. Handles [`Connect`] and [`Disconnect`], sent by each
//! `SessionActor` as it starts and stops (including heartbeat timeouts), and [`ShutdownAll`] /
//! [`CountSessions`] from `startup` when the server stops. On a user's first session it tells every connected session of the users who share
//! a conversation with them `user:status {user_id, status: "online"}`; on the last one it stores
//! `last_seen_at` through the DbWriter and tells them `{user_id, status: "offline",
//! last_seen_at}`. Every new session also gets `user:status online` for each of its contacts
//! already online, so clients start from a true picture. Only conversations of at most
//! `realtime.presence_max_participants` count (see [`users::contacts`]). One instance, started
//! by `startup`, living as long as the server.
//!
//! Transitions are handled one at a time (`ctx.wait` around the contacts query), so an online
//! event can never overtake the offline event that preceded it.

use std::collections::HashMap;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actors::Deliver;
use crate::actors::db_writer::{DbWriter, TouchLastSeen};
use crate::actors::session::Shutdown;
use crate::db::queries::users;
use crate::db::{Database, now};
use crate::domain::{SessionId, UserId};
use crate::error::DbError;
use crate::protocol;

/// A session of `user_id` started.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect {
    /// Whose.
    pub user_id: UserId,
    /// Which session.
    pub session_id: SessionId,
    /// Where to deliver presence events for this session.
    pub recipient: Recipient<Deliver>,
    /// Where to tell this session that the server is stopping.
    pub shutdown: Recipient<Shutdown>,
}

/// Tell every session the server is stopping. Answers how many sessions are still open.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct ShutdownAll;

/// How many sessions are open.
#[derive(Message, Clone, Copy)]
#[rtype(result = "usize")]
pub struct CountSessions;

struct Live {
    recipient: Recipient<Deliver>,
    shutdown: Recipient<Shutdown>,
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

/// `data` of `user:status`.
#[derive(Serialize)]
struct StatusEvent {
    user_id: UserId,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_at: Option<DateTime<Utc>>,
}

/// The presence actor.
pub struct PresenceRegistry {
    db: Database,
    writer: Addr<DbWriter>,
    online: HashMap<UserId, HashMap<SessionId, Live>>,
    /// Conversations larger than this carry no presence (`realtime.presence_max_participants`).
    presence_max_participants: u32,
}

impl PresenceRegistry {
    /// An empty registry; conversations of more than `presence_max_participants` carry no
    /// presence events.
    pub fn new(db: Database, writer: Addr<DbWriter>, presence_max_participants: u32) -> Self {
        Self {
            db,
            writer,
            online: HashMap::new(),
            presence_max_participants,
        }
    }

    /// Looks up the contacts of `user_id`, then runs `then` with them. The actor handles nothing
    /// else meanwhile (`ctx.wait`), so presence events keep their order.
    fn with_contacts(
        &mut self,
        user_id: UserId,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Vec<UserId>) + 'static,
    ) {
        let db = self.db.clone();
        let max_participants = self.presence_max_participants;
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
    fn tell(&self, contacts: &[UserId], event: &StatusEvent) {
        let frame = protocol::encode("user:status", None, event);
        for contact in contacts {
            for session in self
                .online
                .get(contact)
                .into_iter()
                .flat_map(|s| s.values())
            {
                session.recipient.do_send(Deliver::uncounted(frame.clone()));
            }
        }
    }
}

impl Actor for PresenceRegistry {
    type Context = Context<Self>;
}

impl Handler<Connect> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) {
        let sessions = self.online.entry(msg.user_id).or_default();
        let first = sessions.is_empty();
        let live = Live {
            recipient: msg.recipient.clone(),
            shutdown: msg.shutdown,
        };
        sessions.insert(msg.session_id, live);
        let user_id = msg.user_id;
        self.with_contacts(user_id, ctx, move |registry, contacts| {
            if first {
                tracing::debug!(user_id = %user_id, "user online");
                let event = StatusEvent {
                    user_id,
                    status: "online",
                    last_seen_at: None,
                };
                registry.tell(&contacts, &event);
            }
            // The new session learns who among its contacts is online already.
            for contact in contacts.iter().filter(|c| registry.online.contains_key(c)) {
                let event = StatusEvent {
                    user_id: *contact,
                    status: "online",
                    last_seen_at: None,
                };
                let frame = protocol::encode("user:status", None, &event);
                msg.recipient.do_send(Deliver::uncounted(frame));
            }
        });
    }
}

impl Handler<ShutdownAll> for PresenceRegistry {
    type Result = usize;

    fn handle(&mut self, _: ShutdownAll, _: &mut Self::Context) -> usize {
        let sessions: Vec<&Live> = self.online.values().flat_map(|s| s.values()).collect();
        for session in &sessions {
            session.shutdown.do_send(Shutdown);
        }
        sessions.len()
    }
}

impl Handler<CountSessions> for PresenceRegistry {
    type Result = usize;

    fn handle(&mut self, _: CountSessions, _: &mut Self::Context) -> usize {
        self.online.values().map(HashMap::len).sum()
    }
}

impl Handler<Disconnect> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, ctx: &mut Self::Context) {
        let Some(sessions) = self.online.get_mut(&msg.user_id) else {
            return;
        };
        if sessions.remove(&msg.session_id).is_none() || !sessions.is_empty() {
            return;
        }
        self.online.remove(&msg.user_id);
        tracing::debug!(user_id = %msg.user_id, "user offline");
        let at = now();
        let user_id = msg.user_id;
        let touch = self.writer.send(TouchLastSeen { user_id, at });
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
            status: "offline",
            last_seen_at: Some(at.and_utc()),
        };
        self.with_contacts(user_id, ctx, move |registry, contacts| {
            registry.tell(&contacts, &event);
        });
    }
}
