//! Signing a user in: the token pair login, refresh and email verification answer with.

use crate::actors::db_writer::StoreRefreshToken;
use crate::api::TokenResponse;
use crate::auth::refresh;
use crate::db::models::{NewRefreshToken, UserRow};
use crate::db::now;
use crate::error::AppError;
use crate::http::state::AppState;

/// Signs `user` in: a new access token and refresh token (login's answer).
///
/// # Errors
/// Signing or storing the refresh token failed.
pub(in crate::http) async fn issue_tokens(
    state: &AppState,
    user: &UserRow,
) -> Result<TokenResponse, AppError> {
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

pub(super) fn refresh_expiry(
    state: &AppState,
    from: chrono::NaiveDateTime,
) -> chrono::NaiveDateTime {
    let ttl = i64::try_from(state.settings.auth.refresh_token_ttl_s).unwrap_or(i64::MAX);
    chrono::TimeDelta::try_seconds(ttl)
        .and_then(|ttl| from.checked_add_signed(ttl))
        .unwrap_or(chrono::NaiveDateTime::MAX)
}

pub(super) fn token_response(
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
