//! Conversations, receipts and unread counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MessageView;
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MemberRole, UserId, Visibility,
};

/// A conversation as clients see it (docs/PROTOCOL.md §4.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 1, "title": null, "kind": "direct", "description": null, "visibility": "private", "member_count": 2, "member_role": "member", "status": "open", "created_by": 1, "participant_ids": [1, 2], "created_at": "2026-11-21T11:53:30.118233Z", "closed_at": null, "closed_by": null, "last_seq": 1, "version": 1, "last_activity_at": "2026-11-21T11:53:37.908395Z", "last_read_seq": 1, "unread_count": 0, "unread_mentions": 0, "last_message": {"id": 1, "conversation_id": 1, "seq": 1, "version": 1, "sender_id": 1, "kind": "text", "content": "Hi Bob, did the parcel arrive?", "client_msg_id": "c-7f3a9e", "created_at": "2026-11-21T11:53:37.908395Z", "edited_at": null, "deleted_at": null, "attachment": null, "reply_to": null, "mentions": [], "group_mention": null, "reactions": [], "pinned": false}}))]
pub struct ConversationView {
    /// Conversation id.
    pub id: ConversationId,
    /// Title, or null.
    pub title: Option<String>,
    /// `direct`, `group`, `channel` or `support`.
    pub kind: ConversationKind,
    /// Description, or null.
    pub description: Option<String>,
    /// `public` (in the directory) or `private` (by invitation).
    pub visibility: Visibility,
    /// How many participants (members and followers) it has.
    pub member_count: i64,
    /// The caller's role in it; null when the caller is not a participant.
    pub member_role: Option<MemberRole>,
    /// `open` or `closed`; a support conversation's `open`, `pending`, `snoozed` or
    /// `resolved` (docs/PROTOCOL.md, *Support desk*).
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
    /// The change counter: moved by every stored message, edit and deletion (0 for none).
    pub version: i64,
    /// Last message (or creation) time; lists are ordered by it, newest first.
    pub last_activity_at: DateTime<Utc>,
    /// The caller's read watermark; null when the caller is not a participant.
    pub last_read_seq: Option<i64>,
    /// Messages from others after `last_read_seq`, not deleted; null for non-participants.
    pub unread_count: Option<i64>,
    /// Messages after `last_read_seq` that mention the caller (`@username`, `@all`, `@here`),
    /// not deleted; null for non-participants.
    pub unread_mentions: Option<i64>,
    /// The newest message (a tombstone if it was deleted), or null. Customers see the newest
    /// that is not an internal note.
    pub last_message: Option<MessageView>,
    /// The agent a support conversation is assigned to, or null.
    pub assignee_id: Option<UserId>,
    /// The titles of its labels (support conversations), ascending.
    pub labels: Vec<String>,
    /// RFC 3339 UTC: when a `snoozed` conversation opens again; null otherwise.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// RFC 3339 UTC: the support team's first public reply, or null.
    pub first_response_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC: the oldest customer message no public reply of the team has followed
    /// yet (the queue's order), or null.
    pub waiting_since: Option<DateTime<Utc>>,
    /// RFC 3339 UTC: the last resolution, or null.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Body of `POST /api/v1/conversations`: `{participant_ids, kind?, title?, description?,
/// visibility?}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"participant_ids": [2]}))]
pub struct CreateConversationBody {
    /// Users to include besides the caller.
    #[serde(default)]
    pub participant_ids: Vec<UserId>,
    /// The kind; by default `support` for a customer with only agents and admins (or no one
    /// else), else `direct` for one other participant and no title, else `group`.
    #[serde(default)]
    pub kind: Option<ConversationKind>,
    /// Optional title.
    #[serde(default)]
    pub title: Option<String>,
    /// Optional description (groups and channels).
    #[serde(default)]
    pub description: Option<String>,
    /// `public` or `private` (default; groups and channels only).
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// Body of `POST /api/v1/conversations/{id}/read`: `{seq}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"seq": 3}))]
pub struct ReadBody {
    /// Every message up to this seq has been read.
    pub seq: i64,
}

/// A participant's watermarks: `{conversation_id, user_id, last_delivered_seq, last_read_seq}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Watermarks {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Participant.
    pub user_id: UserId,
    /// Highest seq the participant's clients have received.
    pub last_delivered_seq: i64,
    /// Highest seq the participant has read (never above `last_delivered_seq`).
    pub last_read_seq: i64,
}

/// `GET /api/v1/unread`: `{"total": N, "conversations": {"<id>": n}, "total_mentions": M,
/// "unread_mentions": {"<id>": m}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnreadCounts {
    /// Sum of the counts.
    pub total: i64,
    /// Conversation id (as a string) → unread messages.
    pub conversations: BTreeMap<String, i64>,
    /// Sum of the unread mentions.
    pub total_mentions: i64,
    /// Conversation id (as a string) → unread messages that mention the caller; every
    /// conversation of `conversations`, zeros included.
    pub unread_mentions: BTreeMap<String, i64>,
}
