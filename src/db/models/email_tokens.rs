//! Rows of `email_tokens`: the one-time codes and links mailed for account email (issue 15).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::email_tokens;
use crate::domain::{ProjectId, UserId};

/// What a mailed token is for (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// `verify`: a 6-digit code proving the address of a new account.
    Verify,
    /// `reset`: a password reset link (OWASP Forgot Password Cheat Sheet).
    Reset,
    /// `change`: a link confirming a new address (`new_email`).
    Change,
}

impl TokenPurpose {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reset => "reset",
            Self::Change => "change",
        }
    }
}

/// An `email_tokens` row. Holds only the token's hash; never serialized.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
pub struct EmailTokenRow {
    /// Primary key.
    pub id: i64,
    /// Tenant (the user's project).
    pub project_id: ProjectId,
    /// Whose account.
    pub user_id: UserId,
    /// [`TokenPurpose::as_str`].
    pub purpose: String,
    /// Lowercase hex: SHA-256 of a link token, HMAC-SHA256 of a code under the server's secret.
    pub token_hash: String,
    /// For `change`: the address to move to (normalized).
    pub new_email: Option<String>,
    /// Wrong codes tried so far (`verify`).
    pub attempts: i64,
    /// When it was sent.
    pub created_at: NaiveDateTime,
    /// It is refused from this time on.
    pub expires_at: NaiveDateTime,
    /// When it was used; a used token is refused.
    pub used_at: Option<NaiveDateTime>,
}

/// A new `email_tokens` row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = email_tokens)]
pub struct NewEmailToken {
    /// Tenant.
    pub project_id: ProjectId,
    /// Whose account.
    pub user_id: UserId,
    /// [`TokenPurpose::as_str`].
    pub purpose: String,
    /// The stored hash (see [`EmailTokenRow::token_hash`]).
    pub token_hash: String,
    /// For `change`: the new address.
    pub new_email: Option<String>,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now plus the purpose's lifetime (`email.code_ttl_s`, `reset_ttl_s`, `change_ttl_s`).
    pub expires_at: NaiveDateTime,
}
