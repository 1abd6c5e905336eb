//! Client → server commands: one enum, tagged by `type`, each with its `data`.

use serde::Deserialize;

use crate::domain::{ConversationId, MessageId, UploadId};

/// Every command a client can send, by its `type` (docs/PROTOCOL.md §5.4).
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum ClientCommand {
    /// `conversation:join`: replay what was missed, then receive the conversation's events.
    #[serde(rename = "conversation:join")]
    Join(JoinData),
    /// `conversation:leave`: stop receiving them.
    #[serde(rename = "conversation:leave")]
    Leave(ConversationRef),
    /// `message:send`.
    #[serde(rename = "message:send")]
    Send(SendData),
    /// `message:edit`.
    #[serde(rename = "message:edit")]
    Edit(EditData),
    /// `message:delete`.
    #[serde(rename = "message:delete")]
    Delete(MessageRef),
    /// `message:delivered`: the delivery watermark.
    #[serde(rename = "message:delivered")]
    Delivered(ReceiptData),
    /// `message:read`: the read watermark.
    #[serde(rename = "message:read")]
    Read(ReceiptData),
    /// `typing:start`.
    #[serde(rename = "typing:start")]
    TypingStart(ConversationRef),
    /// `typing:stop`.
    #[serde(rename = "typing:stop")]
    TypingStop(ConversationRef),
    /// `auth:refresh`: renew the session's access token in band, before it expires.
    #[serde(rename = "auth:refresh")]
    Refresh(RefreshData),
    /// `reaction:add`: react to a message with an emoji (idempotent).
    #[serde(rename = "reaction:add")]
    ReactionAdd(super::ReactionData),
    /// `reaction:remove`: take a reaction back (idempotent).
    #[serde(rename = "reaction:remove")]
    ReactionRemove(super::ReactionData),
}

/// `data` of commands that name one conversation.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct ConversationRef {
    /// Target conversation.
    pub conversation_id: ConversationId,
}

/// `data` of `conversation:join`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct JoinData {
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// Replay every stored message with a greater seq before going live.
    #[serde(default)]
    pub since_seq: Option<i64>,
    /// Replay every message changed (stored, edited, deleted) after this version before going
    /// live. Not together with `since_seq`.
    #[serde(default)]
    pub since_version: Option<i64>,
}

/// `data` of `message:send`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct SendData {
    /// Target conversation (participation required, join not required).
    pub conversation_id: ConversationId,
    /// Text, 1..=`limits.message_max_chars` characters; may be empty with an attachment.
    #[serde(default)]
    pub content: String,
    /// Optional idempotency key, at most 64 characters.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// Optional upload to attach (from `POST /api/v1/uploads`).
    #[serde(default)]
    pub attachment_id: Option<UploadId>,
    /// Optional message of the same conversation this one answers.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// An internal note of the support team (agents and admins, support conversations):
    /// delivered as `note:new` to agents and admins only.
    #[serde(default)]
    pub private: bool,
}

/// `data` of `message:edit`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct EditData {
    /// Which message.
    pub message_id: MessageId,
    /// The new text.
    pub content: String,
}

/// `data` of `message:delete`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct MessageRef {
    /// Which message.
    pub message_id: MessageId,
}

/// `data` of `message:delivered` and `message:read`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct ReceiptData {
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// The watermark: every message up to this seq.
    pub seq: i64,
}

/// `data` of `auth:refresh`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct RefreshData {
    /// A newer access token of the same user (from `POST /api/v1/auth/refresh`).
    pub access_token: String,
}
