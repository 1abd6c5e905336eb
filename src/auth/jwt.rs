//! Access tokens: compact JWS (RFC 7519 / RFC 7515) signed with HMAC-SHA256.
//!
//! Claims: `sub` (user id as a string, RFC 7519 §4.1.2), `pid` (project id), `role`, `iat`,
//! `exp` (seconds since the epoch), `iss` = `parlor`. Verification pins the algorithm to HS256
//! (no `alg: none`, no key confusion), requires `exp` and `iss`, and allows no clock leeway:
//! the issuer and the verifier are the same server.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::config::AuthSettings;
use crate::db::models::UserRow;
use crate::domain::{ProjectId, Role, UserId};
use crate::error::AppError;

const ISSUER: &str = "parlor";
/// Name of the file holding a generated secret, in the data folder.
pub const SECRET_FILE: &str = "jwt_secret";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    pid: i64,
    role: Role,
    iat: u64,
    exp: u64,
    iss: String,
}

/// Signing and verification keys plus the token lifetime.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_s: u64,
}

impl JwtKeys {
    /// Keys from a secret of at least 32 bytes (RFC 7518 §3.2: the HS256 key must be at least
    /// as long as the hash output).
    pub fn new(secret: &[u8], ttl_s: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_s,
        }
    }

    /// Lifetime of issued tokens, in seconds (`expires_in` in token responses).
    pub fn ttl_s(&self) -> u64 {
        self.ttl_s
    }

    /// Signs an access token for `user`.
    ///
    /// # Errors
    /// `internal` if signing fails (it does not with an HMAC key).
    pub fn issue(&self, user: &UserRow) -> Result<String, AppError> {
        let iat = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        let claims = Claims {
            sub: user.id.0.to_string(),
            pid: user.project_id.0,
            role: user.role(),
            iat,
            exp: iat.saturating_add(self.ttl_s),
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// Verifies a token and returns who it speaks for.
    ///
    /// # Errors
    /// `unauthorized` for a bad signature, wrong algorithm, expired or malformed token.
    pub fn verify(&self, token: &str) -> Result<AuthUser, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| AppError::Unauthorized(format!("invalid access token: {e}")))?;
        let id = data
            .claims
            .sub
            .parse::<i64>()
            .map_err(|_| AppError::Unauthorized("invalid access token: bad subject".into()))?;
        Ok(AuthUser {
            id: UserId(id),
            project_id: ProjectId(data.claims.pid),
            role: data.claims.role,
        })
    }
}

/// The configured secret, or the one kept in `data_dir/jwt_secret`, generating and saving a
/// random 64-byte one (hex) on first start. The file is created with mode 0600.
///
/// # Errors
/// The data folder cannot be read or written.
pub fn load_or_create_secret(settings: &AuthSettings, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let configured = settings.jwt_secret.expose_secret();
    if !configured.is_empty() {
        if configured.len() < 32 {
            anyhow::bail!("auth.jwt_secret must be at least 32 bytes (or empty to generate one)");
        }
        return Ok(configured.as_bytes().to_vec());
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let secret = hex::encode(rand::random::<[u8; 64]>());
    write_private(&path, &secret)?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
