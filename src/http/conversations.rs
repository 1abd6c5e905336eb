//! `/api/v1/conversations`: create, list, get, close.
//!
//! Visibility: participants and admins see a conversation; anyone else gets 404 (not 403), so
//! ids reveal nothing. Closing needs the agent or admin role on top of visibility.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::actors::db_writer::CreateConversation;
use crate::actors::room::{Close, MarkReceipt};
use crate::actors::room_registry::{Evict, send_to_room};
use crate::auth::AuthUser;
use crate::db::models::{ConversationRow, ConversationView};
use crate::db::queries::participants::ReceiptKind;
use crate::db::queries::{conversations, users};
use crate::domain::{ConversationId, Role, UserId};
use crate::error::AppError;
use crate::http::extract::Json;
use crate::startup::AppState;

/// Body of `POST /conversations`: `{participant_ids, title?}`.
#[derive(Deserialize)]
pub struct CreateBody {
    participant_ids: Vec<UserId>,
    #[serde(default)]
    title: Option<String>,
}

/// Loads a conversation the caller may see, with its participants.
///
/// # Errors
/// `not_found` when it does not exist or the caller is neither a participant nor an admin.
pub async fn visible(
    state: &AppState,
    auth: &AuthUser,
    id: ConversationId,
) -> Result<(ConversationRow, Vec<UserId>), AppError> {
    let mut conn = state.db.read().await?;
    let row = conversations::find(&mut conn, id)
        .await?
        .filter(|row| row.project_id == auth.project_id)
        .ok_or_else(|| AppError::not_found("conversation"))?;
    let members = conversations::participant_ids(&mut conn, id).await?;
    if auth.role != Role::Admin && !members.contains(&auth.id) {
        return Err(AppError::not_found("conversation"));
    }
    Ok((row, members))
}

/// `POST /api/v1/conversations` → 201 [`ConversationView`]. The creator is always a
/// participant; `kind` is `direct` for exactly two participants. Unknown ids → 400.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let title = match body.title.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) if t.chars().count() > 200 || t.chars().any(char::is_control) => {
            return Err(AppError::Validation(
                "title: at most 200 characters, no control characters".into(),
            ));
        }
        Some(t) => Some(t.to_string()),
    };
    let mut ids: BTreeSet<UserId> = body.participant_ids.into_iter().collect();
    ids.insert(auth.id);
    let max = state.settings.limits.max_participants;
    if ids.len() > max {
        return Err(AppError::Validation(format!(
            "participant_ids: at most {max} participants"
        )));
    }
    let ids: Vec<UserId> = ids.into_iter().collect();
    let existing: BTreeSet<UserId> = {
        let mut conn = state.db.read().await?;
        users::existing(&mut conn, auth.project_id, &ids)
            .await?
            .into_iter()
            .collect()
    };
    if let Some(unknown) = ids.iter().find(|id| !existing.contains(id)) {
        return Err(AppError::Validation(format!(
            "participant_ids: unknown user {unknown}"
        )));
    }
    let mut view = state
        .writer
        .send(CreateConversation {
            project_id: auth.project_id,
            created_by: auth.id,
            participant_ids: ids,
            title,
        })
        .await??;
    view.last_read_seq = Some(0);
    view.unread_count = Some(0);
    state.rooms.do_send(Evict {
        conversation_id: view.id,
    });
    tracing::info!(conversation_id = %view.id, by = %auth.id, "conversation created");
    Ok(super::created(&view))
}

/// `GET /api/v1/conversations` → the caller's conversations (admins: all), newest activity
/// first.
pub async fn list(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    let mut conn = state.db.read().await?;
    let all = auth.role == Role::Admin;
    let views: Vec<ConversationView> =
        conversations::list(&mut conn, auth.project_id, auth.id, all).await?;
    Ok(HttpResponse::Ok().json(views))
}

/// `GET /api/v1/conversations/{id}` → one [`ConversationView`], or 404.
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let (row, members) = visible(&state, &auth, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(with_receipts(&state, &auth, row.view(members)).await?))
}

/// `POST /api/v1/conversations/{id}/close` and `DELETE /api/v1/conversations/{id}`: agents and
/// admins close a conversation (403 for customers). Idempotent: closing a closed conversation
/// returns it unchanged. Joined sessions receive `conversation:closed`.
pub async fn close(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (_, members) = visible(&state, &auth, id).await?;
    if !auth.role.can_close() {
        return Err(AppError::Forbidden(
            "only agents and admins can close conversations".into(),
        ));
    }
    let row = send_to_room(&state.rooms, id, Close { closed_by: auth.id }).await??;
    tracing::info!(conversation_id = %id, by = %auth.id, "conversation closed");
    Ok(HttpResponse::Ok().json(with_receipts(&state, &auth, row.view(members)).await?))
}

async fn with_receipts(
    state: &AppState,
    auth: &AuthUser,
    view: ConversationView,
) -> Result<ConversationView, AppError> {
    let mut conn = state.db.read().await?;
    let mut views = conversations::with_receipts(&mut conn, auth.id, vec![view]).await?;
    views
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation view vanished")))
}

/// Body of `POST /conversations/{id}/read`: `{seq}`.
#[derive(Deserialize)]
pub struct ReadBody {
    seq: i64,
}

/// `POST /api/v1/conversations/{id}/read` `{seq}` → 200 the caller's watermarks
/// `{conversation_id, user_id, last_delivered_seq, last_read_seq}`. Moves the read watermark
/// forward (never back; clamped to the last seq) and tells the joined sessions `message:read`.
pub async fn read(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<ReadBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mark = MarkReceipt {
        user_id: auth.id,
        role: auth.role,
        kind: ReceiptKind::Read,
        seq: body.seq,
        session_id: None,
    };
    let watermarks = send_to_room(&state.rooms, id, mark).await??;
    Ok(HttpResponse::Ok().json(watermarks))
}

/// `GET /api/v1/unread` → `{"total": N, "conversations": {"<id>": n}}` over the caller's
/// conversations, computed from the read watermarks.
pub async fn unread(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    let mut conn = state.db.read().await?;
    let rows = crate::db::queries::participants::unread(&mut conn, auth.id, None).await?;
    let total: i64 = rows.iter().map(|r| r.unread).sum();
    let conversations: std::collections::BTreeMap<String, i64> = rows
        .iter()
        .map(|r| (r.conversation_id.to_string(), r.unread))
        .collect();
    Ok(
        HttpResponse::Ok()
            .json(serde_json::json!({"total": total, "conversations": conversations})),
    )
}
