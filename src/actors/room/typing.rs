//! Typing indicators: in memory, with expiry (`realtime.typing_timeout_s`), and a user's
//! `typing:start` broadcast at most once per `realtime.typing_broadcast_interval_s` (2 s): a
//! client toggling start and stop in a loop reaches the other members as one start per
//! interval, not as a flood.

use std::time::Instant;

use actix::prelude::*;

use super::order::Audience;
use super::{RoomActor, SetTyping, Typist, event};
use crate::cluster::envelope::{Effect, Event};
use crate::domain::UserId;
use crate::error::AppError;
use crate::policy::Action;
use crate::protocol::{ServerFrame, TypingEvent};

impl RoomActor {
    fn typing_event(&self, user_id: UserId) -> TypingEvent {
        TypingEvent {
            conversation_id: self.id,
            user_id,
        }
    }

    /// Broadcasts `user`'s `typing:start` if their indicator is still running and was not
    /// announced yet.
    fn announce_typing(&mut self, user: UserId) {
        let Some(typist) = self.typing.get_mut(&user).filter(|t| !t.announced) else {
            return;
        };
        typist.announced = true;
        let except = typist.session_id;
        self.typing_announced.insert(user, Instant::now());
        let frame = event(&ServerFrame::TypingStarted {
            data: self.typing_event(user),
        });
        self.publish_typing(&frame);
        self.tell(&frame, Some(except), Audience::All);
    }

    /// Ends `user`'s typing indicator, telling the other sessions if they were told it started.
    pub(super) fn stop_typing(&mut self, user: UserId, ctx: &mut Context<Self>) {
        if let Some(typist) = self.typing.remove(&user) {
            ctx.cancel_future(typist.expiry);
            if typist.announced {
                let frame = event(&ServerFrame::TypingStopped {
                    data: self.typing_event(user),
                });
                self.publish_typing(&frame);
                self.tell(&frame, Some(typist.session_id), Audience::All);
            }
        }
    }

    /// Ends every typing indicator (the conversation closed).
    /// Typing indicators reach the other nodes' members too (their expiry runs here).
    fn publish_typing(&self, frame: &bytestring::ByteString) {
        self.publish(
            Event::After {
                conversation_id: self.id,
                seq: 0,
                effect: Effect::None,
            },
            frame,
        );
    }

    pub(super) fn stop_all_typing(&mut self, ctx: &mut Context<Self>) {
        let typists: Vec<UserId> = self.typing.keys().copied().collect();
        for user in typists {
            self.stop_typing(user, ctx);
        }
    }
}

impl Handler<SetTyping> for RoomActor {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: SetTyping, ctx: &mut Self::Context) -> Self::Result {
        self.allow(&msg.actor, Action::Typing(msg.typing))?;
        let user = msg.actor.user_id;
        if !msg.typing {
            self.stop_typing(user, ctx);
            return Ok(());
        }
        let timeout = self.deps.config.typing_timeout;
        let expiry = ctx.run_later(timeout, move |room, ctx| room.stop_typing(user, ctx));
        if let Some(typist) = self.typing.get_mut(&user) {
            // A refresh: the timer is re-armed, nothing new to tell.
            ctx.cancel_future(std::mem::replace(&mut typist.expiry, expiry));
            typist.session_id = msg.session_id;
            return Ok(());
        }
        self.typing.insert(
            user,
            Typist {
                session_id: msg.session_id,
                expiry,
                announced: false,
            },
        );
        let interval = self.deps.config.typing_broadcast_interval;
        match self.typing_announced.get(&user).map(Instant::elapsed) {
            Some(elapsed) if elapsed < interval => {
                // Announced a moment ago: say it again when the interval is over, if the user
                // is still typing then.
                ctx.run_later(interval - elapsed, move |room, _| {
                    room.announce_typing(user)
                });
            }
            _ => self.announce_typing(user),
        }
        Ok(())
    }
}
