//! API keys: a project's backend calls the server API with one (`/api/v1/projects/{id}/api-keys`,
//! docs/SERVER_API.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Scope;

/// A key as its project's admins see it, without the secret:
/// `{id, name, prefix, scopes, created_at, last_used_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    /// Key id (for revocation).
    pub id: i64,
    /// Its label.
    pub name: String,
    /// `pk_` and the next 8 characters of the key.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// When a request last used it (to the minute), or null.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The answer to creating a key, the only time the secret is shown:
/// `{id, name, key, prefix, scopes, created_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKeyCreated {
    /// Key id.
    pub id: i64,
    /// Its label.
    pub name: String,
    /// The key: `pk_` and 43 base64url characters. Stored only as a hash.
    pub key: String,
    /// `pk_` and the next 8 characters.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/projects/{id}/api-keys` body: `{name, scopes?}` (every scope when absent).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyBody {
    /// A label, 1 to 100 visible characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `users:write`, `tokens:write`, `conversations:write`, `messages:write`, `read`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Scope>>)]
    pub scopes: Option<Vec<String>>,
}
