//! The set-based statements of a group commit: each takes the whole batch, whatever the number
//! of conversations it spans, and has one SQL text per backend, so each connection prepares it
//! once (a static [`QueryId`] puts it in diesel's statement cache).
//!
//! - [`FindRetries`]: the messages already stored under the batch's `client_msg_id`s;
//! - [`ReserveSeqs`]: `n` seqs and versions for each open conversation of the batch, the
//!   conversation rows locked in id order first on PostgreSQL ([`LockConversations`]);
//! - [`TouchActivity`]: `last_activity_at` of the conversations it has fallen behind in.
//!
//! SQLite has no arrays: the batch goes in as one JSON array bound as text and is read back
//! with `json_each` (a table-valued function of SQLite's built-in JSON support). PostgreSQL
//! takes one array per column and `unnest`s them.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::schema::messages;
use crate::domain::{ConversationId, ConversationStatus, UserId};

/// Marks `$ty` as a query with a static id (so its prepared statement is cached) that runs on
/// any connection.
macro_rules! cached_query {
    ($ty:ty => $sql_type:ty) => {
        impl QueryId for $ty {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl Query for $ty {
            type SqlType = $sql_type;
        }
        impl<Conn> diesel::RunQueryDsl<Conn> for $ty {}
    };
}

/// `messages`' columns in table order (the order [`MessageRow`](crate::db::models::MessageRow)
/// reads them in), qualified with the alias `m`.
const MESSAGE_COLUMNS: &str = "m.id, m.project_id, m.conversation_id, m.seq, m.sender_id, \
    m.kind, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, \
    m.attachment_id, m.attachment, m.version, m.created_version, m.reply_to_id, m.private";

/// A `client_msg_id` to look up: conversation, key, sender (the unique index
/// `messages_client_msg_id`, in its column order but for the sender).
pub type RetryKey<'a> = (ConversationId, &'a str, UserId);

/// The messages stored under any of the given keys, in one statement.
pub enum FindRetries {
    /// `[[conversation, key, sender], ...]` as JSON.
    Sqlite(String),
    /// The keys, one array per column.
    Postgres {
        conversations: Vec<i64>,
        keys: Vec<String>,
        senders: Vec<i64>,
    },
}

impl FindRetries {
    /// The statement for SQLite.
    pub fn sqlite(keys: &[RetryKey<'_>]) -> Self {
        let rows: Vec<(i64, &str, i64)> = keys.iter().map(|(c, k, s)| (c.0, *k, s.0)).collect();
        Self::Sqlite(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()))
    }

    /// The statement for PostgreSQL.
    pub fn postgres(keys: &[RetryKey<'_>]) -> Self {
        Self::Postgres {
            conversations: keys.iter().map(|(c, _, _)| c.0).collect(),
            keys: keys.iter().map(|(_, k, _)| (*k).to_string()).collect(),
            senders: keys.iter().map(|(_, _, s)| s.0).collect(),
        }
    }
}

cached_query!(FindRetries => messages::SqlType);

impl QueryFragment<Sqlite> for FindRetries {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> diesel::QueryResult<()> {
        let Self::Sqlite(json) = self else {
            return Err(wrong_backend());
        };
        // CROSS JOIN keeps the keys as the outer loop: one seek of the unique index per key.
        out.push_sql("SELECT ");
        out.push_sql(MESSAGE_COLUMNS);
        out.push_sql(" FROM json_each(");
        out.push_bind_param::<Text, _>(json)?;
        out.push_sql(
            ") AS k CROSS JOIN messages AS m \
             ON m.conversation_id = (k.value ->> 0) \
             AND m.client_msg_id = (k.value ->> 1) \
             AND m.sender_id = (k.value ->> 2)",
        );
        Ok(())
    }
}

impl QueryFragment<Pg> for FindRetries {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        let Self::Postgres {
            conversations,
            keys,
            senders,
        } = self
        else {
            return Err(wrong_backend());
        };
        out.push_sql("SELECT ");
        out.push_sql(MESSAGE_COLUMNS);
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(conversations)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(keys)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(senders)?;
        // A LATERAL lookup per key, not a join: the plan is cached with the prepared
        // statement, and a join planned while `messages` was small hashes the keys and scans
        // the whole table on every later batch (seen: 20-40 ms per batch at 140,000 rows).
        out.push_sql(
            ") AS k (conversation_id, client_msg_id, sender_id) CROSS JOIN LATERAL \
             (SELECT * FROM messages AS m WHERE m.conversation_id = k.conversation_id \
             AND m.client_msg_id = k.client_msg_id AND m.sender_id = k.sender_id LIMIT 1) AS m",
        );
        Ok(())
    }
}

/// Reserves `n` seqs and versions of each open conversation and returns, for each, its id and
/// the last seq and version reserved:
/// `UPDATE conversations SET last_seq = last_seq + n, version = version + n WHERE id = … AND
/// status <> 'closed' RETURNING id, last_seq, version`, for all of them in one statement (a
/// support conversation takes messages in every desk status). A closed
/// or missing conversation returns no row. The write lock on each row serializes writers of one
/// conversation on any backend (several nodes included), so seqs stay gapless and unique.
///
/// No indexed column changes, so on PostgreSQL the update is HOT (no new index entries, dead
/// versions pruned within the page): `last_activity_at`, which is indexed, moves separately
/// and at most once a second ([`TouchActivity`]).
pub enum ReserveSeqs {
    /// `[[conversation, n], ...]` as JSON.
    Sqlite(String),
    /// Conversations and counts.
    Postgres(Vec<i64>, Vec<i64>),
}

impl ReserveSeqs {
    /// The statement for SQLite; `counts` are `(conversation, n)`.
    pub fn sqlite(counts: &[(ConversationId, i64)]) -> Self {
        let rows: Vec<(i64, i64)> = counts.iter().map(|(c, n)| (c.0, *n)).collect();
        Self::Sqlite(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()))
    }

    /// The statement for PostgreSQL.
    pub fn postgres(counts: &[(ConversationId, i64)]) -> Self {
        Self::Postgres(
            counts.iter().map(|(c, _)| c.0).collect(),
            counts.iter().map(|(_, n)| *n).collect(),
        )
    }
}

cached_query!(ReserveSeqs => (BigInt, BigInt, BigInt));

impl QueryFragment<Sqlite> for ReserveSeqs {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> diesel::QueryResult<()> {
        let Self::Sqlite(json) = self else {
            return Err(wrong_backend());
        };
        out.push_sql(
            "UPDATE conversations \
             SET last_seq = last_seq + (r.value ->> 1), version = version + (r.value ->> 1) \
             FROM json_each(",
        );
        out.push_bind_param::<Text, _>(json)?;
        out.push_sql(
            ") AS r WHERE conversations.id = (r.value ->> 0) AND conversations.status <> ",
        );
        out.push_bind_param::<Text, _>(ConversationStatus::Closed.as_str())?;
        out.push_sql(" RETURNING conversations.id, conversations.last_seq, conversations.version");
        Ok(())
    }
}

impl QueryFragment<Pg> for ReserveSeqs {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        let Self::Postgres(conversations, counts) = self else {
            return Err(wrong_backend());
        };
        out.push_sql(
            "UPDATE conversations AS c \
             SET last_seq = c.last_seq + r.n, version = c.version + r.n FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(conversations)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(counts)?;
        out.push_sql(") AS r (id, n) WHERE c.id = r.id AND c.status <> ");
        out.push_bind_param::<Text, _>(ConversationStatus::Closed.as_str())?;
        out.push_sql(" RETURNING c.id, c.last_seq, c.version");
        Ok(())
    }
}

/// How far behind a conversation's stored `last_activity_at` may be: [`TouchActivity`] moves it
/// at most this often, so the index on it is written once a second per busy conversation, not
/// once a message. Views give the exact time ([`crate::db::queries::conversations`]).
pub const ACTIVITY_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// `UPDATE conversations SET last_activity_at = at WHERE id IN (…) AND last_activity_at <
/// at - ACTIVITY_RESOLUTION`.
pub struct TouchActivity {
    /// The conversations: a JSON array on SQLite, an array on PostgreSQL.
    ids: Ids,
    at: chrono::NaiveDateTime,
    stale: chrono::NaiveDateTime,
}

enum Ids {
    Json(String),
    Array(Vec<i64>),
}

impl TouchActivity {
    /// The statement for SQLite.
    pub fn sqlite(ids: &[ConversationId], at: chrono::NaiveDateTime) -> Self {
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        Self {
            ids: Ids::Json(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())),
            at,
            stale: at - ACTIVITY_RESOLUTION,
        }
    }

    /// The statement for PostgreSQL.
    pub fn postgres(ids: &[ConversationId], at: chrono::NaiveDateTime) -> Self {
        Self {
            ids: Ids::Array(ids.iter().map(|id| id.0).collect()),
            at,
            stale: at - ACTIVITY_RESOLUTION,
        }
    }
}

impl QueryId for TouchActivity {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> diesel::RunQueryDsl<Conn> for TouchActivity {}

impl QueryFragment<Sqlite> for TouchActivity {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> diesel::QueryResult<()> {
        let Ids::Json(json) = &self.ids else {
            return Err(wrong_backend());
        };
        out.push_sql("UPDATE conversations SET last_activity_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE id IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(json)?;
        out.push_sql(")) AND last_activity_at < ");
        out.push_bind_param::<Timestamp, _>(&self.stale)?;
        Ok(())
    }
}

impl QueryFragment<Pg> for TouchActivity {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        let Ids::Array(ids) = &self.ids else {
            return Err(wrong_backend());
        };
        out.push_sql("UPDATE conversations SET last_activity_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE id = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(ids)?;
        out.push_sql(") AND last_activity_at < ");
        out.push_bind_param::<Timestamp, _>(&self.stale)?;
        Ok(())
    }
}

/// PostgreSQL: `SELECT id FROM conversations WHERE id = ANY(…) ORDER BY id FOR UPDATE`. Taking
/// the batch's conversation rows in id order before [`ReserveSeqs`] means two nodes' batches
/// that share conversations wait for each other instead of deadlocking.
pub struct LockConversations(pub Vec<i64>);

cached_query!(LockConversations => BigInt);

impl QueryFragment<Pg> for LockConversations {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql("SELECT id FROM conversations WHERE id = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(&self.0)?;
        out.push_sql(") ORDER BY id FOR UPDATE");
        Ok(())
    }
}

/// A statement built for one backend was run on the other: a bug, reported as an error rather
/// than a panic.
fn wrong_backend() -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError("statement built for the other backend".into())
}
