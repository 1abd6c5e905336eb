//! The server API (`/api/v1/server/...`): a project's backend, holding an API key, acts on the
//! project's data. docs/SERVER_API.md.

use actix_web::{HttpResponse, web};

use crate::actors::db_writer::{DeactivateExternalUser, UpsertExternalUser};
use crate::actors::presence::EndSessions;
use crate::actors::session::EndSession;
use crate::api::{MessageView, PageQuery, ServerUserView, UpsertUserBody};
use crate::db::queries::conversations;
use crate::db::queries::users::{self, ExternalUser};
use crate::domain::{
    ConversationId, Email, ExternalId, Invalid, ProjectId, Role, Scope, validate_display_name,
};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::api_keys::ApiCaller;
use crate::http::extract::{Json, Query};
use crate::http::messages::history_page;
use crate::http::state::AppState;
use crate::http::user_tokens::revoke_all_of;

/// Read a conversation's history (server API)
///
/// `GET /api/v1/server/conversations/{id}/messages?limit=&before_seq=&after_seq=` (scope
/// `read`) → messages ascending by seq, paged by the seq cursor exactly as the user endpoint
/// (docs/PROTOCOL.md §3); 404 for a conversation of another project.
#[utoipa::path(
    get, path = "/api/v1/server/conversations/{id}/messages", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), PageQuery),
    responses(
        (status = 200, description = "Messages ascending by seq", body = Vec<MessageView>),
        (status = 400, description = "`validation_failed`: `limit` below 1", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn messages(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let project = {
        let mut conn = state.db.read().await?;
        conversations::find(&mut conn, id)
            .await?
            .map(|row| row.project_id)
    };
    // An unknown conversation answers as another project's does (after the scope check).
    caller.check(Scope::Read, project.unwrap_or(ProjectId(0)), "conversation")?;
    Ok(HttpResponse::Ok().json(history_page(&state, id, &query, (None, true)).await?))
}

/// Largest `metadata`, serialized, in bytes.
const MAX_METADATA_BYTES: usize = 4096;

/// Checks an upsert's body: the fields to set.
fn external_user(
    caller: &ApiCaller,
    external_id: &str,
    body: UpsertUserBody,
) -> Result<ExternalUser, Invalid> {
    let external_id = ExternalId::parse(external_id)?;
    let role = match body.role {
        None | Some(Role::Customer) => body.role,
        Some(Role::Agent) => Some(Role::Agent),
        Some(Role::Admin) => {
            return Err(Invalid::field(
                "role",
                "must be customer or agent (admins are made by other admins)",
            ));
        }
    };
    let metadata = match body.metadata {
        None => None,
        Some(value @ serde_json::Value::Object(_)) => {
            let text = value.to_string();
            if text.len() > MAX_METADATA_BYTES {
                return Err(Invalid::field(
                    "metadata",
                    format_args!("at most {MAX_METADATA_BYTES} bytes of JSON"),
                ));
            }
            Some(text)
        }
        Some(_) => return Err(Invalid::field("metadata", "must be a JSON object")),
    };
    Ok(ExternalUser {
        project_id: caller.project_id,
        external_id,
        display_name: validate_display_name(body.display_name.as_deref())?,
        email: body
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()?
            .map(|e| e.as_str().to_string()),
        role,
        metadata,
    })
}

/// Create or update a user (server API)
///
/// `PUT /api/v1/server/users/{external_id}` (scope `users:write`) `{display_name?, email?,
/// role?, metadata?}` → 201 (created) or 200 (updated) `{...user, metadata}`. Idempotent. A
/// role change ends the user's open sessions (4003) and revokes the user tokens minted for
/// them. 409 `email_taken` when another user of the
/// project has the email.
#[utoipa::path(
    put, path = "/api/v1/server/users/{external_id}", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("external_id" = String, Path, description = "The user's id in the project's backend")),
    request_body = UpsertUserBody,
    responses(
        (status = 201, description = "Created", body = ServerUserView),
        (status = 200, description = "Updated", body = ServerUserView),
        (status = 400, description = "`validation_failed`: a bad external id, display name, email, role or metadata", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 409, description = "`email_taken`: another user of the project has the email", body = ErrorEnvelope),
    )
)]
pub async fn upsert_user(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
    body: Json<UpsertUserBody>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::UsersWrite, caller.project_id, "user")?;
    let user = external_user(&caller, &path.into_inner(), body.into_inner())?;
    let upserted = state.writer.send(UpsertExternalUser { user }).await??;
    if upserted.end_sessions {
        // The user's tokens name the old role.
        revoke_all_of(&state, upserted.row.id).await?;
        state.presence.do_send(EndSessions {
            user_id: upserted.row.id,
            end: EndSession::ACCOUNT_CHANGED,
        });
    }
    let view = upserted.row.server_view();
    if upserted.created {
        tracing::info!(user_id = %upserted.row.id, key_id = caller.key_id, "user created by the server API");
        Ok(HttpResponse::Created().json(view))
    } else {
        Ok(HttpResponse::Ok().json(view))
    }
}

/// Get a user (server API)
///
/// `GET /api/v1/server/users/{external_id}` (scope `read`) → `{...user, metadata}`, or 404.
#[utoipa::path(
    get, path = "/api/v1/server/users/{external_id}", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("external_id" = String, Path, description = "The user's id in the project's backend")),
    responses(
        (status = 200, description = "The user", body = ServerUserView),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such user in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::Read, caller.project_id, "user")?;
    let mut conn = state.db.read().await?;
    let row = users::find_by_external(&mut conn, caller.project_id, &path.into_inner())
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    Ok(HttpResponse::Ok().json(row.server_view()))
}

/// Deactivate a user (server API)
///
/// `DELETE /api/v1/server/users/{external_id}` (scope `users:write`) → 200 `{...user,
/// metadata}` with `disabled: true`: the user can no longer connect or use their tokens'
/// refresh, their user tokens are revoked, and their open sessions close (4003). Idempotent;
/// 404 for an unknown user.
#[utoipa::path(
    delete, path = "/api/v1/server/users/{external_id}", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("external_id" = String, Path, description = "The user's id in the project's backend")),
    responses(
        (status = 200, description = "The user, `disabled: true`", body = ServerUserView),
        (status = 403, description = "`forbidden`: outside the key's scopes", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such user in the key's project", body = ErrorEnvelope),
    )
)]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.check(Scope::UsersWrite, caller.project_id, "user")?;
    let row = state
        .write(
            DeactivateExternalUser {
                project_id: caller.project_id,
                external_id: path.into_inner(),
            },
            "user",
        )
        .await?;
    revoke_all_of(&state, row.id).await?;
    state.presence.do_send(EndSessions {
        user_id: row.id,
        end: EndSession::ACCOUNT_CHANGED,
    });
    Ok(HttpResponse::Ok().json(row.server_view()))
}
