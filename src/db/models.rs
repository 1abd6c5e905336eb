//! Row types (what diesel reads and writes) and their conversion to the API's views.
//!
//! Rows never implement `Serialize`: only the views in [`crate::api`] do, so a secret column
//! (`password_hash`) cannot reach a client. Times are stored as naive UTC and shown as RFC 3339
//! UTC.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::api::{
    ApiKeyView, ConversationView, DownloadLinks, MessageView, ProjectView, ServerUserView,
    StoredAttachment, UserView,
};
use crate::db::schema::{
    api_keys, conversations, messages, participants, projects, refresh_tokens, uploads, users,
};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MessageId, ProjectId, Role, Scope,
    UploadId, UserId,
};
use crate::policy::ConversationFacts;

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
    /// Lowercased email (`None`: a user upserted by the server API without one).
    pub email: Option<String>,
    /// Username as registered (`None`: a user upserted by the server API).
    pub username: Option<String>,
    /// Optional display name.
    pub display_name: Option<String>,
    /// `admin`, `agent` or `customer`.
    pub role: String,
    /// bcrypt hash (`$2b$` string); `None` for users who sign in only with tokens their
    /// project's backend mints.
    pub password_hash: Option<String>,
    /// Registration time.
    pub created_at: NaiveDateTime,
    /// When the user's last session ended.
    pub last_seen_at: Option<NaiveDateTime>,
    /// Disabled by an admin: no login, refresh or connection.
    pub disabled: bool,
    /// The `gen` claim current access tokens must carry to open a WebSocket.
    pub token_generation: i64,
    /// May manage projects (`/api/v1/admin/projects`): a role above every project's admins.
    pub instance_admin: bool,
    /// The project backend's id for the user (server API), unique in the project.
    pub external_id: Option<String>,
    /// A JSON object of at most 4 KiB set by the server API, as text.
    pub metadata: Option<String>,
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
            disabled: self.disabled,
            created_at: utc(self.created_at),
            project_id: self.project_id,
            instance_admin: self.instance_admin,
            external_id: self.external_id.clone(),
        }
    }
}

impl UserRow {
    /// The server API's view: the user view and `metadata`.
    pub fn server_view(&self) -> ServerUserView {
        ServerUserView {
            user: self.view(),
            metadata: self
                .metadata
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
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
    /// An instance admin (only the CLI makes them).
    pub instance_admin: bool,
}

/// A `projects` row: a tenant.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    /// Primary key; 1 is the default project.
    pub id: ProjectId,
    /// Unique name.
    pub name: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Whether `POST /api/v1/auth/register` may create users in it.
    pub self_registration: bool,
}

impl ProjectRow {
    /// The public view.
    pub fn view(&self) -> ProjectView {
        ProjectView {
            id: self.id,
            name: self.name.clone(),
            self_registration: self.self_registration,
            created_at: utc(self.created_at),
        }
    }
}

/// A new `projects` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = projects)]
pub struct NewProject {
    /// Unique name.
    pub name: String,
    /// Whether self-registration is on.
    pub self_registration: bool,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// An `api_keys` row. Only the key's SHA-256 is stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    /// Primary key.
    pub id: i64,
    /// The project the key acts for.
    pub project_id: ProjectId,
    /// A label.
    pub name: String,
    /// The key's first characters (`pk_` and 8 more), to tell keys apart.
    pub prefix: String,
    /// Lowercase hex SHA-256 of the key.
    pub key_hash: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Who created it (`None`: the CLI).
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// When a request last used it (to the minute).
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    /// Its scopes.
    pub fn scopes(&self) -> Vec<Scope> {
        Scope::split(&self.scopes)
    }

    /// The public view (never the key).
    pub fn view(&self) -> ApiKeyView {
        ApiKeyView {
            id: self.id,
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            scopes: self.scopes(),
            created_at: utc(self.created_at),
            last_used_at: self.last_used_at.map(utc),
        }
    }
}

/// A new `api_keys` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey {
    /// The project.
    pub project_id: ProjectId,
    /// A label.
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// SHA-256 of the key.
    pub key_hash: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Who created it.
    pub created_by: Option<UserId>,
    /// Now.
    pub created_at: NaiveDateTime,
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
    /// Set when rotated, logged out or revoked.
    pub revoked_at: Option<NaiveDateTime>,
    /// `rotated`, `logout`, `logout_all`, `reuse` or `disabled`.
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
    /// The change counter (every stored message, edit and deletion).
    pub version: i64,
    /// How many participants it has.
    pub participant_count: i64,
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
    /// How many participants it starts with.
    pub participant_count: i64,
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
    /// The attachment's fixed part as JSON ([`StoredAttachment`]).
    pub attachment: Option<String>,
    /// The conversation's version at this message's latest change.
    pub version: i64,
    /// The conversation's version when this message was stored.
    pub created_version: i64,
}

impl MessageRow {
    /// The public view, consuming the row (no copies), links signed by `links`.
    pub fn into_view(self, links: &DownloadLinks) -> MessageView {
        let attachment = self
            .attachment
            .as_deref()
            .and_then(|json| serde_json::from_str::<StoredAttachment>(json).ok())
            .map(|stored| stored.view(links));
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
