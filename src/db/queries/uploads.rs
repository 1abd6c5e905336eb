//! Upload rows: store (under the uploader's quota), look up, sweep the unattached.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewUpload, UploadRow};
use crate::db::schema::{messages, uploads};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read};
use crate::domain::{UploadId, UserId};

diesel::define_sql_function! {
    /// `SUM` of a `BIGINT` column, read as one (the built-in `sum` reads SQLite's as `NUMERIC`).
    #[aggregate]
    #[sql_name = "SUM"]
    fn total(x: diesel::sql_types::BigInt) -> diesel::sql_types::Nullable<diesel::sql_types::BigInt>;
}

/// Bytes of the uploads `user` owns (each upload counts, even when its bytes are stored once
/// for several). Synchronous; the read pool runs it through its connection's
/// `spawn_blocking`.
///
/// # Errors
/// A query failure.
pub fn used_bytes(conn: &mut DbConnection, user: UserId) -> diesel::QueryResult<i64> {
    use diesel::RunQueryDsl as _;
    let query = used_bytes_query(user);
    on_conn!(conn, c => query.first::<i64>(c))
}

/// [`used_bytes`] on the read pool (the quota check before an upload is received).
///
/// # Errors
/// A query failure.
pub async fn used_bytes_now(conn: &mut ReadConn, user: UserId) -> Result<i64, DbError> {
    use diesel_async::RunQueryDsl as _;
    let query = used_bytes_query(user);
    Ok(on_read!(conn, c => query.first::<i64>(c).await)?)
}

type UsedBytes = diesel::dsl::Select<
    diesel::dsl::Filter<uploads::table, diesel::dsl::Eq<uploads::uploader_id, UserId>>,
    diesel::expression::SqlLiteral<diesel::sql_types::BigInt>,
>;

fn used_bytes_query(user: UserId) -> UsedBytes {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, on both backends.
    uploads::table
        .filter(uploads::uploader_id.eq(user))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "CAST(COALESCE(SUM(size), 0) AS BIGINT)",
        ))
}

/// Inserts an upload row.
///
/// # Errors
/// A query failure.
pub fn insert(conn: &mut DbConnection, new: &NewUpload) -> Result<UploadRow, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        diesel::insert_into(uploads::table)
            .values(new)
            .returning(UploadRow::as_returning())
            .get_result(c)
    })?)
}

/// Whether any upload references the bytes with `sha256`.
///
/// # Errors
/// A query failure.
pub fn referenced(conn: &mut DbConnection, sha256: &str) -> Result<bool, DbError> {
    use diesel::RunQueryDsl as _;
    let query = uploads::table.filter(uploads::sha256.eq(sha256)).count();
    let n: i64 = on_conn!(conn, c => query.get_result(c))?;
    Ok(n > 0)
}

/// One upload by id.
///
/// # Errors
/// A query failure; unknown is `Ok(None)`.
pub async fn find(conn: &mut ReadConn, id: UploadId) -> Result<Option<UploadRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        uploads::table
            .find(id)
            .select(UploadRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// What [`delete_unattached`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unattached {
    /// Upload rows deleted.
    pub uploads: usize,
    /// SHA-256 of every blob no upload references any more: the caller deletes them from disk.
    pub orphans: Vec<String>,
}

/// Deletes uploads that are attached to no message and were uploaded before `cutoff`, at most
/// `limit` of them (a deleted message's file counts as unattached: its tombstone lets go of
/// it).
///
/// # Errors
/// A query failure.
pub fn delete_unattached(
    conn: &mut DbConnection,
    cutoff: chrono::NaiveDateTime,
    limit: i64,
) -> Result<Unattached, DbError> {
    use diesel::RunQueryDsl as _;
    let query = uploads::table
        .filter(uploads::message_id.is_null())
        .filter(uploads::created_at.lt(cutoff))
        .order(uploads::created_at.asc())
        .limit(limit)
        .select((uploads::id, uploads::sha256));
    let doomed: Vec<(UploadId, String)> = on_conn!(conn, c => query.load(c))?;
    if doomed.is_empty() {
        return Ok(Unattached::default());
    }
    let ids: Vec<UploadId> = doomed.iter().map(|(id, _)| *id).collect();
    on_conn!(conn, c => {
        diesel::update(messages::table.filter(messages::attachment_id.eq_any(&ids)))
            .set(messages::attachment_id.eq(None::<UploadId>))
            .execute(c)
    })?;
    on_conn!(conn, c => diesel::delete(uploads::table.filter(uploads::id.eq_any(&ids))).execute(c))?;
    let mut shas: Vec<String> = doomed.into_iter().map(|(_, sha)| sha).collect();
    shas.sort();
    shas.dedup();
    let query = uploads::table
        .filter(uploads::sha256.eq_any(&shas))
        .select(uploads::sha256)
        .distinct();
    let still_used: Vec<String> = on_conn!(conn, c => query.load(c))?;
    shas.retain(|sha| !still_used.contains(sha));
    Ok(Unattached {
        uploads: ids.len(),
        orphans: shas,
    })
}
