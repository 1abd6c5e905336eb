//! The [`AuthUser`] extractor: `Authorization: Bearer <access token>` (RFC 6750 §2.1).
//!
//! The keys come from the app's `web::Data<JwtKeys>`, registered by `startup` on its own, so
//! this layer does not depend on the HTTP state.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};

use crate::auth::JwtKeys;
use crate::domain::{ProjectId, Role, TokenId, UserId};
use crate::error::AppError;
use crate::policy::Actor;

/// The caller, as proven by a valid access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    /// Who.
    pub id: UserId,
    /// Their tenant.
    pub project_id: ProjectId,
    /// Their role when the token was issued.
    pub role: Role,
    /// The token's `exp`, Unix seconds.
    pub exp: i64,
    /// The token's `gen`: the user's token generation when it was issued.
    pub generation: i64,
    /// The token's `jti`: set on user tokens minted by the server API, which can be revoked
    /// one by one.
    pub token_id: Option<TokenId>,
}

impl AuthUser {
    /// The caller as the access policy sees them.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            project_id: self.project_id,
            role: self.role,
        }
    }

    /// When the token expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// The bearer token of a request: the `Authorization` header, or (when `allow_query`) the
/// `token` query parameter, for clients that cannot set headers (a browser `WebSocket`).
pub fn bearer_token(req: &HttpRequest, allow_query: bool) -> Option<String> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    if allow_query {
        return query_param(req, "token");
    }
    None
}

/// One query-string parameter of `req`.
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Verifies the request's token.
///
/// # Errors
/// `unauthorized` when the token is missing or invalid.
pub fn authenticate(req: &HttpRequest, allow_query: bool) -> Result<AuthUser, AppError> {
    let keys = req
        .app_data::<web::Data<JwtKeys>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("JWT keys missing")))?;
    let token = bearer_token(req, allow_query)
        .ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
    keys.verify(&token)
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req, false))
    }
}
