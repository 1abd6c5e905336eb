//! Reactions and pins over REST: `POST`/`DELETE /api/v1/messages/{id}/reactions/{emoji}`,
//! `POST`/`DELETE /api/v1/messages/{id}/pin` and `GET /api/v1/conversations/{id}/pins`. The
//! writes go through the message's room, like their WebSocket twins (`reaction:add`,
//! `reaction:remove`): same policy, same events. docs/PROTOCOL.md §3.

use actix_web::{HttpResponse, web};

use super::resource;
use crate::actors::room::Annotate;
use crate::actors::room_registry::{locate, send_to_room};
use crate::api::{MessageView, PinView, PinsQuery};
use crate::auth::AuthUser;
use crate::db::models::MessageRow;
use crate::db::queries::extras;
use crate::db::queries::messages::Annotation;
use crate::domain::{ConversationId, Emoji, MessageId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::conversations::authorized;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::policy::Action;

/// Default page size of the pins list.
pub const DEFAULT_PINS: i64 = 50;
/// Largest page size of the pins list (also the most pins a conversation may hold).
pub const MAX_PINS_PAGE: i64 = 100;

/// Registers the routes of this module (inside the `/api/v1` scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/messages/{id}/reactions/{emoji}")
            .route(web::post().to(react))
            .route(web::delete().to(unreact)),
    )
    .service(
        resource("/messages/{id}/pin")
            .route(web::post().to(pin))
            .route(web::delete().to(unpin)),
    )
    .service(resource("/conversations/{id}/pins").route(web::get().to(pins)));
}

/// Sends `annotation` of message `id` through its conversation's room.
async fn annotate(
    state: &AppState,
    auth: &AuthUser,
    message_id: MessageId,
    annotation: Annotation,
) -> Result<MessageView, AppError> {
    let location = locate(&state.rooms, message_id).await?;
    let msg = Annotate {
        actor: auth.actor(),
        message_id,
        annotation,
        origin: None,
    };
    send_to_room(&state.rooms, location.conversation_id, msg).await?
}

/// The reaction of `POST`/`DELETE .../reactions/{emoji}`; the emoji is percent-decoded by the
/// router.
fn reaction(emoji: &str, add: bool) -> Result<Annotation, AppError> {
    let emoji = Emoji::parse(emoji)?.into_inner();
    Ok(Annotation::React { emoji, add })
}

/// React to a message
///
/// `POST /api/v1/messages/{id}/reactions/{emoji}` → 200 the message (with `reactions`, `me`
/// for the caller). Idempotent: reacting again answers the same and announces nothing. 400
/// for a bad emoji, 404 for a message the caller cannot see, 403 without
/// `RoomAction::React`, 409 `message_deleted`, `conversation_closed` or `limit_reached`.
#[utoipa::path(
    post, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id"), ("emoji" = String, Path, description = "The emoji or shortcode (1 to 32 bytes), percent-encoded")),
    responses(
        (status = 200, description = "The message, with `reactions` (`me` for the caller)", body = MessageView),
        (status = 400, description = "`validation_failed`: not an emoji or shortcode", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller's role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such message, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`message_deleted`, `conversation_closed`, or `limit_reached` (distinct emoji of a message)", body = ErrorEnvelope),
    )
)]
pub async fn react(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(MessageId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, emoji) = path.into_inner();
    let message = annotate(&state, &auth, id, reaction(&emoji, true)?).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Take a reaction back
///
/// `DELETE /api/v1/messages/{id}/reactions/{emoji}` → 200 the message. Idempotent: taking back
/// a reaction that is not there answers the message and announces nothing.
#[utoipa::path(
    delete, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id"), ("emoji" = String, Path, description = "The emoji or shortcode (1 to 32 bytes), percent-encoded")),
    responses(
        (status = 200, description = "The message", body = MessageView),
        (status = 400, description = "`validation_failed`: not an emoji or shortcode", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller's role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such message, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`message_deleted` or `conversation_closed`", body = ErrorEnvelope),
    )
)]
pub async fn unreact(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(MessageId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, emoji) = path.into_inner();
    let message = annotate(&state, &auth, id, reaction(&emoji, false)?).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Pin a message
///
/// `POST /api/v1/messages/{id}/pin` → 200 the message, `pinned: true` (`RoomAction::Pin`;
/// idempotent). 409 `limit_reached` past the conversation's pins.
#[utoipa::path(
    post, path = "/api/v1/messages/{id}/pin", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message, `pinned: true`", body = MessageView),
        (status = 403, description = "`forbidden`: the caller's role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such message, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`message_deleted`, `conversation_closed`, or `limit_reached` (the conversation's pins)", body = ErrorEnvelope),
    )
)]
pub async fn pin(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let pin = Annotation::Pin { add: true };
    let message = annotate(&state, &auth, path.into_inner(), pin).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Unpin a message
///
/// `DELETE /api/v1/messages/{id}/pin` → 200 the message, `pinned: false` (idempotent).
#[utoipa::path(
    delete, path = "/api/v1/messages/{id}/pin", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message, `pinned: false`", body = MessageView),
        (status = 403, description = "`forbidden`: the caller's role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such message, or the caller may not see it", body = ErrorEnvelope),
        (status = 409, description = "`message_deleted` or `conversation_closed`", body = ErrorEnvelope),
    )
)]
pub async fn unpin(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let unpin = Annotation::Pin { add: false };
    let message = annotate(&state, &auth, path.into_inner(), unpin).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// List pinned messages
///
/// `GET /api/v1/conversations/{id}/pins?cursor=&limit=` → 200 `[{cursor, pinned_by,
/// pinned_at, message}]`, newest pin first; the next page starts after the last one's
/// `cursor`. Whoever may read the history may read the pins (`Action::ReadHistory`; 404
/// otherwise). `limit` 1 to 100, default 50.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/pins", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), PinsQuery),
    responses(
        (status = 200, description = "Pins, newest first", body = Vec<PinView>),
        (status = 400, description = "`validation_failed`: `limit` outside 1 to 100", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not read it", body = ErrorEnvelope),
    )
)]
pub async fn pins(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<PinsQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    authorized(&state, &auth, id, Action::ReadHistory).await?;
    let limit = query.limit.unwrap_or(DEFAULT_PINS);
    if !(1..=MAX_PINS_PAGE).contains(&limit) {
        return Err(AppError::Validation(format!(
            "limit: must be between 1 and {MAX_PINS_PAGE}"
        )));
    }
    let mut conn = state.db.read().await?;
    let found = extras::pins_page(&mut conn, id, query.cursor, limit).await?;
    let rows: Vec<MessageRow> = found.iter().map(|(.., row)| row.clone()).collect();
    let more = extras::load(&mut conn, &rows, Some(auth.id)).await?;
    let mut messages = extras::views(rows, &state.links, more).into_iter();
    let pins: Vec<PinView> = found
        .into_iter()
        .filter_map(|(cursor, pinned_by, pinned_at, _)| {
            Some(PinView {
                cursor,
                pinned_by,
                pinned_at: pinned_at.and_utc(),
                message: messages.next()?,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(pins))
}
