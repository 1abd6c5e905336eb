//! History reads: pages by seq, replays by version, lookups. All on the async read pool.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::MessageRow;
use crate::db::schema::messages;
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::{ConversationId, MessageId, UserId};

/// Which slice of history to read.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Only messages with seq < this; the newest `limit` of them.
    pub before_seq: Option<i64>,
    /// Only messages with seq > this; the oldest `limit` of them.
    pub after_seq: Option<i64>,
    /// At most this many (1..=200).
    pub limit: i64,
    /// Whether internal notes are read too (agents, admins, the project's backend).
    pub notes: bool,
}

/// A page of history, ascending by seq. With `after_seq` (alone or with `before_seq`) the
/// oldest matching messages come first; otherwise the newest `limit` before `before_seq` (or
/// the end).
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    conversation: ConversationId,
    request: PageRequest,
) -> Result<Vec<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let rows = on_read!(conn, c => {
        let mut query = messages::table
            .filter(messages::conversation_id.eq(conversation))
            .select(MessageRow::as_select())
            .limit(request.limit)
            .into_boxed();
        if let Some(before) = request.before_seq {
            query = query.filter(messages::seq.lt(before));
        }
        if !request.notes {
            query = query.filter(messages::private.eq(false));
        }
        if let Some(after) = request.after_seq {
            query
                .filter(messages::seq.gt(after))
                .order(messages::seq.asc())
                .load(c)
                .await?
        } else {
            let mut rows: Vec<MessageRow> = query.order(messages::seq.desc()).load(c).await?;
            rows.reverse();
            rows
        }
    });
    Ok(rows)
}

/// The message `sender` stored in `conversation` with `client_msg_id`, if any.
///
/// # Errors
/// A query failure.
pub async fn find_by_client_msg_id(
    conn: &mut ReadConn,
    conversation: ConversationId,
    sender: UserId,
    client_msg_id: &str,
) -> Result<Option<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::client_msg_id.eq(client_msg_id))
            .filter(messages::sender_id.eq(sender))
            .select(MessageRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// One message by id.
///
/// # Errors
/// A query failure.
pub async fn find(conn: &mut ReadConn, id: MessageId) -> Result<Option<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        messages::table
            .find(id)
            .select(MessageRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// Messages of `conversation` changed (stored, edited or deleted) after version `after` and at
/// or before `until`, oldest change first, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn changed_since(
    conn: &mut ReadConn,
    conversation: ConversationId,
    after: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::version.gt(after))
            .filter(messages::version.le(until))
            .order(messages::version.asc())
            .limit(limit)
            .select(MessageRow::as_select())
            .load(c)
            .await
    })?)
}

/// The version just below the `n` newest changes of `conversation` after version `after`, when
/// there are more than `n` of them: a replay of at most `n` changes starts above it.
///
/// # Errors
/// A query failure.
pub async fn version_before_newest(
    conn: &mut ReadConn,
    conversation: ConversationId,
    after: i64,
    n: i64,
) -> Result<Option<i64>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::version.gt(after))
            .order(messages::version.desc())
            .offset(n)
            .select(messages::version)
            .first(c)
            .await
    })
    .optional()?)
}

/// Messages of `conversation` stored at a version in `stored` (`(after, until]`) whose latest
/// change is after both `until` and `cursor`, oldest change first, at most `limit`: stored
/// before a replay's snapshot and changed again since.
///
/// # Errors
/// A query failure.
pub async fn stored_then_changed(
    conn: &mut ReadConn,
    conversation: ConversationId,
    stored: (i64, i64),
    cursor: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let (after, until) = stored;
    Ok(on_read!(conn, c => {
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::created_version.gt(after))
            .filter(messages::created_version.le(until))
            .filter(messages::version.gt(until.max(cursor)))
            .order(messages::version.asc())
            .limit(limit)
            .select(MessageRow::as_select())
            .load(c)
            .await
    })?)
}
