//! Rows of chat: conversations, participants, messages, uploads.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::utc;
use crate::api::{ConversationView, DownloadLinks, GroupMention, MessageView, StoredAttachment};
use crate::db::schema::{conversations, messages, participants, uploads};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MessageId, ProjectId, UploadId, UserId,
    Visibility,
};
use crate::policy::ConversationFacts;

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
    /// `direct`, `group`, `channel` or `support`.
    pub kind: String,
    /// `open` or `closed`; a support conversation's `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    /// Creator: a participant, or the project's system user for a conversation the server API
    /// created without naming one.
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
    /// The change counter (every stored message, edit and deletion).
    pub version: i64,
    /// How many participants it has.
    pub participant_count: i64,
    /// Optional description.
    pub description: Option<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// The agent a support conversation is assigned to.
    pub assignee_id: Option<UserId>,
    /// Until when a `snoozed` conversation sleeps.
    pub snoozed_until: Option<NaiveDateTime>,
    /// The support team's first public reply.
    pub first_response_at: Option<NaiveDateTime>,
    /// The oldest customer message no public reply of the team has followed yet.
    pub waiting_since: Option<NaiveDateTime>,
    /// The last resolution.
    pub resolved_at: Option<NaiveDateTime>,
    /// How many times it was resolved (a rating is taken once per resolution).
    pub resolutions: i64,
}

impl ConversationRow {
    /// The status as an enum.
    pub fn status(&self) -> ConversationStatus {
        ConversationStatus::from_stored(&self.status)
    }

    /// What the access policy needs to know of it, for an actor who does (`participant`) or
    /// does not take part.
    pub fn facts(&self, participant: bool) -> ConversationFacts {
        ConversationFacts {
            kind: ConversationKind::from_stored(&self.kind),
            member_role: None,
            visibility: Visibility::from_stored(&self.visibility),
            project_id: self.project_id,
            status: self.status(),
            participant,
        }
    }

    /// The public view, given the participant ids (caller-specific fields empty).
    pub fn view(&self, participant_ids: Vec<UserId>) -> ConversationView {
        ConversationView {
            id: self.id,
            title: self.title.clone(),
            kind: ConversationKind::from_stored(&self.kind),
            description: self.description.clone(),
            visibility: Visibility::from_stored(&self.visibility),
            member_count: self.participant_count,
            member_role: None,
            status: self.status(),
            created_by: self.created_by,
            participant_ids,
            created_at: utc(self.created_at),
            closed_at: self.closed_at.map(utc),
            closed_by: self.closed_by,
            last_seq: self.last_seq,
            version: self.version,
            last_activity_at: utc(self.last_activity_at),
            last_read_seq: None,
            unread_count: None,
            unread_mentions: None,
            last_message: None,
            assignee_id: self.assignee_id,
            labels: Vec::new(),
            snoozed_until: self.snoozed_until.map(utc),
            first_response_at: self.first_response_at.map(utc),
            waiting_since: self.waiting_since.map(utc),
            resolved_at: self.resolved_at.map(utc),
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
    /// `direct`, `group`, `channel` or `support`.
    pub kind: String,
    /// Creator.
    pub created_by: UserId,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub last_activity_at: NaiveDateTime,
    /// How many participants it starts with.
    pub participant_count: i64,
    /// Optional description.
    pub description: Option<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// A direct conversation's pair, `"<lower id>:<higher id>"`; null for other kinds.
    pub direct_key: Option<String>,
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
    /// Their role in the conversation.
    pub role: String,
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
    /// The attachment's fixed part as JSON ([`StoredAttachment`]).
    pub attachment: Option<String>,
    /// The conversation's version at this message's latest change.
    pub version: i64,
    /// The conversation's version when this message was stored.
    pub created_version: i64,
    /// The message of the same conversation this one answers.
    pub reply_to_id: Option<MessageId>,
    /// An internal note of the support team (agents and admins see it, customers never do).
    pub private: bool,
}

impl MessageRow {
    /// The public view, consuming the row (no copies), links signed by `links`; its replies,
    /// mentions, reactions and pin are empty until [`MessageView::with_extras`] adds them.
    pub fn into_view(self, links: &DownloadLinks) -> MessageView {
        let attachment = self
            .attachment
            .as_deref()
            .and_then(|json| serde_json::from_str::<StoredAttachment>(json).ok())
            .map(|stored| stored.view(links));
        let group_mention = (self.kind != "system")
            .then(|| GroupMention::of(&self.content))
            .flatten();
        MessageView {
            id: self.id,
            conversation_id: self.conversation_id,
            seq: self.seq,
            version: self.version,
            sender_id: self.sender_id,
            kind: self.kind,
            content: self.content,
            client_msg_id: self.client_msg_id,
            created_at: utc(self.created_at),
            edited_at: self.edited_at.map(utc),
            deleted_at: self.deleted_at.map(utc),
            attachment,
            reply_to: None,
            mentions: Vec::new(),
            group_mention,
            reactions: Vec::new(),
            pinned: false,
            private: self.private,
        }
    }

    /// The public view of a copy of the row.
    pub fn view(&self, links: &DownloadLinks) -> MessageView {
        self.clone().into_view(links)
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
    /// Its fixed part, as JSON.
    pub attachment: Option<String>,
    /// Assigned in the transaction.
    pub version: i64,
    /// Equal to `version` at insert.
    pub created_version: i64,
    /// The message this one answers (of the same conversation).
    pub reply_to_id: Option<MessageId>,
    /// An internal note.
    pub private: bool,
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
    /// The part of the attachment view kept with a message that carries this upload.
    pub fn stored_attachment(&self) -> StoredAttachment {
        StoredAttachment {
            id: self.id,
            content_type: self.content_type.clone(),
            size: self.size,
            original_name: self.original_name.clone(),
            width: self.width,
            height: self.height,
            has_thumbnail: Some(self.has_thumbnail),
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
