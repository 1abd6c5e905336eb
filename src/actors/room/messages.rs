//! The messages a room handles (besides [`Close`](super::Close), declared with its handler),
//! and [`RoomStopped`], which it sends.

use actix::prelude::*;

use crate::actors::Outbox;
use crate::api::{MessageView, Watermarks};
use crate::db::queries::messages::Change;
use crate::domain::{ConversationId, MessageId, ReceiptKind, SessionId, UploadId, UserId};
use crate::error::AppError;
use crate::policy::{Actor as PolicyActor, MessageFacts};

/// Where a session-originated command came from, so the room can answer in order.
#[derive(Clone)]
pub struct Origin {
    /// The session.
    pub session_id: SessionId,
    /// Its outgoing queue.
    pub outbox: Outbox,
    /// The client's `ref`, echoed in the `ack`.
    pub reference: Option<String>,
}

/// Where a join resumes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Nothing is replayed.
    Now,
    /// Every message with a greater seq.
    Seq(i64),
    /// Every message changed after this version.
    Version(i64),
}

/// Start receiving the conversation's events, first replaying what the session missed. On
/// success the room itself sends the `ack` (after the replay); errors are returned.
#[derive(Message, Clone)]
#[rtype(result = "Result<(), AppError>")]
pub struct Join {
    /// The joining session, its outbox and the `ref` to acknowledge.
    pub origin: Origin,
    /// Its user.
    pub actor: PolicyActor,
    /// What to replay first.
    pub since: Since,
}

/// Stop receiving the conversation's events (also sent when a session ends).
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Leave {
    /// The leaving session.
    pub session_id: SessionId,
}

/// Post a message (WebSocket `message:send` or REST). Answers the stored message after commit;
/// a WebSocket origin also gets its `ack` from the room.
#[derive(Message, Clone)]
#[rtype(result = "Result<MessageView, AppError>")]
pub struct PostMessage {
    /// The author.
    pub actor: PolicyActor,
    /// Validated text.
    pub content: String,
    /// Idempotency key.
    pub client_msg_id: Option<String>,
    /// An upload of the author's to attach.
    pub attachment_id: Option<UploadId>,
    /// The sending session, which gets an `ack` instead of `message:new`.
    pub origin: Option<Origin>,
    /// A system message from the project's backend (server API): `actor` is the project's
    /// system user, the policy's [`check_system_post`](crate::policy::check_system_post)
    /// decides, and no per-user rate applies.
    pub system: bool,
    /// The message of this conversation it answers (checked when it is written).
    pub reply_to: Option<MessageId>,
    /// For `@here` in `content`: the participants online, asked of presence by the caller
    /// ([`OnlineIn`](crate::actors::presence::OnlineIn)); `None` mentions nobody by it.
    pub online: Option<Vec<UserId>>,
    /// An internal note of the support team (`"private": true`): agents and admins only.
    pub private: bool,
}

/// Edit or delete a message of this conversation (WebSocket `message:edit`/`message:delete`
/// or REST). Answers the message after commit; a WebSocket origin also gets its `ack`.
#[derive(Message, Clone)]
#[rtype(result = "Result<MessageView, AppError>")]
pub struct ChangeMessage {
    /// Who asks.
    pub actor: PolicyActor,
    /// Which message.
    pub message_id: MessageId,
    /// Its author and state as last read (the writer checks again under its transaction).
    pub message: MessageFacts,
    /// Edit (validated text) or delete.
    pub change: Change,
    /// The session that asked.
    pub origin: Option<Origin>,
    /// For `@here` in an edit: the participants online, as for [`PostMessage::online`].
    pub online: Option<Vec<UserId>>,
}

/// `typing:start` (`typing: true`) or `typing:stop`.
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<(), AppError>")]
pub struct SetTyping {
    /// Who.
    pub actor: PolicyActor,
    /// From which session (not echoed back to it).
    pub session_id: SessionId,
    /// Started or stopped.
    pub typing: bool,
}

/// Move a delivery or read watermark forward (`message:delivered`, `message:read`, REST read).
#[derive(Message, Clone, Copy)]
#[rtype(result = "Result<Watermarks, AppError>")]
pub struct MarkReceipt {
    /// Whose watermark.
    pub actor: PolicyActor,
    /// Which watermark.
    pub kind: ReceiptKind,
    /// Up to which seq (clamped to the conversation's last seq).
    pub seq: i64,
    /// The session that sent it (not told about its own receipt).
    pub session_id: Option<SessionId>,
}

/// Sent by a room as it stops, to whoever started it.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct RoomStopped {
    /// Which conversation.
    pub conversation_id: ConversationId,
}
