//! Chat operations shared by the REST handlers and the WebSocket sessions that are not a single
//! room message: editing and deleting (the writer decides, the room broadcasts).

use serde::Serialize;

use crate::actors::db_writer::ChangeMessage;
use crate::actors::room::Publish;
use crate::actors::room_registry::send_to_room;
use crate::db::models::MessageView;
use crate::db::queries::messages::Change;
use crate::domain::{ConversationId, MessageContent, MessageId, Role, UserId};
use crate::error::AppError;
use crate::protocol;
use crate::startup::AppState;

#[derive(Serialize)]
struct UpdatedEvent<'a> {
    message: &'a MessageView,
}

#[derive(Serialize)]
struct DeletedEvent {
    conversation_id: ConversationId,
    message_id: MessageId,
    seq: i64,
}

/// Edits (`Some(content)`) or deletes (`None`) a message for `user`, then tells the joined
/// sessions `message:updated {message}` or `message:deleted {conversation_id, message_id, seq}`.
///
/// # Errors
/// `validation_failed` (content), `not_found`, `forbidden`, `message_deleted`,
/// `conversation_closed`, or `unavailable`.
pub async fn change_message(
    state: &AppState,
    user: UserId,
    role: Role,
    message_id: MessageId,
    content: Option<&str>,
) -> Result<MessageView, AppError> {
    let change = match content {
        Some(text) => Change::Edit(
            MessageContent::parse(text, state.settings.limits.message_max_chars)?.into_inner(),
        ),
        None => Change::Delete,
    };
    let changed = state
        .writer
        .send(ChangeMessage {
            message_id,
            user_id: user,
            role,
            change: change.clone(),
        })
        .await??;
    let message = changed.row.view();
    if changed.changed {
        let frame = match change {
            Change::Edit(_) => {
                protocol::encode("message:updated", None, &UpdatedEvent { message: &message })
            }
            Change::Delete => protocol::encode(
                "message:deleted",
                None,
                &DeletedEvent {
                    conversation_id: message.conversation_id,
                    message_id: message.id,
                    seq: message.seq,
                },
            ),
        };
        send_to_room(&state.rooms, message.conversation_id, Publish { frame }).await?;
    }
    Ok(message)
}
