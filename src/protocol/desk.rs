//! The frames of the support desk (docs/PROTOCOL.md, *Support desk*): a conversation's status
//! and assignee changed, a customer rated it. Internal notes travel as `note:new` with the
//! [`MessagePayload`](super::MessagePayload) of `message:new`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ConversationId, ConversationStatus, UserId};

/// `data` of `conversation:status`: a support conversation's status changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusChanged {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: ConversationStatus,
    /// With `snoozed`: when it opens again (RFC 3339 UTC); otherwise null.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// Who changed it: an agent or admin, the customer whose message opened it again, or
    /// null when the snooze ran out.
    pub changed_by: Option<UserId>,
    /// The conversation's last seq when it happened: the event follows that message.
    pub seq: i64,
}

/// `data` of `conversation:assigned`: a support conversation's assignee changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assigned {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The agent it is assigned to now; null when unassigned.
    pub assignee_id: Option<UserId>,
    /// Who assigned it; null for auto-assignment.
    pub assigned_by: Option<UserId>,
}

/// `data` of `csat`: the customer rated a resolved conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CsatEvent {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Who rated it.
    pub user_id: UserId,
    /// 1 (bad) to 5 (great).
    pub rating: i32,
    /// The customer's words, or null.
    pub comment: Option<String>,
    /// The agent it was assigned to when rated, or null.
    pub assignee_id: Option<UserId>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}
