//! [`OnlineAmong`]: which of some users have an open session, here or (in cluster mode) on any
//! node. Asked by the webhook worker's Telegram sink, which alerts only for participants who
//! would not see a message live. [`OnlineIn`]: the same for a conversation's participants,
//! asked before a message with `@here` is sent.

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

/// Which participants of a conversation have an open WebSocket session (as [`OnlineAmong`]):
/// who `@here` mentions. Answers them ascending; nobody when the participants cannot be read
/// (logged).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Vec<UserId>")]
pub struct OnlineIn {
    /// The conversation.
    pub conversation_id: crate::domain::ConversationId,
}

impl Handler<OnlineIn> for PresenceRegistry {
    type Result = ResponseActFuture<Self, Vec<UserId>>;

    fn handle(&mut self, msg: OnlineIn, _: &mut Self::Context) -> Self::Result {
        let db = self.deps.db.clone();
        let read = async move {
            let mut conn = db.read().await?;
            crate::db::queries::conversations::participant_ids(&mut conn, msg.conversation_id).await
        };
        Box::pin(read.into_actor(self).then(move |found, registry, ctx| {
            let users = found.unwrap_or_else(|err| {
                tracing::warn!(conversation_id = %msg.conversation_id, error = ?err, "participants for @here not read");
                Vec::new()
            });
            let among = registry.handle(OnlineAmong { users }, ctx);
            among.into_actor(registry)
        }))
    }
}

/// Who `@here` in `content` mentions in `conversation`: `None` when the text has no `@here`
/// (nothing asked), else the participants online, from `presence`.
///
/// # Errors
/// `unavailable` when presence cannot be reached (shutting down).
pub async fn online_for_here(
    presence: &Addr<PresenceRegistry>,
    conversation: crate::domain::ConversationId,
    content: &str,
) -> Result<Option<Vec<UserId>>, crate::error::AppError> {
    if !crate::domain::mentions::parse(content).here {
        return Ok(None);
    }
    let online = presence
        .send(OnlineIn {
            conversation_id: conversation,
        })
        .await?;
    Ok(Some(online))
}
