//! Server → client frames: one enum, tagged by `type`. Broadcast events are encoded once per
//! broadcast and the same bytes go to every session.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::{MessageView, UserView, Watermarks};
use crate::domain::{ConversationId, MemberRole, MessageId, SessionId, UserId};
use crate::error::ErrorBody;

/// Every frame the server sends, by its `type` (docs/PROTOCOL.md §5.3 and §5.5). Replies
/// (`ack`, `error`) carry the command's `ref`; events carry none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type")]
pub enum ServerFrame<'a> {
    /// The first frame of every session.
    #[serde(rename = "welcome")]
    Welcome {
        /// Who the session is and until when its token holds.
        data: Welcome,
    },
    /// A command succeeded.
    #[serde(rename = "ack")]
    Ack {
        /// The command's `ref`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
        reference: Option<Cow<'a, str>>,
        /// Its result.
        data: Ack<'a>,
    },
    /// A command failed, or a frame could not be read.
    #[serde(rename = "error")]
    Error {
        /// The command's `ref`, when it could be read.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
        reference: Option<Cow<'a, str>>,
        /// `{code, message, retry_after_ms?}`.
        data: ErrorBody,
    },
    /// A message was stored (or replayed).
    #[serde(rename = "message:new")]
    MessageNew {
        /// `{message}`.
        data: MessagePayload<'a>,
    },
    /// A message was edited.
    #[serde(rename = "message:updated")]
    MessageUpdated {
        /// `{message}`.
        data: MessagePayload<'a>,
    },
    /// A message became a tombstone.
    #[serde(rename = "message:deleted")]
    MessageDeleted {
        /// Which one.
        data: MessageDeleted,
    },
    /// A participant's delivery watermark moved.
    #[serde(rename = "message:delivered")]
    Delivered {
        /// Who, where, up to which seq.
        data: ReceiptEvent,
    },
    /// A participant's read watermark moved.
    #[serde(rename = "message:read")]
    Read {
        /// Who, where, up to which seq.
        data: ReceiptEvent,
    },
    /// Someone started typing.
    #[serde(rename = "typing:start")]
    TypingStarted {
        /// Who, where.
        data: TypingEvent,
    },
    /// Someone stopped typing (or their indicator expired).
    #[serde(rename = "typing:stop")]
    TypingStopped {
        /// Who, where.
        data: TypingEvent,
    },
    /// The conversation was closed.
    #[serde(rename = "conversation:closed")]
    ConversationClosed {
        /// By whom and when.
        data: ClosedEvent,
    },
    /// A user became a participant. docs/PROTOCOL.md §5.
    #[serde(rename = "participant:added")]
    ParticipantAdded {
        /// Who, where.
        data: ParticipantEvent,
    },
    /// A user stopped being a participant (removed, banned or left). Their own sessions get
    /// this frame as the last of the conversation: they are detached from it.
    /// docs/PROTOCOL.md §5.
    #[serde(rename = "participant:removed")]
    ParticipantRemoved {
        /// Who, where.
        data: ParticipantEvent,
    },
    /// A participant's member role changed (`role`). docs/PROTOCOL.md §5.
    #[serde(rename = "participant:updated")]
    ParticipantUpdated {
        /// Who, where, which role.
        data: ParticipantEvent,
    },
    /// An internal note of the support team: the message (`private: true`), to agents and
    /// admins only. docs/PROTOCOL.md, *Support desk*.
    #[serde(rename = "note:new")]
    NoteNew {
        /// The note.
        data: MessagePayload<'a>,
    },
    /// A support conversation's status changed. docs/PROTOCOL.md, *Support desk*.
    #[serde(rename = "conversation:status")]
    ConversationStatus {
        /// The new status.
        data: super::StatusChanged,
    },
    /// A support conversation's assignee changed (also to every session of the new assignee).
    #[serde(rename = "conversation:assigned")]
    ConversationAssigned {
        /// Who has it now.
        data: super::Assigned,
    },
    /// The customer rated a resolved support conversation.
    #[serde(rename = "csat")]
    Csat {
        /// The rating.
        data: super::CsatEvent,
    },
    /// A contact came online or went offline.
    #[serde(rename = "user:status")]
    UserStatus {
        /// Who and how.
        data: StatusEvent,
    },
    /// A message mentions the user (to every session of theirs). docs/PROTOCOL.md §5.5.
    #[serde(rename = "mention")]
    Mention {
        /// Where, which message, by whom.
        data: super::MentionEvent,
    },
    /// Someone reacted to a message.
    #[serde(rename = "reaction:added")]
    ReactionAdded {
        /// Who, which emoji, the new count.
        data: super::ReactionEvent,
    },
    /// Someone took a reaction back.
    #[serde(rename = "reaction:removed")]
    ReactionRemoved {
        /// Who, which emoji, the new count.
        data: super::ReactionEvent,
    },
    /// A message was pinned.
    #[serde(rename = "message:pinned")]
    MessagePinned {
        /// Which, by whom.
        data: super::PinnedEvent,
    },
    /// A message was unpinned.
    #[serde(rename = "message:unpinned")]
    MessageUnpinned {
        /// Which, by whom.
        data: super::UnpinnedEvent,
    },
    /// The server lost touch with its other nodes for a while: what could be read back was
    /// delivered before this frame, the session is no longer joined to the conversation, and
    /// rejoins with `since_seq` (or `since_version`). docs/PROTOCOL.md §5.5.
    #[serde(rename = "resync")]
    Resync {
        /// Which conversation.
        data: ResyncEvent,
    },
}

/// `data` of `resync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResyncEvent {
    /// The conversation to join again with `since_seq` or `since_version`: this frame is the
    /// last of it the session gets until then.
    pub conversation_id: ConversationId,
}

/// `data` of `welcome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Welcome {
    /// The session's user.
    pub user: UserView,
    /// This connection's id.
    pub session_id: SessionId,
    /// When the session's access token expires (RFC 3339): renew it before with
    /// `auth:refresh`, or the session closes with 4001.
    pub token_expires_at: DateTime<Utc>,
}

/// The `{message}` payload of `message:new`, `message:updated` and message acks: the one
/// declaration of that shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessagePayload<'a> {
    /// The message in its current state.
    pub message: Cow<'a, MessageView>,
}

/// `data` of `ack`, by command.
#[expect(
    clippy::large_enum_variant,
    reason = "built to be serialized at once, never stored or moved around"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Ack<'a> {
    /// `message:send`, `message:edit`, `message:delete`, `reaction:*`: the message.
    Message(MessagePayload<'a>),
    /// `message:delivered`, `message:read`: the caller's watermarks.
    Watermarks(Watermarks),
    /// `conversation:join`.
    Joined(JoinAck),
    /// `auth:refresh`.
    Refreshed(RefreshAck),
    /// `conversation:leave`, `typing:*`.
    Conversation(ConversationAck),
}

/// `ack` data of `conversation:join`, sent after any replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinAck {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its newest seq when the session went live.
    pub last_seq: i64,
    /// Its version (change counter) when the session went live: the next `since_version`.
    pub version: i64,
    /// True when the replay stopped at `realtime.max_replay` messages: only the newest were
    /// sent, from `first_seq` (or `first_version`) on; page the rest over REST.
    pub truncated: bool,
    /// With `truncated` after `since_seq`: the first seq replayed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_seq: Option<i64>,
    /// With `truncated` after `since_version`: the first version replayed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_version: Option<i64>,
}

/// `ack` data of `auth:refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefreshAck {
    /// The session now ends at this token's expiry (RFC 3339).
    pub token_expires_at: DateTime<Utc>,
}

/// `ack` data of commands about one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConversationAck {
    /// The conversation.
    pub conversation_id: ConversationId,
}

/// `data` of `message:deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageDeleted {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The deleted message.
    pub message_id: MessageId,
    /// Its seq (kept by the tombstone).
    pub seq: i64,
    /// The version of the deletion.
    pub version: i64,
}

/// `data` of `message:delivered` and `message:read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptEvent {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Whose watermark.
    pub user_id: UserId,
    /// Its new value.
    pub seq: i64,
}

/// `data` of `typing:start` and `typing:stop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TypingEvent {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
}

/// `data` of `conversation:closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClosedEvent {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The agent or admin who closed it.
    pub closed_by: Option<UserId>,
    /// When (RFC 3339).
    pub closed_at: Option<DateTime<Utc>>,
}

/// `data` of `participant:added`, `participant:removed` and `participant:updated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParticipantEvent {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The participant added, removed or re-roled.
    pub user_id: UserId,
    /// Their member role (added and updated; absent when removed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<MemberRole>,
    /// The conversation's last seq when it happened: the event follows that message.
    pub seq: i64,
}

/// `online` or `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The user's first session opened.
    Online,
    /// The user's last session ended.
    Offline,
}

/// `data` of `user:status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusEvent {
    /// Who.
    pub user_id: UserId,
    /// Online or offline.
    pub status: Status,
    /// With `offline`: when the last session ended.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_seen_at: Option<DateTime<Utc>>,
}
