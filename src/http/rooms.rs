//! `GET /api/v1/rooms?query=&kind=&cursor=&limit=`: the directory of the caller's project's
//! public groups and channels, with member counts and whether the caller is in, by page.
//! Joining one is `POST /api/v1/conversations/{id}/join`. docs/PROTOCOL.md §3, *Rooms*.

use actix_web::{HttpResponse, web};

use crate::api::{RoomPage, RoomQuery, RoomView};
use crate::auth::AuthUser;
use crate::db::queries::room_directory;
use crate::domain::{ConversationId, ConversationKind};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Query;
use crate::http::state::AppState;

/// Longest `query`, in characters.
const MAX_QUERY_CHARS: usize = 100;

/// Browse the room directory
///
/// `GET /api/v1/rooms` → `{items: [RoomView], next_cursor}` ascending by id; pass
/// `next_cursor` as `cursor` for the next page (`null` at the end). 400 for a `kind` other
/// than `group` or `channel`, a bad cursor or a `query` over 100 characters.
#[utoipa::path(
    get, path = "/api/v1/rooms", tag = "membership",
    security(("bearer" = [])),
    params(RoomQuery),
    responses(
        (status = 200, description = "A page of public groups and channels", body = RoomPage),
        (status = 400, description = "`validation_failed`: a `kind` other than `group` or `channel`, a bad cursor or `limit`, or a `query` over 100 characters", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<RoomQuery>,
) -> Result<HttpResponse, AppError> {
    let text = query.query.as_deref().unwrap_or("").trim();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::Validation(format!(
            "query: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    if query
        .kind
        .is_some_and(|k| !matches!(k, ConversationKind::Group | ConversationKind::Channel))
    {
        return Err(AppError::Validation(
            "kind: the directory lists groups and channels".into(),
        ));
    }
    let after = match query.cursor.as_deref() {
        None | Some("") => 0,
        Some(cursor) => cursor
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| AppError::Validation("cursor: not a cursor of this list".into()))?,
    };
    let limit = super::paging::size(query.limit, 50, 100)?;
    let mut conn = state.db.read().await?;
    let rows =
        room_directory::search(&mut conn, auth.project_id, text, query.kind, after, limit).await?;
    let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
    let joined = room_directory::joined(&mut conn, auth.id, &ids).await?;
    let next = super::paging::last_of_full(&rows, limit).map(|r| r.id.to_string());
    let items: Vec<RoomView> = rows
        .into_iter()
        .map(|r| RoomView {
            joined: joined.contains(&r.id),
            id: r.id,
            kind: ConversationKind::from_stored(&r.kind),
            title: r.title,
            description: r.description,
            member_count: r.participant_count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(RoomPage {
        items,
        next_cursor: next,
    }))
}
