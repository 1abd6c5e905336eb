//! API keys: project admins create, list and revoke them (`/api/v1/projects/{id}/api-keys`),
//! and the [`ApiCaller`] extractor authenticates server API calls with one
//! (docs/SERVER_API.md).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;

use crate::actors::db_writer::{CreateApiKey, RevokeApiKey, TouchApiKey};
use crate::api::{AfterIdQuery, ApiKeyCreated, ApiKeyView, CreateApiKeyBody};
use crate::auth::{AuthUser, api_key};
use crate::db::models::NewApiKey;
use crate::db::queries::{api_keys, projects};
use crate::domain::{ProjectId, ProjectName, Scope, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::current_user;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::{self, KeyFacts};

/// How stale `last_used_at` may get before a request records its use again.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// A server API caller, proven by an unrevoked API key (`Authorization: Bearer pk_...` or
/// `X-API-Key`). Revocation takes effect on the next request: every request looks the key up.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The key's id.
    pub key_id: i64,
    /// The project it acts for.
    pub project_id: ProjectId,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

impl ApiCaller {
    /// Asks the policy whether this key may make a call needing `scope` on something of
    /// `project` (`what` names it in a 404).
    ///
    /// # Errors
    /// 403 `forbidden` outside the key's scopes, 404 for another project's things.
    pub fn check(
        &self,
        scope: Scope,
        project: ProjectId,
        what: &'static str,
    ) -> Result<(), AppError> {
        let facts = KeyFacts {
            project_id: self.project_id,
            scopes: &self.scopes,
        };
        Ok(policy::check_key(&facts, scope, project, what)?)
    }
}

impl FromRequest for ApiCaller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = api_key::presented(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| AppError::internal(anyhow::anyhow!("app state missing")))?;
            let key = key.ok_or_else(|| {
                AppError::Unauthorized(
                    "an API key is required: Authorization: Bearer pk_... or X-API-Key".into(),
                )
            })?;
            let row = {
                let mut conn = state.db.read().await?;
                api_keys::find_active(&mut conn, &api_key::digest(&key)).await?
            }
            .ok_or_else(|| AppError::Unauthorized("unknown or revoked API key".into()))?;
            let now = crate::db::now();
            if row.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
                state.writer.do_send(TouchApiKey {
                    id: row.id,
                    at: now,
                });
            }
            Ok(Self {
                key_id: row.id,
                project_id: row.project_id,
                scopes: row.scopes(),
            })
        })
    }
}

/// Checks that the caller, as their account is now, may manage `project`'s keys, and that the
/// project exists.
pub(super) async fn check_manager(
    state: &AppState,
    auth: &AuthUser,
    project: ProjectId,
) -> Result<UserId, AppError> {
    let caller = current_user(state, auth).await?;
    policy::check_api_keys(&caller.account(), project)?;
    let mut conn = state.db.read().await?;
    if projects::find(&mut conn, project).await?.is_none() {
        return Err(AppError::not_found("project"));
    }
    Ok(caller.id)
}

/// Makes a key for `project`: the row to store and the answer that shows the key once.
///
/// # Errors
/// `validation_failed` for a bad name or scope.
pub fn new_key(
    project: ProjectId,
    name: &str,
    scopes: Option<&[String]>,
    created_by: Option<UserId>,
) -> Result<(NewApiKey, String), AppError> {
    // A key's label follows the rules of a project's name.
    let name = ProjectName::parse(name)?;
    let scopes = match scopes {
        Some(names) => Scope::parse_list(names)?,
        None => Scope::ALL.to_vec(),
    };
    let (key, prefix) = api_key::generate();
    let row = NewApiKey {
        project_id: project,
        name,
        prefix,
        key_hash: api_key::digest(&key),
        scopes: Scope::join(&scopes),
        created_by,
        created_at: crate::db::now(),
    };
    Ok((row, key))
}

/// The answer to a creation: the stored key's view and the secret.
pub fn created(row: &crate::db::models::ApiKeyRow, key: String) -> ApiKeyCreated {
    let view = row.view();
    ApiKeyCreated {
        id: view.id,
        name: view.name,
        key,
        prefix: view.prefix,
        scopes: view.scopes,
        created_at: view.created_at,
    }
}

/// Create an API key
///
/// `POST /api/v1/projects/{id}/api-keys` `{name, scopes?}` → 201 [`ApiKeyCreated`], the only
/// answer that shows the key.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/api-keys", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body = CreateApiKeyBody,
    responses(
        (status = 201, description = "The key, shown only here", body = ApiKeyCreated),
        (status = 400, description = "`validation_failed`: a bad name or scope", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    body: Json<CreateApiKeyBody>,
) -> Result<HttpResponse, AppError> {
    let project = path.into_inner();
    let by = check_manager(&state, &auth, project).await?;
    let body = body.into_inner();
    let (row, key) = new_key(project, &body.name, body.scopes.as_deref(), Some(by))?;
    let row = state.writer.send(CreateApiKey { key: row }).await??;
    tracing::info!(project_id = %project, key_id = row.id, by = %by, "API key created");
    Ok(HttpResponse::Created().json(created(&row, key)))
}

/// List API keys
///
/// `GET /api/v1/projects/{id}/api-keys?after_id=&limit=` → `[ApiKeyView]` (unrevoked keys,
/// ascending id, never the secrets).
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/api-keys", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), AfterIdQuery),
    responses(
        (status = 200, description = "Unrevoked keys, ascending id, without secrets", body = Vec<ApiKeyView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    query: Query<AfterIdQuery>,
) -> Result<HttpResponse, AppError> {
    let project = path.into_inner();
    check_manager(&state, &auth, project).await?;
    let limit = super::admin::page_limit(query.limit)?;
    let mut conn = state.db.read().await?;
    let rows = api_keys::page(&mut conn, project, query.after_id.unwrap_or(0), limit).await?;
    let views: Vec<ApiKeyView> = rows.iter().map(|r| r.view()).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Revoke an API key
///
/// `DELETE /api/v1/projects/{id}/api-keys/{key_id}` → 204: the key stops working on the next
/// request. Idempotent; 404 for a key of another project.
#[utoipa::path(
    delete, path = "/api/v1/projects/{id}/api-keys/{key_id}", tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), ("key_id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked (or was already)"),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project, or no such key of it", body = ErrorEnvelope),
    )
)]
pub async fn revoke(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ProjectId, i64)>,
) -> Result<HttpResponse, AppError> {
    let (project, id) = path.into_inner();
    let by = check_manager(&state, &auth, project).await?;
    state
        .write(
            RevokeApiKey {
                project_id: project,
                id,
            },
            "API key",
        )
        .await?;
    tracing::info!(project_id = %project, key_id = id, by = %by, "API key revoked");
    Ok(HttpResponse::NoContent().finish())
}
