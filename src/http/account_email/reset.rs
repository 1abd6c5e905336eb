//! Password reset through a mailed link (OWASP Forgot Password Cheat Sheet): the request always
//! answers 202; the link's token is single use, short-lived and stored hashed; using it sets
//! the password and signs the user out everywhere.

use actix_web::{HttpResponse, web};

use super::{accept_then_mail, issue, link_refused, link_token, minutes};
use crate::api::{EmailBody, PasswordResetConfirmBody};
use crate::auth::password;
use crate::db::models::TokenPurpose;
use crate::db::queries::tokens::Revoked;
use crate::db::queries::users;
use crate::domain::{Email, Password};
use crate::email::{Mail, Template, writes::ResetPassword};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::end_everything;
use crate::http::extract::Json;
use crate::http::state::AppState;

/// Ask for a password reset link
///
/// `POST /api/v1/auth/password-reset` `{email, project_id?}` → 202 `{"accepted": true}`
/// whatever the address (OWASP Forgot Password Cheat Sheet): an existing, enabled account with
/// a password gets a link `{email.link_base_url}/reset-password?token=...`, valid
/// `email.reset_ttl_s` (30 minutes), once; asking again replaces the previous link. Rate
/// limited like `resend-verification` (429).
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = EmailBody,
    responses(
        (status = 202, description = "Accepted, whether a link was sent or not", body = crate::api::Accepted),
        (status = 400, description = "`validation_failed`: a malformed email", body = ErrorEnvelope),
    )
)]
pub async fn request(
    state: web::Data<AppState>,
    body: Json<EmailBody>,
) -> Result<HttpResponse, AppError> {
    accept_then_mail(
        state,
        &body,
        "password reset link",
        |state, project, email| async move { send_link(&state, project, &email).await },
    )
}

async fn send_link(
    state: &AppState,
    project: crate::domain::ProjectId,
    email: &Email,
) -> Result<(), AppError> {
    let user = {
        let mut conn = state.db.read().await?;
        users::find_by_login(&mut conn, project, email.as_str()).await?
    };
    let Some(user) = user.filter(|u| u.password_hash.is_some() && !u.disabled) else {
        return Ok(());
    };
    let (token, hash) = crate::email::new_link_token();
    let ttl_s = state.settings.email.reset_ttl_s;
    issue(state, &user, TokenPurpose::Reset, hash, None, ttl_s).await?;
    state.email.send(Mail {
        to: email.as_str().into(),
        template: Template::PasswordReset,
        vars: vec![
            ("username", user.username.clone().unwrap_or_default()),
            (
                "link",
                state.email.link(&format!("/reset-password?token={token}")),
            ),
            ("minutes", minutes(ttl_s)),
        ],
    });
    tracing::info!(user_id = %user.id, "password reset link sent");
    Ok(())
}

/// Set a new password with a reset link's token
///
/// `POST /api/v1/auth/password-reset/confirm` `{token, new_password}` → 204: the password is
/// set (bcrypt at `auth.bcrypt_cost`), the token used up, every refresh token of the user
/// revoked and every open session closed (4001), as `logout-all` does; the address counts as
/// verified. 400 `invalid_token` for an unknown, used or replaced token, `token_expired` past
/// its lifetime, `validation_failed` for a password breaking registration's rules.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmBody,
    responses(
        (status = 204, description = "The password is set and the user signed out everywhere"),
        (status = 400, description = "`invalid_token`, `token_expired`, or `validation_failed` (`new_password`)", body = ErrorEnvelope),
    )
)]
pub async fn confirm(
    state: web::Data<AppState>,
    body: Json<PasswordResetConfirmBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let token_hash = crate::email::link_hash(link_token(&body.token)?);
    let new_password = Password::parse(&body.new_password)
        .map_err(|e| AppError::Validation(e.0.replacen("password", "new_password", 1)))?;
    let cost = state.settings.auth.bcrypt_cost;
    let password_hash =
        password::blocking(move || password::hash(new_password.expose(), cost)).await??;
    let user = state
        .writer
        .send(ResetPassword {
            token_hash,
            password_hash,
            now: crate::db::now(),
        })
        .await??
        .map_err(link_refused)?;
    end_everything(&state, user.id, Revoked::PasswordReset).await?;
    tracing::info!(user_id = %user.id, "password reset; signed out everywhere");
    Ok(HttpResponse::NoContent().finish())
}
