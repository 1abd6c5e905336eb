//! Invite links: `POST/GET /api/v1/conversations/{id}/invites`,
//! `DELETE .../invites/{code}` (owners and admins of groups and channels) and
//! `POST /api/v1/invites/{code}/accept` (anyone of the project holding the code, not banned,
//! rate limited per user). docs/PROTOCOL.md §3, *Invites*.

use actix::prelude::*;
use actix_web::{HttpRequest, HttpResponse, web};

use super::membership::apply;
use crate::actors::db_writer::DbWriter;
use crate::api::{CreateInviteBody, InviteAccepted, InvitePage, InviteQuery, InviteView};
use crate::auth::AuthUser;
use crate::db::models::ConversationRow;
use crate::db::queries::invites::{self, InviteRow};
use crate::db::queries::membership::MemberChange;
use crate::db::queries::{bans, conversations, participants};
use crate::db::{DbError, ReadConn};
use crate::domain::{ConversationId, ProjectId, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::policy::{self, Action, ConversationFacts, RoomAction};

/// Longest an invite may last: 30 days.
pub const MAX_EXPIRES_IN_S: i64 = 30 * 24 * 3600;

/// Registers the invite routes on the `/api/v1` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::resource;
    cfg.service(
        resource("/conversations/{id}/invites")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(resource("/conversations/{id}/invites/{code}").route(web::delete().to(revoke)))
    .service(resource("/invites/{code}/accept").route(web::post().to(accept)));
}

fn view(req: &HttpRequest, row: InviteRow) -> InviteView {
    let info = req.connection_info();
    InviteView {
        url: format!("{}://{}/?invite={}", info.scheme(), info.host(), row.code),
        code: row.code,
        conversation_id: row.conversation_id,
        created_by: row.created_by,
        created_at: row.created_at.and_utc(),
        expires_at: row.expires_at.map(|t| t.and_utc()),
        max_uses: row.max_uses,
        uses: row.uses,
        revoked: row.revoked_at.is_some(),
    }
}

/// Make an invite (a write).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<InviteRow, DbError>")]
pub struct CreateInvite {
    /// The conversation's project.
    pub project_id: ProjectId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Who makes it.
    pub by: UserId,
    /// When it stops working.
    pub expires_at: Option<chrono::NaiveDateTime>,
    /// How many accepts it allows.
    pub max_uses: Option<i64>,
}

impl Handler<CreateInvite> for DbWriter {
    type Result = Result<InviteRow, DbError>;
    fn handle(&mut self, m: CreateInvite, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            invites::create(
                conn,
                m.project_id,
                m.conversation_id,
                m.by,
                m.expires_at,
                m.max_uses,
            )
        })
    }
}

/// Revoke an invite (a write).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), DbError>")]
pub struct RevokeInvite {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The code.
    pub code: String,
}

impl Handler<RevokeInvite> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, m: RevokeInvite, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| invites::revoke(conn, m.conversation_id, &m.code))
    }
}

/// Conversation `id` and what the policy needs to know of it for `auth`: whether they take
/// part and their member role as stored (one row read, not the participant list).
///
/// # Errors
/// `not_found` for an unknown conversation; a query failure.
pub(super) async fn facts_of(
    conn: &mut ReadConn,
    auth: &AuthUser,
    id: ConversationId,
) -> Result<(ConversationRow, ConversationFacts), AppError> {
    let row = conversations::find(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))?;
    let role = participants::role_of(conn, id, auth.id).await?;
    let mut facts = row.facts(role.is_some());
    facts.member_role = role;
    Ok((row, facts))
}

/// Asks the policy whether `auth` may do `action` in conversation `id`, with the caller's
/// member role as stored; answers the conversation.
///
/// # Errors
/// `not_found` for a conversation the caller does not see; the policy's refusal.
pub(super) async fn check_role_action(
    conn: &mut ReadConn,
    auth: &AuthUser,
    id: ConversationId,
    action: RoomAction,
) -> Result<ConversationRow, AppError> {
    let (row, facts) = facts_of(conn, auth, id).await?;
    policy::check(&auth.actor(), Action::Room(action), &facts)?;
    Ok(row)
}

/// Create an invite link
///
/// `POST /api/v1/conversations/{id}/invites` `{max_uses?, expires_in_s?}` → 201 [`InviteView`].
/// Owners and admins of groups and channels (403 otherwise; 404 where the caller sees
/// nothing). At most 100 live invites per conversation.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/invites", tag = "invites",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body(content = Option<CreateInviteBody>, description = "Limits of the invite; no body (or `null`) for none"),
    responses(
        (status = 201, description = "The invite", body = InviteView),
        (status = 400, description = "`validation_failed`: `max_uses` or `expires_in_s` out of range, or 100 live invites already", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: only owners and admins of groups and channels manage invites", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<ConversationId>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    // No body is an invite with no limits; a body must be the JSON object.
    let blank = body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null";
    let body: CreateInviteBody = if blank {
        CreateInviteBody::default()
    } else {
        crate::http::extract::parse_json(&body)?
    };
    if body.max_uses.is_some_and(|n| !(1..=10_000).contains(&n)) {
        return Err(AppError::Validation("max_uses: from 1 to 10000".into()));
    }
    if body
        .expires_in_s
        .is_some_and(|s| !(60..=MAX_EXPIRES_IN_S).contains(&s))
    {
        return Err(AppError::Validation(format!(
            "expires_in_s: from 60 to {MAX_EXPIRES_IN_S} seconds"
        )));
    }
    {
        let mut conn = state.db.read().await?;
        check_role_action(&mut conn, &auth, id, RoomAction::ManageInvites).await?;
    }
    let expires_at = body
        .expires_in_s
        .map(|s| crate::db::now() + chrono::Duration::seconds(s));
    let row = state
        .writer
        .send(CreateInvite {
            project_id: auth.project_id,
            conversation_id: id,
            by: auth.id,
            expires_at,
            max_uses: body.max_uses,
        })
        .await??;
    tracing::info!(conversation_id = %id, by = %auth.id, "invite created");
    Ok(super::created(&view(&req, row)))
}

/// List invites
///
/// `GET /api/v1/conversations/{id}/invites?after=&limit=` → `{items: [InviteView],
/// next_after}`, newest first; pass `next_after` as `after` for the next page.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/invites", tag = "invites",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), InviteQuery),
    responses(
        (status = 200, description = "A page of invites, newest first", body = InvitePage),
        (status = 400, description = "`validation_failed`: a bad `limit`, or an `after` that is not an invite of this list", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: only owners and admins of groups and channels manage invites", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<ConversationId>,
    query: Query<InviteQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = super::paging::size(query.limit, 50, 100)?;
    let mut conn = state.db.read().await?;
    check_role_action(&mut conn, &auth, id, RoomAction::ManageInvites).await?;
    let after = match &query.after {
        None => None,
        Some(code) => match invites::find(&mut conn, code).await? {
            Some(row) if row.conversation_id == id => Some((row.created_at, row.code)),
            _ => {
                return Err(AppError::Validation(
                    "after: not an invite of this list".into(),
                ));
            }
        },
    };
    let rows = invites::page(&mut conn, id, after, limit).await?;
    let next = super::paging::last_of_full(&rows, limit).map(|r| r.code.clone());
    let items: Vec<InviteView> = rows.into_iter().map(|r| view(&req, r)).collect();
    Ok(HttpResponse::Ok().json(InvitePage {
        items,
        next_after: next,
    }))
}

/// Revoke an invite
///
/// `DELETE /api/v1/conversations/{id}/invites/{code}` → 204; the code then gets 410
/// `invite_invalid`. Idempotent; 404 for a code of another conversation.
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}/invites/{code}", tag = "invites",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("code" = String, Path, description = "The invite code")),
    responses(
        (status = 204, description = "Revoked (or was already)"),
        (status = 403, description = "`forbidden`: only owners and admins of groups and channels manage invites", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or no such invite of it", body = ErrorEnvelope),
    )
)]
pub async fn revoke(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ConversationId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, code) = path.into_inner();
    {
        let mut conn = state.db.read().await?;
        check_role_action(&mut conn, &auth, id, RoomAction::ManageInvites).await?;
    }
    state
        .write(
            RevokeInvite {
                conversation_id: id,
                code,
            },
            "invite",
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invite
///
/// `POST /api/v1/invites/{code}/accept` → 200 `{conversation_id, added}`: joins the caller as a
/// member (a follower of a channel). 410 `invite_invalid` for an expired, used-up or revoked
/// code; 404 for an unknown one or another project's; 403 for a banned user; 429 past
/// `limits.invite_accepts_per_minute` tries. A participant accepting again changes nothing and
/// uses nothing.
#[utoipa::path(
    post, path = "/api/v1/invites/{code}/accept", tag = "invites",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The invite code")),
    responses(
        (status = 200, description = "The conversation joined", body = InviteAccepted),
        (status = 400, description = "`validation_failed`: past the participant limit", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: the caller is banned from the conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such invite in the caller's project", body = ErrorEnvelope),
        (status = 410, description = "`invite_invalid`: expired, used up or revoked", body = ErrorEnvelope),
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state.limits.invite_accept(auth.id)?;
    let code = path.into_inner();
    let invite = {
        let mut conn = state.db.read().await?;
        let invite = invites::find(&mut conn, &code)
            .await?
            .filter(|i| i.project_id == auth.project_id)
            .ok_or_else(|| AppError::not_found("invite"))?;
        let id = invite.conversation_id;
        if participants::role_of(&mut conn, id, auth.id)
            .await?
            .is_some()
        {
            return Ok(HttpResponse::Ok().json(InviteAccepted {
                conversation_id: id,
                added: Vec::new(),
            }));
        }
        if !invite.valid_at(crate::db::now()) {
            return Err(AppError::InviteInvalid);
        }
        if bans::is_banned(&mut conn, invite.conversation_id, auth.id).await? {
            return Err(AppError::Forbidden(
                "you are banned from this conversation".into(),
            ));
        }
        invite
    };
    let change = MemberChange::Add {
        users: vec![auth.id],
        invite: Some(code),
    };
    let id = invite.conversation_id;
    let changed = apply(&state, &auth, id, change, false).await?;
    Ok(HttpResponse::Ok().json(InviteAccepted {
        conversation_id: id,
        added: super::membership::roles(&changed.added),
    }))
}
