//! Request and response types of the server API's conversations and messages
//! (`/api/v1/server/conversations...`): participants are named by the project backend's
//! external ids. docs/SERVER_API.md.

use serde::{Deserialize, Serialize};

use crate::api::ConversationView;
use crate::domain::{ConversationKind, ConversationStatus, UploadId, UserId};

/// `POST /api/v1/server/conversations` body: `{participants, title?, created_by?}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"participants": ["crm-42", "crm-7"], "title": "Order 1234"}))]
pub struct ServerCreateConversationBody {
    /// External ids of the participants (upserted users of the project), at least one.
    #[serde(alias = "participant_external_ids", alias = "external_ids")]
    pub participants: Vec<String>,
    /// Optional title, at most 200 characters.
    #[serde(default)]
    pub title: Option<String>,
    /// External id of the creator, who becomes a participant; the project's system user when
    /// absent.
    #[serde(default)]
    pub created_by: Option<String>,
    /// The kind: by default `direct` for two participants and no title, else `group`.
    #[serde(default)]
    pub kind: Option<ConversationKind>,
    /// Optional description.
    #[serde(default)]
    pub description: Option<String>,
    /// `public` or `private` (default; groups and channels only).
    #[serde(default)]
    pub visibility: Option<crate::domain::Visibility>,
}

/// `POST /api/v1/server/conversations/{id}/participants` body: `{participants}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerParticipantsBody {
    /// External ids of the users to add.
    #[serde(alias = "participant_external_ids", alias = "external_ids")]
    pub participants: Vec<String>,
}

/// `GET /api/v1/server/conversations` query: `after_id`, `limit`, `status`, `participant` (an
/// external id), `kind`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServerConversationQuery {
    /// Conversations with a larger id (the cursor: the last id of the previous page).
    #[serde(default)]
    pub after_id: Option<i64>,
    /// Page size, 1 to 200 (default 50; larger is clamped).
    #[serde(default)]
    #[param(minimum = 1)]
    pub limit: Option<i64>,
    /// `open` or `closed`.
    #[serde(default)]
    pub status: Option<ConversationStatus>,
    /// Only conversations this user (external id) takes part in.
    #[serde(default)]
    pub participant: Option<String>,
    /// `direct` or `group`.
    #[serde(default)]
    pub kind: Option<ConversationKind>,
}

/// A participant as the server API shows it: `{id, external_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParticipantRef {
    /// Parlor's user id.
    pub id: UserId,
    /// The backend's id (null for users who signed up themselves).
    pub external_id: Option<String>,
}

/// A conversation as the server API answers it: the conversation view and `participants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerConversationView {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// Its participants with their external ids, ascending by id.
    pub participants: Vec<ParticipantRef>,
}

/// `POST /api/v1/server/conversations/{id}/messages` body: `{as_external_id | as_system,
/// content, client_msg_id?, attachment_id?}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"as_system": true, "content": "Your order has shipped"}))]
pub struct ServerSendBody {
    /// Post as this user (a participant) ...
    #[serde(default)]
    pub as_external_id: Option<String>,
    /// ... or as the system: a message of kind `system`.
    #[serde(default)]
    pub as_system: bool,
    /// Text, 1..=`limits.message_max_chars` characters; may be blank with an attachment.
    #[serde(default)]
    pub content: String,
    /// Optional idempotency key, 1 to 64 characters: a retry answers the original message.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// Optional upload of the `as_external_id` user's to attach.
    #[serde(default)]
    pub attachment_id: Option<UploadId>,
}
