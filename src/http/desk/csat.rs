//! Customer satisfaction over REST: `POST /api/v1/conversations/{id}/csat` (the customer
//! rates a resolved conversation, once per resolution) and `GET` (its ratings).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::announce;
use crate::actors::desk::Rate;
use crate::actors::room::DeskAnnounce;
use crate::auth::AuthUser;
use crate::db::queries::desk;
use crate::domain::ConversationId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::conversations::authorized;
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::policy::{Action, DeskAction};
use crate::protocol::CsatEvent;

/// Body of `POST /api/v1/conversations/{id}/csat`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": 5, "comment": "Quick and kind, thanks!"}))]
pub struct CsatBody {
    /// 1 (bad) to 5 (great).
    pub rating: i32,
    /// At most 1000 characters.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Rate a resolved conversation
///
/// `POST /api/v1/conversations/{id}/csat` `{rating, comment?}` → 201 `{conversation_id,
/// user_id, rating, comment, assignee_id, created_at}`. Its customer only, while it is
/// `resolved`, once per resolution. Announced as `csat` to the joined sessions; queues the
/// `csat.created` webhook event.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/csat", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = CsatBody,
    responses(
        (status = 201, description = "The rating", body = CsatEvent),
        (status = 400, description = "`validation_failed`: a rating outside 1–5, or a comment over 1000 characters", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the team, or not a support conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`conflict`: not resolved, or this resolution is rated already", body = ErrorEnvelope),
    )
)]
pub async fn rate(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<CsatBody>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (path.into_inner(), body.into_inner());
    if !(1..=5).contains(&body.rating) {
        return Err(AppError::Validation(
            "rating: an integer from 1 to 5".into(),
        ));
    }
    if body
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 1000 || c.contains('\0'))
    {
        return Err(AppError::Validation(
            "comment: at most 1000 characters".into(),
        ));
    }
    authorized(&state, &auth, id, Action::Desk(DeskAction::Rate)).await?;
    let write = Rate {
        project_id: auth.project_id,
        conversation_id: id,
        user_id: auth.id,
        rating: body.rating,
        comment: body.comment.filter(|c| !c.trim().is_empty()),
    };
    let (row, seq) = state.write(write, "conversation").await?;
    let data = row.event();
    announce(
        &state,
        DeskAnnounce::Csat {
            data: data.clone(),
            seq,
        },
    )
    .await;
    tracing::info!(conversation_id = %id, user_id = %auth.id, rating = row.rating, "rated");
    Ok(HttpResponse::Created().json(data))
}

/// A conversation's ratings
///
/// `GET /api/v1/conversations/{id}/csat` → 200 its ratings, newest first (at most 100, one
/// per resolution). Agents, admins and its customer.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/csat", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "Its ratings, newest first", body = Vec<CsatEvent>),
        (status = 403, description = "`forbidden`: not a support conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let action = if auth.role.is_staff() {
        DeskAction::Label
    } else {
        DeskAction::Rate
    };
    authorized(&state, &auth, id, Action::Desk(action)).await?;
    let mut conn = state.db.read().await?;
    let rows = desk::ratings(&mut conn, id, 100).await?;
    let events: Vec<CsatEvent> = rows.iter().map(desk::CsatRow::event).collect();
    Ok(HttpResponse::Ok().json(events))
}
