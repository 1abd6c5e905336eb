//! `/api/v1/users`: admins create users of any role (this is how agents are made), change
//! roles and disable accounts; everyone finds the project's users by name (the directory).
//!
//! These ask the policy with the caller's account as it is now, not with the role in their
//! token: an admin who was just demoted or disabled must not keep managing accounts for the
//! rest of their token's life.

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::ChangeAccount;
use crate::actors::presence::{EndSessions, OnlineAmong};
use crate::actors::session::EndSession;
use crate::api::{CreateUserBody, UpdateUserBody, UserProfile, UserSearchQuery, UserView};
use crate::auth::{AuthUser, Signup};
use crate::db::queries::users;
use crate::db::queries::users::AccountChange;
use crate::domain::{ProjectId, Role, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::{create_user, current_user};
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::{self, Actor};

/// Checks that the caller, as their account is now, may manage the accounts of `project`.
async fn check_admin(
    state: &AppState,
    auth: &AuthUser,
    project: ProjectId,
) -> Result<(), AppError> {
    let caller = current_user(state, auth).await?;
    let actor = Actor {
        user_id: caller.id,
        project_id: caller.project_id,
        role: caller.role(),
    };
    Ok(policy::check_users(&actor, project)?)
}

/// Create a user (admins)
///
/// `POST /api/v1/users` (admins) → 201 user; 403 for others.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The new user", body = UserView),
        (status = 400, description = "`validation_failed`: a bad email, username, password or display name", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project, or a disabled account", body = ErrorEnvelope),
        (status = 409, description = "`email_taken` or `username_taken`", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateUserBody>,
) -> Result<HttpResponse, AppError> {
    check_admin(&state, &auth, auth.project_id).await?;
    let body = body.into_inner();
    let signup = Signup {
        project_id: auth.project_id,
        email: &body.email,
        username: &body.username,
        password: &body.password,
        display_name: body.display_name.as_deref(),
        role: body.role,
    };
    let user = create_user(&state, signup).await?;
    tracing::info!(user_id = %user.id, role = body.role.as_str(), by = %auth.id, "user created");
    Ok(super::created(&user.view()))
}

/// Change a user's role or disable them (admins)
///
/// `PATCH /api/v1/users/{id}` `{role?, disabled?}` (admins) → 200 user; 403 for others, 404
/// for a user of another project or none. A new role or disabling ends the user's open
/// sessions at once (close code 4003) and stops their earlier access tokens from opening new
/// ones; disabling also revokes their refresh tokens.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 400, description = "`validation_failed`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the user's project", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such user in the caller's project", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<UserId>,
    body: Json<UpdateUserBody>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.into_inner();
    // Another project's user (or none) is not found, whoever asks; then only admins.
    let target = {
        let mut conn = state.db.read().await?;
        users::find(&mut conn, user_id).await?
    };
    let project = target.map_or(ProjectId(0), |t| t.project_id);
    check_admin(&state, &auth, project).await?;
    let change = AccountChange {
        user_id,
        project_id: auth.project_id,
        role: body.role,
        disabled: body.disabled,
    };
    let (user, end_sessions) = state.write(ChangeAccount { change }, "user").await?;
    if end_sessions {
        state.presence.do_send(EndSessions {
            user_id,
            end: EndSession::ACCOUNT_CHANGED,
        });
    }
    tracing::info!(user_id = %user_id, by = %auth.id, role = ?body.role, disabled = ?body.disabled, "account changed");
    Ok(HttpResponse::Ok().json(user.view()))
}

/// Longest directory query, in characters.
const MAX_QUERY_CHARS: usize = 64;

/// Find users of the project
///
/// `GET /api/v1/users?query=&after_id=&limit=&include_disabled=` (any signed-in user) → the
/// active users of the caller's project whose username or display name starts with `query` (any
/// case), ascending by id: pass the last id as `after_id` for the next page. `{id, username,
/// display_name, role, online, last_seen_at, disabled}` each, never an email. With
/// `include_disabled=true` (the project's admins only, 403 for others) disabled accounts are
/// listed too. At most `limits.user_searches_per_minute` per user (429).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    params(UserSearchQuery),
    responses(
        (status = 200, description = "Users whose username or display name starts with `query`, ascending by id", body = Vec<UserProfile>),
        (status = 400, description = "`validation_failed`: a `query` over 64 characters or a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: `include_disabled` asked by someone not an admin of the project", body = ErrorEnvelope),
    )
)]
pub async fn search(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<UserSearchQuery>,
) -> Result<HttpResponse, AppError> {
    state.limits.user_search(auth.id)?;
    let text = query.query.as_deref().unwrap_or("").trim();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::Validation(format!(
            "query: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let limit = super::admin::page_limit(query.limit)?;
    let include_disabled = query.include_disabled == Some(true);
    if include_disabled {
        check_admin(&state, &auth, auth.project_id).await?;
    }
    let mut conn = state.db.read().await?;
    let rows = users::directory::search(
        &mut conn,
        auth.project_id,
        text,
        query.after_id.unwrap_or(0),
        limit,
        include_disabled,
    )
    .await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(profiles(&state, rows).await))
}

/// The directory's views of `rows`, with whether each is online now (any session, any node).
async fn profiles(state: &AppState, rows: Vec<users::directory::Entry>) -> Vec<UserProfile> {
    let ids: Vec<UserId> = rows.iter().map(|r| r.0).collect();
    // Presence unreachable (shutting down): everyone shows offline rather than failing.
    let online = state
        .presence
        .send(OnlineAmong { users: ids })
        .await
        .unwrap_or_default();
    rows.into_iter()
        .map(
            |(id, username, display_name, role, last_seen, disabled)| UserProfile {
                id,
                username,
                display_name,
                role: role.parse().unwrap_or(Role::Customer),
                online: online.contains(&id),
                last_seen_at: last_seen.map(|t| t.and_utc()),
                disabled,
            },
        )
        .collect()
}

/// Get a user's profile
///
/// `GET /api/v1/users/{id}` → the [`UserProfile`] of an active user of the caller's project
/// (`online`, `last_seen_at`); 404 for anyone else, disabled users included.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The user as the directory shows them", body = UserProfile),
        (status = 404, description = "`not_found`: no such active user in the caller's project", body = ErrorEnvelope),
    )
)]
pub async fn profile(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let row = {
        let mut conn = state.db.read().await?;
        users::find(&mut conn, id).await?
    };
    let row = row
        .filter(|u| u.project_id == auth.project_id && !u.disabled)
        .ok_or_else(|| AppError::not_found("user"))?;
    let entry = (
        row.id,
        row.username,
        row.display_name,
        row.role,
        row.last_seen_at,
        row.disabled,
    );
    let mut views = profiles(&state, vec![entry]).await;
    let view = views.pop().ok_or_else(|| AppError::not_found("user"))?;
    Ok(HttpResponse::Ok().json(view))
}
