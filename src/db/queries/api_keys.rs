//! API key rows: creation, revocation and last use (writes), lookup by hash and pages (reads).

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{ApiKeyRow, NewApiKey};
use crate::db::schema::api_keys;
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read};
use crate::domain::ProjectId;

/// Inserts a key.
///
/// # Errors
/// A query failure.
pub fn insert(conn: &mut DbConnection, new: &NewApiKey) -> Result<ApiKeyRow, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        diesel::insert_into(api_keys::table)
            .values(new)
            .returning(ApiKeyRow::as_returning())
            .get_result(c)
    })?)
}

/// Revokes key `id` of `project` (idempotent).
///
/// # Errors
/// [`DbError::NotFound`] when the project has no such key; a query failure.
pub fn revoke(
    conn: &mut DbConnection,
    project: ProjectId,
    id: i64,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let mine = api_keys::table
        .filter(api_keys::id.eq(id))
        .filter(api_keys::project_id.eq(project));
    let found: i64 = on_conn!(conn, c => mine.count().get_result(c))?;
    if found == 0 {
        return Err(DbError::NotFound);
    }
    on_conn!(conn, c => {
        diesel::update(mine.filter(api_keys::revoked_at.is_null()))
            .set(api_keys::revoked_at.eq(at))
            .execute(c)
    })?;
    Ok(())
}

/// Records that key `id` was used at `at`.
///
/// # Errors
/// A query failure.
pub fn touch(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::update(api_keys::table.find(id))
            .set(api_keys::last_used_at.eq(at))
            .execute(c)
    })?;
    Ok(())
}

/// The unrevoked key whose SHA-256 is `hash`.
///
/// # Errors
/// A query failure; no such key is `Ok(None)`.
pub async fn find_active(conn: &mut ReadConn, hash: &str) -> Result<Option<ApiKeyRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        api_keys::table
            .filter(api_keys::key_hash.eq(hash))
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKeyRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// The project's unrevoked keys with an id above `after`, ascending, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    project: ProjectId,
    after: i64,
    limit: i64,
) -> Result<Vec<ApiKeyRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        api_keys::table
            .filter(api_keys::project_id.eq(project))
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::id.gt(after))
            .order(api_keys::id.asc())
            .limit(limit)
            .select(ApiKeyRow::as_select())
            .load(c)
            .await
    })?)
}
