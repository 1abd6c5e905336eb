//! Moving an account to a new address: asked for with the password, confirmed from the new
//! address (a mailed link), the old address told at both steps.

use actix_web::{HttpResponse, web};

use super::{accepted, issue, link_refused, link_token};
use crate::api::{ChangeEmailBody, TokenBody, UserView};
use crate::auth::{AuthUser, password};
use crate::db::DbError;
use crate::db::models::TokenPurpose;
use crate::db::queries::users;
use crate::domain::Email;
use crate::email::{Mail, Template, writes::ConfirmEmailChange};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::current_user;
use crate::http::extract::Json;
use crate::http::limits::LoginKey;
use crate::http::state::AppState;

/// Ask to change the caller's address
///
/// `POST /api/v1/auth/change-email` `{new_email, password}` → 202 `{"accepted": true}`: a link
/// `{email.link_base_url}/confirm-email?token=...` goes to the new address (valid
/// `email.change_ttl_s`, 24 hours, once) and a notice to the current one; nothing changes until
/// the link is used. 401 `invalid_credentials` for a wrong password (counted like sign-ins,
/// `limits.login_attempts_per_account_per_minute`); 409 `conflict` when the address is
/// registered in the project; 400 `validation_failed` for a malformed or unchanged address.
/// This is the only way a user changes their own address.
#[utoipa::path(
    post, path = "/api/v1/auth/change-email", tag = "auth",
    security(("bearer" = [])),
    request_body = ChangeEmailBody,
    responses(
        (status = 202, description = "The confirmation link and the notice are on their way", body = crate::api::Accepted),
        (status = 400, description = "`validation_failed`: a malformed new address, or the current one", body = ErrorEnvelope),
        (status = 401, description = "`invalid_credentials`: wrong password", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the address is registered in the project", body = ErrorEnvelope),
    )
)]
pub async fn request(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<ChangeEmailBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let user = current_user(&state, &auth).await?;
    let new_email = Email::parse(&body.new_email)
        .map_err(|e| AppError::Validation(e.0.replacen("email", "new_email", 1)))?;
    state
        .limits
        .login_attempt(&LoginKey::Account(user.id))
        .await?;
    let stored = user.password_hash.clone();
    let has_password = stored.is_some();
    let hash = stored.unwrap_or_else(|| state.dummy_hash.clone());
    let typed = body.password;
    let verified = password::blocking(move || password::verify(&typed, &hash)).await?;
    if !(verified && has_password) {
        return Err(AppError::InvalidCredentials);
    }
    if user.email.as_deref() == Some(new_email.as_str()) {
        return Err(AppError::Validation(
            "new_email: is the account's address already".into(),
        ));
    }
    let taken = {
        let mut conn = state.db.read().await?;
        users::find_by_login(&mut conn, user.project_id, new_email.as_str()).await?
    };
    if taken.is_some() {
        return Err(AppError::Conflict);
    }
    let (token, hash) = crate::email::new_link_token();
    let ttl_s = state.settings.email.change_ttl_s;
    let to = new_email.as_str().to_string();
    issue(
        &state,
        &user,
        TokenPurpose::Change,
        hash,
        Some(to.clone()),
        ttl_s,
    )
    .await?;
    let username = user.username.clone().unwrap_or_default();
    state.email.send(Mail {
        to: to.clone(),
        template: Template::ChangeConfirm,
        vars: vec![
            ("username", username.clone()),
            ("new_email", to.clone()),
            (
                "link",
                state.email.link(&format!("/confirm-email?token={token}")),
            ),
            ("hours", ttl_s.div_ceil(3600).to_string()),
        ],
    });
    if let Some(old) = user.email {
        state.email.send(Mail {
            to: old,
            template: Template::ChangeRequested,
            vars: vec![("username", username), ("new_email", to)],
        });
    }
    tracing::info!(user_id = %user.id, "address change asked for");
    Ok(accepted())
}

/// Confirm an address change
///
/// `POST /api/v1/auth/change-email/confirm` `{token}` (no sign-in needed: the token mailed to
/// the new address is the proof) → 200 the user with the new address, now verified; the old
/// address gets a notice. 400 `invalid_token` for an unknown or used token, `token_expired`
/// past its lifetime; 409 `conflict` when the address was registered meanwhile.
#[utoipa::path(
    post, path = "/api/v1/auth/change-email/confirm", tag = "auth",
    request_body = TokenBody,
    responses(
        (status = 200, description = "The user, with the new address", body = UserView),
        (status = 400, description = "`invalid_token` or `token_expired`", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the address was registered meanwhile", body = ErrorEnvelope),
    )
)]
pub async fn confirm(
    state: web::Data<AppState>,
    body: Json<TokenBody>,
) -> Result<HttpResponse, AppError> {
    let token_hash = crate::email::link_hash(link_token(&body.token)?);
    let changed = state
        .writer
        .send(ConfirmEmailChange {
            token_hash,
            now: crate::db::now(),
        })
        .await?;
    let (user, old) = match changed {
        Ok(outcome) => outcome.map_err(link_refused)?,
        Err(DbError::EmailTaken) => return Err(AppError::Conflict),
        Err(err) => return Err(err.into()),
    };
    if let (Some(old), Some(new)) = (old, user.email.clone()) {
        state.email.send(Mail {
            to: old,
            template: Template::EmailChanged,
            vars: vec![
                ("username", user.username.clone().unwrap_or_default()),
                ("new_email", new),
            ],
        });
    }
    tracing::info!(user_id = %user.id, "address changed");
    Ok(HttpResponse::Ok().json(user.view()))
}
