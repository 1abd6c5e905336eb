//! The registry across nodes (cluster mode): node heartbeats and reaping, other nodes'
//! announcements, and recovery after a Redis outage.

use super::*;
use crate::db::queries::{projects, user_tokens};
use crate::project_settings::{ProjectSettings, ProjectSettingsRegistry};

/// Fills `registry` with every project's settings (at start, and after a Redis outage).
///
/// # Errors
/// A query failure.
pub async fn load_project_settings(
    db: &Database,
    registry: &ProjectSettingsRegistry,
) -> Result<(), AppError> {
    let mut conn = db.read().await?;
    let all = projects::all_settings(&mut conn).await?;
    registry.replace_all(
        all.into_iter()
            .map(|(id, text)| (id, ProjectSettings::from_stored(&text))),
    );
    Ok(())
}

/// Fills `jwt`'s deny list with every revoked, unexpired user token in the database (at start,
/// and after a Redis outage).
///
/// # Errors
/// A query failure, or a full deny list.
pub async fn load_revoked(db: &Database, jwt: &JwtKeys) -> Result<(), AppError> {
    let mut conn = db.read().await?;
    let tokens =
        user_tokens::revoked_unexpired(&mut conn, crate::auth::revoked::MAX_REVOKED).await?;
    jwt.revoked().revoke_all(tokens)
}

impl PresenceRegistry {
    /// Cluster mode: refreshes this node's liveness, and announces offline the users of nodes
    /// that stopped refreshing theirs.
    pub(super) fn heartbeat(&mut self, ctx: &mut Context<Self>) {
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
}

impl Handler<GlobalEvent> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: GlobalEvent, ctx: &mut Self::Context) {
        match &msg.0.header.event {
            Event::Presence { status, contacts } => self.tell(contacts, *status),
            Event::EndSessions { user_id, end } => self.end_sessions(*user_id, end.frame()),
            Event::TokensRevoked { user_id, tokens } => {
                if let Err(err) = self.deps.jwt.revoked().revoke_all(tokens.iter().copied()) {
                    tracing::error!(error = %err, "revoked tokens not listed");
                }
                self.end_sessions(*user_id, EndSession::TOKEN_REVOKED);
            }
            Event::ProjectSettings {
                project_id,
                settings,
            } => {
                let settings = crate::project_settings::ProjectSettings::from_stored(settings);
                if let Err(err) = self.deps.projects.set(*project_id, settings) {
                    tracing::error!(error = %err, "project settings not held");
                }
            }
            Event::CatchUp => {
                self.reload_revoked(ctx);
                self.catch_up(ctx);
            }
            Event::Notify { users } => self.notify_here(users, &msg.0.frame),
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
        self.reload_revoked(ctx);
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
    /// Reads the revoked, unexpired user tokens into the deny list, and every project's
    /// settings into the registry: changes published while this node or another was cut off
    /// from Redis never arrived.
    fn reload_revoked(&mut self, ctx: &mut Context<Self>) {
        let (db, jwt) = (self.deps.db.clone(), self.deps.jwt.clone());
        let projects = self.deps.projects.clone();
        ctx.spawn(
            async move {
                if let Err(err) = load_revoked(&db, &jwt).await {
                    tracing::error!(error = %err, "revoked tokens not reloaded");
                }
                if let Err(err) = load_project_settings(&db, &projects).await {
                    tracing::error!(error = %err, "project settings not reloaded");
                }
            }
            .into_actor(self),
        );
    }

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
        let sessions: Vec<&Outbox> = self.live_sessions(&user_id).collect();
        for contact in &found.contacts {
            let status = if online.contains(contact) || self.is_online(contact) {
                Status::Online
            } else {
                Status::Offline
            };
            let frame = Frame::from(status_frame(StatusEvent {
                user_id: *contact,
                status,
                last_seen_at: None,
            }));
            for session in &sessions {
                session.send(frame.clone());
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
