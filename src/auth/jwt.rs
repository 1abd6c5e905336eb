//! Access tokens: compact JWS (RFC 7519 / RFC 7515) signed with HMAC-SHA256.
//!
//! Claims: `sub` (user id as a string, RFC 7519 §4.1.2), `pid` (project id), `role`, `gen` (the
//! user's token generation: moved forward to stop every earlier token from opening a
//! WebSocket), `iat`, `exp` (seconds since the epoch), `iss` = `parlor`, and on user tokens
//! minted by the server API `jti` (RFC 7519 §4.1.7: the [`TokenId`], checked against the
//! [`RevokedTokens`] deny list on every use). Verification pins the algorithm to HS256
//! (no `alg: none`, no key confusion), requires `exp` and `iss`, and allows no clock leeway:
//! the issuer and the verifier are the same server.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::auth::AuthUser;
use crate::auth::revoked::RevokedTokens;
use crate::db::models::UserRow;
use crate::domain::{ProjectId, Role, TokenId, UserId};
use crate::error::AppError;

const ISSUER: &str = "parlor";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    pid: i64,
    role: Role,
    /// Tokens issued before this claim existed count as generation 0.
    #[serde(default, rename = "gen")]
    generation: i64,
    iat: u64,
    exp: u64,
    iss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
}

/// Signing and verification keys plus the token lifetime. Cloning shares them (one reference
/// count): every WebSocket session holds a clone for `auth:refresh`, and the keys with their
/// validation rules are about 0.6 KiB that 19,000 idle sessions need not each copy.
#[derive(Clone)]
pub struct JwtKeys(Arc<Keys>);

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_s: u64,
    revoked: RevokedTokens,
}

impl JwtKeys {
    /// Keys from a secret of at least 32 bytes (RFC 7518 §3.2: the HS256 key must be at least
    /// as long as the hash output).
    pub fn new(secret: &[u8], ttl_s: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Self(Arc::new(Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_s,
            revoked: RevokedTokens::default(),
        }))
    }

    /// The deny list that [`Self::verify`] checks (shared by every clone of these keys).
    pub fn revoked(&self) -> &RevokedTokens {
        &self.0.revoked
    }

    /// Lifetime of issued tokens, in seconds (`expires_in` in token responses).
    pub fn ttl_s(&self) -> u64 {
        self.0.ttl_s
    }

    /// Signs an access token for `user`.
    ///
    /// # Errors
    /// `internal` if signing fails (it does not with an HMAC key).
    pub fn issue(&self, user: &UserRow) -> Result<String, AppError> {
        self.sign(user, None, None).map(|(token, _)| token)
    }

    /// Signs a user token for `user` with id `token_id` (its `jti`), expiring at `exp` (Unix
    /// seconds).
    ///
    /// # Errors
    /// `internal` if signing fails (it does not with an HMAC key).
    pub fn issue_user_token(
        &self,
        user: &UserRow,
        token_id: TokenId,
        exp: i64,
    ) -> Result<String, AppError> {
        let exp = u64::try_from(exp).unwrap_or(0);
        self.sign(user, Some(token_id), Some(exp))
            .map(|(token, _)| token)
    }

    fn sign(
        &self,
        user: &UserRow,
        token_id: Option<TokenId>,
        exp: Option<u64>,
    ) -> Result<(String, i64), AppError> {
        let iat = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        let exp = exp.unwrap_or_else(|| iat.saturating_add(self.0.ttl_s));
        let claims = Claims {
            sub: user.id.0.to_string(),
            pid: user.project_id.0,
            role: user.role(),
            generation: user.token_generation,
            iat,
            exp,
            iss: ISSUER.into(),
            jti: token_id.map(|id| id.to_string()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .map_err(AppError::internal)?;
        Ok((token, i64::try_from(exp).unwrap_or(i64::MAX)))
    }

    /// Verifies a token and returns who it speaks for.
    ///
    /// # Errors
    /// `unauthorized` for a bad signature, wrong algorithm, expired, malformed or revoked
    /// token.
    pub fn verify(&self, token: &str) -> Result<AuthUser, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .map_err(|e| AppError::Unauthorized(format!("invalid access token: {e}")))?;
        let id = data
            .claims
            .sub
            .parse::<i64>()
            .map_err(|_| AppError::Unauthorized("invalid access token: bad subject".into()))?;
        let token_id = match data.claims.jti.as_deref() {
            None => None,
            Some(jti) => Some(TokenId::parse(jti).ok_or_else(|| {
                AppError::Unauthorized("invalid access token: bad token id".into())
            })?),
        };
        if token_id.is_some_and(|id| self.0.revoked.is_revoked(id)) {
            return Err(AppError::Unauthorized("this token was revoked".into()));
        }
        Ok(AuthUser {
            id: UserId(id),
            project_id: ProjectId(data.claims.pid),
            role: data.claims.role,
            exp: i64::try_from(data.claims.exp).unwrap_or(i64::MAX),
            generation: data.claims.generation,
            token_id,
        })
    }
}
