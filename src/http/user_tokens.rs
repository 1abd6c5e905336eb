//! User tokens of the server API: a project's backend mints access tokens for its users and
//! revokes them, one by one or all of a user's at once. docs/SERVER_API.md, *User tokens*.
//!
//! A revoked token is refused at once by every node: its id goes on the in-memory deny list
//! that every token check reads ([`crate::auth::revoked`]), here before the call answers and
//! on the other nodes through the cluster's global channel, and every session that runs on it
//! closes with 4003.

use actix_web::{HttpResponse, web};
use chrono::Utc;

use crate::actors::db_writer::{RevokeUserToken, RevokeUserTokens, StoreUserToken};
use crate::actors::presence::TokensRevoked;
use crate::api::{MintTokenBody, RevokedCount, UserTokenView};
use crate::db::models::UserRow;
use crate::db::queries::user_tokens::{NewUserToken, Revocation};
use crate::db::queries::users;
use crate::domain::{Scope, TokenId, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::api_keys::ApiCaller;
use crate::http::extract::parse_json;
use crate::http::state::AppState;

/// The user `external_id` of the caller's project.
async fn external_user(
    state: &AppState,
    caller: &ApiCaller,
    external_id: &str,
) -> Result<UserRow, AppError> {
    let mut conn = state.db.read().await?;
    users::find_by_external(&mut conn, caller.project_id, external_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// Lists `tokens` as revoked on this node now, then has every node do so and end the
/// sessions running on them.
pub fn announce_revoked(
    state: &AppState,
    user_id: UserId,
    tokens: Vec<Revocation>,
) -> Result<(), AppError> {
    if tokens.is_empty() {
        return Ok(());
    }
    state.jwt.revoked().revoke_all(tokens.iter().copied())?;
    state.presence.do_send(TokensRevoked { user_id, tokens });
    Ok(())
}

/// Revokes every unexpired user token of `user_id` (the user was deactivated or changed role):
/// how many.
///
/// # Errors
/// A write failure, or a full deny list.
pub async fn revoke_all_of(state: &AppState, user_id: UserId) -> Result<usize, AppError> {
    let tokens = state.writer.send(RevokeUserTokens { user_id }).await??;
    let count = tokens.len();
    announce_revoked(state, user_id, tokens)?;
    Ok(count)
}

/// Mint a user token (server API)
///
/// `POST /api/v1/server/users/{external_id}/tokens` (scope `tokens:write`) `{ttl_s?}` (the body
/// may be empty or `null`) → 201 `{access_token, expires_in_s, expires_at, token_id}`. 404 for an
/// unknown user, 403 for a deactivated one, 400 for a `ttl_s` outside 1 to
/// `auth.user_token_max_ttl_s`.
#[utoipa::path(
    post, path = "/api/v1/server/users/{external_id}/tokens", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("external_id" = String, Path, description = "The user's id in the project's backend")),
    request_body(content = Option<MintTokenBody>, description = "`{ttl_s?}`; may be empty or `null`"),
    responses(
        (status = 201, description = "The token", body = UserTokenView),
        (status = 400, description = "`validation_failed`: `ttl_s` outside 1 to `auth.user_token_max_ttl_s`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes, or a deactivated user", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such user in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn mint(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::TokensWrite, caller.project_id, "user")?;
    let body: MintTokenBody = if body.iter().all(u8::is_ascii_whitespace) {
        MintTokenBody::default()
    } else {
        parse_json::<Option<MintTokenBody>>(&body)?.unwrap_or_default()
    };
    let auth = &state.settings.auth;
    let ttl_s = body.ttl_s.unwrap_or(auth.user_token_ttl_s);
    if ttl_s == 0 || ttl_s > auth.user_token_max_ttl_s {
        return Err(AppError::Validation(format!(
            "ttl_s: must be between 1 and {} seconds",
            auth.user_token_max_ttl_s
        )));
    }
    let user = external_user(&state, &caller, &path.into_inner()).await?;
    if user.disabled {
        return Err(AppError::Forbidden("the user is deactivated".into()));
    }
    let token_id = TokenId::random();
    let now = Utc::now().timestamp();
    let exp = now.saturating_add(i64::try_from(ttl_s).unwrap_or(i64::MAX));
    let row = NewUserToken {
        id: token_id,
        project_id: caller.project_id,
        user_id: user.id,
        api_key_id: caller.key_id,
        expires_at: exp,
    };
    state.writer.send(StoreUserToken { token: row }).await??;
    let access_token = state.jwt.issue_user_token(&user, token_id, exp)?;
    tracing::info!(user_id = %user.id, %token_id, key_id = caller.key_id, "user token minted");
    Ok(HttpResponse::Created().json(UserTokenView {
        access_token,
        expires_in_s: ttl_s,
        expires_at: chrono::DateTime::from_timestamp(exp, 0).unwrap_or_default(),
        token_id,
    }))
}

/// Revoke a user token (server API)
///
/// `DELETE /api/v1/server/tokens/{token_id}` (scope `tokens:write`) → 204: the token is refused
/// from now on and its sessions close (4003). Idempotent; 404 for an unknown token or one of
/// another project.
#[utoipa::path(
    delete, path = "/api/v1/server/tokens/{token_id}", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("token_id" = String, Path, description = "The token's id (`ut_` and 32 hex digits)")),
    responses(
        (status = 204, description = "Revoked (or was already)"),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such token of the key's project", body = ErrorEnvelope),
    )
)]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::TokensWrite, caller.project_id, "token")?;
    let id = TokenId::parse(&path.into_inner()).ok_or_else(|| AppError::not_found("token"))?;
    let (user_id, revocation) = state
        .write(
            RevokeUserToken {
                project_id: caller.project_id,
                id,
            },
            "token",
        )
        .await?;
    announce_revoked(&state, user_id, vec![revocation])?;
    tracing::info!(%user_id, token_id = %id, key_id = caller.key_id, "user token revoked");
    Ok(HttpResponse::NoContent().finish())
}

/// Revoke a user's tokens (server API)
///
/// `DELETE /api/v1/server/users/{external_id}/tokens` (scope `tokens:write`) → 200
/// `{revoked}`: every unexpired token minted for the user is refused from now on and their
/// sessions close (4003). Sessions on tokens from the user's own sign-in go on. 404 for an
/// unknown user.
#[utoipa::path(
    delete, path = "/api/v1/server/users/{external_id}/tokens", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("external_id" = String, Path, description = "The user's id in the project's backend")),
    responses(
        (status = 200, description = "How many were revoked", body = RevokedCount),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such user in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn revoke_user(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::TokensWrite, caller.project_id, "user")?;
    let user = external_user(&state, &caller, &path.into_inner()).await?;
    let revoked = revoke_all_of(&state, user.id).await?;
    tracing::info!(user_id = %user.id, revoked, key_id = caller.key_id, "user tokens revoked");
    Ok(HttpResponse::Ok().json(RevokedCount { revoked }))
}
