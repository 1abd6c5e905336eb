//! Authentication: access tokens (JWT, HS256), refresh tokens (opaque, stored hashed), password
//! hashing (bcrypt), the server's secret, and the extractor that turns a bearer token into an
//! [`AuthUser`].

pub mod api_key;
pub mod extractors;
pub mod jwt;
pub mod password;
pub mod refresh;
pub mod revoked;
pub mod secret;
pub mod visitor;

pub use extractors::AuthUser;
pub use jwt::JwtKeys;

use crate::db::models::NewUser;
use crate::domain::{Email, Password, ProjectId, Role, Username, validate_display_name};
use crate::error::AppError;

/// A new user's fields as given by a client, an admin or the CLI.
#[derive(Debug, Clone, Copy)]
pub struct Signup<'a> {
    /// Tenant.
    pub project_id: ProjectId,
    /// Email, validated and lowercased here.
    pub email: &'a str,
    /// Username, validated here.
    pub username: &'a str,
    /// Password, validated and hashed here.
    pub password: &'a str,
    /// Optional display name.
    pub display_name: Option<&'a str>,
    /// Role.
    pub role: Role,
}

impl Signup<'_> {
    /// Validates every field and hashes the password at bcrypt `cost`: the row to insert.
    /// CPU-bound (bcrypt): HTTP handlers run it on the blocking pool.
    ///
    /// # Errors
    /// `validation_failed` naming the first bad field; `internal` if bcrypt fails.
    pub fn into_row(self, cost: u32) -> Result<NewUser, AppError> {
        let email = Email::parse(self.email)?;
        let username = Username::parse(self.username)?;
        let password = Password::parse(self.password)?;
        let display_name = validate_display_name(self.display_name)?;
        let created_at = crate::db::now();
        Ok(NewUser {
            project_id: self.project_id,
            email: email.as_str().to_string(),
            username: username.as_str().to_string(),
            display_name,
            role: self.role.as_str().to_string(),
            password_hash: password::hash(password.expose(), cost)?,
            created_at,
            instance_admin: false,
            // Verified unless self-registration asks for a code (it clears this).
            email_verified_at: Some(created_at),
        })
    }
}
