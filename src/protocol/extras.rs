//! The frames of replies, mentions, reactions and pins (docs/PROTOCOL.md §5.4, §5.5).

use serde::{Deserialize, Serialize};

use crate::domain::{ConversationId, MessageId, UserId};

/// `data` of `reaction:add` and `reaction:remove`: `{message_id, emoji}`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct ReactionData {
    /// Which message.
    pub message_id: MessageId,
    /// The emoji or shortcode (1 to 32 bytes, [`Emoji`](crate::domain::Emoji)).
    pub emoji: String,
}

/// `data` of `mention`: a message mentions the user (`@username`, `@all`, `@here`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentionEvent {
    /// Where.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: MessageId,
    /// Its seq.
    pub seq: i64,
    /// Its author.
    pub sender_id: UserId,
}

/// `data` of `reaction:added` and `reaction:removed`:
/// `{conversation_id, message_id, emoji, user_id, count, version}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReactionEvent {
    /// Where.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: MessageId,
    /// The emoji or shortcode.
    pub emoji: String,
    /// Who reacted, or took their reaction back.
    pub user_id: UserId,
    /// How many users react with `emoji` now (0: it is gone from the message).
    pub count: i64,
    /// The conversation's version after the change (the message's new `version`).
    pub version: i64,
}

/// `data` of `message:pinned`: `{conversation_id, message_id, pinned_by, version}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PinnedEvent {
    /// Where.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: MessageId,
    /// Who pinned it.
    pub pinned_by: UserId,
    /// The conversation's version after the change (the message's new `version`).
    pub version: i64,
}

/// `data` of `message:unpinned`: `{conversation_id, message_id, unpinned_by, version}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnpinnedEvent {
    /// Where.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: MessageId,
    /// Who unpinned it.
    pub unpinned_by: UserId,
    /// The conversation's version after the change (the message's new `version`).
    pub version: i64,
}
