//! Canned responses over REST: `GET|POST /api/v1/desk/canned`,
//! `PATCH|DELETE /api/v1/desk/canned/{id}`. Agents and admins of the project; `/short_code`
//! in their messages to support conversations expands to the content when stored.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::lists::team_only;
use crate::actors::desk::WriteCanned;
use crate::auth::AuthUser;
use crate::db::queries::desk::{self, CannedChange, CannedView};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;

/// `GET /api/v1/desk/canned` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CannedQuery {
    /// Only short codes starting with this (case-insensitive).
    pub q: Option<String>,
    /// Only short codes after this one (the previous page's last).
    pub after: Option<String>,
    /// Page size, 1–200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Body of `POST /api/v1/desk/canned`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"short_code": "greet", "content": "Hello! How can I help?"}))]
pub struct NewCanned {
    /// 1–32 characters of `[a-z0-9_-]` (uppercase is lowered), unique in the project.
    pub short_code: String,
    /// 1 to `limits.message_max_chars` characters.
    pub content: String,
}

/// Body of `PATCH /api/v1/desk/canned/{id}`: the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content": "Hi there! How can I help?"}))]
pub struct CannedPatch {
    /// As in creation.
    pub short_code: Option<String>,
    /// As in creation.
    pub content: Option<String>,
}

/// The lowercase short code, or `validation_failed`.
fn short_code(raw: &str) -> Result<String, AppError> {
    let code = raw.to_lowercase();
    let ok = (1..=32).contains(&code.chars().count())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(code)
    } else {
        Err(AppError::Validation(
            "short_code: 1 to 32 characters of a-z, 0-9, _ and -".into(),
        ))
    }
}

/// The content, or `validation_failed`.
fn content(state: &AppState, raw: String) -> Result<String, AppError> {
    let max = state.settings.limits.message_max_chars;
    let n = raw.trim().chars().count();
    if n == 0 || raw.chars().count() > max || raw.contains('\0') {
        return Err(AppError::Validation(format!(
            "content: 1 to {max} characters"
        )));
    }
    Ok(raw)
}

/// The project's canned responses
///
/// `GET /api/v1/desk/canned?q=&after=&limit=` → 200 `[{id, short_code, content, created_by,
/// created_at, updated_at}]` by short code; `q` keeps the short codes starting with it; the
/// next page starts `after` the last short code. Agents and admins.
#[utoipa::path(
    get, path = "/api/v1/desk/canned", tag = "desk",
    security(("bearer" = [])),
    params(CannedQuery),
    responses(
        (status = 200, description = "Canned responses by short code", body = Vec<CannedView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<CannedQuery>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let limit = crate::http::paging::size(query.limit, 100, 200)?;
    let prefix = query.q.as_deref().map(str::to_lowercase);
    let mut conn = state.db.read().await?;
    let rows = desk::list_canned(
        &mut conn,
        auth.project_id,
        prefix.as_deref().filter(|p| !p.is_empty()),
        query.after.as_deref(),
        limit,
    )
    .await?;
    let views: Vec<CannedView> = rows.iter().map(desk::CannedRow::view).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Create a canned response
///
/// `POST /api/v1/desk/canned` `{short_code, content}` → 201 the canned response. Agents and
/// admins.
#[utoipa::path(
    post, path = "/api/v1/desk/canned", tag = "desk",
    security(("bearer" = [])),
    request_body = NewCanned,
    responses(
        (status = 201, description = "The canned response", body = CannedView),
        (status = 400, description = "`validation_failed`: a bad `short_code` or `content`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the short code is taken in the project", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<NewCanned>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let body = body.into_inner();
    let change = CannedChange::Create {
        short_code: short_code(&body.short_code)?,
        content: content(&state, body.content)?,
    };
    let row = write(&state, &auth, change).await?;
    Ok(HttpResponse::Created().json(row))
}

/// Change a canned response
///
/// `PATCH /api/v1/desk/canned/{id}` `{short_code?, content?}` → 200 the canned response.
/// Agents and admins.
#[utoipa::path(
    patch, path = "/api/v1/desk/canned/{id}", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Canned response id")),
    request_body = CannedPatch,
    responses(
        (status = 200, description = "The canned response", body = CannedView),
        (status = 400, description = "`validation_failed`: a bad `short_code` or `content`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such canned response in the project", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the short code is taken in the project", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Json<CannedPatch>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let body = body.into_inner();
    let change = CannedChange::Update {
        id: path.into_inner(),
        short_code: body.short_code.as_deref().map(short_code).transpose()?,
        content: body.content.map(|c| content(&state, c)).transpose()?,
    };
    let row = write(&state, &auth, change).await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Delete a canned response
///
/// `DELETE /api/v1/desk/canned/{id}` → 204. Agents and admins.
#[utoipa::path(
    delete, path = "/api/v1/desk/canned/{id}", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Canned response id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such canned response in the project", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let change = CannedChange::Delete {
        id: path.into_inner(),
    };
    write(&state, &auth, change).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Runs `change` through the writer: the row's view (`None` after a deletion).
async fn write(
    state: &AppState,
    auth: &AuthUser,
    change: CannedChange,
) -> Result<Option<CannedView>, AppError> {
    let write = WriteCanned {
        project_id: auth.project_id,
        by: auth.id,
        change,
    };
    let row = state.write(write, "canned response").await?;
    Ok(row.as_ref().map(desk::CannedRow::view))
}
