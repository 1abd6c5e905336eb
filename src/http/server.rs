//! The server API (`/api/v1/server/...`): a project's backend, holding an API key, acts on the
//! project's data. docs/SERVER_API.md.

use actix_web::{HttpResponse, web};

use crate::api::{MessageView, PageQuery};
use crate::db::queries::conversations;
use crate::db::queries::messages::{self, PageRequest};
use crate::domain::{ConversationId, Scope};
use crate::error::AppError;
use crate::http::api_keys::ApiCaller;
use crate::http::extract::Query;
use crate::http::messages::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::state::AppState;

/// `GET /api/v1/server/conversations/{id}/messages?limit=&before_seq=&after_seq=` (scope
/// `read`) → messages ascending by seq, paged by the seq cursor exactly as the user endpoint
/// (docs/PROTOCOL.md §3); 404 for a conversation of another project.
pub async fn messages(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit < 1 {
        return Err(AppError::Validation("limit: must be at least 1".into()));
    }
    let mut conn = state.db.read().await?;
    let project = conversations::find(&mut conn, id)
        .await?
        .map(|row| row.project_id);
    match project {
        Some(project) => caller.check(Scope::Read, project, "conversation")?,
        None => {
            caller.check(Scope::Read, caller.project_id, "conversation")?;
            return Err(AppError::not_found("conversation"));
        }
    }
    let request = PageRequest {
        before_seq: query.before_seq,
        after_seq: query.after_seq,
        limit: limit.min(MAX_LIMIT),
    };
    let rows = messages::page(&mut conn, id, request).await?;
    let views: Vec<MessageView> = rows
        .into_iter()
        .map(|row| row.into_view(&state.links))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
