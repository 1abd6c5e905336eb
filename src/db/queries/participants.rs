//! Participant watermarks (receipts) and the unread counts computed from them.
//!
//! Watermarks only move forward: `last_delivered_seq` (the client has the messages up to it) and
//! `last_read_seq` (the user has seen them). Reading implies delivery. The unread count of a
//! conversation is the number of messages from others, not deleted, with `seq > last_read_seq`:
//! computed from the stored rows every time, so it can be checked and never drifts.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel::sql_types::BigInt;
use serde::Serialize;

use crate::db::schema::participants;
use crate::db::{AsyncConn, DbConnection};
use crate::domain::{ConversationId, UserId};
use crate::error::DbError;

/// Which watermark a receipt moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// `message:delivered`.
    Delivered,
    /// `message:read` (also moves the delivery watermark).
    Read,
}

impl ReceiptKind {
    /// The event name broadcast to the other sessions.
    pub fn event(self) -> &'static str {
        match self {
            Self::Delivered => "message:delivered",
            Self::Read => "message:read",
        }
    }
}

/// A participant's watermarks: `{conversation_id, user_id, last_delivered_seq, last_read_seq}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Watermarks {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Participant.
    pub user_id: UserId,
    /// Highest seq the participant's clients have received.
    pub last_delivered_seq: i64,
    /// Highest seq the participant has read.
    pub last_read_seq: i64,
}

/// What [`advance`] did.
#[derive(Debug, Clone, Copy)]
pub struct Advanced {
    /// The watermarks after the update.
    pub watermarks: Watermarks,
    /// Whether the requested watermark moved.
    pub moved: bool,
}

/// Moves `kind`'s watermark of `user` in `conversation` up to `seq`, never backward.
///
/// # Errors
/// [`DbError::NotFound`] if `user` is not a participant, or a query failure.
pub fn advance(
    conn: &mut DbConnection,
    conversation: ConversationId,
    user: UserId,
    kind: ReceiptKind,
    seq: i64,
) -> Result<Advanced, DbError> {
    use diesel::RunQueryDsl as _;
    let row = participants::table
        .filter(participants::conversation_id.eq(conversation))
        .filter(participants::user_id.eq(user));
    let delivered = diesel::update(row.filter(participants::last_delivered_seq.lt(seq)))
        .set(participants::last_delivered_seq.eq(seq))
        .execute(conn)?;
    let read = match kind {
        ReceiptKind::Read => diesel::update(row.filter(participants::last_read_seq.lt(seq)))
            .set(participants::last_read_seq.eq(seq))
            .execute(conn)?,
        ReceiptKind::Delivered => 0,
    };
    let (last_delivered_seq, last_read_seq): (i64, i64) = row
        .select((
            participants::last_delivered_seq,
            participants::last_read_seq,
        ))
        .first(conn)
        .optional()?
        .ok_or(DbError::NotFound)?;
    Ok(Advanced {
        watermarks: Watermarks {
            conversation_id: conversation,
            user_id: user,
            last_delivered_seq,
            last_read_seq,
        },
        moved: match kind {
            ReceiptKind::Delivered => delivered > 0,
            ReceiptKind::Read => read > 0,
        },
    })
}

/// One row of [`unread`].
#[derive(Debug, Clone, Copy, diesel::QueryableByName)]
pub struct Unread {
    /// Conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// The caller's read watermark there.
    #[diesel(sql_type = BigInt)]
    pub last_read_seq: i64,
    /// Messages from others after it, not deleted.
    #[diesel(sql_type = BigInt)]
    pub unread: i64,
}

/// The unread count and read watermark of every conversation `user` takes part in, or only of
/// `only` when given.
///
/// # Errors
/// A query failure.
pub async fn unread(
    conn: &mut AsyncConn,
    user: UserId,
    only: Option<ConversationId>,
) -> Result<Vec<Unread>, DbError> {
    use diesel::sql_types::Nullable;
    use diesel_async::RunQueryDsl as _;
    // A range scan of messages_conversation_seq per conversation: cost grows with the unread
    // messages, not with history.
    Ok(diesel::sql_query(
        "SELECT p.conversation_id AS conversation_id, p.last_read_seq AS last_read_seq, \
           (SELECT count(*) FROM messages m \
             WHERE m.conversation_id = p.conversation_id AND m.seq > p.last_read_seq \
               AND m.sender_id <> p.user_id AND m.deleted_at IS NULL) AS unread \
         FROM participants p WHERE p.user_id = ? AND (? IS NULL OR p.conversation_id = ?) \
         ORDER BY p.conversation_id",
    )
    .bind::<BigInt, _>(user.0)
    .bind::<Nullable<BigInt>, _>(only.map(|c| c.0))
    .bind::<Nullable<BigInt>, _>(only.map(|c| c.0))
    .load(conn)
    .await?)
}
