//! Verifying a new account's address: registration's side of it, `verify-email` and
//! `resend-verification`.

use actix_web::{HttpResponse, web};

use super::{accept_then_mail, issue, minutes};
use crate::api::{EmailBody, TokenResponse, VerificationRequired, VerifyEmailBody};
use crate::auth::Signup;
use crate::db::models::{TokenPurpose, UserRow};
use crate::db::queries::email_tokens::Refused;
use crate::db::queries::users;
use crate::domain::{DEFAULT_PROJECT, Email};
use crate::email::{Mail, Template, writes::CheckCode};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::{create_account, issue_tokens};
use crate::http::extract::Json;
use crate::http::state::AppState;

/// `POST /api/v1/auth/register` where verification is required: the account is stored
/// unverified and a code is mailed; a taken address gets a mail saying the account exists
/// instead, and the same 202, so the answer does not tell whether the address has an account.
/// A taken username is still 409 `conflict` (usernames are public).
///
/// # Errors
/// `validation_failed`, `conflict` (username), or a storage failure.
pub async fn register_unverified(
    state: &AppState,
    signup: Signup<'_>,
) -> Result<HttpResponse, AppError> {
    match create_account(state, signup, false).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, "user registered; address to verify");
            // Logged, not answered: a resend can mend it, and the answer stays the same.
            if let Err(err) = send_code(state, &user).await {
                tracing::warn!(user_id = %user.id, error = ?err, "verification code not sent");
            }
        }
        Err(AppError::EmailTaken) => {
            let to = Email::parse(signup.email)?;
            state.email.send(Mail {
                to: to.as_str().into(),
                template: Template::AccountExists,
                vars: vec![("reset_url", state.email.link("/reset-password"))],
            });
        }
        Err(AppError::UsernameTaken) => return Err(AppError::Conflict),
        Err(other) => return Err(other),
    }
    Ok(HttpResponse::Accepted().json(VerificationRequired {
        verification_required: true,
    }))
}

/// Mails `user` a new verification code (the old one stops working).
async fn send_code(state: &AppState, user: &UserRow) -> Result<(), AppError> {
    let Some(to) = user.email.clone() else {
        return Ok(());
    };
    let code = crate::email::new_code();
    let ttl_s = state.settings.email.code_ttl_s;
    let hash = state.email.code_hash(user.id, &code);
    issue(state, user, TokenPurpose::Verify, hash, None, ttl_s).await?;
    state.email.send(Mail {
        to,
        template: Template::VerifyCode,
        vars: vec![
            ("username", user.username.clone().unwrap_or_default()),
            ("code", code),
            ("minutes", minutes(ttl_s)),
        ],
    });
    Ok(())
}

/// The unverified account of `email` in `project`, if there is one.
async fn unverified_account(
    state: &AppState,
    project: crate::domain::ProjectId,
    email: &Email,
) -> Result<Option<UserRow>, AppError> {
    let mut conn = state.db.read().await?;
    let user = users::find_by_login(&mut conn, project, email.as_str()).await?;
    Ok(user.filter(|u| u.email_verified_at.is_none()))
}

/// Verify an email address
///
/// `POST /api/v1/auth/verify-email` `{email, code, project_id?}` → 200 [`TokenResponse`]: the
/// address is verified and the user signed in. 400 `invalid_code` for a wrong code and for an
/// address without a pending code alike; 400 `code_expired` once the code is older than
/// `email.code_ttl_s` (10 minutes) or took 5 wrong tries (even the right code is refused then,
/// until `resend-verification` sends a new one).
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = VerifyEmailBody,
    responses(
        (status = 200, description = "Verified: the user and a token pair", body = TokenResponse),
        (status = 400, description = "`invalid_code`: a wrong code or no pending code; `code_expired`: expired or 5 wrong tries, ask for a new one; `validation_failed`: a malformed email", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the account is disabled", body = ErrorEnvelope),
    )
)]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: Json<VerifyEmailBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let email = Email::parse(&body.email)?;
    let code: String = body.code.chars().filter(|c| !c.is_whitespace()).collect();
    let project = body.project_id.unwrap_or(DEFAULT_PROJECT);
    let Some(user) = unverified_account(&state, project, &email).await? else {
        return Err(AppError::InvalidCode);
    };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::InvalidCode);
    }
    let checked = state
        .writer
        .send(CheckCode {
            user_id: user.id,
            code_hash: state.email.code_hash(user.id, &code),
            now: crate::db::now(),
        })
        .await??;
    let user = match checked {
        Ok(user) => user,
        Err(Refused::Invalid) => return Err(AppError::InvalidCode),
        Err(Refused::Expired | Refused::Exhausted) => return Err(AppError::CodeExpired),
    };
    tracing::info!(user_id = %user.id, "email address verified");
    if user.disabled {
        return Err(AppError::Forbidden("this account is disabled".into()));
    }
    Ok(HttpResponse::Ok().json(issue_tokens(&state, &user).await?))
}

/// Send a new verification code
///
/// `POST /api/v1/auth/resend-verification` `{email, project_id?}` → 202 `{"accepted": true}`
/// whatever the address: a new code (the old one stops working) goes out only to an existing,
/// unverified, enabled account. At most `limits.account_emails_per_address_per_hour` per
/// address (with password reset requests) and `limits.auth_attempts_per_ip_per_minute` per IP
/// (429).
#[utoipa::path(
    post, path = "/api/v1/auth/resend-verification", tag = "auth",
    request_body = EmailBody,
    responses(
        (status = 202, description = "Accepted, whether a code was sent or not", body = crate::api::Accepted),
        (status = 400, description = "`validation_failed`: a malformed email", body = ErrorEnvelope),
    )
)]
pub async fn resend(
    state: web::Data<AppState>,
    body: Json<EmailBody>,
) -> Result<HttpResponse, AppError> {
    accept_then_mail(
        state,
        &body,
        "verification code",
        |state, project, email| async move {
            match unverified_account(&state, project, &email).await? {
                Some(user) if !user.disabled => send_code(&state, &user).await,
                _ => Ok(()),
            }
        },
    )
}
