//! Membership, invites and the room directory (docs/PROTOCOL.md §3, *Membership*, *Invites*,
//! *Rooms*): the bodies, queries and answers of `/api/v1/conversations/{id}/participants`,
//! `.../bans`, `.../invites`, `/api/v1/invites/{code}/accept` and `/api/v1/rooms`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ConversationId, ConversationKind, MemberRole, UserId};

/// `POST .../participants` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_ids": [2, 3]}))]
pub struct AddBody {
    /// Users of the caller's project to add (1 to 100 per call).
    #[schema(min_items = 1, max_items = 100)]
    pub user_ids: Vec<UserId>,
}

/// `PATCH .../participants/{user_id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "moderator"}))]
pub struct RoleBody {
    /// The new member role.
    pub role: MemberRole,
}

/// `POST .../bans` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanBody {
    /// Who to ban (a participant or not).
    pub user_id: UserId,
}

/// `?after_id=&limit=` of the membership lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MemberPageQuery {
    /// The last user id of the previous page.
    pub after_id: Option<i64>,
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// A participant as the list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParticipantView {
    /// The participant.
    pub user_id: UserId,
    /// Their member role.
    pub role: MemberRole,
    /// When they joined (RFC 3339, UTC).
    pub joined_at: DateTime<Utc>,
}

/// A page of a membership list: `items`, and the `after_id` of the next page (`null` at the
/// end).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// This page.
    pub items: Vec<T>,
    /// Pass as `after_id` for the next page.
    pub next_after_id: Option<i64>,
}

/// A ban as the list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BanView {
    /// Who is banned.
    pub user_id: UserId,
    /// By whom (null once that user is gone).
    pub banned_by: Option<UserId>,
    /// Since when (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
}

/// A participant and their member role, as membership changes answer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberRoleView {
    /// The participant.
    pub user_id: UserId,
    /// Their member role now.
    pub role: MemberRole,
}

/// The answer of `POST .../participants` and `POST .../join`: `{added}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembersAdded {
    /// Who became a participant; users already in are not listed.
    pub added: Vec<MemberRoleView>,
}

/// The answer of `PATCH .../participants/{user_id}`: `{updated}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembersUpdated {
    /// Whose role changed (an ownership transfer lists the former owner too).
    pub updated: Vec<MemberRoleView>,
}

/// `POST .../invites` body: `{max_uses?, expires_in_s?}` (or no body at all).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteBody {
    /// How many users may join with it (1–10,000); unlimited when absent.
    #[schema(minimum = 1, maximum = 10_000)]
    pub max_uses: Option<i64>,
    /// Seconds it stays valid (60 s – 30 days); forever (until revoked) when absent.
    #[schema(minimum = 60, maximum = 2_592_000)]
    pub expires_in_s: Option<i64>,
}

/// `?after=&limit=` of the invite list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InviteQuery {
    /// The last code of the previous page.
    pub after: Option<String>,
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// An invite as its managers see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InviteView {
    /// The code: 12 characters of `23456789abcdefghjkmnpqrstuvwxyz`.
    pub code: String,
    /// A link to the demo page that accepts it: `<scheme>://<host>/?invite=<code>`.
    pub url: String,
    /// The conversation it joins.
    pub conversation_id: ConversationId,
    /// Who made it.
    pub created_by: UserId,
    /// When (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// When it stops working (`null`: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// How many may join with it (`null`: unlimited).
    pub max_uses: Option<i64>,
    /// How many have.
    pub uses: i64,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A page of invites, newest first: `{items, next_after}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitePage {
    /// This page.
    pub items: Vec<InviteView>,
    /// Pass as `after` for the next page; `null` at the end.
    pub next_after: Option<String>,
}

/// The answer of `POST /api/v1/invites/{code}/accept`: `{conversation_id, added}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InviteAccepted {
    /// The conversation joined.
    pub conversation_id: ConversationId,
    /// The caller with their member role; empty when they were a participant already.
    pub added: Vec<MemberRoleView>,
}

/// `GET /api/v1/rooms` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RoomQuery {
    /// Title prefix, any case; every public room when absent or empty. At most 100 characters.
    pub query: Option<String>,
    /// `group` or `channel`; both when absent.
    pub kind: Option<ConversationKind>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// A room as the directory shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoomView {
    /// The conversation.
    pub id: ConversationId,
    /// `group` or `channel`.
    pub kind: ConversationKind,
    /// Its title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Participants (followers included).
    pub member_count: i64,
    /// Whether the caller is one of them.
    pub joined: bool,
}

/// A page of the room directory, ascending by id: `{items, next_cursor}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoomPage {
    /// This page.
    pub items: Vec<RoomView>,
    /// Pass as `cursor` for the next page; `null` at the end.
    pub next_cursor: Option<String>,
}
