//! Projects (tenants), managed by instance admins (`/api/v1/admin/projects`, docs/PROTOCOL.md
//! §3, *Projects*).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::ProjectId;

/// A project as instance admins see it: `{id, name, self_registration, created_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectView {
    /// Project id; 1 is the default project.
    pub id: ProjectId,
    /// Unique name, 1 to 100 characters.
    pub name: String,
    /// Whether `POST /api/v1/auth/register` may create users in it.
    pub self_registration: bool,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// Its overrides of the server's configuration (absent fields: the server's).
    pub settings: crate::project_settings::ProjectSettings,
}

/// `POST /api/v1/admin/projects` body: `{name, self_registration?}` (self-registration is off
/// unless asked for).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectBody {
    /// Unique name, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Default false.
    #[serde(default)]
    pub self_registration: bool,
}

/// `PATCH /api/v1/admin/projects/{id}` body: `{name?, self_registration?}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectBody {
    /// A new unique name.
    #[serde(default)]
    pub name: Option<String>,
    /// Turn self-registration on or off.
    #[serde(default)]
    pub self_registration: Option<bool>,
    /// A JSON Merge Patch (RFC 7396) of the project's settings: a field set to `null` goes back
    /// to the server's configuration.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
}

/// `DELETE /api/v1/admin/projects/{id}` body: `{confirm}`, the project's name, so a project and
/// all its data are never removed by a mistyped id.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteProjectBody {
    /// The project's name, exactly.
    pub confirm: String,
}

/// A page of a list ordered by ascending id: `?after_id=&limit=` (`limit` 1 to 200, default
/// 50); `GET /api/v1/admin/projects` and `GET /api/v1/projects/{id}/api-keys`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AfterIdQuery {
    /// Items with a larger id.
    #[serde(default)]
    pub after_id: Option<i64>,
    /// Page size (1 to 200, default 50; larger is clamped).
    #[serde(default)]
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/admin/stats`: this node's live counts, for the console's dashboard. Each node
/// answers for itself; the counts start at zero with the process.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeStatsView {
    /// Open WebSocket sessions on this node.
    pub connections: usize,
    /// Users with at least one session open on this node.
    pub users_online: usize,
    /// Conversations with a live room actor on this node.
    pub rooms: usize,
    /// Messages this node stored in the last 60 seconds.
    pub messages_per_minute: u64,
    /// Messages this node stored since it started (retries of a `client_msg_id` not counted).
    pub messages_stored: u64,
    /// Seconds since this node started.
    pub uptime_s: u64,
}
