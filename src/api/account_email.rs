//! Request and response bodies of account email (docs/PROTOCOL.md §3, *Account email*):
//! verification, password reset, address change.

use serde::{Deserialize, Serialize};

use crate::domain::ProjectId;

/// The 202 answer of `POST /auth/register` while verification is required: no tokens; a code
/// was mailed (or, for a taken address, a mail saying the account exists).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"verification_required": true}))]
pub struct VerificationRequired {
    /// Always `true`.
    pub verification_required: bool,
}

/// The 202 answer of the endpoints that mail something, the same whether a mail went out or
/// not (so they do not tell which addresses have accounts).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"accepted": true}))]
pub struct Accepted {
    /// Always `true`.
    pub accepted: bool,
}

/// `POST /auth/verify-email` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "code": "042917"}))]
pub struct VerifyEmailBody {
    /// The address registered.
    pub email: String,
    /// The 6-digit code mailed to it (spaces are ignored).
    pub code: String,
    /// The account's project (default 1).
    #[serde(default)]
    pub project_id: Option<ProjectId>,
}

/// `POST /auth/resend-verification` and `POST /auth/password-reset` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ann@example.com"}))]
pub struct EmailBody {
    /// The account's address.
    pub email: String,
    /// The account's project (default 1).
    #[serde(default)]
    pub project_id: Option<ProjectId>,
}

/// `POST /auth/password-reset/confirm` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"token": "q3J0...", "new_password": "correct horse battery"}))]
pub struct PasswordResetConfirmBody {
    /// The `token` of the mailed link (`/reset-password?token=...`).
    pub token: String,
    /// The new password: 8 characters to 72 bytes, like registration's.
    pub new_password: String,
}

/// `POST /auth/change-email` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"new_email": "ann@new.example", "password": "correct horse"}))]
pub struct ChangeEmailBody {
    /// The address to move to.
    pub new_email: String,
    /// The caller's current password, checked again.
    pub password: String,
}

/// `POST /auth/change-email/confirm` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    /// The `token` of the link mailed to the new address.
    pub token: String,
}
