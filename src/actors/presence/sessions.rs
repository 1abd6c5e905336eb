//! The registry's sessions: admission, start, end, revocation and shutdown.

use super::*;

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
            msg.outbox.signal(SessionSignal::End(end));
            return;
        }
        let first = !self.is_online(&msg.user_id);
        let live = msg.outbox.clone();
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
                    msg.outbox.send(frame.into());
                }
            },
        );
    }
}

impl PresenceRegistry {
    /// Ends every session of `user_id` on this node.
    pub(super) fn end_sessions(&mut self, user_id: UserId, end: EndSession) {
        let places = self.online.get_mut(&user_id).into_iter();
        for place in places.flat_map(|p| p.values_mut()) {
            match place {
                Place::Live(live) => live.signal(SessionSignal::End(end)),
                Place::Admitted(at) => *place = Place::Doomed(*at, end),
                // An unconditional end outranks one that spares sessions on unrevoked tokens.
                Place::Doomed(_, doom) if doom.if_revoked && !end.if_revoked => *doom = end,
                Place::Doomed(..) => {}
            }
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

impl Handler<TokensRevoked> for PresenceRegistry {
    type Result = ();

    /// The tokens are on this node's deny list already: the other nodes list them too, and
    /// every session on one of them ends.
    fn handle(&mut self, msg: TokensRevoked, _: &mut Self::Context) {
        if let Some(cluster) = &self.deps.cluster {
            cluster.publish(
                Event::TokensRevoked {
                    user_id: msg.user_id,
                    tokens: msg.tokens,
                },
                bytestring::ByteString::new(),
            );
        }
        self.end_sessions(msg.user_id, EndSession::TOKEN_REVOKED);
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
            live.signal(SessionSignal::Shutdown);
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

impl Handler<CountOnline> for PresenceRegistry {
    type Result = OnlineCounts;

    fn handle(&mut self, _: CountOnline, _: &mut Self::Context) -> OnlineCounts {
        let mut counts = OnlineCounts {
            users: 0,
            sessions: 0,
            queued_bytes: 0,
            queued_bytes_max: 0,
        };
        for places in self.online.values() {
            let mut live = 0;
            for session in places.values().filter_map(Place::live) {
                live += 1;
                let queued = session.queued();
                counts.queued_bytes += queued;
                counts.queued_bytes_max = counts.queued_bytes_max.max(queued);
            }
            counts.users += usize::from(live > 0);
            counts.sessions += live;
        }
        counts
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
