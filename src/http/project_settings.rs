//! `GET/PATCH /api/v1/projects/{id}/settings`: a project's admins (and instance admins) read
//! and change the project's overrides of the server's configuration
//! ([`ProjectSettings`]). Changes take effect at once on every node: the registry here is
//! updated before the answer, the other nodes' through the cluster's global channel.

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::UpdateProject;
use crate::auth::AuthUser;
use crate::cluster::envelope::Event;
use crate::db::models::ProjectRow;
use crate::db::queries::projects::{self, ProjectChange};
use crate::domain::ProjectId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::api_keys::check_manager;
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::project_settings::ProjectSettings;

/// The settings of `project` after `patch` (RFC 7396), checked: what to store.
///
/// # Errors
/// `not_found` for an unknown project; `validation_failed` for a bad patch.
pub async fn patched(
    state: &AppState,
    project: ProjectId,
    patch: &serde_json::Value,
) -> Result<ProjectSettings, AppError> {
    let row = {
        let mut conn = state.db.read().await?;
        projects::find(&mut conn, project)
            .await?
            .ok_or_else(|| AppError::not_found("project"))?
    };
    Ok(ProjectSettings::from_stored(&row.settings).patched(patch, &state.settings)?)
}

/// Puts a stored change of `row`'s settings into effect: this node's registry now, the other
/// nodes' through the cluster.
///
/// # Errors
/// `unavailable` when the registry is full.
pub fn publish(state: &AppState, row: &ProjectRow) -> Result<(), AppError> {
    state
        .projects
        .set(row.id, ProjectSettings::from_stored(&row.settings))?;
    if let Some(cluster) = &state.cluster {
        cluster.publish(
            Event::ProjectSettings {
                project_id: row.id,
                settings: row.settings.clone(),
            },
            bytestring::ByteString::new(),
        );
    }
    Ok(())
}

/// Get a project's settings
///
/// `GET /api/v1/projects/{id}/settings` → the project's overrides (an object; absent fields
/// take the server's configuration). Project admins and instance admins; 404 for others'.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/settings", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project's overrides", body = ProjectSettings),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, AppError> {
    let project = path.into_inner();
    check_manager(&state, &auth, project).await?;
    let mut conn = state.db.read().await?;
    let row = projects::find(&mut conn, project)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(HttpResponse::Ok().json(ProjectSettings::from_stored(&row.settings)))
}

/// Change a project's settings
///
/// `PATCH /api/v1/projects/{id}/settings` with a JSON Merge Patch (RFC 7396) of the settings
/// → 200 the settings as they are now. 400 `validation_failed` names a bad field.
#[utoipa::path(
    patch, path = "/api/v1/projects/{id}/settings", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body(content = Object, description = "A JSON Merge Patch (RFC 7396) of `ProjectSettings`: `null` resets a field", example = json!({"upload_max_bytes": 2097152, "allowed_origins": ["https://shop.example"]})),
    responses(
        (status = 200, description = "The settings as they are now", body = ProjectSettings),
        (status = 400, description = "`validation_failed` names a bad field", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
        (status = 503, description = "`unavailable`: too many projects with settings of their own", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let project = path.into_inner();
    let by = check_manager(&state, &auth, project).await?;
    let settings = patched(&state, project, &body).await?;
    let change = ProjectChange {
        id: project,
        name: None,
        self_registration: None,
        settings: Some(settings.to_stored()),
    };
    let row = state.write(UpdateProject { change }, "project").await?;
    publish(&state, &row)?;
    tracing::info!(project_id = %project, by = %by, "project settings changed");
    Ok(HttpResponse::Ok().json(ProjectSettings::from_stored(&row.settings)))
}
