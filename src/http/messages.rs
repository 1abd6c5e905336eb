//! `/api/v1/conversations/{id}/messages`: history pages and REST sends.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::actors::room::PostMessage;
use crate::actors::room_registry::send_to_room;
use crate::auth::AuthUser;
use crate::chat;
use crate::db::models::MessageView;
use crate::db::queries::messages::{self, PageRequest};
use crate::domain::{ConversationId, MessageContent, MessageId, UploadId, validate_client_msg_id};
use crate::error::AppError;
use crate::http::conversations::visible;
use crate::http::extract::{Json, Query};
use crate::startup::AppState;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size; larger requests are clamped.
pub const MAX_LIMIT: i64 = 200;

/// Query of `GET .../messages`: `limit`, `before_seq`, `after_seq`.
#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    before_seq: Option<i64>,
    #[serde(default)]
    after_seq: Option<i64>,
}

/// Body of `POST .../messages`: `{content, client_msg_id?, attachment_id?}`.
#[derive(Deserialize)]
pub struct SendBody {
    #[serde(default)]
    content: String,
    #[serde(default)]
    client_msg_id: Option<String>,
    #[serde(default)]
    attachment_id: Option<UploadId>,
}

/// `GET /api/v1/conversations/{id}/messages?limit=&before_seq=&after_seq=` → messages
/// ascending by seq. `limit` defaults to 50 and is clamped to 200; `before_seq=N` gives the
/// newest `limit` with seq < N, `after_seq=N` the oldest `limit` with seq > N.
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit < 1 {
        return Err(AppError::Validation("limit: must be at least 1".into()));
    }
    visible(&state, &auth, id).await?;
    let mut conn = state.db.read().await?;
    let rows = messages::page(
        &mut conn,
        id,
        PageRequest {
            before_seq: query.before_seq,
            after_seq: query.after_seq,
            limit: limit.min(MAX_LIMIT),
        },
    )
    .await?;
    let views: Vec<MessageView> = rows.iter().map(|row| row.view()).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// `POST /api/v1/conversations/{id}/messages` → 201 message. Same path as a WebSocket send:
/// through the conversation's room actor, same validation, rate limit and broadcast.
pub async fn send(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<SendBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let content = MessageContent::parse_with_attachment(
        &body.content,
        state.settings.limits.message_max_chars,
        body.attachment_id.is_some(),
    )?;
    let post = PostMessage {
        sender_id: auth.id,
        sender_role: auth.role,
        content: content.into_inner(),
        client_msg_id: validate_client_msg_id(body.client_msg_id)?,
        attachment_id: body.attachment_id,
        origin: None,
    };
    let message = send_to_room(&state.rooms, id, post).await??;
    Ok(super::created(&message))
}

/// Body of `PATCH /api/v1/messages/{id}`: `{content}`.
#[derive(Deserialize)]
pub struct EditBody {
    content: String,
}

/// `PATCH /api/v1/messages/{id}` `{content}` → 200 the edited message (sender only; 403 for
/// others, 409 `message_deleted` for a deleted one). Joined sessions get `message:updated`.
pub async fn edit(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<MessageId>,
    body: Json<EditBody>,
) -> Result<HttpResponse, AppError> {
    let message = chat::change_message(
        &state,
        auth.id,
        auth.role,
        path.into_inner(),
        Some(&body.content),
    )
    .await?;
    Ok(HttpResponse::Ok().json(message))
}

/// `DELETE /api/v1/messages/{id}` → 200 the tombstone (sender, or an agent or admin; 403 for
/// others). Joined sessions get `message:deleted`. Deleting twice changes nothing.
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let message = chat::change_message(&state, auth.id, auth.role, path.into_inner(), None).await?;
    Ok(HttpResponse::Ok().json(message))
}
