//! Labels over REST: the project's labels (`GET|POST /api/v1/desk/labels`,
//! `PATCH|DELETE /api/v1/desk/labels/{id}`) and a conversation's
//! (`POST|DELETE /api/v1/conversations/{id}/labels/{label}`). Agents and admins.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::lists::team_only;
use crate::actors::desk::{LabelConversation, WriteLabel};
use crate::auth::AuthUser;
use crate::db::queries::desk::{self, LabelChange, LabelView};
use crate::domain::ConversationId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::conversations::authorized;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::{Action, DeskAction};

/// `GET /api/v1/desk/labels` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LabelsQuery {
    /// Only labels with ids above this (the previous page's last).
    pub after: Option<i64>,
    /// Page size, 1–200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Body of `POST /api/v1/desk/labels`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "billing", "color": "#ff8800"}))]
pub struct NewLabel {
    /// 1–64 characters once trimmed, unique in the project (case-sensitive).
    pub title: String,
    /// At most 1000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// `#rrggbb`.
    #[serde(default)]
    pub color: Option<String>,
}

/// Body of `PATCH /api/v1/desk/labels/{id}`: the fields to change (null clears
/// `description` or `color`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"color": null}))]
pub struct LabelPatch {
    /// As in creation.
    #[serde(default)]
    pub title: Option<String>,
    /// As in creation; null clears it.
    #[serde(default, deserialize_with = "crate::http::room_info::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// As in creation; null clears it.
    #[serde(default, deserialize_with = "crate::http::room_info::present")]
    #[schema(value_type = Option<String>)]
    pub color: Option<Option<String>>,
}

/// A conversation's labels.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationLabels {
    /// Their titles, ascending.
    pub labels: Vec<String>,
}

/// A trimmed title, or `validation_failed`.
fn title(raw: &str) -> Result<String, AppError> {
    let title = raw.trim();
    if (1..=64).contains(&title.chars().count()) && !title.contains('\0') {
        Ok(title.to_owned())
    } else {
        Err(AppError::Validation("title: 1 to 64 characters".into()))
    }
}

/// A description, or `validation_failed`.
fn description(raw: Option<String>) -> Result<Option<String>, AppError> {
    match raw {
        Some(text) if text.chars().count() > 1000 || text.contains('\0') => Err(
            AppError::Validation("description: at most 1000 characters".into()),
        ),
        other => Ok(other),
    }
}

/// A `#rrggbb` color (lowercased), or `validation_failed`.
fn color(raw: Option<String>) -> Result<Option<String>, AppError> {
    match raw {
        None => Ok(None),
        Some(c)
            if c.len() == 7
                && c.starts_with('#')
                && c[1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(c.to_ascii_lowercase()))
        }
        Some(_) => Err(AppError::Validation("color: #rrggbb or null".into())),
    }
}

/// The project's labels
///
/// `GET /api/v1/desk/labels?after=&limit=` → 200 `[{id, title, description, color,
/// created_at}]` by id. Agents and admins.
#[utoipa::path(
    get, path = "/api/v1/desk/labels", tag = "desk",
    security(("bearer" = [])),
    params(LabelsQuery),
    responses(
        (status = 200, description = "Labels by id", body = Vec<LabelView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<LabelsQuery>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let limit = crate::http::paging::size(query.limit, 100, 200)?;
    let mut conn = state.db.read().await?;
    let rows =
        desk::list_labels(&mut conn, auth.project_id, query.after.unwrap_or(0), limit).await?;
    let views: Vec<LabelView> = rows.iter().map(desk::LabelRow::view).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Create a label
///
/// `POST /api/v1/desk/labels` `{title, description?, color?}` → 201 the label. Agents and
/// admins.
#[utoipa::path(
    post, path = "/api/v1/desk/labels", tag = "desk",
    security(("bearer" = [])),
    request_body = NewLabel,
    responses(
        (status = 201, description = "The label", body = LabelView),
        (status = 400, description = "`validation_failed`: a bad `title`, `description` or `color`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the title is taken in the project", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<NewLabel>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let body = body.into_inner();
    let change = LabelChange::Create {
        title: title(&body.title)?,
        description: description(body.description)?,
        color: color(body.color)?,
    };
    Ok(HttpResponse::Created().json(write(&state, &auth, change).await?))
}

/// Change a label
///
/// `PATCH /api/v1/desk/labels/{id}` `{title?, description?, color?}` → 200 the label. Agents
/// and admins.
#[utoipa::path(
    patch, path = "/api/v1/desk/labels/{id}", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Label id")),
    request_body = LabelPatch,
    responses(
        (status = 200, description = "The label", body = LabelView),
        (status = 400, description = "`validation_failed`: a bad `title`, `description` or `color`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such label in the project", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: the title is taken in the project", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Json<LabelPatch>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let body = body.into_inner();
    let change = LabelChange::Update {
        id: path.into_inner(),
        title: body.title.as_deref().map(title).transpose()?,
        description: body.description.map(description).transpose()?,
        color: body.color.map(color).transpose()?,
    };
    Ok(HttpResponse::Ok().json(write(&state, &auth, change).await?))
}

/// Delete a label
///
/// `DELETE /api/v1/desk/labels/{id}` → 204; it leaves every conversation that carried it.
/// Agents and admins.
#[utoipa::path(
    delete, path = "/api/v1/desk/labels/{id}", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Label id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such label in the project", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let change = LabelChange::Delete {
        id: path.into_inner(),
    };
    write(&state, &auth, change).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Runs `change` through the writer: the label's view (`None` after a deletion).
async fn write(
    state: &AppState,
    auth: &AuthUser,
    change: LabelChange,
) -> Result<Option<LabelView>, AppError> {
    let write = WriteLabel {
        project_id: auth.project_id,
        change,
    };
    let row = state.write(write, "label").await?;
    Ok(row.as_ref().map(desk::LabelRow::view))
}

/// Label a conversation
///
/// `POST /api/v1/conversations/{id}/labels/{label}` (the title, URL-encoded) → 200
/// `{labels}`; makes the label in the project when it has none of that title; idempotent.
/// Agents and admins, on support conversations.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/labels/{label}", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"),
           ("label" = String, Path, description = "The label's title")),
    responses(
        (status = 200, description = "The conversation's labels", body = ConversationLabels),
        (status = 400, description = "`validation_failed`: a bad title", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers, or not a support conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn add(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, String)>,
) -> Result<HttpResponse, AppError> {
    label(state, auth, path, true).await
}

/// Unlabel a conversation
///
/// `DELETE /api/v1/conversations/{id}/labels/{label}` → 200 `{labels}`. Agents and admins,
/// on support conversations.
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}/labels/{label}", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"),
           ("label" = String, Path, description = "The label's title")),
    responses(
        (status = 200, description = "The conversation's labels", body = ConversationLabels),
        (status = 403, description = "`forbidden`: customers, or not a support conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or it does not carry the label", body = ErrorEnvelope),
    )
)]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, String)>,
) -> Result<HttpResponse, AppError> {
    label(state, auth, path, false).await
}

async fn label(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, String)>,
    add: bool,
) -> Result<HttpResponse, AppError> {
    let (id, raw) = path.into_inner();
    authorized(&state, &auth, id, Action::Desk(DeskAction::Label)).await?;
    let write = LabelConversation {
        project_id: auth.project_id,
        conversation_id: id,
        title: title(&raw)?,
        add,
    };
    let labels = state.write(write, "label").await?;
    Ok(HttpResponse::Ok().json(ConversationLabels { labels }))
}
