//! `/api/v1/auth/*` and the WebSocket ticket: register, login, refresh (rotating, with reuse
//! detection), logout, logout everywhere, me, ws-ticket.

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::{
    CreateUser, EndUserSessions, RevokeRefreshToken, RotateRefreshToken,
};
use crate::actors::presence::EndSessions;
use crate::actors::session::EndSession;
use crate::api::{LoginBody, RefreshBody, RegisterBody, TokenResponse, UserView, WsTicketView};
use crate::auth::{AuthUser, Signup, password, refresh};
use crate::db::models::UserRow;
use crate::db::now;
use crate::db::queries::tokens::{Revoked, RotateOutcome};
use crate::db::queries::{projects, users};
use crate::domain::{DEFAULT_PROJECT, Role, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::limits::LoginKey;
use crate::http::state::AppState;
use crate::http::tickets::TICKET_TTL;

mod issue;

pub(super) use issue::issue_tokens;
use issue::{refresh_expiry, token_response};

/// The caller's account as it is now: it must exist, not be disabled, and the token must be of
/// the account's current generation (not issued before a sign-out everywhere or an account
/// change). For what must not trust a token's claims for up to its lifetime: opening a
/// WebSocket, managing accounts.
///
/// # Errors
/// `unauthorized` for a missing user or an older token; `forbidden` for a disabled account.
pub async fn current_user(state: &AppState, auth: &AuthUser) -> Result<UserRow, AppError> {
    let user = {
        let mut conn = state.db.read().await?;
        users::find(&mut conn, auth.id)
            .await?
            .ok_or_else(|| AppError::Unauthorized("user no longer exists".into()))?
    };
    if user.disabled {
        return Err(AppError::Forbidden("this account is disabled".into()));
    }
    if auth.generation != user.token_generation {
        return Err(AppError::Unauthorized(
            "this access token was revoked (signed out everywhere, or the account changed); \
             sign in again"
                .into(),
        ));
    }
    Ok(user)
}

/// Validates and stores a new user (hashing on the blocking pool), its address verified.
///
/// # Errors
/// `validation_failed`, `email_taken`, `username_taken`, or `internal`.
pub async fn create_user(state: &AppState, signup: Signup<'_>) -> Result<UserRow, AppError> {
    create_account(state, signup, true).await
}

/// As [`create_user`]; `verified: false` leaves `email_verified_at` unset (self-registration
/// awaiting its code).
///
/// # Errors
/// As [`create_user`].
pub async fn create_account(
    state: &AppState,
    signup: Signup<'_>,
    verified: bool,
) -> Result<UserRow, AppError> {
    let cost = state.settings.auth.bcrypt_cost;
    let (email, username, pass) = (
        signup.email.to_string(),
        signup.username.to_string(),
        signup.password.to_string(),
    );
    let display_name = signup.display_name.map(str::to_string);
    let (project_id, role) = (signup.project_id, signup.role);
    let mut user = password::blocking(move || {
        Signup {
            project_id,
            email: &email,
            username: &username,
            password: &pass,
            display_name: display_name.as_deref(),
            role,
        }
        .into_row(cost)
    })
    .await??;
    user.email_verified_at = user.email_verified_at.filter(|_| verified);
    Ok(state.writer.send(CreateUser { user }).await??)
}

/// Signs `user` out everywhere: every refresh token revoked, every access token of theirs
/// unable to open a WebSocket, every open session closed with 4001.
pub(super) async fn end_everything(
    state: &AppState,
    user: UserId,
    reason: Revoked,
) -> Result<(), AppError> {
    state
        .writer
        .send(EndUserSessions {
            user_id: user,
            reason,
        })
        .await??;
    state.presence.do_send(EndSessions {
        user_id: user,
        end: EndSession::SIGNED_OUT,
    });
    Ok(())
}

/// Register
///
/// `POST /api/v1/auth/register` → 201 [`TokenResponse`], in project `project_id` (default 1).
/// A taken email or username is one answer, 409 `conflict`, so registration does not tell
/// which accounts exist; 403 `registration_closed` where the project does not allow
/// self-registration; 404 for an unknown project. Where the project requires email
/// verification: 202 `{"verification_required": true}` and a mailed code instead of tokens,
/// the same 202 for a taken address (the mail says the account exists); 409 only for a taken
/// username.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The new user and a token pair", body = TokenResponse),
        (status = 202, description = "Verification required: a code was mailed (or a notice, for a taken address)", body = crate::api::VerificationRequired),
        (status = 400, description = "`validation_failed`: a bad email, username, password or display name", body = ErrorEnvelope),
        (status = 403, description = "`registration_closed`: the project does not allow self-registration", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the email or username cannot be registered", body = ErrorEnvelope),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    body: Json<RegisterBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let project_id = body.project_id.unwrap_or(DEFAULT_PROJECT);
    let project = {
        let mut conn = state.db.read().await?;
        projects::find(&mut conn, project_id).await?
    };
    match project {
        None => return Err(AppError::not_found("project")),
        Some(project) if !project.self_registration => return Err(AppError::RegistrationClosed),
        Some(_) => {}
    }
    let signup = Signup {
        project_id,
        email: &body.email,
        username: &body.username,
        password: &body.password,
        display_name: body.display_name.as_deref(),
        role: Role::Customer,
    };
    if super::account_email::verification_required(&state, project_id) {
        return super::account_email::register_unverified(&state, signup).await;
    }
    let user = match create_user(&state, signup).await {
        Err(AppError::EmailTaken | AppError::UsernameTaken) => return Err(AppError::Conflict),
        other => other?,
    };
    tracing::info!(user_id = %user.id, "user registered");
    Ok(HttpResponse::Created().json(issue_tokens(&state, &user).await?))
}

/// Sign in
///
/// `POST /api/v1/auth/login` → 200 [`TokenResponse`]; 401 `invalid_credentials` for an unknown
/// user or a wrong password alike (a dummy hash is checked for unknown users so both take the
/// same time); 403 for a disabled account, or `email_unverified` for an address awaiting its
/// code, told only to whoever knows the password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "The user and a token pair", body = TokenResponse),
        (status = 400, description = "`validation_failed`: neither `email` nor `username`", body = ErrorEnvelope),
        (status = 401, description = "`invalid_credentials`: unknown user or wrong password", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the account is disabled; `email_unverified`: the address awaits its code", body = ErrorEnvelope),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    body: Json<LoginBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let login = body
        .email
        .or(body.username)
        .ok_or_else(|| AppError::Validation("email: email or username is required".into()))?;
    let user = {
        let mut conn = state.db.read().await?;
        let project = body.project_id.unwrap_or(DEFAULT_PROJECT);
        users::find_by_login(&mut conn, project, &login).await?
    };
    // One budget per account, whether it is named by email or username.
    let account = user.as_ref().map_or_else(
        || LoginKey::Unknown(login.trim().to_lowercase()),
        |u| LoginKey::Account(u.id),
    );
    state.limits.login_attempt(&account).await?;
    // Users without a password (upserted by the server API) never sign in with one; the
    // dummy hash keeps their answer as slow as anyone's.
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let has_password = stored.is_some();
    let hash = stored.unwrap_or_else(|| state.dummy_hash.clone());
    let verified = password::blocking(move || password::verify(&body.password, &hash)).await?;
    let ok = verified && has_password;
    match user {
        Some(user) if ok && user.disabled => {
            Err(AppError::Forbidden("this account is disabled".into()))
        }
        Some(user) if ok && super::account_email::unverified(&state, &user) => {
            Err(AppError::EmailUnverified)
        }
        Some(user) if ok => Ok(HttpResponse::Ok().json(issue_tokens(&state, &user).await?)),
        _ => Err(AppError::InvalidCredentials),
    }
}

/// Refresh the token pair
///
/// `POST /api/v1/auth/refresh` → 200 [`TokenResponse`] with a new pair. The presented token is
/// revoked; presenting a revoked one signs its user out everywhere (401), as logout-all does.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "The user and a new token pair", body = TokenResponse),
        (status = 401, description = "`unauthorized`: an invalid, expired or reused refresh token (a reused one signs the user out everywhere)", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the account is disabled", body = ErrorEnvelope),
    )
)]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    let new_token = refresh::generate();
    let outcome = state
        .writer
        .send(RotateRefreshToken {
            presented_hash: refresh::digest(&body.refresh_token),
            new_hash: refresh::digest(&new_token),
            expires_at: refresh_expiry(&state, now()),
        })
        .await??;
    let user = match outcome {
        RotateOutcome::Rotated { user } => user,
        RotateOutcome::Reused { user_id } => {
            tracing::warn!(user_id = %user_id, "refresh token reuse: the user is signed out everywhere");
            state.presence.do_send(EndSessions {
                user_id,
                end: EndSession::SIGNED_OUT,
            });
            return Err(AppError::Unauthorized(
                "refresh token already used; every refresh token of this user is now revoked"
                    .into(),
            ));
        }
        RotateOutcome::Disabled => {
            return Err(AppError::Forbidden("this account is disabled".into()));
        }
        RotateOutcome::Invalid => {
            return Err(AppError::Unauthorized(
                "invalid or expired refresh token".into(),
            ));
        }
    };
    let access_token = state.jwt.issue(&user)?;
    Ok(HttpResponse::Ok().json(token_response(&state, &user, access_token, new_token)))
}

/// Sign out
///
/// `POST /api/v1/auth/logout` → 204; the refresh token is revoked (unknown tokens too: 204).
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "The refresh token is revoked (unknown tokens too)"),
    )
)]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    state
        .writer
        .send(RevokeRefreshToken {
            hash: refresh::digest(&body.refresh_token),
        })
        .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// Sign out everywhere
///
/// `POST /api/v1/auth/logout-all` → 204: every refresh token of the caller is revoked, no
/// access token issued so far can open a WebSocket again, and every open session of theirs
/// closes now with 4001.
#[utoipa::path(
    post, path = "/api/v1/auth/logout-all", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every refresh token and session of the caller is ended"),
    )
)]
pub async fn logout_all(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, AppError> {
    end_everything(&state, auth.id, Revoked::LogoutAll).await?;
    tracing::info!(user_id = %auth.id, "signed out everywhere");
    Ok(HttpResponse::NoContent().finish())
}

/// Get the caller
///
/// `GET /api/v1/auth/me` → 200 the caller's user.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's user", body = UserView),
    )
)]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    let mut conn = state.db.read().await?;
    let user = users::find(&mut conn, auth.id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("user no longer exists".into()))?;
    Ok(HttpResponse::Ok().json(user.view()))
}

/// Get a WebSocket ticket
///
/// `POST /api/v1/ws-ticket` → 200 `{ticket, expires_in_s: 30}`: a single-use ticket for
/// `GET /api/v1/ws?ticket=...`, so the access token stays out of the URL.
#[utoipa::path(
    post, path = "/api/v1/ws-ticket", tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A single-use ticket for `GET /api/v1/ws?ticket=...`", body = WsTicketView),
    )
)]
pub async fn ws_ticket(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, AppError> {
    let ticket = state.tickets.issue(auth)?;
    Ok(HttpResponse::Ok().json(WsTicketView {
        ticket,
        expires_in_s: TICKET_TTL.as_secs(),
    }))
}
