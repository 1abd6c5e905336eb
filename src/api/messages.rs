//! Messages and their attachments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DownloadLinks, GroupMention, ReactionCount, ReplyPreview};
use crate::domain::{ConversationId, MessageId, UploadId, UserId};

/// A message as clients see it (docs/PROTOCOL.md §4.3):
/// `{id, conversation_id, seq, version, sender_id, kind, content, client_msg_id, created_at,
/// edited_at, deleted_at, attachment, reply_to, mentions, group_mention, reactions, pinned}`. The one shape of the `message` in REST answers,
/// `message:new`, `message:updated` and send acks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 1, "conversation_id": 1, "seq": 1, "version": 1, "sender_id": 1, "kind": "text", "content": "Hi Bob, did the parcel arrive?", "client_msg_id": "c-7f3a9e", "created_at": "2026-11-21T11:53:37.908395Z", "edited_at": null, "deleted_at": null, "attachment": null, "reply_to": null, "mentions": [], "group_mention": null, "reactions": [], "pinned": false}))]
pub struct MessageView {
    /// Message id.
    pub id: MessageId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3..., with no gaps.
    pub seq: i64,
    /// The conversation's change counter at this message's latest change (its store, edit or
    /// deletion); `conversation:join` with `since_version` replays everything above a version.
    pub version: i64,
    /// Author.
    pub sender_id: UserId,
    /// `text`, `image` or `file`.
    pub kind: String,
    /// The text; `""` once deleted.
    pub content: String,
    /// The client's id for this send, or null.
    pub client_msg_id: Option<String>,
    /// RFC 3339 UTC commit time.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC of the last edit, or null.
    pub edited_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC of the deletion, or null.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The attached file (messages of kind `image` or `file`), or null.
    pub attachment: Option<AttachmentView>,
    /// The message of the same conversation this one answers, with a preview, or null.
    #[serde(default)]
    pub reply_to: Option<ReplyPreview>,
    /// Participants it names (`@username`), ascending; never the sender.
    #[serde(default)]
    pub mentions: Vec<UserId>,
    /// `all` or `here` when it also mentions `@all` or `@here`; null otherwise.
    #[serde(default)]
    pub group_mention: Option<GroupMention>,
    /// Reactions by emoji, in the order each emoji was first used; empty once deleted.
    #[serde(default)]
    pub reactions: Vec<ReactionCount>,
    /// Whether it is pinned in its conversation (`GET .../pins`).
    #[serde(default)]
    pub pinned: bool,
    /// An internal note of the support team: sent with `"private": true`, seen by agents and
    /// admins only (never by customers: not live, in history, replays, unread counts or
    /// search). docs/PROTOCOL.md, *Support desk*.
    #[serde(default)]
    pub private: bool,
}

/// The part of an attachment fixed when its message is stored, kept as JSON with the message
/// (`messages.attachment`). Links are signed afresh every time the message is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAttachment {
    /// Upload id.
    pub id: UploadId,
    /// Media type from the content's magic bytes.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Sanitized client file name.
    pub original_name: String,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<i32>,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<i32>,
    /// Whether a thumbnail exists (absent in rows stored before thumbnails were optional:
    /// every image then had one).
    #[serde(default)]
    pub has_thumbnail: Option<bool>,
}

impl StoredAttachment {
    /// The view, with download links signed by `links`.
    pub fn view(&self, links: &DownloadLinks) -> AttachmentView {
        let image = self.content_type.starts_with("image/");
        let thumbnail = self.has_thumbnail.unwrap_or(image);
        AttachmentView {
            id: self.id,
            content_type: self.content_type.clone(),
            size: self.size,
            original_name: self.original_name.clone(),
            url: links.file(self.id),
            thumbnail_url: thumbnail.then(|| links.thumbnail(self.id)),
            width: self.width,
            height: self.height,
        }
    }
}

/// An attachment as clients see it:
/// `{id, content_type, size, original_name, url, thumbnail_url?, width?, height?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Upload id.
    pub id: UploadId,
    /// Media type decided from the content (magic bytes), e.g. `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// The client's file name, sanitized; metadata only.
    pub original_name: String,
    /// Signed download link, `/api/v1/uploads/{id}?exp=&sig=`, valid until `exp` (Unix seconds).
    pub url: String,
    /// Signed link of the thumbnail, for images that have one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub thumbnail_url: Option<String>,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<i32>,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<i32>,
}

/// Query of `GET .../messages`: `limit`, `before_seq`, `after_seq`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50; larger than 200 is clamped).
    #[serde(default)]
    #[param(minimum = 1)]
    pub limit: Option<i64>,
    /// Only messages with a smaller seq (the newest of them).
    #[serde(default)]
    pub before_seq: Option<i64>,
    /// Only messages with a greater seq (the oldest of them).
    #[serde(default)]
    pub after_seq: Option<i64>,
}

/// Body of `POST .../messages`, and `data` of `message:send` minus its `conversation_id`:
/// `{content, client_msg_id?, attachment_id?, reply_to?}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"content": "Hi Bob, did the parcel arrive?", "client_msg_id": "c-7f3a9e"}))]
pub struct SendBody {
    /// Text, 1..=`limits.message_max_chars` characters; may be blank with an attachment.
    #[serde(default)]
    pub content: String,
    /// Optional idempotency key, 1 to 64 characters.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// Optional upload to attach (from `POST /api/v1/uploads`).
    #[serde(default)]
    pub attachment_id: Option<UploadId>,
    /// Optional message of the same conversation this one answers.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// An internal note of the support team (agents and admins, support conversations): seen
    /// by agents and admins only.
    #[serde(default)]
    pub private: bool,
}

/// Body of `PATCH /api/v1/messages/{id}`: `{content}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"content": "Hi Bob, has the parcel arrived?"}))]
pub struct EditBody {
    /// The new text.
    pub content: String,
}
