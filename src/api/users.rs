//! Users, tokens and WebSocket tickets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ProjectId, Role, UserId};

/// A user as clients see it:
/// `{id, email, username, display_name, role, disabled, created_at, project_id, instance_admin,
/// external_id}` (docs/PROTOCOL.md §4.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 1, "email": "ann@example.com", "username": "ann", "display_name": "Ann Lee", "role": "customer", "disabled": false, "created_at": "2026-11-21T11:53:24.698579Z", "project_id": 1, "instance_admin": false, "external_id": null}))]
pub struct UserView {
    /// User id.
    pub id: UserId,
    /// Lowercased email; null for a user upserted by the server API without one.
    pub email: Option<String>,
    /// Username as registered (case kept); null for a user upserted by the server API.
    pub username: Option<String>,
    /// Display name, or null.
    pub display_name: Option<String>,
    /// `admin`, `agent` or `customer`.
    pub role: Role,
    /// Set by an admin (`PATCH /api/v1/users/{id}`): a disabled user cannot log in, refresh or
    /// connect.
    pub disabled: bool,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// The project (tenant) the user belongs to; 1 is the default project.
    pub project_id: ProjectId,
    /// May manage projects (`/api/v1/admin/projects`).
    pub instance_admin: bool,
    /// The id the project's backend knows the user by (server API), or null.
    pub external_id: Option<String>,
}

/// `POST /auth/register` body. Any `role` field is ignored: self-registration is `customer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "username": "ann", "password": "correct horse"}))]
pub struct RegisterBody {
    /// Email address (validated, lowercased).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// 3 to 32 characters of `[A-Za-z0-9_.-]`.
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// 8 characters to 72 bytes.
    #[schema(min_length = 8, max_length = 72)]
    pub password: String,
    /// Optional display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The project to join (default 1); it must allow self-registration.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
}

/// `POST /auth/login` body: `email` or `username`, and `password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "password": "correct horse"}))]
pub struct LoginBody {
    /// Email (wins over `username` when both are given).
    #[serde(default)]
    pub email: Option<String>,
    /// Username.
    #[serde(default)]
    pub username: Option<String>,
    /// The password, as typed.
    pub password: String,
    /// The user's project (default 1): emails and usernames are unique per project.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
}

/// `POST /auth/refresh` and `/auth/logout` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshBody {
    /// The opaque refresh token.
    pub refresh_token: String,
}

/// `{user, access_token, refresh_token, token_type: "Bearer", expires_in}` (RFC 6749 §5.1
/// names; `expires_in` in seconds).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"user": {"id": 1, "email": "ann@example.com", "username": "ann", "display_name": "Ann Lee", "role": "customer", "disabled": false, "created_at": "2026-11-21T11:53:24.698579Z", "project_id": 1, "instance_admin": false, "external_id": null}, "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "refresh_token": "q3R0VZ1mX4dFh8kT2yL9wN6pA0sJ7cE5bG1uH3iK4oM", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    /// The user.
    pub user: UserView,
    /// A JWT (HS256), valid for `expires_in` seconds.
    pub access_token: String,
    /// Opaque, single use (rotated by `/auth/refresh`).
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Access token lifetime in seconds (`auth.access_token_ttl_s`).
    pub expires_in: u64,
}

/// `POST /api/v1/users` body (admins).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateUserBody {
    /// Email address.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Username: 3 to 32 characters of `[A-Za-z0-9_.-]`.
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// Password: 8 characters to 72 bytes.
    #[schema(min_length = 8, max_length = 72)]
    pub password: String,
    /// Optional display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `admin`, `agent` or `customer`.
    pub role: Role,
}

/// `PATCH /api/v1/users/{id}` body (admins): either field may be left out.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateUserBody {
    /// The new role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Disable (`true`) or re-enable (`false`) the account.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Body of `200` to `POST /api/v1/ws-ticket`: `{ticket, expires_in_s}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WsTicketView {
    /// Opaque, single use: `GET /api/v1/ws?ticket=...`.
    pub ticket: String,
    /// Seconds until it expires (30).
    pub expires_in_s: u64,
}

/// `PUT /api/v1/server/users/{external_id}` body: `{display_name?, email?, role?, metadata?}`.
/// Absent fields keep their value (or take their default when the user is created).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ann Lee", "email": "ann@example.com", "role": "customer", "metadata": {"plan": "gold"}}))]
pub struct UpsertUserBody {
    /// At most 64 visible characters.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Unique in the project.
    #[serde(default)]
    pub email: Option<String>,
    /// `customer` (default) or `agent`.
    #[serde(default)]
    pub role: Option<Role>,
    /// A JSON object of at most 4 KiB, kept for the project's backend.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// `POST /api/v1/server/users/{external_id}/tokens` body: `{ttl_s?}` (or no body at all).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintTokenBody {
    /// Lifetime in seconds, 1 to `auth.user_token_max_ttl_s`; `auth.user_token_ttl_s` when
    /// absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub ttl_s: Option<u64>,
}

/// A minted user token: `{access_token, expires_in_s, expires_at, token_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserTokenView {
    /// The JWT, used exactly as an access token from `/auth/login` (REST bearer, WebSocket
    /// ticket or `?token=`).
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in_s: u64,
    /// When it expires (RFC 3339).
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Its id (`ut_` and 32 hex digits), for `DELETE /api/v1/server/tokens/{token_id}`.
    #[schema(value_type = String, example = "ut_3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6")]
    pub token_id: crate::domain::TokenId,
}

/// `DELETE /api/v1/server/users/{external_id}/tokens` answer: `{revoked}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokedCount {
    /// How many unexpired tokens were revoked by this call.
    pub revoked: usize,
}

/// `GET /api/v1/users` query: `query` (a prefix of the username or display name, any case),
/// `after_id`, `limit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserSearchQuery {
    /// The prefix; every user when absent or empty. At most 64 characters.
    #[serde(default)]
    #[param(max_length = 64)]
    pub query: Option<String>,
    /// Users with a larger id (the last id of the previous page).
    #[serde(default)]
    pub after_id: Option<i64>,
    /// Page size, 1 to 200 (default 50; larger is clamped).
    #[serde(default)]
    #[param(minimum = 1)]
    pub limit: Option<i64>,
    /// Admins only: list disabled accounts too (403 for others).
    #[serde(default)]
    pub include_disabled: Option<bool>,
}

/// A user as the directory shows them to others of the project: `{id, username, display_name,
/// role, online, last_seen_at}`, no email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserProfile {
    /// User id: what `participant_ids` take.
    pub id: UserId,
    /// Username, or null for a user of the server API.
    pub username: Option<String>,
    /// Display name, or null.
    pub display_name: Option<String>,
    /// `admin`, `agent` or `customer`.
    pub role: Role,
    /// Whether they have an open WebSocket session now, on any device (any node).
    pub online: bool,
    /// When their last session ended (RFC 3339 UTC); null if they never connected. While
    /// `online`, the end of an earlier session.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Disabled by an admin (only an admin's `include_disabled` list holds such users).
    pub disabled: bool,
}

/// A user as the server API answers it: the user view (§4.1) and `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerUserView {
    /// The user.
    #[serde(flatten)]
    pub user: UserView,
    /// What the project's backend stored with the user, or null.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// `POST /api/v1/widget/session` body: a widget's visitor, anonymous or identified by the
/// host site (docs/PROTOCOL.md, *Widget sessions*).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetSessionBody {
    /// The project whose widget this is.
    pub project_id: ProjectId,
    /// An anonymous visitor's token from an earlier answer: the same visitor again.
    #[serde(default)]
    pub visitor_token: Option<String>,
    /// The host site's id for a signed-in user (with `user_hash`).
    #[serde(default)]
    pub external_id: Option<String>,
    /// Hex HMAC-SHA256 of `external_id` under the project's `widget_identity_secret`.
    #[serde(default)]
    pub user_hash: Option<String>,
    /// A display name to set.
    #[serde(default)]
    pub name: Option<String>,
    /// An email to set (identified users only).
    #[serde(default)]
    pub email: Option<String>,
}

/// The answer to `POST /api/v1/widget/session`: tokens as from login, and an anonymous
/// visitor's `visitor_token` to keep.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetSession {
    /// Tokens and the user.
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The visitor's token (anonymous visitors only): send it next time to be the same
    /// visitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
}
