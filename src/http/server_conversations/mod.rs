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

use crate::actors::db_writer::{CreateConversation, EnsureSystemUser};
use crate::actors::room::{ChangeParticipants, Close};
use crate::actors::room_registry::{Evict, send_to_room};
use crate::api::{
    ParticipantRef, ServerConversationQuery, ServerConversationView, ServerCreateConversationBody,
    ServerParticipantsBody,
};
use crate::db::models::ConversationRow;
use crate::db::queries::conversations::NewRoom;
use crate::db::queries::membership::MemberChange;
use crate::db::queries::{conversations, server, users};
use crate::domain::{
    ConversationId, ConversationKind, Description, ProjectId, Role, Scope, Title, UserId,
    Visibility,
};
use crate::error::AppError;
use crate::http::api_keys::ApiCaller;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::Actor;

/// The project's system user, acting with an admin's power.
pub(super) async fn system_actor(state: &AppState, project: ProjectId) -> Result<Actor, AppError> {
    let user_id = state
        .writer
        .send(EnsureSystemUser {
            project_id: project,
        })
        .await??;
    Ok(Actor {
        user_id,
        project_id: project,
        role: Role::Admin,
    })
}

/// Checks the key for `scope` on conversation `id`: its project (404 for another project's
/// or an unknown conversation).
pub(super) async fn conversation_of(
    state: &AppState,
    caller: &ApiCaller,
    scope: Scope,
    id: ConversationId,
) -> Result<ConversationRow, AppError> {
    let row = {
        let mut conn = state.db.read().await?;
        conversations::find(&mut conn, id).await?
    };
    let project = row.as_ref().map_or(ProjectId(0), |r| r.project_id);
    caller.check(scope, project, "conversation")?;
    row.ok_or_else(|| AppError::not_found("conversation"))
}

/// The users of the caller's project with these external ids, in order.
///
/// # Errors
/// 400 `validation_failed` naming `participants` when one is unknown or deactivated.
async fn resolve(
    state: &AppState,
    caller: &ApiCaller,
    external_ids: &[String],
) -> Result<Vec<UserId>, AppError> {
    let max = state.settings.limits.max_participants;
    if external_ids.len() > max {
        return Err(AppError::Validation(format!(
            "participants: at most {max} participants"
        )));
    }
    let found = {
        let mut conn = state.db.read().await?;
        server::users_by_external(&mut conn, caller.project_id, external_ids).await?
    };
    external_ids
        .iter()
        .map(|external| {
            found.get(external).copied().ok_or_else(|| {
                AppError::Validation(format!(
                    "participants: no active user with external id {external:?}"
                ))
            })
        })
        .collect()
}

/// The server view of each of `rows`.
async fn views(
    state: &AppState,
    rows: Vec<ConversationRow>,
) -> Result<Vec<ServerConversationView>, AppError> {
    let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
    let mut participants = {
        let mut conn = state.db.read().await?;
        server::participants_of(&mut conn, &ids).await?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let members = participants.remove(&row.id).unwrap_or_default();
            let ids = members.iter().map(|(id, _)| *id).collect();
            ServerConversationView {
                conversation: row.view(ids),
                participants: members
                    .into_iter()
                    .map(|(id, external_id)| ParticipantRef { id, external_id })
                    .collect(),
            }
        })
        .collect())
}

async fn view(state: &AppState, row: ConversationRow) -> Result<ServerConversationView, AppError> {
    views(state, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation view vanished")))
}

/// `POST /api/v1/server/conversations` (scope `conversations:write`) `{participants, title?,
/// created_by?, kind?, description?, visibility?}` → 201 [`ServerConversationView`], or 200
/// with the pair's existing `direct` conversation. Participants are external ids of active
/// users of the project (400 otherwise); `created_by` (an external id) becomes a participant
/// too; without it the project's system user is the creator, and no participant. Without
/// `kind`, two participants and no title make a `direct` conversation, anything else a `group`.
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
    tracing::info!(conversation_id = %created.id, key_id = caller.key_id, "conversation created by the server API");
    Ok(HttpResponse::Created().json(view))
}

/// `GET /api/v1/server/conversations/{id}` (scope `read`) → [`ServerConversationView`], or 404.
pub async fn get(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let row = conversation_of(&state, &caller, Scope::Read, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}

/// `GET /api/v1/server/conversations?after_id=&limit=&status=&participant=&kind=` (scope
/// `read`) → a page of the project's conversations, ascending by id: pass the last id as
/// `after_id` for the next page. An unknown `participant` gives an empty page.
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

/// `POST /api/v1/server/conversations/{id}/participants` (scope `conversations:write`)
/// `{participants}` (external ids) → 200 [`ServerConversationView`]. Joined sessions get
/// `participant:added` for each user not already in; the others change nothing.
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

/// `DELETE /api/v1/server/conversations/{id}/participants/{external_id}` (scope
/// `conversations:write`) → 200 [`ServerConversationView`]. Joined sessions get
/// `participant:removed`; the removed user's sessions get it last and are detached: they
/// receive nothing more of the conversation and cannot send to it. Idempotent; 404 for an
/// unknown user.
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

/// `POST /api/v1/server/conversations/{id}/close` (scope `conversations:write`) → 200
/// [`ServerConversationView`], closed by the project's system user; joined sessions get
/// `conversation:closed`. Idempotent.
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
