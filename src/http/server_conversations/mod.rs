//! The server API's conversations and messages (`/api/v1/server/conversations...`): a project's
//! backend creates conversations between its users (named by external id), adds and removes
//! participants, closes, lists, and posts as a user or as the system. Changes go through the
//! conversation's room, so joined sessions see them live. docs/SERVER_API.md.
//!
//! The backend acts with an admin's power in its own project: its calls reach the room as the
//! project's system user with the admin role, after the key's scope and project are checked
//! ([`ApiCaller::check`]).

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::CreateConversation;
use crate::actors::room::{ChangeParticipants, Close};
use crate::actors::room_registry::{Evict, send_to_room};
use crate::api::{
    ServerConversationQuery, ServerConversationView, ServerCreateConversationBody,
    ServerParticipantsBody,
};
use crate::db::queries::conversations::NewRoom;
use crate::db::queries::membership::MemberChange;
use crate::db::queries::{server, users};
use crate::domain::{
    ConversationId, ConversationKind, Description, Scope, Title, UserId, Visibility,
};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::api_keys::ApiCaller;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;

mod lookup;

pub(super) use lookup::{conversation_of, system_actor};
use lookup::{resolve, view, views};

/// Create a conversation (server API)
///
/// `POST /api/v1/server/conversations` (scope `conversations:write`) `{participants, title?,
/// created_by?, kind?, description?, visibility?}` → 201 [`ServerConversationView`], or 200
/// with the pair's existing `direct` conversation. Participants are external ids of active
/// users of the project (400 otherwise); `created_by` (an external id) becomes a participant
/// too; without it the project's system user is the creator, and no participant. Without
/// `kind`, two participants and no title make a `direct` conversation, anything else a `group`.
#[utoipa::path(
    post, path = "/api/v1/server/conversations", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    request_body = ServerCreateConversationBody,
    responses(
        (status = 201, description = "The new conversation", body = ServerConversationView),
        (status = 200, description = "The pair's existing `direct` conversation", body = ServerConversationView),
        (status = 400, description = "`validation_failed`: unknown or deactivated participants, a bad title, description, kind or visibility", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: Json<ServerCreateConversationBody>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::ConversationsWrite, caller.project_id, "conversation")?;
    let body = body.into_inner();
    let title = Title::parse(body.title.as_deref())?;
    let mut external: Vec<String> = body.participants;
    external.extend(body.created_by.iter().cloned());
    // The creator, when named, is among them.
    let ids: BTreeSet<UserId> = resolve(&state, &caller, &external)
        .await?
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Err(AppError::Validation(
            "participants: at least one participant".into(),
        ));
    }
    let created_by = match &body.created_by {
        Some(creator) => resolve(&state, &caller, std::slice::from_ref(creator))
            .await?
            .first()
            .copied()
            .ok_or_else(|| AppError::Validation("created_by: no such user".into()))?,
        None => system_actor(&state, caller.project_id).await?.user_id,
    };
    let max = state.settings.limits.max_participants;
    if ids.len() > max {
        return Err(AppError::Validation(format!(
            "participants: at most {max} participants"
        )));
    }
    let participant_ids: Vec<UserId> = ids.into_iter().collect();
    let kind = body
        .kind
        .unwrap_or(if participant_ids.len() == 2 && title.is_none() {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        });
    if kind == ConversationKind::Direct && participant_ids.len() != 2 {
        return Err(AppError::Validation(
            "participants: a direct conversation has exactly two participants".into(),
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
        project_id: caller.project_id,
        created_by,
        participant_ids,
        kind,
        title,
        description: Description::parse(body.description.as_deref())?,
        visibility,
    };
    let (created, new) = state.writer.send(CreateConversation { room }).await??;
    let row = conversation_of(&state, &caller, Scope::ConversationsWrite, created.id).await?;
    let view = view(&state, row).await?;
    if !new {
        return Ok(HttpResponse::Ok().json(view));
    }
    state.rooms.do_send(Evict {
        conversation_id: created.id,
    });
    let view = if kind == ConversationKind::Support {
        let members = created.participant_ids.clone();
        match super::desk::auto_assign(&state, caller.project_id, created.id, &members).await {
            Some(row) => self::view(&state, row).await?,
            None => view,
        }
    } else {
        view
    };
    tracing::info!(conversation_id = %created.id, key_id = caller.key_id, "conversation created by the server API");
    Ok(HttpResponse::Created().json(view))
}

/// Get a conversation (server API)
///
/// `GET /api/v1/server/conversations/{id}` (scope `read`) → [`ServerConversationView`], or 404.
#[utoipa::path(
    get, path = "/api/v1/server/conversations/{id}", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = ServerConversationView),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let row = conversation_of(&state, &caller, Scope::Read, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}

/// List conversations (server API)
///
/// `GET /api/v1/server/conversations?after_id=&limit=&status=&participant=&kind=` (scope
/// `read`) → a page of the project's conversations, ascending by id: pass the last id as
/// `after_id` for the next page. An unknown `participant` gives an empty page.
#[utoipa::path(
    get, path = "/api/v1/server/conversations", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(ServerConversationQuery),
    responses(
        (status = 200, description = "A page of the project's conversations, ascending by id", body = Vec<ServerConversationView>),
        (status = 400, description = "`validation_failed`: a bad filter or `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: Query<ServerConversationQuery>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::Read, caller.project_id, "conversation")?;
    let limit = super::admin::page_limit(query.limit)?;
    let rows = {
        let mut conn = state.db.read().await?;
        let participant = match &query.participant {
            None => None,
            Some(external) => {
                match users::find_by_external(&mut conn, caller.project_id, external).await? {
                    Some(user) => Some(user.id),
                    None => {
                        return Ok(HttpResponse::Ok().json(Vec::<ServerConversationView>::new()));
                    }
                }
            }
        };
        let filter = server::Filter {
            project: caller.project_id,
            after: query.after_id.unwrap_or(0),
            limit,
            status: query.status,
            participant,
            kind: query.kind.map(|k| k.as_str()),
        };
        server::page(&mut conn, filter).await?
    };
    Ok(HttpResponse::Ok().json(views(&state, rows).await?))
}

/// Adds and removes participants through the room; answers the conversation after it.
async fn change(
    state: &AppState,
    caller: &ApiCaller,
    id: ConversationId,
    add: Vec<UserId>,
    remove: Vec<UserId>,
) -> Result<ServerConversationView, AppError> {
    let change = if remove.is_empty() {
        MemberChange::Add {
            users: add,
            invite: None,
        }
    } else {
        MemberChange::Remove {
            users: remove,
            ban: None,
        }
    };
    // The key was checked for the project: the room asks no member role.
    let message = ChangeParticipants {
        project_id: caller.project_id,
        actor: None,
        change: change.clone(),
        capacity: super::membership::capacity(state),
    };
    let changed = send_to_room(&state.rooms, id, message).await??;
    // In the history too, as said by the project's system user.
    let by = system_actor(state, caller.project_id).await?.user_id;
    let what = super::announce::Announcement {
        by,
        change: &change,
        changed: &changed,
    };
    super::announce::announce(state, caller.project_id, id, what).await;
    tracing::info!(
        conversation_id = %id,
        added = changed.added.len(),
        removed = changed.removed.len(),
        key_id = caller.key_id,
        "participants changed by the server API"
    );
    view(state, changed.row).await
}

/// Add participants (server API)
///
/// `POST /api/v1/server/conversations/{id}/participants` (scope `conversations:write`)
/// `{participants}` (external ids) → 200 [`ServerConversationView`]. Joined sessions get
/// `participant:added` for each user not already in; the others change nothing.
#[utoipa::path(
    post, path = "/api/v1/server/conversations/{id}/participants", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = ServerParticipantsBody,
    responses(
        (status = 200, description = "The conversation", body = ServerConversationView),
        (status = 400, description = "`validation_failed`: unknown or deactivated users, or past the participant limit", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn add_participants(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
    body: Json<ServerParticipantsBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    conversation_of(&state, &caller, Scope::ConversationsWrite, id).await?;
    let add = resolve(&state, &caller, &body.participants).await?;
    Ok(HttpResponse::Ok().json(change(&state, &caller, id, add, Vec::new()).await?))
}

/// Remove a participant (server API)
///
/// `DELETE /api/v1/server/conversations/{id}/participants/{external_id}` (scope
/// `conversations:write`) → 200 [`ServerConversationView`]. Joined sessions get
/// `participant:removed`; the removed user's sessions get it last and are detached: they
/// receive nothing more of the conversation and cannot send to it. Idempotent; 404 for an
/// unknown user.
#[utoipa::path(
    delete, path = "/api/v1/server/conversations/{id}/participants/{external_id}", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("external_id" = String, Path, description = "The user's id in the project's backend")),
    responses(
        (status = 200, description = "The conversation", body = ServerConversationView),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation or user in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn remove_participant(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<(ConversationId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, external) = path.into_inner();
    conversation_of(&state, &caller, Scope::ConversationsWrite, id).await?;
    let user = {
        let mut conn = state.db.read().await?;
        users::find_by_external(&mut conn, caller.project_id, &external)
            .await?
            .ok_or_else(|| AppError::not_found("user"))?
    };
    Ok(HttpResponse::Ok().json(change(&state, &caller, id, Vec::new(), vec![user.id]).await?))
}

/// Close a conversation (server API)
///
/// `POST /api/v1/server/conversations/{id}/close` (scope `conversations:write`) → 200
/// [`ServerConversationView`], closed by the project's system user; joined sessions get
/// `conversation:closed`. Idempotent.
#[utoipa::path(
    post, path = "/api/v1/server/conversations/{id}/close", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation, closed", body = ServerConversationView),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn close(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    conversation_of(&state, &caller, Scope::ConversationsWrite, id).await?;
    let actor = system_actor(&state, caller.project_id).await?;
    let row = send_to_room(&state.rooms, id, Close { actor }).await??;
    tracing::info!(conversation_id = %id, key_id = caller.key_id, "conversation closed by the server API");
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}
