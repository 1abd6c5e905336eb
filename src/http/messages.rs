//! `/api/v1/conversations/{id}/messages` and `/api/v1/messages/{id}`: history pages, sends,
//! edits and deletions. Sends, edits and deletions go through the conversation's room, like
//! their WebSocket twins: same checks, same rate limit, same broadcast.

use actix_web::{HttpResponse, web};

use crate::actors::presence::online_for_here;
use crate::actors::room::PostMessage;
use crate::actors::room_registry::{locate, send_to_room};
use crate::api::{EditBody, MessageView, PageQuery, SendBody};
use crate::auth::AuthUser;
use crate::db::queries::extras;
use crate::db::queries::messages::{self, Change, PageRequest};
use crate::domain::{ConversationId, MessageContent, MessageId, UserId, validate_client_msg_id};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::conversations::authorized;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::Action;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size; larger requests are clamped.
pub const MAX_LIMIT: i64 = 200;

/// Read a page of history
///
/// `GET /api/v1/conversations/{id}/messages?limit=&before_seq=&after_seq=` → messages
/// ascending by seq. `limit` defaults to 50 and is clamped to 200; `before_seq=N` gives the
/// newest `limit` with seq < N, `after_seq=N` the oldest `limit` with seq > N.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), PageQuery),
    responses(
        (status = 200, description = "Messages ascending by seq", body = Vec<MessageView>),
        (status = 400, description = "`validation_failed`: `limit` below 1", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not read it", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    authorized(&state, &auth, id, Action::ReadHistory).await?;
    let notes = auth.role.is_staff();
    let page = history_page(&state, id, &query, (Some(auth.id), notes)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One page of conversation `id`'s history by the seq cursor, for a caller already allowed to
/// read it (the user endpoint above, and the server API's), reactions' `me` for `viewer`
/// (`None`: null), internal notes with `notes` (agents, admins, the project's backend).
///
/// # Errors
/// `validation_failed` for a `limit` below 1; the database unavailable.
pub async fn history_page(
    state: &AppState,
    id: ConversationId,
    query: &PageQuery,
    (viewer, notes): (Option<UserId>, bool),
) -> Result<Vec<MessageView>, AppError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit < 1 {
        return Err(AppError::Validation("limit: must be at least 1".into()));
    }
    let mut conn = state.db.read().await?;
    let request = PageRequest {
        before_seq: query.before_seq,
        after_seq: query.after_seq,
        limit: limit.min(MAX_LIMIT),
        notes,
    };
    let rows = messages::page(&mut conn, id, request).await?;
    Ok(extras::views_for(&mut conn, rows, viewer, &state.links).await?)
}

/// Send a message
///
/// `POST /api/v1/conversations/{id}/messages` → 201 message, answered after it is committed.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = SendBody,
    responses(
        (status = 201, description = "The stored message (a retry with the same `client_msg_id` answers the original)", body = MessageView),
        (status = 400, description = "`validation_failed`: empty or too long `content`, a bad `client_msg_id`, `attachment_id` or `reply_to`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not a participant, or not allowed to post here", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`conversation_closed`", body = ErrorEnvelope),
    )
)]
pub async fn send(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<SendBody>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (path.into_inner(), body.into_inner());
    let content = MessageContent::parse_with_attachment(
        &body.content,
        state.settings.limits.message_max_chars,
        body.attachment_id.is_some(),
    )?;
    let post = PostMessage {
        actor: auth.actor(),
        client_msg_id: validate_client_msg_id(body.client_msg_id)?,
        attachment_id: body.attachment_id,
        origin: None,
        system: false,
        reply_to: body.reply_to,
        online: online_for_here(&state.presence, id, content.as_str()).await?,
        private: body.private,
        content: content.into_inner(),
    };
    let message = send_to_room(&state.rooms, id, post).await??;
    Ok(super::created(&message))
}

/// Edits or deletes a message through its conversation's room.
async fn change(
    state: &AppState,
    auth: &AuthUser,
    message_id: MessageId,
    change: Change,
) -> Result<MessageView, AppError> {
    let location = locate(&state.rooms, message_id).await?;
    let online = match &change {
        Change::Edit(text) => {
            online_for_here(&state.presence, location.conversation_id, text).await?
        }
        Change::Delete => None,
    };
    let mut msg = location.change(auth.actor(), message_id, change, None);
    msg.online = online;
    send_to_room(&state.rooms, location.conversation_id, msg).await?
}

/// Edit a message
///
/// `PATCH /api/v1/messages/{id}` `{content}` → 200 the edited message (sender only; 403 for
/// others, 409 `message_deleted` for a deleted one). Joined sessions get `message:updated`.
#[utoipa::path(
    patch, path = "/api/v1/messages/{id}", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    request_body = EditBody,
    responses(
        (status = 200, description = "The edited message", body = MessageView),
        (status = 400, description = "`validation_failed`: empty or too long `content`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: only the sender edits", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such message, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`message_deleted` or `conversation_closed`", body = ErrorEnvelope),
    )
)]
pub async fn edit(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<MessageId>,
    body: Json<EditBody>,
) -> Result<HttpResponse, AppError> {
    let content = MessageContent::parse(&body.content, state.settings.limits.message_max_chars)?;
    let edit = Change::Edit(content.into_inner());
    let message = change(&state, &auth, path.into_inner(), edit).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Delete a message
///
/// `DELETE /api/v1/messages/{id}` → 200 the tombstone (sender, or an agent or admin; 403 for
/// others). Joined sessions get `message:deleted`. Deleting twice changes nothing.
#[utoipa::path(
    delete, path = "/api/v1/messages/{id}", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The tombstone", body = MessageView),
        (status = 403, description = "`forbidden`: neither the sender nor an agent or admin", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such message, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`conversation_closed`", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let message = change(&state, &auth, path.into_inner(), Change::Delete).await?;
    Ok(HttpResponse::Ok().json(message))
}
