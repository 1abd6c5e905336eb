//! Receipts over REST: `POST /api/v1/conversations/{id}/read` moves the caller's read
//! watermark through the room, and `GET /api/v1/unread` counts what they have not read.

use actix_web::{HttpResponse, web};

use crate::actors::room::MarkReceipt;
use crate::actors::room_registry::send_to_room;
use crate::api::{ReadBody, UnreadCounts, Watermarks};
use crate::auth::AuthUser;
use crate::db::queries::participants;
use crate::domain::{ConversationId, ReceiptKind};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::state::AppState;

/// Mark messages read
///
/// `POST /api/v1/conversations/{id}/read` `{seq}` → 200 the caller's watermarks
/// `{conversation_id, user_id, last_delivered_seq, last_read_seq}`. Moves the read watermark
/// forward (never back; clamped to the last seq) and tells the joined sessions `message:read`.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/read", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = ReadBody,
    responses(
        (status = 200, description = "The caller's watermarks", body = Watermarks),
        (status = 403, description = "`forbidden`: not a participant", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn read(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<ReadBody>,
) -> Result<HttpResponse, AppError> {
    let mark = MarkReceipt {
        actor: auth.actor(),
        kind: ReceiptKind::Read,
        seq: body.seq,
        session_id: None,
    };
    let watermarks = send_to_room(&state.rooms, path.into_inner(), mark).await??;
    Ok(HttpResponse::Ok().json(watermarks))
}

/// Count unread messages
///
/// `GET /api/v1/unread` → `{"total": N, "conversations": {"<id>": n}, "total_mentions": M,
/// "unread_mentions": {"<id>": m}}` over the caller's conversations, computed from the read
/// watermarks.
#[utoipa::path(
    get, path = "/api/v1/unread", tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unread counts over the caller's conversations", body = UnreadCounts),
    )
)]
pub async fn unread(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    let mut conn = state.db.read().await?;
    let rows = participants::unread(&mut conn, (auth.id, auth.role.is_staff()), None).await?;
    let mentions = crate::db::queries::extras::unread_mentions(&mut conn, auth.id, None).await?;
    let mentions_of = |r: &participants::Unread| mentions.get(&r.conversation_id).map_or(0, |m| *m);
    Ok(HttpResponse::Ok().json(UnreadCounts {
        total: rows.iter().map(|r| r.unread).sum(),
        conversations: rows
            .iter()
            .map(|r| (r.conversation_id.to_string(), r.unread))
            .collect(),
        total_mentions: rows.iter().map(mentions_of).sum(),
        unread_mentions: rows
            .iter()
            .map(|r| (r.conversation_id.to_string(), mentions_of(r)))
            .collect(),
    }))
}
