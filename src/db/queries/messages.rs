//! Messages: the sequenced insert (write) and history pages (read).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::{
    ExpressionMethods, NullableExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};

use crate::db::models::{MessageRow, NewMessage, UploadRow};
use crate::db::schema::{conversations, messages, participants, uploads};
use crate::db::{AsyncConn, DbConnection, now};
use crate::domain::{
    ConversationId, ConversationStatus, MessageId, ProjectId, Role, UploadId, UserId,
};
use crate::error::DbError;

/// A message to store.
#[derive(Debug, Clone)]
pub struct MessageDraft {
    /// Tenant.
    pub project_id: ProjectId,
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// Author (already checked to be a participant).
    pub sender_id: UserId,
    /// Validated text.
    pub content: String,
    /// Client-chosen idempotency key.
    pub client_msg_id: Option<String>,
    /// An upload of the sender's to attach (the message becomes kind `image` or `file`).
    pub attachment_id: Option<UploadId>,
}

/// The result of [`insert`].
#[derive(Debug, Clone)]
pub struct Inserted {
    /// The stored row (the original one for a retried `client_msg_id`).
    pub row: MessageRow,
    /// True when `client_msg_id` matched an earlier message: nothing new was stored.
    pub duplicate: bool,
}

/// Stores a message with the next `seq` of its conversation, in one transaction: the
/// conversation's `last_seq` is incremented and the row inserted together, so seq has no gaps
/// and a failed commit leaves no trace. A `client_msg_id` already used by this sender in this
/// conversation returns the earlier message instead (unique index
/// `messages_client_msg_id`).
///
/// # Errors
/// [`DbError::ConversationClosed`] when the conversation is closed, [`DbError::NotFound`] when
/// it does not exist, or a query failure.
pub fn insert(conn: &mut DbConnection, draft: &MessageDraft) -> Result<Inserted, DbError> {
    conn.immediate_transaction(|conn| {
        insert_group(conn, draft.conversation_id, &[draft])?
            .pop()
            .unwrap_or(Err(DbError::Commit("no result".into())))
    })
}

/// Stores a batch in one transaction (group commit). The results are in the order of
/// `drafts`.
///
/// The writes are set-based: for each conversation in the batch, one lookup of retried
/// `client_msg_id`s, one `UPDATE` that reserves the next `n` seqs, and one multi-row `INSERT`.
/// A message refused for a reason known before anything is written (closed or missing
/// conversation, a retried `client_msg_id`) does not disturb the others. Any other failure
/// rolls the whole transaction back and the batch is written again one message per
/// transaction, so one bad message can neither take the others down nor leave a gap in seq.
///
/// # Errors
/// A failure to begin or commit the transaction.
pub fn insert_batch(
    conn: &mut DbConnection,
    drafts: &[MessageDraft],
) -> Result<Vec<Result<Inserted, DbError>>, DbError> {
    let together = conn.immediate_transaction(|conn| {
        let mut groups: BTreeMap<ConversationId, Vec<usize>> = BTreeMap::new();
        for (index, draft) in drafts.iter().enumerate() {
            groups.entry(draft.conversation_id).or_default().push(index);
        }
        let mut results: Vec<Option<Result<Inserted, DbError>>> =
            drafts.iter().map(|_| None).collect();
        for (conversation, indices) in groups {
            let group: Vec<&MessageDraft> = indices.iter().map(|&i| &drafts[i]).collect();
            for (index, result) in
                indices
                    .into_iter()
                    .zip(insert_group(conn, conversation, &group)?)
            {
                results[index] = Some(result);
            }
        }
        Ok::<_, DbError>(results)
    });
    match together {
        Ok(results) => Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(DbError::Commit("message lost in batch".into()))))
            .collect()),
        Err(err) if drafts.len() > 1 => {
            tracing::warn!(error = ?err, size = drafts.len(), "batch failed; writing one by one");
            Ok(drafts.iter().map(|draft| insert(conn, draft)).collect())
        }
        Err(err) => Err(err),
    }
}

/// Reserves `n` seqs of an open conversation and returns the last one:
/// `UPDATE conversations SET last_seq = last_seq + ?, last_activity_at = ? WHERE id = ? AND
/// status = 'open' RETURNING last_seq`. No row when the conversation is closed or missing.
///
/// Written out rather than built with `diesel::update`, whose statements diesel never caches
/// (a changeset may skip columns): this one runs per conversation per group commit, and
/// preparing it each time cost several percent of the server's CPU under fan-out load.
#[derive(Debug, Clone, Copy)]
struct ReserveSeqs {
    conversation: ConversationId,
    n: i64,
    at: chrono::NaiveDateTime,
}

impl diesel::query_builder::QueryId for ReserveSeqs {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for ReserveSeqs {
    type SqlType = diesel::sql_types::BigInt;
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for ReserveSeqs {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{BigInt, Text, Timestamp};
        out.push_sql("UPDATE conversations SET last_seq = last_seq + ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(", last_activity_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.conversation)?;
        out.push_sql(" AND status = ");
        out.push_bind_param::<Text, _>(ConversationStatus::Open.as_str())?;
        out.push_sql(" RETURNING last_seq");
        Ok(())
    }
}

impl<Conn> diesel::RunQueryDsl<Conn> for ReserveSeqs {}

/// Inserts `rows` with multi-row `INSERT … RETURNING` statements of 64, 16, 4 and 1 rows. Fixed
/// sizes keep the SQL text to four shapes, which diesel's statement cache prepares once per
/// connection; a statement per batch size would be parsed and planned on every commit (it was
/// a tenth of the server's CPU under fan-out load, measured with perf).
fn insert_rows(
    conn: &mut DbConnection,
    rows: &[NewMessage],
) -> diesel::QueryResult<Vec<MessageRow>> {
    fn fixed<const N: usize>(
        conn: &mut DbConnection,
        rows: &[NewMessage],
        out: &mut Vec<MessageRow>,
    ) -> diesel::QueryResult<usize> {
        use diesel::RunQueryDsl as _;
        for chunk in rows.chunks_exact(N) {
            let chunk: &[NewMessage; N] = chunk
                .try_into()
                .map_err(|_| diesel::result::Error::RollbackTransaction)?;
            let mut inserted: Vec<MessageRow> = diesel::insert_into(messages::table)
                .values(chunk)
                .returning(MessageRow::as_returning())
                .get_results(conn)?;
            out.append(&mut inserted);
        }
        Ok(rows.len() / N * N)
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut rest = rows;
    rest = &rest[fixed::<64>(conn, rest, &mut out)?..];
    rest = &rest[fixed::<16>(conn, rest, &mut out)?..];
    rest = &rest[fixed::<4>(conn, rest, &mut out)?..];
    fixed::<1>(conn, rest, &mut out)?;
    Ok(out)
}

/// Where each draft of a group ends up.
enum Slot {
    /// The i-th new row.
    New(usize),
    /// A retry of the i-th new row within this batch.
    Again(usize),
    /// A retry of a message stored earlier.
    Stored(MessageRow),
    /// Refused before anything is written: a bad `attachment_id`.
    Invalid(String),
}

/// Stores drafts of one conversation, in order, inside the caller's transaction.
fn insert_group(
    conn: &mut DbConnection,
    conversation: ConversationId,
    drafts: &[&MessageDraft],
) -> Result<Vec<Result<Inserted, DbError>>, DbError> {
    use diesel::RunQueryDsl as _;
    // Messages stored earlier under the same client_msg_ids.
    let keys: Vec<&str> = drafts
        .iter()
        .filter_map(|d| d.client_msg_id.as_deref())
        .collect();
    let mut stored: HashMap<(UserId, String), MessageRow> = HashMap::new();
    for chunk in keys.chunks(500) {
        let rows: Vec<MessageRow> = messages::table
            .filter(messages::conversation_id.eq(conversation))
            // No `IS NOT NULL` term: with it SQLite range-scans every keyed message of the
            // conversation; without it, `IN` seeks the partial index once per key.
            .filter(messages::client_msg_id.eq_any(chunk))
            .select(MessageRow::as_select())
            .load(conn)?;
        for row in rows {
            if let Some(key) = row.client_msg_id.clone() {
                stored.insert((row.sender_id, key), row);
            }
        }
    }
    // Uploads to attach, checked before any seq is reserved.
    let wanted: Vec<UploadId> = drafts.iter().filter_map(|d| d.attachment_id).collect();
    let mut uploads_by_id: HashMap<UploadId, UploadRow> = HashMap::new();
    for chunk in wanted.chunks(500) {
        let rows: Vec<UploadRow> = uploads::table
            .filter(uploads::id.eq_any(chunk))
            .select(UploadRow::as_select())
            .load(conn)?;
        uploads_by_id.extend(rows.into_iter().map(|row| (row.id, row)));
    }
    let mut claimed: HashSet<UploadId> = HashSet::new();
    let mut fresh: Vec<&MessageDraft> = Vec::new();
    let mut first: HashMap<(UserId, &str), usize> = HashMap::new();
    let mut slots = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let retry = draft.client_msg_id.as_deref().is_some_and(|key| {
            stored.contains_key(&(draft.sender_id, key.to_string()))
                || first.contains_key(&(draft.sender_id, key))
        });
        if let Some(upload) = draft.attachment_id.filter(|_| !retry) {
            let problem = match uploads_by_id.get(&upload) {
                None => Some("unknown upload"),
                Some(row) if row.uploader_id != draft.sender_id => Some("unknown upload"),
                Some(row) if row.conversation_id.is_some_and(|c| c != conversation) => {
                    Some("the upload belongs to another conversation")
                }
                Some(row) if row.message_id.is_some() || claimed.contains(&upload) => {
                    Some("the upload is already attached to a message")
                }
                Some(_) => None,
            };
            if let Some(problem) = problem {
                slots.push(Slot::Invalid(format!("attachment_id: {problem}")));
                continue;
            }
            claimed.insert(upload);
        }
        let slot = match draft.client_msg_id.as_deref() {
            Some(key) => {
                if let Some(row) = stored.get(&(draft.sender_id, key.to_string())) {
                    Slot::Stored(row.clone())
                } else if let Some(&index) = first.get(&(draft.sender_id, key)) {
                    Slot::Again(index)
                } else {
                    first.insert((draft.sender_id, key), fresh.len());
                    fresh.push(draft);
                    Slot::New(fresh.len() - 1)
                }
            }
            None => {
                fresh.push(draft);
                Slot::New(fresh.len() - 1)
            }
        };
        slots.push(slot);
    }

    let mut rows: Vec<MessageRow> = Vec::new();
    let mut refused: Option<bool> = None; // Some(true): closed, Some(false): missing
    if !fresh.is_empty() {
        let n = i64::try_from(fresh.len()).unwrap_or(i64::MAX);
        let at = now();
        // Reserve seqs (end - n, end] in the same transaction as the rows: no gaps.
        let end: Option<i64> = ReserveSeqs {
            conversation,
            n,
            at,
        }
        .get_result(conn)
        .optional()?;
        match end {
            None => {
                let exists: i64 = conversations::table
                    .filter(conversations::id.eq(conversation))
                    .count()
                    .get_result(conn)?;
                refused = Some(exists > 0);
            }
            Some(end) => {
                let new_rows: Vec<NewMessage> = fresh
                    .iter()
                    .zip(end - n + 1..)
                    .map(|(draft, seq)| {
                        let upload = draft.attachment_id.and_then(|id| uploads_by_id.get(&id));
                        NewMessage {
                            project_id: draft.project_id,
                            conversation_id: conversation,
                            seq,
                            sender_id: draft.sender_id,
                            kind: upload.map_or("text", UploadRow::message_kind).into(),
                            content: draft.content.clone(),
                            client_msg_id: draft.client_msg_id.clone(),
                            created_at: at,
                            attachment_id: upload.map(|u| u.id),
                            attachment: upload
                                .and_then(|u| serde_json::to_string(&u.attachment()).ok()),
                        }
                    })
                    .collect();
                rows = insert_rows(conn, &new_rows)?;
                // RETURNING order is unspecified in SQLite: put rows back in seq order.
                rows.sort_by_key(|row| row.seq);
                if rows.len() != fresh.len() {
                    return Err(DbError::Commit(
                        "insert returned an unexpected row count".into(),
                    ));
                }
                // Attached uploads now belong to this conversation and message, once.
                for row in rows.iter().filter(|row| row.attachment_id.is_some()) {
                    diesel::update(
                        uploads::table.filter(uploads::id.nullable().eq(row.attachment_id)),
                    )
                    .set((
                        uploads::message_id.eq(row.id),
                        uploads::conversation_id.eq(conversation),
                    ))
                    .execute(conn)?;
                }
            }
        }
    }
    let refusal = |closed: bool| {
        if closed {
            DbError::ConversationClosed
        } else {
            DbError::NotFound
        }
    };
    Ok(slots
        .into_iter()
        .map(|slot| match (slot, refused) {
            (Slot::Stored(row), _) => Ok(Inserted {
                row,
                duplicate: true,
            }),
            (Slot::Invalid(problem), _) => Err(DbError::Invalid(problem)),
            (Slot::New(_) | Slot::Again(_), Some(closed)) => Err(refusal(closed)),
            (Slot::New(i), None) => Ok(Inserted {
                row: rows[i].clone(),
                duplicate: false,
            }),
            (Slot::Again(i), None) => Ok(Inserted {
                row: rows[i].clone(),
                duplicate: true,
            }),
        })
        .collect())
}

/// Which slice of history to read.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Only messages with seq < this; the newest `limit` of them.
    pub before_seq: Option<i64>,
    /// Only messages with seq > this; the oldest `limit` of them.
    pub after_seq: Option<i64>,
    /// At most this many (1..=200).
    pub limit: i64,
}

/// A page of history, ascending by seq. With `after_seq` (alone or with `before_seq`) the
/// oldest matching messages come first; otherwise the newest `limit` before `before_seq` (or
/// the end).
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut AsyncConn,
    conversation: ConversationId,
    request: PageRequest,
) -> Result<Vec<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let mut query = messages::table
        .filter(messages::conversation_id.eq(conversation))
        .select(MessageRow::as_select())
        .limit(request.limit)
        .into_boxed();
    if let Some(before) = request.before_seq {
        query = query.filter(messages::seq.lt(before));
    }
    if let Some(after) = request.after_seq {
        query = query.filter(messages::seq.gt(after));
        Ok(query.order(messages::seq.asc()).load(conn).await?)
    } else {
        let mut rows: Vec<MessageRow> = query.order(messages::seq.desc()).load(conn).await?;
        rows.reverse();
        Ok(rows)
    }
}

/// The message `sender` stored in `conversation` with `client_msg_id`, if any.
///
/// # Errors
/// A query failure.
pub async fn find_by_client_msg_id(
    conn: &mut AsyncConn,
    conversation: ConversationId,
    sender: UserId,
    client_msg_id: &str,
) -> Result<Option<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::client_msg_id.eq(client_msg_id))
        .filter(messages::sender_id.eq(sender))
        .select(MessageRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// One message by id.
///
/// # Errors
/// A query failure.
pub async fn find(conn: &mut AsyncConn, id: MessageId) -> Result<Option<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(messages::table
        .find(id)
        .select(MessageRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Who is changing a message, and how.
#[derive(Debug, Clone)]
pub enum Change {
    /// Replace the content (sender only).
    Edit(String),
    /// Tombstone it (sender, or an agent or admin who can see the conversation).
    Delete,
}

/// The result of [`change`].
#[derive(Debug, Clone)]
pub struct Changed {
    /// The message after the change.
    pub row: MessageRow,
    /// False when nothing changed (deleting a deleted message).
    pub changed: bool,
}

/// Edits or deletes a message on behalf of `user` (with `role`). A deleted message keeps its
/// row and seq, with `deleted_at` set and empty content.
///
/// # Errors
/// [`DbError::NotFound`] when the message does not exist or its conversation is not visible to
/// `user` (not a participant, not an admin); [`DbError::Forbidden`] for someone else's message;
/// [`DbError::MessageDeleted`] when editing a deleted message; [`DbError::ConversationClosed`]
/// when editing in a closed conversation.
pub fn change(
    conn: &mut DbConnection,
    id: MessageId,
    user: UserId,
    role: Role,
    change: &Change,
) -> Result<Changed, DbError> {
    use diesel::RunQueryDsl as _;
    conn.immediate_transaction(|conn| {
        let row = messages::table
            .find(id)
            .select(MessageRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(DbError::NotFound)?;
        let participant: i64 = participants::table
            .filter(participants::conversation_id.eq(row.conversation_id))
            .filter(participants::user_id.eq(user))
            .count()
            .get_result(conn)?;
        if participant == 0 && role != Role::Admin {
            return Err(DbError::NotFound);
        }
        let own = row.sender_id == user;
        let at = now();
        match change {
            Change::Edit(content) => {
                if !own {
                    return Err(DbError::Forbidden);
                }
                if row.deleted_at.is_some() {
                    return Err(DbError::MessageDeleted);
                }
                let status: String = conversations::table
                    .find(row.conversation_id)
                    .select(conversations::status)
                    .first(conn)?;
                if ConversationStatus::from_stored(&status) == ConversationStatus::Closed {
                    return Err(DbError::ConversationClosed);
                }
                let row = diesel::update(messages::table.find(id))
                    .set((messages::content.eq(content), messages::edited_at.eq(at)))
                    .returning(MessageRow::as_returning())
                    .get_result(conn)?;
                Ok(Changed { row, changed: true })
            }
            Change::Delete => {
                if !own && !role.can_close() {
                    return Err(DbError::Forbidden);
                }
                if row.deleted_at.is_some() {
                    return Ok(Changed {
                        row,
                        changed: false,
                    });
                }
                let row = diesel::update(messages::table.find(id))
                    .set((
                        messages::content.eq(""),
                        messages::deleted_at.eq(at),
                        messages::attachment.eq(None::<String>),
                    ))
                    .returning(MessageRow::as_returning())
                    .get_result(conn)?;
                // The file goes back to being its uploader's alone.
                diesel::update(uploads::table.filter(uploads::message_id.eq(id)))
                    .set(uploads::message_id.eq(None::<MessageId>))
                    .execute(conn)?;
                Ok(Changed { row, changed: true })
            }
        }
    })
}

// Test-only: every unwrap below runs against an in-memory database built by the test itself;
// a failure there is a failed test, never reachable from a client, the disk or the network.
#[cfg(test)]
mod tests {
    use diesel::Connection;
    use proptest::prelude::*;

    use super::*;
    use crate::db::models::NewUser;
    use crate::db::queries::{conversations as convs, users};
    use crate::domain::DEFAULT_PROJECT;

    fn database(conversations: usize) -> (DbConnection, UserId, Vec<ConversationId>) {
        let mut conn = DbConnection::establish(":memory:").unwrap();
        crate::db::run_migrations(&mut conn).unwrap();
        let user = users::insert(
            &mut conn,
            &NewUser {
                project_id: DEFAULT_PROJECT,
                email: "p@example.com".into(),
                username: "prop".into(),
                display_name: None,
                role: "customer".into(),
                password_hash: "x".into(),
                created_at: now(),
            },
        )
        .unwrap();
        let ids = (0..conversations)
            .map(|_| {
                convs::create(&mut conn, DEFAULT_PROJECT, user.id, &[user.id], None)
                    .unwrap()
                    .id
            })
            .collect();
        (conn, user.id, ids)
    }

    proptest! {
        /// However sends are grouped into batches, interleaved across conversations, retried
        /// with the same client_msg_id or sent to a conversation closed midway, each
        /// conversation's stored seqs are exactly 1..=n, in send order.
        #[test]
        fn seq_stays_gapless_through_group_commit(
            sends in prop::collection::vec((0usize..3, prop::option::of(0u8..8), any::<bool>()), 1..120),
            close_at in prop::option::of(0usize..120),
        ) {
            let (mut conn, user, ids) = database(3);
            let mut batch = Vec::new();
            let mut accepted: Vec<Vec<i64>> = vec![Vec::new(); 3];
            for (i, (conversation, key, end_batch)) in sends.iter().enumerate() {
                if close_at == Some(i) {
                    convs::close(&mut conn, ids[0], user).unwrap();
                }
                batch.push(MessageDraft {
                    project_id: DEFAULT_PROJECT,
                    conversation_id: ids[*conversation],
                    sender_id: user,
                    content: format!("m{i}"),
                    client_msg_id: key.map(|k| format!("k{k}")),
                    attachment_id: None,
                });
                if *end_batch || i + 1 == sends.len() {
                    for (draft, result) in batch.iter().zip(insert_batch(&mut conn, &batch).unwrap()) {
                        let index = ids.iter().position(|c| *c == draft.conversation_id).unwrap();
                        match result {
                            Ok(inserted) if !inserted.duplicate => accepted[index].push(inserted.row.seq),
                            Ok(_) | Err(DbError::ConversationClosed) => {}
                            Err(err) => panic!("{err:?}"),
                        }
                    }
                    batch.clear();
                }
            }
            use diesel::RunQueryDsl as _;
            for (index, id) in ids.iter().enumerate() {
                let stored: Vec<i64> = messages::table
                    .filter(messages::conversation_id.eq(id))
                    .select(messages::seq)
                    .order(messages::seq)
                    .load(&mut conn)
                    .unwrap();
                let expected: Vec<i64> = (1..=stored.len() as i64).collect();
                prop_assert_eq!(&stored, &expected);
                prop_assert_eq!(&accepted[index], &expected);
                let last: i64 = conversations::table.find(id).select(conversations::last_seq).first(&mut conn).unwrap();
                prop_assert_eq!(last, stored.len() as i64);
            }
        }

        /// Watermarks only move forward, and reading implies delivery.
        #[test]
        fn watermarks_are_monotone(marks in prop::collection::vec((any::<bool>(), 0i64..50), 1..60)) {
            use crate::db::queries::participants::{ReceiptKind, advance};
            let (mut conn, user, ids) = database(1);
            let (mut delivered, mut read) = (0, 0);
            for (is_read, seq) in marks {
                let kind = if is_read { ReceiptKind::Read } else { ReceiptKind::Delivered };
                let advanced = advance(&mut conn, ids[0], user, kind, seq).unwrap();
                delivered = delivered.max(seq);
                if is_read {
                    prop_assert_eq!(advanced.moved, seq > read);
                    read = read.max(seq);
                }
                prop_assert_eq!(advanced.watermarks.last_delivered_seq, delivered);
                prop_assert_eq!(advanced.watermarks.last_read_seq, read);
                prop_assert!(advanced.watermarks.last_read_seq <= advanced.watermarks.last_delivered_seq);
            }
        }
    }
}
