//! Storing messages: each gets the next `seq` and `version` of its conversation in the
//! transaction that stores it, many messages per transaction (group commit).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::backend::Backend;
use diesel::prelude::{
    ExpressionMethods, NullableExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Timestamp};

use crate::db::models::{MessageRow, NewMessage, UploadRow};
use crate::db::schema::{conversations, messages, uploads};
use crate::db::{DbConnection, DbError, now, on_conn};
use crate::domain::{ConversationId, ConversationStatus, ProjectId, UploadId, UserId};

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

/// The outcome of storing a [`MessageDraft`].
#[derive(Debug, Clone)]
pub struct Inserted {
    /// The stored row (the original one for a retried `client_msg_id`).
    pub row: MessageRow,
    /// True when `client_msg_id` matched an earlier message: nothing new was stored.
    pub duplicate: bool,
}

/// Outcomes of [`insert_all`], each with the index of its draft in the batch.
pub(super) type Outcomes = Vec<(usize, Result<Inserted, DbError>)>;

/// Stores `drafts` (each with its index in the batch) inside the caller's transaction, one
/// group per conversation. For each conversation: one lookup of retried `client_msg_id`s, one
/// `UPDATE` that reserves the next `n` seqs and versions, and one multi-row `INSERT`. A message
/// of a closed or missing conversation, or with a bad `attachment_id`, is refused without
/// disturbing the others. A `client_msg_id` already used by this sender in this conversation
/// returns the earlier message instead (unique index `messages_client_msg_id`).
///
/// # Errors
/// A query failure, which must roll the whole transaction back.
pub(super) fn insert_all(
    conn: &mut DbConnection,
    drafts: &[(usize, &MessageDraft)],
) -> Result<Outcomes, DbError> {
    let mut groups: BTreeMap<ConversationId, Vec<(usize, &MessageDraft)>> = BTreeMap::new();
    for &(index, draft) in drafts {
        groups
            .entry(draft.conversation_id)
            .or_default()
            .push((index, draft));
    }
    let mut results = Vec::with_capacity(drafts.len());
    for (conversation, group) in groups {
        let members: Vec<&MessageDraft> = group.iter().map(|(_, draft)| *draft).collect();
        let outcomes = insert_group(conn, conversation, &members)?;
        results.extend(group.iter().map(|(index, _)| *index).zip(outcomes));
    }
    Ok(results)
}

/// Reserves `n` seqs and versions of an open conversation and returns the last of each:
/// `UPDATE conversations SET last_seq = last_seq + ?, version = version + ?, last_activity_at =
/// ? WHERE id = ? AND status = 'open' RETURNING last_seq, version`. No row when the
/// conversation is closed or missing. On any backend the row's write lock serializes writers
/// of one conversation, so seqs stay gapless and unique.
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

impl QueryId for ReserveSeqs {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for ReserveSeqs {
    type SqlType = (BigInt, BigInt);
}

impl<DB> QueryFragment<DB> for ReserveSeqs
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Timestamp> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        out.push_sql("UPDATE conversations SET last_seq = last_seq + ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(", version = version + ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(", last_activity_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.conversation.0)?;
        out.push_sql(" AND status = ");
        out.push_bind_param::<Text, _>(ConversationStatus::Open.as_str())?;
        out.push_sql(" RETURNING last_seq, version");
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
            let mut inserted: Vec<MessageRow> = on_conn!(conn, c => {
                diesel::insert_into(messages::table)
                    .values(chunk)
                    .returning(MessageRow::as_returning())
                    .get_results(c)
            })?;
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
        let rows: Vec<MessageRow> = on_conn!(conn, c => {
            messages::table
                .filter(messages::conversation_id.eq(conversation))
                // No `IS NOT NULL` term: with it SQLite range-scans every keyed message of the
                // conversation; without it, `IN` seeks the partial index once per key.
                .filter(messages::client_msg_id.eq_any(chunk))
                .select(MessageRow::as_select())
                .load(c)
        })?;
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
        let rows: Vec<UploadRow> = on_conn!(conn, c => {
            uploads::table
                .filter(uploads::id.eq_any(chunk))
                .select(UploadRow::as_select())
                .load(c)
        })?;
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
        // Reserve seqs and versions (end - n, end] in the same transaction as the rows: no
        // gaps.
        let reserve = ReserveSeqs {
            conversation,
            n,
            at,
        };
        let end: Option<(i64, i64)> = on_conn!(conn, c => reserve.get_result(c)).optional()?;
        match end {
            None => {
                let exists = conversations::table
                    .filter(conversations::id.eq(conversation))
                    .count();
                let exists: i64 = on_conn!(conn, c => exists.get_result(c))?;
                refused = Some(exists > 0);
            }
            Some((end_seq, end_version)) => {
                let new_rows: Vec<NewMessage> = fresh
                    .iter()
                    .zip(end_seq - n + 1..)
                    .zip(end_version - n + 1..)
                    .map(|((draft, seq), version)| {
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
                                .and_then(|u| serde_json::to_string(&u.stored_attachment()).ok()),
                            version,
                            created_version: version,
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
                    on_conn!(conn, c => {
                        diesel::update(
                            uploads::table.filter(uploads::id.nullable().eq(row.attachment_id)),
                        )
                        .set((
                            uploads::message_id.eq(row.id),
                            uploads::conversation_id.eq(conversation),
                        ))
                        .execute(c)
                    })?;
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
