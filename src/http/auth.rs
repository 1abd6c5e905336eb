//! `/api/v1/auth/*`: register, login, refresh (rotating, with reuse detection), logout, me.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::actors::db_writer::{
    CreateUser, RevokeRefreshToken, RotateRefreshToken, StoreRefreshToken,
};
use crate::auth::{AuthUser, password, refresh};
use crate::db::models::{NewRefreshToken, NewUser, UserRow, UserView};
use crate::db::now;
use crate::db::queries::tokens::RotateOutcome;
use crate::db::queries::users;
use crate::domain::{DEFAULT_PROJECT, Email, Password, Role, Username, validate_display_name};
use crate::error::AppError;
use crate::http::extract::Json;
use crate::startup::AppState;

/// `POST /auth/register` body. Any `role` field is ignored: self-registration is `customer`.
#[derive(Deserialize)]
pub struct RegisterBody {
    email: String,
    username: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

/// `POST /auth/login` body: `email` or `username`, and `password`.
#[derive(Deserialize)]
pub struct LoginBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    password: String,
}

/// `POST /auth/refresh` and `/auth/logout` body.
#[derive(Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
}

/// `{user, access_token, refresh_token, token_type: "Bearer", expires_in}` (RFC 6749 §5.1
/// names; `expires_in` in seconds).
#[derive(Serialize)]
pub struct TokenResponse {
    user: UserView,
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// Validates and stores a new user (hashing on the blocking pool).
///
/// # Errors
/// `validation_failed`, `email_taken`, `username_taken`, or `internal`.
pub async fn create_user(
    state: &AppState,
    email: &str,
    username: &str,
    password_raw: &str,
    display_name: Option<&str>,
    role: Role,
) -> Result<UserRow, AppError> {
    let email = Email::parse(email)?;
    let username = Username::parse(username)?;
    let password_value = Password::parse(password_raw)?;
    let display_name = validate_display_name(display_name)?;
    let cost = state.settings.auth.bcrypt_cost;
    let hash = password::blocking(move || password::hash(password_value.expose(), cost)).await??;
    let user = NewUser {
        project_id: DEFAULT_PROJECT,
        email: email.as_str().to_string(),
        username: username.as_str().to_string(),
        display_name,
        role: role.as_str().to_string(),
        password_hash: hash,
        created_at: now(),
    };
    Ok(state.writer.send(CreateUser { user }).await??)
}

async fn issue_tokens(state: &AppState, user: &UserRow) -> Result<TokenResponse, AppError> {
    let access_token = state.jwt.issue(user)?;
    let refresh_token = refresh::generate();
    let at = now();
    state
        .writer
        .send(StoreRefreshToken {
            token: NewRefreshToken {
                project_id: user.project_id,
                user_id: user.id,
                token_hash: refresh::digest(&refresh_token),
                created_at: at,
                expires_at: refresh_expiry(state, at),
            },
        })
        .await??;
    Ok(token_response(state, user, access_token, refresh_token))
}

fn refresh_expiry(state: &AppState, from: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    let ttl = i64::try_from(state.settings.auth.refresh_token_ttl_s).unwrap_or(i64::MAX);
    chrono::TimeDelta::try_seconds(ttl)
        .and_then(|ttl| from.checked_add_signed(ttl))
        .unwrap_or(chrono::NaiveDateTime::MAX)
}

fn token_response(
    state: &AppState,
    user: &UserRow,
    access_token: String,
    refresh_token: String,
) -> TokenResponse {
    TokenResponse {
        user: user.view(),
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_s(),
    }
}

/// `POST /api/v1/auth/register` → 201 [`TokenResponse`].
pub async fn register(
    state: web::Data<AppState>,
    body: Json<RegisterBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let user = create_user(
        &state,
        &body.email,
        &body.username,
        &body.password,
        body.display_name.as_deref(),
        Role::Customer,
    )
    .await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok(HttpResponse::Created().json(issue_tokens(&state, &user).await?))
}

/// `POST /api/v1/auth/login` → 200 [`TokenResponse`]; 401 `invalid_credentials` for an unknown
/// user or a wrong password alike (a dummy hash is checked for unknown users so both take the
/// same time).
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
        users::find_by_login(&mut conn, DEFAULT_PROJECT, &login).await?
    };
    // One budget per account, whether it is named by email or username.
    let account = user
        .as_ref()
        .map_or_else(|| login.trim().to_lowercase(), |u| format!("user:{}", u.id));
    state.limits.login_attempt(&account)?;
    let hash = user
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |u| u.password_hash.clone());
    let ok = password::blocking(move || password::verify(&body.password, &hash)).await?;
    match user {
        Some(user) if ok => Ok(HttpResponse::Ok().json(issue_tokens(&state, &user).await?)),
        _ => Err(AppError::InvalidCredentials),
    }
}

/// `POST /api/v1/auth/refresh` → 200 [`TokenResponse`] with a new pair. The presented token is
/// revoked; presenting a revoked one revokes every refresh token of its user (401).
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
            tracing::warn!(user_id = %user_id, "refresh token reuse: all refresh tokens revoked");
            return Err(AppError::Unauthorized(
                "refresh token already used; every refresh token of this user is now revoked"
                    .into(),
            ));
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

/// `POST /api/v1/auth/logout` → 204; the refresh token is revoked (unknown tokens too: 204).
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

/// `GET /api/v1/auth/me` → 200 the caller's [`UserView`].
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    let mut conn = state.db.read().await?;
    let user = users::find(&mut conn, auth.id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("user no longer exists".into()))?;
    Ok(HttpResponse::Ok().json(user.view()))
}
