//! `/api/v1/conversations`: create, list, get, close (receipts and unread counts: `receipts.rs`).
//!
//! Who may do what is the access policy's ([`crate::policy`]): a conversation the caller may not
//! see is 404, never 403, so ids reveal nothing.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::CreateConversation;
use crate::actors::room::Close;
use crate::actors::room_registry::{Evict, send_to_room};
use crate::api::{ConversationView, CreateConversationBody};
use crate::auth::AuthUser;
use crate::db::models::ConversationRow;
use crate::db::queries::conversations::{ListCursor, ListPage, NewRoom, Reach};
use crate::db::queries::{conversations, users};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, Description, Role, Title, UserId,
    Visibility,
};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::{self, Action};

/// Loads a conversation with its participants and asks the policy whether the caller may do
/// `action` to it.
///
/// # Errors
/// `not_found` when it does not exist; the policy's refusal otherwise.
pub async fn authorized(
    state: &AppState,
    auth: &AuthUser,
    id: ConversationId,
    action: Action,
) -> Result<(ConversationRow, Vec<UserId>), AppError> {
    let mut conn = state.db.read().await?;
    let (row, members) = conversations::with_participants(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))?;
    policy::check(
        &auth.actor(),
        action,
        &row.facts(members.contains(&auth.id)),
    )?;
    Ok((row, members))
}

/// The kind a conversation gets when the client names none: `support` for a customer with
/// only agents and admins (or no one else), else `direct` for one other participant and no
/// title, else `group`.
fn default_kind(
    customer: bool,
    others: usize,
    other_customers: usize,
    titled: bool,
) -> ConversationKind {
    if customer && other_customers == 0 {
        ConversationKind::Support
    } else if others == 1 && !titled {
        ConversationKind::Direct
    } else {
        ConversationKind::Group
    }
}

/// Create a conversation
///
/// `POST /api/v1/conversations` `{participant_ids, kind?, title?, description?, visibility?}`
/// → 201 [`ConversationView`], or 200 with the pair's existing `direct` conversation. The
/// creator is always a participant, and owns a group or channel. `direct` needs exactly one
/// other participant; `visibility` applies to groups and channels. Ids that are not users of
/// the project → 400 with one message whichever they are. At most
/// `limits.conversations_per_hour` attempts per user (429), failed ones included, so ids
/// cannot be probed one by one.
#[utoipa::path(
    post, path = "/api/v1/conversations", tag = "conversations",
    security(("bearer" = [])),
    request_body = CreateConversationBody,
    responses(
        (status = 201, description = "The new conversation", body = ConversationView),
        (status = 200, description = "The pair's existing `direct` conversation", body = ConversationView),
        (status = 400, description = "`validation_failed`: users who cannot be added, too many participants, a bad title, description, kind or visibility", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller may not create this kind", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateConversationBody>,
) -> Result<HttpResponse, AppError> {
    // Counted first, failures included: probing ids one at a time is what the limit stops.
    state.limits.conversation(auth.id)?;
    let body = body.into_inner();
    let title = Title::parse(body.title.as_deref())?;
    let description = Description::parse(body.description.as_deref())?;
    let mut ids: BTreeSet<UserId> = body.participant_ids.into_iter().collect();
    ids.insert(auth.id);
    // The kind's own limit is checked once it is known; this bounds the lookups below.
    let capacity = super::membership::capacity(&state);
    let max = capacity.participants.max(capacity.followers);
    if ids.len() > max {
        return Err(AppError::Validation(format!(
            "participant_ids: at most {max} participants"
        )));
    }
    let ids: Vec<UserId> = ids.into_iter().collect();
    let others: Vec<UserId> = ids.iter().copied().filter(|id| *id != auth.id).collect();
    let (existing, customers) = {
        let mut conn = state.db.read().await?;
        users::count_existing_customers(&mut conn, auth.project_id, &ids).await?
    };
    // One query for everyone: the caller, among `ids`, counts as a customer when they are one.
    let customer = auth.role == Role::Customer;
    let other_customers = customers.saturating_sub(usize::from(customer));
    if existing != ids.len() {
        return Err(AppError::Validation(
            "participant_ids: one or more of these users cannot be added".into(),
        ));
    }
    let customer = auth.role == Role::Customer;
    let kind = body
        .kind
        .unwrap_or_else(|| default_kind(customer, others.len(), other_customers, title.is_some()));
    let max = capacity.of(kind);
    if ids.len() > max {
        return Err(AppError::Validation(format!(
            "participant_ids: at most {max} participants in a {}",
            kind.as_str()
        )));
    }
    if kind == ConversationKind::Direct && others.len() != 1 {
        return Err(AppError::Validation(
            "participant_ids: a direct conversation has exactly one other participant".into(),
        ));
    }
    let visibility = match (kind, body.visibility) {
        (ConversationKind::Group | ConversationKind::Channel, v) => v.unwrap_or_default(),
        (_, Some(Visibility::Public)) => {
            return Err(AppError::Validation(
                "visibility: only groups and channels can be public".into(),
            ));
        }
        (_, _) => Visibility::Private,
    };
    let room = NewRoom {
        project_id: auth.project_id,
        created_by: auth.id,
        participant_ids: ids,
        kind,
        title,
        description,
        visibility,
    };
    let (view, created) = state.writer.send(CreateConversation { room }).await??;
    let mut view = with_receipts(&state, &auth, view).await?;
    if !created {
        return Ok(HttpResponse::Ok().json(view));
    }
    state.rooms.do_send(Evict {
        conversation_id: view.id,
    });
    if kind == ConversationKind::Support {
        let members = view.participant_ids.clone();
        if let Some(row) =
            super::desk::auto_assign(&state, auth.project_id, view.id, &members).await
        {
            view.assignee_id = row.assignee_id;
            let mut conn = state.db.read().await?;
            view.participant_ids = conversations::participant_ids(&mut conn, view.id).await?;
        }
    }
    tracing::info!(conversation_id = %view.id, by = %auth.id, kind = kind.as_str(), "conversation created");
    Ok(super::created(&view))
}

/// List the caller's conversations
///
/// `GET /api/v1/conversations?status=&kind=&limit=&cursor=` → the caller's conversations
/// (admins: all of the project), newest activity first, at most `limit` (1–200, default 100),
/// only those with `status` (`open`, `closed`) and of `kind` when given. When there may be
/// more, a `Link: <...?cursor=...&limit=N>; rel="next"` header (RFC 8288) gives the next page,
/// with the same filters.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Conversations, newest activity first", body = Vec<ConversationView>,
            headers(("link" = String, description = "`<...?cursor=...&limit=N>; rel=\"next\"` (RFC 8288) when there may be more"))),
        (status = 400, description = "`validation_failed`: a bad `limit` or `cursor`", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = super::paging::size(query.limit, 100, 200)?;
    let before = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            ListCursor::decode(raw)
                .ok_or_else(|| AppError::Validation("cursor: not a cursor of this list".into()))?,
        ),
    };
    let mut conn = state.db.read().await?;
    let actor = auth.actor();
    let reach = if policy::lists_every_conversation(&actor) {
        Reach::All
    } else if policy::lists_support_conversations(&actor) {
        Reach::MineAndSupport
    } else {
        Reach::Mine
    };
    let page = ListPage {
        limit,
        before,
        status: query.status,
        kind: query.kind,
    };
    let (views, next) = conversations::list(
        &mut conn,
        auth.project_id,
        auth.id,
        reach,
        page,
        &state.links,
    )
    .await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = next {
        let mut filters = String::new();
        if let Some(status) = query.status {
            filters.push_str(&format!("&status={}", status.as_str()));
        }
        if let Some(kind) = query.kind {
            filters.push_str(&format!("&kind={}", kind.as_str()));
        }
        let link = format!(
            "</api/v1/conversations?cursor={}&limit={limit}{filters}>; rel=\"next\"",
            next.encode()
        );
        response.insert_header(("link", link));
    }
    Ok(response.json(views))
}

/// `GET /api/v1/conversations` parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Page size, 1–200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The cursor from the previous page's `Link` header.
    pub cursor: Option<String>,
    /// Only conversations with this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations of this kind.
    pub kind: Option<ConversationKind>,
}

/// Get a conversation
///
/// `GET /api/v1/conversations/{id}` → one [`ConversationView`], or 404.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = ConversationView),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (row, members) = authorized(&state, &auth, id, Action::ReadHistory).await?;
    Ok(HttpResponse::Ok().json(with_receipts(&state, &auth, row.view(members)).await?))
}

/// Close a conversation
///
/// `POST /api/v1/conversations/{id}/close` and `DELETE /api/v1/conversations/{id}`: agents and
/// admins close a conversation (403 for customers, 404 where the caller sees nothing).
/// Idempotent: closing a closed conversation returns it unchanged. Joined sessions receive
/// `conversation:closed`.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/close", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation, closed", body = ConversationView),
        (status = 403, description = "`forbidden`: customers cannot close", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn close(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let row = send_to_room(
        &state.rooms,
        id,
        Close {
            actor: auth.actor(),
        },
    )
    .await??;
    let members = {
        let mut conn = state.db.read().await?;
        conversations::participant_ids(&mut conn, id).await?
    };
    tracing::info!(conversation_id = %id, by = %auth.id, "conversation closed");
    Ok(HttpResponse::Ok().json(with_receipts(&state, &auth, row.view(members)).await?))
}

/// Close a conversation (`DELETE`)
///
/// `DELETE /api/v1/conversations/{id}`: the same as [`close`].
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation, closed", body = ConversationView),
        (status = 403, description = "`forbidden`: customers cannot close", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    close(state, auth, path).await
}

pub(in crate::http) async fn with_receipts(
    state: &AppState,
    auth: &AuthUser,
    view: ConversationView,
) -> Result<ConversationView, AppError> {
    let mut conn = state.db.read().await?;
    let mut views = conversations::with_receipts(
        &mut conn,
        (auth.id, auth.role.is_staff()),
        &state.links,
        vec![view],
    )
    .await?;
    views
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation view vanished")))
}
