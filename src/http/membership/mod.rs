//! Membership over REST: `/api/v1/conversations/{id}/participants`, `.../leave`, `.../join`
//! and `.../bans`. Every change goes through the conversation's room, which asks the access
//! policy with the roles it holds (`policy/rooms.rs`), has the writer store it, updates its
//! participant set at once and tells the joined sessions (`participant:added`, `:removed`,
//! `:updated`); a removed user's sessions are detached. Each change also leaves a system
//! message in the history, so a client resuming with `since_seq` learns of it. docs/PROTOCOL.md
//! §3, *Membership*.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::announce::{Announcement, announce};
use super::conversations::authorized;
use super::paging;
use crate::actors::room::ChangeParticipants;
use crate::actors::room_registry::send_to_room;
use crate::auth::AuthUser;
use crate::db::queries::membership::{Capacity, Changed, MemberChange};
use crate::db::queries::{bans, participants};
use crate::domain::{ConversationId, MemberRole, UserId};
use crate::error::AppError;
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

/// `POST .../participants` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    /// Users of the caller's project to add (at most 100 per call).
    pub user_ids: Vec<UserId>,
}

/// `PATCH .../participants/{user_id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// The new member role.
    pub role: MemberRole,
}

/// `POST .../bans` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanBody {
    /// Who to ban (a participant or not).
    pub user_id: UserId,
}

/// `?after_id=&limit=` of the membership lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The last user id of the previous page.
    pub after_id: Option<i64>,
    /// Page size, 1–100 (default 50).
    pub limit: Option<i64>,
}

/// A participant as the list shows it.
#[derive(Debug, Serialize)]
pub struct ParticipantView {
    /// Who.
    pub user_id: UserId,
    /// Their member role.
    pub role: MemberRole,
    /// When they joined (RFC 3339, UTC).
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

/// A page of a membership list: `items`, and the `after_id` of the next page (`null` at the
/// end).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// This page.
    pub items: Vec<T>,
    /// Pass as `after_id` for the next page.
    pub next_after_id: Option<i64>,
}

/// A ban as the list shows it.
#[derive(Debug, Serialize)]
pub struct BanView {
    /// Who is banned.
    pub user_id: UserId,
    /// By whom.
    pub banned_by: Option<UserId>,
    /// Since when (RFC 3339, UTC).
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The participant and follower limits from the configuration.
pub(super) fn capacity(state: &AppState) -> Capacity {
    Capacity {
        participants: state.settings.limits.max_participants,
        followers: state.settings.limits.max_followers,
    }
}

/// Applies `change` through the room (asking the policy as `auth` when `ask` is set) and
/// leaves its system message in the history.
pub(super) async fn apply(
    state: &AppState,
    auth: &AuthUser,
    id: ConversationId,
    change: MemberChange,
    ask: bool,
) -> Result<Changed, AppError> {
    let message = ChangeParticipants {
        project_id: auth.project_id,
        actor: ask.then(|| auth.actor()),
        change: change.clone(),
        capacity: capacity(state),
    };
    let changed = send_to_room(&state.rooms, id, message).await??;
    tracing::info!(
        conversation_id = %id,
        by = %auth.id,
        added = changed.added.len(),
        removed = changed.removed.len(),
        updated = changed.updated.len(),
        "participants changed"
    );
    let what = Announcement {
        by: auth.id,
        change: &change,
        changed: &changed,
    };
    announce(state, auth.project_id, id, what).await;
    Ok(changed)
}

/// `GET .../participants?after_id=&limit=` → a [`Page`] of [`ParticipantView`] by user id.
/// Who may read the conversation may list them (404 otherwise).
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<PageQuery>,
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

/// `POST .../participants` `{user_ids}` → 200 `{added: [{user_id, role}]}`. Owners and admins
/// of groups and channels, agents and admins in support conversations (403 otherwise). Users
/// already in are left as they are; adding a banned user lifts the ban. 400 for users who are
/// not active users of the project, or past `limits.max_participants` (`max_followers` for a
/// channel).
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "added": roles(&changed.added) })))
}

/// `[{user_id, role}]`: the `added` and `updated` of the membership answers.
pub(super) fn roles(list: &[(UserId, MemberRole)]) -> Vec<serde_json::Value> {
    list.iter()
        .map(|(user_id, role)| serde_json::json!({"user_id": user_id, "role": role}))
        .collect()
}

/// `DELETE .../participants/{user_id}` → 204. Removes a participant of a lower role (owners and
/// admins; 403 otherwise); their sessions get `participant:removed` and are detached.
/// Idempotent. Removing yourself is [`leave`].
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

/// `PATCH .../participants/{user_id}` `{role}` → 200 `{updated: [{user_id, role}]}`. Owners and
/// admins change the role of a participant below them, to a role no higher than their own;
/// an owner giving `owner` transfers the ownership and becomes an admin. Channels have
/// `follower`s, other kinds `member`s (400 otherwise). 404 for a non-participant.
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "updated": roles(&changed.updated) })))
}

/// `POST .../leave` → 204. Any participant leaves anything but a direct conversation; the last
/// owner of a group or channel leaving hands it to the oldest admin, or else the oldest
/// member. Their sessions get `participant:removed` and are detached.
pub async fn leave(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let change = MemberChange::Leave { user: auth.id };
    apply(&state, &auth, path.into_inner(), change, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST .../join` → 200 `{added}`: joins a public group, or follows a public channel, of the
/// caller's project. 403 for the banned and for private ones the caller sees (project
/// admins), 404 otherwise. Idempotent.
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "added": roles(&changed.added) })))
}

/// `POST .../bans` `{user_id}` → 204: removes the user if they take part and keeps them out of
/// invites and the directory. Owners and admins of groups and channels, over lower roles.
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

/// `DELETE .../bans/{user_id}` → 204: lifts a ban (owners and admins). Idempotent.
pub async fn unban(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, UserId)>,
) -> Result<HttpResponse, AppError> {
    let (id, user) = path.into_inner();
    apply(&state, &auth, id, MemberChange::Unban { user }, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET .../bans?after_id=&limit=` → a [`Page`] of [`BanView`]: owners and admins of groups
/// and channels (the policy's ban permission).
pub async fn list_bans(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    query: Query<PageQuery>,
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
