//! `POST /api/v1/users`: admins create users of any role (this is how agents are made).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::domain::Role;
use crate::error::AppError;
use crate::http::auth::create_user;
use crate::http::extract::Json;
use crate::startup::AppState;

/// Body: `{email, username, password, display_name?, role}`.
#[derive(Deserialize)]
pub struct CreateUserBody {
    email: String,
    username: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
    role: Role,
}

/// `POST /api/v1/users` (admin only) → 201 user; 403 for non-admins.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateUserBody>,
) -> Result<HttpResponse, AppError> {
    auth.require_admin()?;
    let body = body.into_inner();
    let user = create_user(
        &state,
        &body.email,
        &body.username,
        &body.password,
        body.display_name.as_deref(),
        body.role,
    )
    .await?;
    tracing::info!(user_id = %user.id, role = body.role.as_str(), by = %auth.id, "user created");
    Ok(super::created(&user.view()))
}
