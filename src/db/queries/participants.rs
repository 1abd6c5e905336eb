//! Participant watermarks (receipts) and the unread counts computed from them.
//!
//! Watermarks only move forward: `last_delivered_seq` (the client has the messages up to it) and
//! `last_read_seq` (the user has seen them). Reading implies delivery. The unread count of a
//! conversation is the number of messages from others, not deleted, with `seq > last_read_seq`:
//! computed from the stored rows every time, so it can be checked and never drifts.

use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods,
    OptionalExtension, QueryDsl,
};

use crate::api::Watermarks;
use crate::db::schema::{messages, participants};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read};
use crate::domain::{ConversationId, MemberRole, ReceiptKind, UserId};

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
    let delivered = on_conn!(conn, c => {
        diesel::update(row.filter(participants::last_delivered_seq.lt(seq)))
            .set(participants::last_delivered_seq.eq(seq))
            .execute(c)
    })?;
    let read = match kind {
        ReceiptKind::Read => on_conn!(conn, c => {
            diesel::update(row.filter(participants::last_read_seq.lt(seq)))
                .set(participants::last_read_seq.eq(seq))
                .execute(c)
        })?,
        ReceiptKind::Delivered => 0,
    };
    let watermarks = row.select((
        participants::last_delivered_seq,
        participants::last_read_seq,
    ));
    let (last_delivered_seq, last_read_seq): (i64, i64) = on_conn!(conn, c => watermarks.first(c))
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

/// Every participant of `conversation` with their watermarks, for the room's cache.
///
/// # Errors
/// A query failure.
pub async fn of_conversation(
    conn: &mut ReadConn,
    conversation: ConversationId,
) -> Result<Vec<Watermarks>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let query = participants::table
        .filter(participants::conversation_id.eq(conversation))
        .select((
            participants::user_id,
            participants::last_delivered_seq,
            participants::last_read_seq,
        ))
        .order(participants::user_id.asc());
    let rows: Vec<(UserId, i64, i64)> = on_read!(conn, c => query.load(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, last_delivered_seq, last_read_seq)| Watermarks {
            conversation_id: conversation,
            user_id,
            last_delivered_seq,
            last_read_seq,
        })
        .collect())
}

/// Every participant of `conversation` with their watermarks and role, by user id.
///
/// # Errors
/// A query failure.
pub async fn members_of(
    conn: &mut ReadConn,
    conversation: ConversationId,
) -> Result<Vec<(Watermarks, MemberRole)>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let query = participants::table
        .filter(participants::conversation_id.eq(conversation))
        .select((
            participants::user_id,
            participants::last_delivered_seq,
            participants::last_read_seq,
            participants::role,
        ))
        .order(participants::user_id.asc());
    let rows: Vec<(UserId, i64, i64, String)> = on_read!(conn, c => query.load(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, last_delivered_seq, last_read_seq, role)| {
            let marks = Watermarks {
                conversation_id: conversation,
                user_id,
                last_delivered_seq,
                last_read_seq,
            };
            (marks, MemberRole::from_stored(&role))
        })
        .collect())
}

/// One row of [`unread`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// The caller's read watermark there.
    pub last_read_seq: i64,
    /// Messages from others after it, not deleted.
    pub unread: i64,
    /// The caller's role there.
    pub role: MemberRole,
}

/// The unread count and read watermark of every conversation `user` takes part in, or only of
/// `only` when given, by conversation id; internal notes count only with `notes` (agents and
/// admins).
///
/// One query: the user's participant rows, each joined with the messages after its read
/// watermark (a range of the `(conversation_id, seq)` index, so the cost grows with the unread
/// messages, not with history) and counted.
///
/// # Errors
/// A query failure.
pub async fn unread(
    conn: &mut ReadConn,
    (user, notes): (UserId, bool),
    only: Option<ConversationId>,
) -> Result<Vec<Unread>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let query = participants::table
        .left_join(
            messages::table.on(messages::conversation_id
                .eq(participants::conversation_id)
                .and(messages::seq.gt(participants::last_read_seq))
                .and(messages::sender_id.ne(participants::user_id))
                .and(messages::deleted_at.is_null())
                // Internal notes count for the team only (`notes`).
                .and(messages::private.eq(false).or(messages::private.eq(notes)))),
        )
        .filter(participants::user_id.eq(user))
        .group_by((
            participants::conversation_id,
            participants::last_read_seq,
            participants::role,
        ))
        .select((
            participants::conversation_id,
            participants::last_read_seq,
            participants::role,
            diesel::dsl::count(messages::id.nullable()),
        ))
        .order(participants::conversation_id.asc());
    let rows: Vec<(ConversationId, i64, String, i64)> = match only {
        Some(conversation) => {
            let query = query.filter(participants::conversation_id.eq(conversation));
            on_read!(conn, c => query.load(c).await)?
        }
        None => on_read!(conn, c => query.load(c).await)?,
    };
    Ok(rows
        .into_iter()
        .map(|(conversation_id, last_read_seq, role, unread)| Unread {
            conversation_id,
            last_read_seq,
            unread,
            role: MemberRole::from_stored(&role),
        })
        .collect())
}

/// The member role of `user` in conversation `id`; `None` when they do not take part.
///
/// # Errors
/// A query failure.
pub async fn role_of(
    conn: &mut ReadConn,
    id: ConversationId,
    user: UserId,
) -> Result<Option<MemberRole>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let role: Option<String> = on_read!(conn, c => {
        participants::table
            .find((id, user))
            .select(participants::role)
            .first(c)
            .await
            .optional()
    })?;
    Ok(role.as_deref().map(MemberRole::from_stored))
}

/// A page of conversation `id`'s participants by user id above `after`, at most `limit`:
/// `(user, role, joined_at)`.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    id: ConversationId,
    after: i64,
    limit: i64,
) -> Result<Vec<(UserId, MemberRole, chrono::NaiveDateTime)>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let rows: Vec<(UserId, String, chrono::NaiveDateTime)> = on_read!(conn, c => {
        participants::table
            .filter(participants::conversation_id.eq(id))
            .filter(participants::user_id.gt(after))
            .order(participants::user_id.asc())
            .limit(limit)
            .select((participants::user_id, participants::role, participants::joined_at))
            .load(c)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(u, r, at)| (u, MemberRole::from_stored(&r), at))
        .collect())
}
