//! [`OnlineAmong`]: which of some users have an open session, here or (in cluster mode) on any
//! node. Asked by the webhook worker's Telegram sink, which alerts only for participants who
//! would not see a message live.

use actix::prelude::*;

use super::PresenceRegistry;
use crate::domain::UserId;

/// Which of `users` have an open WebSocket session: on this node, and in cluster mode on any
/// live node (Redis presence; if Redis does not answer, this node's view alone). Answers them
/// in the order given.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Vec<UserId>")]
pub struct OnlineAmong {
    /// The users to ask about.
    pub users: Vec<UserId>,
}

impl Handler<OnlineAmong> for PresenceRegistry {
    type Result = ResponseFuture<Vec<UserId>>;

    fn handle(&mut self, msg: OnlineAmong, _: &mut Self::Context) -> Self::Result {
        let here: Vec<UserId> = msg
            .users
            .iter()
            .copied()
            .filter(|user| self.is_online(user))
            .collect();
        let cluster = self.cluster_up();
        Box::pin(async move {
            let Some(cluster) = cluster else {
                return here;
            };
            let elsewhere = cluster.online_among(&msg.users).await.unwrap_or_default();
            msg.users
                .into_iter()
                .filter(|user| here.contains(user) || elsewhere.contains(user))
                .collect()
        })
    }
}
