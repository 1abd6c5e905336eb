//! The statements a batch insert runs before its `INSERT`s ([`super::insert`]): the lookups of
//! retried `client_msg_id`s and of the uploads to attach, and the reservation of seqs and
//! versions.

use std::collections::HashMap;

use diesel::prelude::{ExpressionMethods, QueryDsl, SelectableHelper};

use super::batch::{FindRetries, LockConversations, ReserveSeqs, RetryKey, TouchActivity};
use super::insert::MessageDraft;
use crate::db::models::{MessageRow, UploadRow};
use crate::db::schema::uploads;
use crate::db::{DbConnection, DbError, on_conn};
use crate::domain::{ConversationId, UploadId, UserId};

/// The messages stored earlier under the batch's `client_msg_id`s, by conversation, sender and
/// key.
pub(super) fn find_retries(
    conn: &mut DbConnection,
    drafts: &[(usize, &MessageDraft)],
) -> Result<HashMap<RetryKeyOwned, MessageRow>, DbError> {
    use diesel::RunQueryDsl as _;
    let mut keys: Vec<RetryKey<'_>> = drafts
        .iter()
        .filter_map(|(_, d)| {
            d.client_msg_id
                .as_deref()
                .map(|key| (d.conversation_id, key, d.sender_id))
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut stored = HashMap::new();
    if keys.is_empty() {
        return Ok(stored);
    }
    let rows: Vec<MessageRow> = match conn {
        DbConnection::Sqlite(c) => FindRetries::sqlite(&keys).load(c)?,
        DbConnection::Postgres(c) => FindRetries::postgres(&keys).load(&mut **c)?,
    };
    for row in rows {
        if let Some(key) = row.client_msg_id.clone() {
            stored.insert((row.conversation_id, row.sender_id, key), row);
        }
    }
    Ok(stored)
}

/// `(conversation, sender, client_msg_id)`.
pub(super) type RetryKeyOwned = (ConversationId, UserId, String);

/// The uploads the batch wants to attach, by id.
pub(super) fn find_uploads(
    conn: &mut DbConnection,
    drafts: &[(usize, &MessageDraft)],
) -> Result<HashMap<UploadId, UploadRow>, DbError> {
    use diesel::RunQueryDsl as _;
    let wanted: Vec<UploadId> = drafts.iter().filter_map(|(_, d)| d.attachment_id).collect();
    let mut uploads_by_id = HashMap::new();
    for chunk in wanted.chunks(500) {
        let rows: Vec<UploadRow> = on_conn!(conn, c => {
            uploads::table
                .filter(uploads::id.eq_any(chunk))
                .select(UploadRow::as_select())
                .load(c)
        })?;
        uploads_by_id.extend(rows.into_iter().map(|row| (row.id, row)));
    }
    Ok(uploads_by_id)
}

/// Reserves `n` seqs and versions for each `(conversation, n)`; returns the last seq and
/// version reserved for each open one, whose `last_activity_at` moves to `at` if it was a
/// second or more behind.
pub(super) fn reserve(
    conn: &mut DbConnection,
    counts: &[(ConversationId, i64)],
    at: chrono::NaiveDateTime,
) -> Result<HashMap<ConversationId, (i64, i64)>, DbError> {
    use diesel::RunQueryDsl as _;
    if counts.is_empty() {
        return Ok(HashMap::new());
    }
    let ends: Vec<(i64, i64, i64)> = match conn {
        DbConnection::Sqlite(c) => ReserveSeqs::sqlite(counts).load(c)?,
        DbConnection::Postgres(c) => {
            // `counts` come in conversation order (a BTreeMap's).
            let ids = counts.iter().map(|(id, _)| id.0).collect();
            let _: Vec<i64> = LockConversations(ids).load(&mut **c)?;
            ReserveSeqs::postgres(counts).load(&mut **c)?
        }
    };
    let ends: HashMap<ConversationId, (i64, i64)> = ends
        .into_iter()
        .map(|(id, seq, version)| (ConversationId(id), (seq, version)))
        .collect();
    let active: Vec<ConversationId> = ends.keys().copied().collect();
    match conn {
        DbConnection::Sqlite(c) => TouchActivity::sqlite(&active, at).execute(c)?,
        DbConnection::Postgres(c) => TouchActivity::postgres(&active, at).execute(&mut **c)?,
    };
    Ok(ends)
}
