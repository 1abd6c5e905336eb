//! Account email (issue 15; docs/PROTOCOL.md §3, *Account email*): verifying the address of a
//! new account with a mailed 6-digit code, resetting a forgotten password through a mailed
//! link, and moving an account to a new address confirmed from that address.
//!
//! The endpoints that take an address answer the same whether it has an account or not, and
//! the mail (queued, [`crate::email`]) carries the difference: OWASP Forgot Password Cheat
//! Sheet, and the Authentication Cheat Sheet's *Account creation*. Codes and tokens are stored
//! hashed ([`crate::db::queries::email_tokens`]).

mod change;
mod reset;
mod verify;

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;

pub(super) use verify::register_unverified;

use crate::api::{Accepted, EmailBody};
use crate::db::models::{NewEmailToken, TokenPurpose, UserRow};
use crate::db::queries::email_tokens::Refused;
use crate::domain::{DEFAULT_PROJECT, Email, ProjectId};
use crate::email::writes::IssueEmailToken;
use crate::error::AppError;
use crate::http::state::AppState;

/// The routes, under `/api/v1`.
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    use super::resource;
    cfg.service(resource("/auth/verify-email").route(web::post().to(verify::verify_email)))
        .service(resource("/auth/resend-verification").route(web::post().to(verify::resend)))
        .service(resource("/auth/password-reset").route(web::post().to(reset::request)))
        .service(resource("/auth/password-reset/confirm").route(web::post().to(reset::confirm)))
        .service(resource("/auth/change-email").route(web::post().to(change::request)))
        .service(resource("/auth/change-email/confirm").route(web::post().to(change::confirm)));
}

/// The OpenAPI paths of these routes (merged into [`super::openapi::document`]).
#[derive(OpenApi)]
#[openapi(paths(
    verify::verify_email,
    verify::resend,
    reset::request,
    reset::confirm,
    change::request,
    change::confirm,
))]
pub struct AccountEmailApi;

/// Whether self-registration in `project` must verify the address: the project's
/// `require_email_verification`, else `auth.require_email_verification`.
pub(super) fn verification_required(state: &AppState, project: ProjectId) -> bool {
    state
        .projects
        .get(project)
        .require_email_verification
        .unwrap_or(state.settings.auth.require_email_verification)
}

/// Whether `user` may not sign in yet: verification is required in their project and their
/// address awaits its code.
pub(super) fn unverified(state: &AppState, user: &UserRow) -> bool {
    user.email_verified_at.is_none() && verification_required(state, user.project_id)
}

/// 202 `{"accepted": true}`.
fn accepted() -> HttpResponse {
    HttpResponse::Accepted().json(Accepted { accepted: true })
}

/// The shared shape of the requests that mail an address whatever it is (OWASP Forgot
/// Password Cheat Sheet): the address is checked and rate limited (`validation_failed`, 429),
/// then the answer is 202 at once and `mail(state, project, email)` runs after it, so that
/// neither the answer nor its timing tells whether the address has an account. A failure is
/// logged as `what` not sent.
///
/// # Errors
/// `validation_failed` for a malformed address; `rate_limited`.
fn accept_then_mail<F, Fut>(
    state: web::Data<AppState>,
    body: &EmailBody,
    what: &'static str,
    mail: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(std::sync::Arc<AppState>, ProjectId, Email) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<(), AppError>> + 'static,
{
    let email = Email::parse(&body.email)?;
    state.limits.account_email(email.as_str())?;
    let project = body.project_id.unwrap_or(DEFAULT_PROJECT);
    let state = state.into_inner();
    actix::spawn(async move {
        if let Err(err) = mail(state, project, email).await {
            tracing::warn!(error = ?err, "{what} not sent");
        }
    });
    Ok(accepted())
}

/// Stores a new token of `purpose` for `user` (replacing their unused ones of that purpose),
/// living `ttl_s` seconds.
async fn issue(
    state: &AppState,
    user: &UserRow,
    purpose: TokenPurpose,
    token_hash: String,
    new_email: Option<String>,
    ttl_s: u64,
) -> Result<(), AppError> {
    let created_at = crate::db::now();
    let ttl = chrono::TimeDelta::try_seconds(i64::try_from(ttl_s).unwrap_or(i64::MAX))
        .unwrap_or(chrono::TimeDelta::MAX);
    let token = NewEmailToken {
        project_id: user.project_id,
        user_id: user.id,
        purpose: purpose.as_str().into(),
        token_hash,
        new_email,
        created_at,
        expires_at: created_at
            .checked_add_signed(ttl)
            .unwrap_or(chrono::NaiveDateTime::MAX),
    };
    Ok(state.writer.send(IssueEmailToken { token }).await??)
}

/// The client's error for a refused link token.
fn link_refused(refused: Refused) -> AppError {
    match refused {
        Refused::Expired => AppError::TokenExpired,
        Refused::Invalid | Refused::Exhausted => AppError::InvalidToken,
    }
}

/// The token of a request body, or `invalid_token` for one that cannot be a token (empty, or
/// longer than any Parlor issues).
fn link_token(token: &str) -> Result<&str, AppError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::InvalidToken);
    }
    Ok(token)
}

/// `minutes` of a lifetime in seconds, rounded up, for a mail.
fn minutes(ttl_s: u64) -> String {
    ttl_s.div_ceil(60).to_string()
}
