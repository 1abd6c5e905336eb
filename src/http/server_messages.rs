//! The server API's messages: `POST /api/v1/server/conversations/{id}/messages` posts as a user
//! or as the system, through the conversation's room. docs/SERVER_API.md, *Messages*.

use actix_web::{HttpResponse, web};

use super::server_conversations::{conversation_of, system_actor};
use crate::actors::presence::online_for_here;
use crate::actors::room::PostMessage;
use crate::actors::room_registry::send_to_room;
use crate::api::{MessageView, ServerSendBody};
use crate::db::queries::{conversations, users};
use crate::domain::{ConversationId, MessageContent, Scope, validate_client_msg_id};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::api_keys::ApiCaller;
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::policy::Actor;

/// Post a message (server API)
///
/// `POST /api/v1/server/conversations/{id}/messages` (scope `messages:write`) `{as_external_id
/// | as_system, content, client_msg_id?, attachment_id?}` → 201 message, after commit; joined
/// sessions get `message:new` at once. As a user: they must be a participant (403) and the
/// usual rules apply (closed: 409, rate). As the system: a message of kind `system` from the
/// project's system user, in any open conversation of the project, without attachment.
/// Exactly-once with `client_msg_id`: a retry answers the original message.
#[utoipa::path(
    post, path = "/api/v1/server/conversations/{id}/messages", tag = "server",
    security(("api_key" = []), ("api_key_bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = ServerSendBody,
    responses(
        (status = 201, description = "The stored message", body = MessageView),
        (status = 400, description = "`validation_failed`: neither or both of `as_external_id` and `as_system`, an unknown user, bad content, or an attachment on a system message", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: outside the key's scopes, or `as_external_id` is not a participant", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation in the key's project", body = ErrorEnvelope),
        (status = 409, description = "`conversation_closed`", body = ErrorEnvelope),
    )
)]
pub async fn post_message(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<ConversationId>,
    body: Json<ServerSendBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    conversation_of(&state, &caller, Scope::MessagesWrite, id).await?;
    let body = body.into_inner();
    let (actor, system) = match (&body.as_external_id, body.as_system) {
        (Some(external), false) => {
            let mut conn = state.db.read().await?;
            let user = users::find_by_external(&mut conn, caller.project_id, external)
                .await?
                .filter(|u| !u.disabled)
                .ok_or_else(|| {
                    AppError::Validation(format!(
                        "as_external_id: no active user with external id {external:?}"
                    ))
                })?;
            // The room would answer 404 (the policy hides a conversation from
            // non-participants); the backend knows it exists, so say what is wrong.
            if !conversations::participant_ids(&mut conn, id)
                .await?
                .contains(&user.id)
            {
                return Err(AppError::Forbidden(format!(
                    "as_external_id: {external:?} is not a participant of this conversation"
                )));
            }
            let actor = Actor {
                user_id: user.id,
                project_id: user.project_id,
                role: user.role(),
            };
            (actor, false)
        }
        (None, true) if body.attachment_id.is_some() => {
            return Err(AppError::Validation(
                "attachment_id: system messages carry no attachment".into(),
            ));
        }
        (None, true) => (system_actor(&state, caller.project_id).await?, true),
        _ => {
            return Err(AppError::Validation(
                "as_external_id: give either as_external_id or as_system: true".into(),
            ));
        }
    };
    let content = MessageContent::parse_with_attachment(
        &body.content,
        state.settings.limits.message_max_chars,
        body.attachment_id.is_some(),
    )?;
    let post = PostMessage {
        actor,
        client_msg_id: validate_client_msg_id(body.client_msg_id)?,
        attachment_id: body.attachment_id,
        origin: None,
        system,
        reply_to: None,
        online: if system {
            None
        } else {
            online_for_here(&state.presence, id, content.as_str()).await?
        },
        content: content.into_inner(),
        private: false,
    };
    let message = send_to_room(&state.rooms, id, post).await??;
    Ok(HttpResponse::Created().json(message))
}
