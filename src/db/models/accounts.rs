//! Rows of accounts: users, projects, API keys, refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::utc;
use crate::api::{ApiKeyView, ProjectView, ServerUserView, UserView};
use crate::db::schema::{api_keys, projects, refresh_tokens, users};
use crate::domain::{ProjectId, Role, Scope, UserId};
use crate::policy::Account;

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
    /// When the address was proven (verification code, reset link, confirmed change); `None`
    /// for a self-registered account awaiting its code while `auth.require_email_verification`
    /// is on. Accounts made by admins, the CLI or the server API are verified at creation.
    pub email_verified_at: Option<NaiveDateTime>,
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

    /// The account as the policy sees it, for instance-wide and project-wide checks.
    pub fn account(&self) -> Account {
        Account {
            project_id: self.project_id,
            role: self.role(),
            instance_admin: self.instance_admin,
            disabled: self.disabled,
        }
    }

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
    /// When the address was proven; `None` only for self-registration awaiting its code.
    pub email_verified_at: Option<NaiveDateTime>,
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
    /// Its overrides of the server's configuration, a JSON object
    /// ([`ProjectSettings`](crate::project_settings::ProjectSettings)).
    pub settings: String,
}

impl ProjectRow {
    /// The public view.
    pub fn view(&self) -> ProjectView {
        ProjectView {
            id: self.id,
            name: self.name.clone(),
            self_registration: self.self_registration,
            created_at: utc(self.created_at),
            settings: crate::project_settings::ProjectSettings::from_stored(&self.settings),
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
