//! Who is banned from a conversation: removed, and kept out of its invites and the directory
//! until an owner or admin lifts the ban or adds them back ([`super::membership`] writes).

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl};

use crate::db::schema::conversation_bans;
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::{ConversationId, UserId};

/// A ban: who, by whom, since when.
pub type Ban = (UserId, Option<UserId>, NaiveDateTime);

/// Whether `user` is banned from conversation `id`.
///
/// # Errors
/// A query failure.
pub async fn is_banned(
    conn: &mut ReadConn,
    id: ConversationId,
    user: UserId,
) -> Result<bool, DbError> {
    use diesel_async::RunQueryDsl as _;
    let found: Option<UserId> = on_read!(conn, c => {
        conversation_bans::table
            .find((id, user))
            .select(conversation_bans::user_id)
            .first(c)
            .await
            .optional()
    })?;
    Ok(found.is_some())
}

/// A page of conversation `id`'s bans by user id above `after`, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    id: ConversationId,
    after: i64,
    limit: i64,
) -> Result<Vec<Ban>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        conversation_bans::table
            .filter(conversation_bans::conversation_id.eq(id))
            .filter(conversation_bans::user_id.gt(after))
            .order(conversation_bans::user_id.asc())
            .limit(limit)
            .select((
                conversation_bans::user_id,
                conversation_bans::banned_by,
                conversation_bans::created_at,
            ))
            .load(c)
            .await
    })?)
}
