//! `/api/v1/admin/projects`: instance admins create, list, change and delete projects
//! (tenants). docs/PROTOCOL.md §3, *Projects*.
//!
//! Every handler asks [`policy::check_instance`] with the caller's account as it is now (read
//! from the database), so a demoted or disabled instance admin stops at once.

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::{CreateProject, DeleteProject, UpdateProject};
use crate::actors::presence::CountOnline;
use crate::actors::presence::EndSessions;
use crate::actors::room_registry::CountRooms;
use crate::actors::session::EndSession;
use crate::api::{
    AfterIdQuery, CreateProjectBody, DeleteProjectBody, NodeStatsView, ProjectView,
    UpdateProjectBody,
};
use crate::auth::AuthUser;
use crate::db::models::NewProject;
use crate::db::queries::projects::{self, ProjectChange};
use crate::domain::{ProjectId, ProjectName};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::current_user;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy;

/// Most projects per page, and the default.
const MAX_PAGE: i64 = 200;
const DEFAULT_PAGE: i64 = 50;

/// A page size: `DEFAULT_PAGE` when absent, at most `MAX_PAGE`.
///
/// # Errors
/// `validation_failed` below 1.
pub(super) fn page_limit(limit: Option<i64>) -> Result<i64, AppError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n >= 1 => Ok(n.min(MAX_PAGE)),
        Some(_) => Err(AppError::Validation("limit: must be at least 1".into())),
    }
}

/// Checks that the caller, as their account is now, is an instance admin.
pub(super) async fn check_instance(state: &AppState, auth: &AuthUser) -> Result<(), AppError> {
    let caller = current_user(state, auth).await?;
    Ok(policy::check_instance(&caller.account())?)
}

/// Create a project
///
/// `POST /api/v1/admin/projects` `{name, self_registration?}` → 201 [`ProjectView`]; 409
/// `name_taken`.
#[utoipa::path(
    post, path = "/api/v1/admin/projects", tag = "projects",
    security(("bearer" = [])),
    request_body = CreateProjectBody,
    responses(
        (status = 201, description = "The new project", body = ProjectView),
        (status = 400, description = "`validation_failed`: a bad name", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an instance admin", body = ErrorEnvelope),
        (status = 409, description = "`name_taken`", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateProjectBody>,
) -> Result<HttpResponse, AppError> {
    check_instance(&state, &auth).await?;
    let body = body.into_inner();
    let project = NewProject {
        name: ProjectName::parse(&body.name)?,
        self_registration: body.self_registration,
        created_at: crate::db::now(),
    };
    let row = state.writer.send(CreateProject { project }).await??;
    tracing::info!(project_id = %row.id, by = %auth.id, "project created");
    Ok(HttpResponse::Created().json(row.view()))
}

/// List projects
///
/// `GET /api/v1/admin/projects?after_id=&limit=` → `[ProjectView]`, ascending id.
#[utoipa::path(
    get, path = "/api/v1/admin/projects", tag = "projects",
    security(("bearer" = [])),
    params(AfterIdQuery),
    responses(
        (status = 200, description = "Projects, ascending id", body = Vec<ProjectView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an instance admin", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<AfterIdQuery>,
) -> Result<HttpResponse, AppError> {
    check_instance(&state, &auth).await?;
    let limit = page_limit(query.limit)?;
    let mut conn = state.db.read().await?;
    let rows = projects::page(&mut conn, query.after_id.unwrap_or(0), limit).await?;
    let views: Vec<ProjectView> = rows.iter().map(|r| r.view()).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Get a project
///
/// `GET /api/v1/admin/projects/{id}` → [`ProjectView`], or 404.
#[utoipa::path(
    get, path = "/api/v1/admin/projects/{id}", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 403, description = "`forbidden`: not an instance admin", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, AppError> {
    check_instance(&state, &auth).await?;
    let mut conn = state.db.read().await?;
    let row = projects::find(&mut conn, path.into_inner())
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(HttpResponse::Ok().json(row.view()))
}

/// Change a project
///
/// `PATCH /api/v1/admin/projects/{id}` `{name?, self_registration?, settings?}` →
/// [`ProjectView`]; 404; 409 `name_taken`; `settings` is a JSON Merge Patch (RFC 7396) of the
/// project's settings ([`crate::project_settings`]).
#[utoipa::path(
    patch, path = "/api/v1/admin/projects/{id}", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body = UpdateProjectBody,
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 400, description = "`validation_failed`: a bad name or settings patch", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an instance admin", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
        (status = 409, description = "`name_taken`", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    body: Json<UpdateProjectBody>,
) -> Result<HttpResponse, AppError> {
    check_instance(&state, &auth).await?;
    let body = body.into_inner();
    let id = path.into_inner();
    let settings = match &body.settings {
        Some(patch) => Some(super::project_settings::patched(&state, id, patch).await?),
        None => None,
    };
    let change = ProjectChange {
        id,
        name: body.name.as_deref().map(ProjectName::parse).transpose()?,
        self_registration: body.self_registration,
        settings: settings.map(|s| s.to_stored()),
    };
    let row = state.write(UpdateProject { change }, "project").await?;
    super::project_settings::publish(&state, &row)?;
    Ok(HttpResponse::Ok().json(row.view()))
}

/// Delete a project and all its data
///
/// `DELETE /api/v1/admin/projects/{id}` `{confirm}` (the project's name) → 204. Removes the
/// project and all its data (users, conversations, messages, uploads and their files, tokens)
/// and closes its users' open sessions (4003). The default project (1) cannot be deleted.
#[utoipa::path(
    delete, path = "/api/v1/admin/projects/{id}", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body = DeleteProjectBody,
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`validation_failed`: `confirm` is not the project's name, or the default project", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an instance admin", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    body: Json<DeleteProjectBody>,
) -> Result<HttpResponse, AppError> {
    check_instance(&state, &auth).await?;
    let id = path.into_inner();
    let removed = state
        .write(
            DeleteProject {
                id,
                confirm: body.into_inner().confirm,
            },
            "project",
        )
        .await?;
    for user_id in &removed.users {
        state.presence.do_send(EndSessions {
            user_id: *user_id,
            end: EndSession::ACCOUNT_CHANGED,
        });
    }
    let root = state.settings.uploads.dir.clone();
    let orphans = removed.orphans;
    web::block(move || crate::uploads::remove_orphans(&root, &orphans))
        .await
        .map_err(AppError::internal)?;
    tracing::info!(project_id = %id, users = removed.users.len(), by = %auth.id, "project deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// This node's live counts
///
/// `GET /api/v1/admin/stats` (instance admins) → [`NodeStatsView`]: this node's open
/// sessions, users online, live rooms and messages stored, for the console's dashboard.
#[utoipa::path(
    get, path = "/api/v1/admin/stats", tag = "projects",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "This node's counts", body = NodeStatsView),
        (status = 403, description = "`forbidden`: not an instance admin", body = ErrorEnvelope),
    )
)]
pub async fn stats(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    check_instance(&state, &auth).await?;
    let online = state.presence.send(CountOnline).await?;
    let rooms = state.rooms.send(CountRooms).await?;
    Ok(HttpResponse::Ok().json(NodeStatsView {
        connections: online.sessions,
        users_online: online.users,
        rooms,
        messages_per_minute: state.stats.messages_per_minute(),
        messages_stored: state.stats.stored_total(),
        uptime_s: state.stats.uptime_s(),
    }))
}
