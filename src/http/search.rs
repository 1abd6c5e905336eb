//! `GET /api/v1/search/messages`: full-text search over the messages the caller can read
//! (issue 13; docs/PROTOCOL.md, *Message search*).
//!
//! "Can read" is the access policy's [`Action::ReadHistory`]: the conversations of the
//! caller's project they take part in, or all of them for those whose conversation list holds
//! every one ([`policy::lists_every_conversation`]: admins). With `conversation_id`, that
//! conversation only, after the policy allowed reading it (404 otherwise, as its history).

use actix_web::{HttpResponse, web};

use crate::api::{
    MessageSearchHit, MessageSearchQuery, MessageSearchResults, SearchCursor, highlight,
};
use crate::auth::AuthUser;
use crate::db::queries::search::{self, MARK_END, MARK_START, SearchRequest, Within};
use crate::domain::SearchText;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::conversations::authorized;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::policy::{self, Action};

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page; larger `limit`s are clamped.
pub const MAX_LIMIT: i64 = 100;

/// Search messages
///
/// `GET /api/v1/search/messages?q=&conversation_id=&cursor=&limit=` → 200
/// [`MessageSearchResults`]: the non-deleted messages the caller can read whose text matches
/// `q`, best first, `limit` (default 20, at most 100) per page; pass `next_cursor` back as
/// `cursor` for the next page (null on the last).
///
/// Errors: 400 `validation_failed` for a missing, blank or over-200-character `q`, a `limit`
/// below 1 or a cursor this server did not give; 404 `not_found` for a `conversation_id` the
/// caller may not read; 429 `rate_limited` past `limits.message_searches_per_minute` searches
/// per user (counted before the checks above, so refused searches count too).
#[utoipa::path(
    get, path = "/api/v1/search/messages", tag = "search",
    security(("bearer" = [])),
    params(MessageSearchQuery),
    responses(
        (status = 200, description = "A page of hits, best first", body = MessageSearchResults),
        (status = 400, description = "`validation_failed`: a missing, blank or over-200-character `q`, a `limit` below 1, or a cursor this server did not give", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: a `conversation_id` the caller may not read", body = ErrorEnvelope),
    )
)]
pub async fn messages(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<MessageSearchQuery>,
) -> Result<HttpResponse, AppError> {
    state.limits.message_search(auth.id)?;
    let text = SearchText::parse(query.q.as_deref().unwrap_or(""))?;
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(n) if n >= 1 => n.min(MAX_LIMIT),
        Some(_) => return Err(AppError::Validation("limit: must be at least 1".into())),
    };
    let cursor = query
        .cursor
        .as_deref()
        .map(SearchCursor::decode)
        .transpose()?;
    let within = match query.conversation_id {
        Some(id) => {
            authorized(&state, &auth, id, Action::ReadHistory).await?;
            Within::Conversation(id)
        }
        None if policy::lists_every_conversation(&auth.actor()) => Within::Project,
        None => Within::ParticipantOf(auth.id),
    };
    let mut conn = state.db.read().await?;
    let (offset, until) = match cursor {
        Some(cursor) => (cursor.offset, cursor.until),
        None => (0, search::newest_message_id(&mut conn).await?),
    };
    let request = SearchRequest {
        text: &text,
        project: auth.project_id,
        within,
        until,
        offset,
        // One more than the page, to know whether another page follows.
        limit: limit + 1,
        notes: auth.role.is_staff(),
    };
    let mut hits = search::search(&mut conn, request).await?;
    let more = hits.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| {
        SearchCursor {
            offset: offset.saturating_add(limit),
            until,
        }
        .encode()
    });
    // The messages as history pages show them: reactions, mentions and replies included.
    let rows = hits.iter().map(|hit| hit.message.clone()).collect();
    let views =
        crate::db::queries::extras::views_for(&mut conn, rows, Some(auth.id), &state.links).await?;
    let results = hits
        .into_iter()
        .zip(views)
        .map(|(hit, message)| MessageSearchHit {
            conversation_id: hit.message.conversation_id,
            snippet: highlight(&hit.snippet, MARK_START, MARK_END),
            rank: hit.rank,
            message,
        })
        .collect();
    Ok(HttpResponse::Ok().json(MessageSearchResults {
        results,
        next_cursor,
    }))
}
