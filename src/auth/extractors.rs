//! The [`AuthUser`] extractor: `Authorization: Bearer <access token>` (RFC 6750 §2.1).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

use crate::domain::{ProjectId, Role, UserId};
use crate::error::AppError;
use crate::startup::AppState;

/// The caller, as proven by a valid access token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    /// Who.
    pub id: UserId,
    /// Their tenant.
    pub project_id: ProjectId,
    /// Their role when the token was issued.
    pub role: Role,
}

impl AuthUser {
    /// `forbidden` unless the caller is an admin.
    ///
    /// # Errors
    /// [`AppError::Forbidden`].
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden("only admins may do this".into()))
        }
    }
}

/// The bearer token of a request: the `Authorization` header, or (when `allow_query`) the
/// `token` query parameter, for clients that cannot set headers (browser WebSocket, `<img>`).
pub fn bearer_token(req: &HttpRequest, allow_query: bool) -> Option<String> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    if allow_query {
        return web::Query::<TokenQuery>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.into_inner().token);
    }
    None
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Verifies the request's token.
///
/// # Errors
/// `unauthorized` when the token is missing or invalid.
pub fn authenticate(req: &HttpRequest, allow_query: bool) -> Result<AuthUser, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("application state missing")))?;
    let token = bearer_token(req, allow_query)
        .ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
    state.jwt.verify(&token)
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req, false))
    }
}
