//! Upload rows: store (under the uploader's quota), look up, sweep the unattached.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewUpload, UploadRow};
use crate::db::schema::{messages, uploads};
use crate::db::{AsyncConn, DbConnection, DbError};
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
    let used: Option<i64> = uploads::table
        .filter(uploads::uploader_id.eq(user))
        .select(total(uploads::size))
        .first::<Option<i64>>(conn)?;
    Ok(used.unwrap_or(0))
}

/// Inserts an upload row.
///
/// # Errors
/// A query failure.
pub fn insert(conn: &mut DbConnection, new: &NewUpload) -> Result<UploadRow, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(diesel::insert_into(uploads::table)
        .values(new)
        .returning(UploadRow::as_returning())
        .get_result(conn)?)
}

/// Whether any upload references the bytes with `sha256`.
///
/// # Errors
/// A query failure.
pub fn referenced(conn: &mut DbConnection, sha256: &str) -> Result<bool, DbError> {
    use diesel::RunQueryDsl as _;
    let n: i64 = uploads::table
        .filter(uploads::sha256.eq(sha256))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// One upload by id.
///
/// # Errors
/// A query failure; unknown is `Ok(None)`.
pub async fn find(conn: &mut AsyncConn, id: UploadId) -> Result<Option<UploadRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(uploads::table
        .find(id)
        .select(UploadRow::as_select())
        .first(conn)
        .await
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
    let doomed: Vec<(UploadId, String)> = uploads::table
        .filter(uploads::message_id.is_null())
        .filter(uploads::created_at.lt(cutoff))
        .order(uploads::created_at.asc())
        .limit(limit)
        .select((uploads::id, uploads::sha256))
        .load(conn)?;
    if doomed.is_empty() {
        return Ok(Unattached::default());
    }
    let ids: Vec<UploadId> = doomed.iter().map(|(id, _)| *id).collect();
    diesel::update(messages::table.filter(messages::attachment_id.eq_any(&ids)))
        .set(messages::attachment_id.eq(None::<UploadId>))
        .execute(conn)?;
    diesel::delete(uploads::table.filter(uploads::id.eq_any(&ids))).execute(conn)?;
    let mut shas: Vec<String> = doomed.into_iter().map(|(_, sha)| sha).collect();
    shas.sort();
    shas.dedup();
    let still_used: Vec<String> = uploads::table
        .filter(uploads::sha256.eq_any(&shas))
        .select(uploads::sha256)
        .distinct()
        .load(conn)?;
    shas.retain(|sha| !still_used.contains(sha));
    Ok(Unattached {
        uploads: ids.len(),
        orphans: shas,
    })
}
