//! The desk's lists and the agent's availability: `GET /api/v1/desk/queue`,
//! `GET /api/v1/desk/agents`, `PUT /api/v1/desk/availability`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::actors::desk::WriteAvailability;
use crate::auth::AuthUser;
use crate::db::queries::desk::{self, AgentView, Assignee, QueueCursor, QueuePage};
use crate::db::queries::{conversations, users};
use crate::domain::{Availability, ConversationStatus, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;

/// The support team only: agents and admins.
pub(super) fn team_only(auth: &AuthUser) -> Result<(), AppError> {
    if auth.role.is_staff() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only agents and admins use the desk".into(),
        ))
    }
}

/// `GET /api/v1/desk/queue` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `open` (default), `pending`, `snoozed`, `resolved` or `all`.
    pub status: Option<String>,
    /// `me`, `none` (unassigned) or `any` (default).
    pub assignee: Option<String>,
    /// Only conversations with the label of this title.
    pub label: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The cursor from the previous page's `Link` header.
    pub cursor: Option<String>,
}

/// The desk's queue
///
/// `GET /api/v1/desk/queue?status=&assignee=me|none|any&label=&limit=&cursor=` → the project's
/// support conversations, the longest waiting first (`waiting_since`, the oldest customer
/// message without a public reply of the team; conversations nobody waits on follow). Agents
/// and admins. A `Link: <...>; rel="next"` header (RFC 8288) gives the next page.
#[utoipa::path(
    get, path = "/api/v1/desk/queue", tag = "desk",
    security(("bearer" = [])),
    params(QueueQuery),
    responses(
        (status = 200, description = "Support conversations, the longest waiting first", body = Vec<crate::api::ConversationView>,
            headers(("link" = String, description = "`<...?cursor=...>; rel=\"next\"` (RFC 8288) when there may be more"))),
        (status = 400, description = "`validation_failed`: a bad `status`, `assignee`, `limit` or `cursor`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
    )
)]
pub async fn queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let limit = super::super::paging::size(query.limit, 50, 200)?;
    let status = match query.status.as_deref().unwrap_or("open") {
        "all" => None,
        "open" => Some(ConversationStatus::Open),
        "pending" => Some(ConversationStatus::Pending),
        "snoozed" => Some(ConversationStatus::Snoozed),
        "resolved" => Some(ConversationStatus::Resolved),
        _ => {
            return Err(AppError::Validation(
                "status: open, pending, snoozed, resolved or all".into(),
            ));
        }
    };
    let assignee = match query.assignee.as_deref().unwrap_or("any") {
        "me" => Assignee::User(auth.id),
        "none" => Assignee::Nobody,
        "any" => Assignee::Any,
        _ => return Err(AppError::Validation("assignee: me, none or any".into())),
    };
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            QueueCursor::decode(raw)
                .ok_or_else(|| AppError::Validation("cursor: not a cursor of this list".into()))?,
        ),
    };
    let page = QueuePage {
        status,
        assignee,
        label: query.label.clone(),
        after,
        limit,
    };
    let mut conn = state.db.read().await?;
    let (rows, next) = desk::queue(&mut conn, auth.project_id, &page).await?;
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let mut members = conversations::participants_of_many(&mut conn, &ids).await?;
    let views = rows
        .iter()
        .map(|row| row.view(members.remove(&row.id).unwrap_or_default()))
        .collect();
    let views =
        conversations::with_receipts(&mut conn, (auth.id, true), &state.links, views).await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = next {
        let mut params = form_urlencoded::Serializer::new(String::new());
        params.append_pair("cursor", &next.encode());
        params.append_pair("limit", &limit.to_string());
        for (key, value) in [
            ("status", query.status.as_deref()),
            ("assignee", query.assignee.as_deref()),
            ("label", query.label.as_deref()),
        ] {
            if let Some(value) = value {
                params.append_pair(key, value);
            }
        }
        let link = format!("</api/v1/desk/queue?{}>; rel=\"next\"", params.finish());
        response.insert_header(("link", link));
    }
    Ok(response.json(views))
}

/// `GET /api/v1/desk/agents` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AgentsQuery {
    /// Only agents with ids above this (the previous page's last).
    pub after: Option<i64>,
    /// Page size, 1–200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The support team
///
/// `GET /api/v1/desk/agents?after=&limit=` → the project's enabled agents and admins by id,
/// each with their availability and open conversations. Agents and admins.
#[utoipa::path(
    get, path = "/api/v1/desk/agents", tag = "desk",
    security(("bearer" = [])),
    params(AgentsQuery),
    responses(
        (status = 200, description = "Agents and admins, by id", body = Vec<AgentView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
    )
)]
pub async fn agents(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<AgentsQuery>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    let limit = super::super::paging::size(query.limit, 100, 200)?;
    let mut conn = state.db.read().await?;
    let list = desk::agents(&mut conn, auth.project_id, query.after.unwrap_or(0), limit).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Body of `PUT /api/v1/desk/availability`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "online"}))]
pub struct AvailabilityBody {
    /// `online` (takes new conversations), `busy` or `offline`.
    pub status: Availability,
}

/// An agent's availability.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AvailabilityView {
    /// The agent.
    pub user_id: UserId,
    /// `online`, `busy` or `offline`.
    pub status: Availability,
}

/// Set your availability
///
/// `PUT /api/v1/desk/availability` `{status}` → 200 `{user_id, status}`. Agents and admins;
/// `online` agents take new support conversations (auto-assignment). Presence sets `offline`
/// when the agent's last session ends.
#[utoipa::path(
    put, path = "/api/v1/desk/availability", tag = "desk",
    security(("bearer" = [])),
    request_body = AvailabilityBody,
    responses(
        (status = 200, description = "The availability set", body = AvailabilityView),
        (status = 400, description = "`validation_failed`: not online, busy or offline", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers", body = ErrorEnvelope),
    )
)]
pub async fn availability(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<AvailabilityBody>,
) -> Result<HttpResponse, AppError> {
    team_only(&auth)?;
    // The role in the token may be stale: ask the database.
    {
        let mut conn = state.db.read().await?;
        let user = users::find(&mut conn, auth.id)
            .await?
            .ok_or_else(|| AppError::Unauthorized("the account is gone".into()))?;
        if !user.role().is_staff() {
            return Err(AppError::Forbidden(
                "only agents and admins use the desk".into(),
            ));
        }
    }
    let write = WriteAvailability {
        project_id: auth.project_id,
        user_id: auth.id,
        availability: body.status,
    };
    state.writer.send(write).await??;
    Ok(HttpResponse::Ok().json(AvailabilityView {
        user_id: auth.id,
        status: body.status,
    }))
}
