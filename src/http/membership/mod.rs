//! Membership over REST: `/api/v1/conversations/{id}/participants`, `.../leave`, `.../join`
//! and `.../bans`. Every change goes through the conversation's room, which asks the access
//! policy with the roles it holds (`policy/rooms.rs`), has the writer store it, updates its
//! participant set at once and tells the joined sessions (`participant:added`, `:removed`,
//! `:updated`); a removed user's sessions are detached. Each change also leaves a system
//! message in the history, so a client resuming with `since_seq` learns of it. docs/PROTOCOL.md
//! §3, *Membership*.

use actix_web::{HttpResponse, web};

use super::conversations::authorized;
use super::paging;
use crate::api::{
    AddBody, BanBody, BanView, MemberPageQuery, MembersAdded, MembersUpdated, Page,
    ParticipantView, RoleBody,
};
use crate::auth::AuthUser;
use crate::db::queries::membership::MemberChange;
use crate::db::queries::{bans, participants};
use crate::domain::{ConversationId, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy::{self, Action, RoomAction};

/// Registers the membership routes on the `/api/v1` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::resource;
    cfg.service(
        resource("/conversations/{id}/participants")
            .route(web::get().to(list))
            .route(web::post().to(add)),
    )
    .service(
        resource("/conversations/{id}/participants/{user_id}")
            .route(web::patch().to(set_role))
            .route(web::delete().to(remove)),
    )
    .service(resource("/conversations/{id}/leave").route(web::post().to(leave)))
    .service(resource("/conversations/{id}/join").route(web::post().to(join)))
    .service(
        resource("/conversations/{id}/bans")
            .route(web::get().to(list_bans))
            .route(web::post().to(ban)),
    )
    .service(resource("/conversations/{id}/bans/{user_id}").route(web::delete().to(unban)))
    .service(resource("/rooms").route(web::get().to(super::rooms::list)));
    super::invites::routes(cfg);
}

mod change;

pub(super) use change::{apply, capacity, roles};

/// List participants
///
/// `GET .../participants?after_id=&limit=` → a [`Page`] of [`ParticipantView`] by user id.
/// Who may read the conversation may list them (404 otherwise).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/participants", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), MemberPageQuery),
    responses(
        (status = 200, description = "A page of participants by user id", body = Page<ParticipantView>),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<MemberPageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = paging::size(query.limit, 50, 100)?;
    authorized(&state, &auth, id, Action::ReadHistory).await?;
    let mut conn = state.db.read().await?;
    let rows = participants::page(&mut conn, id, query.after_id.unwrap_or(0), limit).await?;
    let items: Vec<ParticipantView> = rows
        .into_iter()
        .map(|(user_id, role, joined_at)| ParticipantView {
            user_id,
            role,
            joined_at: joined_at.and_utc(),
        })
        .collect();
    let next = paging::last_of_full(&items, limit).map(|p| p.user_id.0);
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_after_id: next,
    }))
}

/// Add participants
///
/// `POST .../participants` `{user_ids}` → 200 `{added: [{user_id, role}]}`. Owners and admins
/// of groups and channels, agents and admins in support conversations (403 otherwise). Users
/// already in are left as they are; adding a banned user lifts the ban. 400 for users who are
/// not active users of the project, or past `limits.max_participants` (`max_followers` for a
/// channel).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/participants", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = AddBody,
    responses(
        (status = 200, description = "Who was added", body = MembersAdded),
        (status = 400, description = "`validation_failed`: not 1 to 100 users, a user who is not an active user of the project, or past the participant limit", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller's member role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn add(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<AddBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    if body.user_ids.is_empty() || body.user_ids.len() > 100 {
        return Err(AppError::Validation(
            "user_ids: from 1 to 100 users per call".into(),
        ));
    }
    let change = MemberChange::Add {
        users: body.user_ids,
        invite: None,
    };
    let changed = apply(&state, &auth, path.into_inner(), change, true).await?;
    Ok(HttpResponse::Ok().json(MembersAdded {
        added: roles(&changed.added),
    }))
}

/// Remove a participant
///
/// `DELETE .../participants/{user_id}` → 204. Removes a participant of a lower role (owners and
/// admins; 403 otherwise); their sessions get `participant:removed` and are detached.
/// Idempotent. Removing yourself is [`leave`].
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}/participants/{user_id}", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "The participant's user id")),
    responses(
        (status = 204, description = "Removed (or was not a participant)"),
        (status = 403, description = "`forbidden`: the caller's member role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, UserId)>,
) -> Result<HttpResponse, AppError> {
    let (id, user) = path.into_inner();
    let change = if user == auth.id {
        MemberChange::Leave { user }
    } else {
        MemberChange::Remove {
            users: vec![user],
            ban: None,
        }
    };
    apply(&state, &auth, id, change, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change a participant's member role
///
/// `PATCH .../participants/{user_id}` `{role}` → 200 `{updated: [{user_id, role}]}`. Owners and
/// admins change the role of a participant below them, to a role no higher than their own;
/// an owner giving `owner` transfers the ownership and becomes an admin. Channels have
/// `follower`s, other kinds `member`s (400 otherwise). 404 for a non-participant.
#[utoipa::path(
    patch, path = "/api/v1/conversations/{id}/participants/{user_id}", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "The participant's user id")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "Whose role changed", body = MembersUpdated),
        (status = 400, description = "`validation_failed`: a role this kind of conversation does not have", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller's member role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation or participant", body = ErrorEnvelope),
    )
)]
pub async fn set_role(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, UserId)>,
    body: Json<RoleBody>,
) -> Result<HttpResponse, AppError> {
    let (id, user) = path.into_inner();
    let change = MemberChange::SetRole {
        user,
        role: body.role,
        transfer_from: None,
    };
    let changed = apply(&state, &auth, id, change, true).await?;
    Ok(HttpResponse::Ok().json(MembersUpdated {
        updated: roles(&changed.updated),
    }))
}

/// Leave a conversation
///
/// `POST .../leave` → 204. Any participant leaves anything but a direct conversation; the last
/// owner of a group or channel leaving hands it to the oldest admin, or else the oldest
/// member. Their sessions get `participant:removed` and are detached.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/leave", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 204, description = "Left"),
        (status = 403, description = "`forbidden`: a direct conversation, or not a participant", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn leave(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let change = MemberChange::Leave { user: auth.id };
    apply(&state, &auth, path.into_inner(), change, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Join a public room
///
/// `POST .../join` → 200 `{added}`: joins a public group, or follows a public channel, of the
/// caller's project; agents and admins also join a support conversation of their project, to
/// reply. 403 for the banned and for private ones the caller sees (project
/// admins), 404 otherwise. Idempotent.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/join", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The caller, added (empty when already in)", body = MembersAdded),
        (status = 400, description = "`validation_failed`: past the participant limit", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: banned, or a private room the caller can see", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such room of the caller's project", body = ErrorEnvelope),
    )
)]
pub async fn join(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    {
        let mut conn = state.db.read().await?;
        let (_, facts) = super::invites::facts_of(&mut conn, &auth, id).await?;
        let banned = bans::is_banned(&mut conn, id, auth.id).await?;
        let action = Action::Room(RoomAction::JoinPublic { banned });
        policy::check(&auth.actor(), action, &facts)?;
    }
    let change = MemberChange::Add {
        users: vec![auth.id],
        invite: None,
    };
    let changed = apply(&state, &auth, id, change, false).await?;
    Ok(HttpResponse::Ok().json(MembersAdded {
        added: roles(&changed.added),
    }))
}

/// Ban a user
///
/// `POST .../bans` `{user_id}` → 204: removes the user if they take part and keeps them out of
/// invites and the directory. Owners and admins of groups and channels, over lower roles.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/bans", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = BanBody,
    responses(
        (status = 204, description = "Banned (and removed if a participant)"),
        (status = 400, description = "`validation_failed`: banning yourself", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller's member role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn ban(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<BanBody>,
) -> Result<HttpResponse, AppError> {
    if body.user_id == auth.id {
        return Err(AppError::Validation(
            "user_id: you cannot ban yourself".into(),
        ));
    }
    let change = MemberChange::Remove {
        users: vec![body.user_id],
        ban: Some(auth.id),
    };
    apply(&state, &auth, path.into_inner(), change, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lift a ban
///
/// `DELETE .../bans/{user_id}` → 204: lifts a ban (owners and admins). Idempotent.
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}/bans/{user_id}", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "The banned user")),
    responses(
        (status = 204, description = "Not banned (any more)"),
        (status = 403, description = "`forbidden`: the caller's member role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn unban(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, UserId)>,
) -> Result<HttpResponse, AppError> {
    let (id, user) = path.into_inner();
    apply(&state, &auth, id, MemberChange::Unban { user }, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List bans
///
/// `GET .../bans?after_id=&limit=` → a [`Page`] of [`BanView`]: owners and admins of groups
/// and channels (the policy's ban permission).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/bans", tag = "membership",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), MemberPageQuery),
    responses(
        (status = 200, description = "A page of bans by user id", body = Page<BanView>),
        (status = 403, description = "`forbidden`: the caller's member role does not allow it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn list_bans(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<MemberPageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = paging::size(query.limit, 50, 100)?;
    let mut conn = state.db.read().await?;
    super::invites::check_role_action(&mut conn, &auth, id, RoomAction::Ban { target: None })
        .await?;
    let rows = bans::page(&mut conn, id, query.after_id.unwrap_or(0), limit).await?;
    let items: Vec<BanView> = rows
        .into_iter()
        .map(|(user_id, banned_by, at)| BanView {
            user_id,
            banned_by,
            created_at: at.and_utc(),
        })
        .collect();
    let next = paging::last_of_full(&items, limit).map(|b| b.user_id.0);
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_after_id: next,
    }))
}
