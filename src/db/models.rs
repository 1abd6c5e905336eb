//! Row types (what diesel reads and writes) and the public views built from them.
//!
//! Rows are separate from views so secret columns (`password_hash`) can never be serialized:
//! only views implement `Serialize`. Times are stored as naive UTC and shown as RFC 3339 UTC.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{conversations, messages, participants, refresh_tokens, uploads, users};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MessageId, ProjectId, Role, UploadId,
    UserId,
};

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A `users` row, secret columns included. Never serialized.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Primary key.
    pub id: UserId,
    /// Tenant.
    pub project_id: ProjectId,
    /// Lowercased email.
    pub email: String,
    /// Username as registered.
    pub username: String,
    /// Optional display name.
    pub display_name: Option<String>,
    /// `admin`, `agent` or `customer`.
    pub role: String,
    /// bcrypt hash (PHC-like `$2b$` string).
    pub password_hash: String,
    /// Registration time.
    pub created_at: NaiveDateTime,
    /// When the user's last session ended.
    pub last_seen_at: Option<NaiveDateTime>,
}

impl UserRow {
    /// The role, falling back to the least privileged one for an unknown stored value.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Customer)
    }

    /// The public view.
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            email: self.email.clone(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            created_at: utc(self.created_at),
        }
    }
}

/// A new `users` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    /// Tenant.
    pub project_id: ProjectId,
    /// Normalized email.
    pub email: String,
    /// Validated username.
    pub username: String,
    /// Validated display name.
    pub display_name: Option<String>,
    /// Stored role.
    pub role: String,
    /// bcrypt hash.
    pub password_hash: String,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// A user as clients see it: `{id, email, username, display_name, role, created_at}`.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// User id.
    pub id: UserId,
    /// Lowercased email.
    pub email: String,
    /// Username.
    pub username: String,
    /// Display name, or null.
    pub display_name: Option<String>,
    /// `admin`, `agent` or `customer`.
    pub role: Role,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

/// A `refresh_tokens` row. Only the SHA-256 of the token is stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    /// Primary key.
    pub id: i64,
    /// Tenant.
    pub project_id: ProjectId,
    /// Owner.
    pub user_id: UserId,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Issue time.
    pub created_at: NaiveDateTime,
    /// Expiry.
    pub expires_at: NaiveDateTime,
    /// Set when rotated, logged out or revoked by reuse detection.
    pub revoked_at: Option<NaiveDateTime>,
    /// `rotated`, `logout` or `reuse`.
    pub revoked_reason: Option<String>,
}

/// A new `refresh_tokens` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken {
    /// Tenant.
    pub project_id: ProjectId,
    /// Owner.
    pub user_id: UserId,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now + `auth.refresh_token_ttl_s`.
    pub expires_at: NaiveDateTime,
}

/// A `conversations` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    /// Primary key.
    pub id: ConversationId,
    /// Tenant.
    pub project_id: ProjectId,
    /// Optional title.
    pub title: Option<String>,
    /// `direct` or `group`.
    pub kind: String,
    /// `open` or `closed`.
    pub status: String,
    /// Creator (always a participant).
    pub created_by: UserId,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// When it was closed.
    pub closed_at: Option<NaiveDateTime>,
    /// Who closed it.
    pub closed_by: Option<UserId>,
    /// Highest `seq` written so far (0 for none).
    pub last_seq: i64,
    /// Last message or creation time; orders conversation lists.
    pub last_activity_at: NaiveDateTime,
}

impl ConversationRow {
    /// The status as an enum.
    pub fn status(&self) -> ConversationStatus {
        ConversationStatus::from_stored(&self.status)
    }

    /// The public view, given the participant ids.
    pub fn view(&self, participant_ids: Vec<UserId>) -> ConversationView {
        ConversationView {
            id: self.id,
            title: self.title.clone(),
            kind: if self.kind == "direct" {
                ConversationKind::Direct
            } else {
                ConversationKind::Group
            },
            status: self.status(),
            created_by: self.created_by,
            participant_ids,
            created_at: utc(self.created_at),
            closed_at: self.closed_at.map(utc),
            closed_by: self.closed_by,
            last_seq: self.last_seq,
            last_activity_at: utc(self.last_activity_at),
            last_read_seq: None,
            unread_count: None,
            last_message: None,
        }
    }
}

/// A new `conversations` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = conversations)]
pub struct NewConversation {
    /// Tenant.
    pub project_id: ProjectId,
    /// Optional title.
    pub title: Option<String>,
    /// `direct` or `group`.
    pub kind: String,
    /// Creator.
    pub created_by: UserId,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub last_activity_at: NaiveDateTime,
}

/// A conversation as clients see it.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    /// Conversation id.
    pub id: ConversationId,
    /// Title, or null.
    pub title: Option<String>,
    /// `direct` (two participants) or `group`.
    pub kind: ConversationKind,
    /// `open` or `closed`.
    pub status: ConversationStatus,
    /// Creator.
    pub created_by: UserId,
    /// Every participant, ascending.
    pub participant_ids: Vec<UserId>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC, or null while open.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it, or null.
    pub closed_by: Option<UserId>,
    /// Highest message `seq` so far (0 for none).
    pub last_seq: i64,
    /// Last message (or creation) time; lists are ordered by it, newest first.
    pub last_activity_at: DateTime<Utc>,
    /// The caller's read watermark; null when the caller is not a participant.
    pub last_read_seq: Option<i64>,
    /// Messages from others after `last_read_seq`, not deleted; null for non-participants.
    pub unread_count: Option<i64>,
    /// The newest message (a tombstone if it was deleted), or null.
    pub last_message: Option<MessageView>,
}

/// A new `participants` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = participants)]
pub struct NewParticipant {
    /// Tenant.
    pub project_id: ProjectId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Member.
    pub user_id: UserId,
    /// Now.
    pub joined_at: NaiveDateTime,
}

/// A `messages` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    /// Primary key.
    pub id: MessageId,
    /// Tenant.
    pub project_id: ProjectId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// 1, 2, 3... per conversation, assigned in the inserting transaction.
    pub seq: i64,
    /// Author.
    pub sender_id: UserId,
    /// `text`, `image` or `file`.
    pub kind: String,
    /// The text.
    pub content: String,
    /// Client-chosen id for idempotent retries.
    pub client_msg_id: Option<String>,
    /// Commit time.
    pub created_at: NaiveDateTime,
    /// Last edit, if any.
    pub edited_at: Option<NaiveDateTime>,
    /// Deletion time: the row stays as a tombstone with empty content.
    pub deleted_at: Option<NaiveDateTime>,
    /// The attached upload, if any.
    pub attachment_id: Option<UploadId>,
    /// The attachment's public view as JSON ([`AttachmentView`]), kept with the message.
    pub attachment: Option<String>,
}

impl MessageRow {
    /// The public view, consuming the row (no copies).
    pub fn into_view(self) -> MessageView {
        MessageView {
            id: self.id,
            conversation_id: self.conversation_id,
            seq: self.seq,
            sender_id: self.sender_id,
            kind: self.kind,
            content: self.content,
            client_msg_id: self.client_msg_id,
            created_at: utc(self.created_at),
            edited_at: self.edited_at.map(utc),
            deleted_at: self.deleted_at.map(utc),
            attachment: self.attachment.as_deref().and_then(AttachmentView::parse),
        }
    }

    /// The public view.
    pub fn view(&self) -> MessageView {
        MessageView {
            id: self.id,
            conversation_id: self.conversation_id,
            seq: self.seq,
            sender_id: self.sender_id,
            kind: self.kind.clone(),
            content: self.content.clone(),
            client_msg_id: self.client_msg_id.clone(),
            created_at: utc(self.created_at),
            edited_at: self.edited_at.map(utc),
            deleted_at: self.deleted_at.map(utc),
            attachment: self.attachment.as_deref().and_then(AttachmentView::parse),
        }
    }
}

/// A new `messages` row. `None` binds NULL (not DEFAULT) so many rows fit one `INSERT`.
#[derive(Debug, Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub struct NewMessage {
    /// Tenant.
    pub project_id: ProjectId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Assigned in the transaction.
    pub seq: i64,
    /// Author.
    pub sender_id: UserId,
    /// `text`, `image` or `file`.
    pub kind: String,
    /// The text.
    pub content: String,
    /// Client-chosen id.
    pub client_msg_id: Option<String>,
    /// Now.
    pub created_at: NaiveDateTime,
    /// The attached upload.
    pub attachment_id: Option<UploadId>,
    /// Its view, as JSON.
    pub attachment: Option<String>,
}

/// A message as clients see it:
/// `{id, conversation_id, seq, sender_id, kind, content, client_msg_id, created_at, edited_at,
/// deleted_at, attachment}`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// Message id.
    pub id: MessageId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3...
    pub seq: i64,
    /// Author.
    pub sender_id: UserId,
    /// `text`, `image` or `file`.
    pub kind: String,
    /// The text.
    pub content: String,
    /// The client's id for this send, or null.
    pub client_msg_id: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC of the last edit, or null.
    pub edited_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC of the deletion, or null; a deleted message has empty `content`.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The attached file (messages of kind `image` or `file`), or null.
    pub attachment: Option<AttachmentView>,
}

/// An attachment as clients see it:
/// `{id, content_type, size, original_name, url, width?, height?}`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct AttachmentView {
    /// Upload id.
    pub id: UploadId,
    /// Media type decided from the content (magic bytes), e.g. `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// The client's file name, sanitized; metadata only.
    pub original_name: String,
    /// Where to download it: `/api/v1/uploads/{id}`.
    pub url: String,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<i32>,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<i32>,
}

impl AttachmentView {
    fn parse(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }
}

/// An `uploads` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = uploads)]
pub struct UploadRow {
    /// Primary key.
    pub id: UploadId,
    /// Tenant.
    pub project_id: ProjectId,
    /// Who uploaded it (the only one who may attach it).
    pub uploader_id: UserId,
    /// The conversation it belongs to (chosen at upload or when attached).
    pub conversation_id: Option<ConversationId>,
    /// The message it is attached to.
    pub message_id: Option<MessageId>,
    /// Hex SHA-256 of the bytes; also the file's name on disk.
    pub sha256: String,
    /// Media type from the magic bytes.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Sanitized client file name.
    pub original_name: String,
    /// Pixels, for images.
    pub width: Option<i32>,
    /// Pixels, for images.
    pub height: Option<i32>,
    /// Whether a thumbnail was made.
    pub has_thumbnail: bool,
    /// Upload time.
    pub created_at: NaiveDateTime,
}

impl UploadRow {
    /// The public view (also the body of `POST /uploads`, plus `sha256`).
    pub fn attachment(&self) -> AttachmentView {
        AttachmentView {
            id: self.id,
            content_type: self.content_type.clone(),
            size: self.size,
            original_name: self.original_name.clone(),
            url: format!("/api/v1/uploads/{}", self.id),
            width: self.width,
            height: self.height,
        }
    }

    /// `image` for images, else `file`: the kind of a message carrying it.
    pub fn message_kind(&self) -> &'static str {
        if self.content_type.starts_with("image/") {
            "image"
        } else {
            "file"
        }
    }
}

/// A new `uploads` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUpload {
    /// Tenant.
    pub project_id: ProjectId,
    /// Uploader.
    pub uploader_id: UserId,
    /// Optional conversation.
    pub conversation_id: Option<ConversationId>,
    /// Hex SHA-256.
    pub sha256: String,
    /// Sniffed media type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Sanitized name.
    pub original_name: String,
    /// Pixels.
    pub width: Option<i32>,
    /// Pixels.
    pub height: Option<i32>,
    /// Thumbnail made.
    pub has_thumbnail: bool,
    /// Now.
    pub created_at: NaiveDateTime,
}
