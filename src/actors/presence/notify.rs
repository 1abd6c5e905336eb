//! [`NotifyUsers`]: an event for every session of some users, wherever they are connected
//! (sent by rooms for `mention`). On this node the registry hands the frame to each of their
//! sessions' outboxes; in cluster mode it also publishes it once on the global channel, and
//! every other node's registry does the same for its sessions ([`Event::Notify`]).

use actix::prelude::*;
use bytestring::ByteString;

use super::PresenceRegistry;
use crate::cluster::envelope::Event;
use crate::domain::UserId;

/// Send `frame` to every session of `users`, on every node.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct NotifyUsers {
    /// Whose sessions.
    pub users: Vec<UserId>,
    /// The encoded event.
    pub frame: ByteString,
}

impl PresenceRegistry {
    /// Sends `frame` to every session of `users` on this node.
    pub(super) fn notify_here(&self, users: &[UserId], json: &ByteString) {
        let frame = crate::actors::Frame::from(json);
        for user in users {
            for session in self.live_sessions(user) {
                session.send(frame.clone());
            }
        }
    }
}

impl Handler<NotifyUsers> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: NotifyUsers, _: &mut Self::Context) {
        self.notify_here(&msg.users, &msg.frame);
        if let Some(cluster) = &self.deps.cluster {
            cluster.publish(Event::Notify { users: msg.users }, msg.frame);
        }
    }
}
