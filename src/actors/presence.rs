//! `PresenceRegistry`: who is online.
//!
//! State: user → their live sessions (`Recipient<Deliver>`). Handles [`Connect`] and
//! [`Disconnect`], sent by each `SessionActor` as it starts and stops (including heartbeat
//! timeouts). On a user's first session it tells every connected session of the users who share
//! a conversation with them `user:status {user_id, status: "online"}`; on the last one it stores
//! `last_seen_at` through the DbWriter and tells them `{user_id, status: "offline",
//! last_seen_at}`. One instance, started by `startup`, living as long as the server.
//!
//! Transitions are handled one at a time (`ctx.wait` around the contacts query), so an online
//! event can never overtake the offline event that preceded it.

use std::collections::HashMap;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actors::Deliver;
use crate::actors::db_writer::{DbWriter, TouchLastSeen};
use crate::db::queries::users;
use crate::db::{Database, now};
use crate::domain::{SessionId, UserId};
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
    online: HashMap<UserId, HashMap<SessionId, Recipient<Deliver>>>,
}

impl PresenceRegistry {
    /// An empty registry.
    pub fn new(db: Database, writer: Addr<DbWriter>) -> Self {
        Self {
            db,
            writer,
            online: HashMap::new(),
        }
    }

    /// Tells the online contacts of `user_id` about `event`, after looking them up.
    fn announce(&mut self, user_id: UserId, event: StatusEvent, ctx: &mut Context<Self>) {
        let db = self.db.clone();
        let lookup = async move {
            let mut conn = db.read().await?;
            users::contacts(&mut conn, user_id).await
        };
        ctx.wait(lookup.into_actor(self).map(move |contacts, registry, _| {
            let contacts = match contacts {
                Ok(contacts) => contacts,
                Err(err) => {
                    tracing::warn!(user_id = %user_id, error = ?err, "presence contacts lookup failed");
                    return;
                }
            };
            let frame = protocol::encode("user:status", None, &event);
            for contact in contacts {
                for session in registry.online.get(&contact).into_iter().flat_map(|s| s.values()) {
                    session.do_send(Deliver {
                        frame: frame.clone(),
                    });
                }
            }
        }));
    }
}

impl Actor for PresenceRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::MAILBOX_CAPACITY);
    }
}

impl Handler<Connect> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) {
        let sessions = self.online.entry(msg.user_id).or_default();
        let first = sessions.is_empty();
        sessions.insert(msg.session_id, msg.recipient);
        if first {
            tracing::debug!(user_id = %msg.user_id, "user online");
            let event = StatusEvent {
                user_id: msg.user_id,
                status: "online",
                last_seen_at: None,
            };
            self.announce(msg.user_id, event, ctx);
        }
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
        self.writer.do_send(TouchLastSeen {
            user_id: msg.user_id,
            at,
        });
        let event = StatusEvent {
            user_id: msg.user_id,
            status: "offline",
            last_seen_at: Some(at.and_utc()),
        };
        self.announce(msg.user_id, event, ctx);
    }
}
