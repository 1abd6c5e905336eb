//! User token rows (server API): minting, revocation one by one or per user (writes), and the
//! revoked, unexpired ids that fill the deny list (reads).

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl};

use crate::db::schema::user_tokens;
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::{ProjectId, TokenId, UserId};

/// A minted token's row.
#[derive(Debug, Clone, Copy)]
pub struct NewUserToken {
    /// Its `jti`.
    pub id: TokenId,
    /// The project.
    pub project_id: ProjectId,
    /// Whose.
    pub user_id: UserId,
    /// The API key that minted it.
    pub api_key_id: i64,
    /// Its `exp`, Unix seconds.
    pub expires_at: i64,
}

/// A revoked token: its id and expiry (Unix seconds), for the deny list.
pub type Revocation = (TokenId, i64);

fn timestamp(unix_s: i64) -> NaiveDateTime {
    DateTime::from_timestamp(unix_s, 0)
        .unwrap_or(DateTime::<chrono::Utc>::MAX_UTC)
        .naive_utc()
}

fn revocations(rows: Vec<(String, NaiveDateTime)>) -> Vec<Revocation> {
    rows.into_iter()
        .filter_map(|(id, exp)| Some((TokenId::parse(&id)?, exp.and_utc().timestamp())))
        .collect()
}

/// Records a minted token.
///
/// # Errors
/// A query failure.
pub fn insert(conn: &mut DbConnection, new: &NewUserToken) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::insert_into(user_tokens::table)
            .values((
                user_tokens::id.eq(new.id.to_string()),
                user_tokens::project_id.eq(new.project_id),
                user_tokens::user_id.eq(new.user_id),
                user_tokens::api_key_id.eq(new.api_key_id),
                user_tokens::created_at.eq(crate::db::now()),
                user_tokens::expires_at.eq(timestamp(new.expires_at)),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// Revokes token `id` of `project` (idempotent): whose it is and its expiry.
///
/// # Errors
/// [`DbError::NotFound`] when the project has no such token; a query failure.
pub fn revoke(
    conn: &mut DbConnection,
    project: ProjectId,
    id: TokenId,
) -> Result<(UserId, Revocation), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let mine = user_tokens::table
            .filter(user_tokens::id.eq(id.to_string()))
            .filter(user_tokens::project_id.eq(project));
        let (user_id, exp): (UserId, NaiveDateTime) = on_conn!(conn, c => {
            mine.clone()
                .select((user_tokens::user_id, user_tokens::expires_at))
                .first(c)
        })
        .optional()?
        .ok_or(DbError::NotFound)?;
        on_conn!(conn, c => {
            diesel::update(mine.filter(user_tokens::revoked_at.is_null()))
                .set(user_tokens::revoked_at.eq(crate::db::now()))
                .execute(c)
        })?;
        Ok((user_id, (id, exp.and_utc().timestamp())))
    })
}

/// Revokes every unexpired token of `user`: the ones it revoked now.
///
/// # Errors
/// A query failure.
pub fn revoke_user(conn: &mut DbConnection, user: UserId) -> Result<Vec<Revocation>, DbError> {
    use diesel::RunQueryDsl as _;
    let now = crate::db::now();
    write_transaction(conn, |conn| {
        let live = user_tokens::table
            .filter(user_tokens::user_id.eq(user))
            .filter(user_tokens::revoked_at.is_null())
            .filter(user_tokens::expires_at.gt(now));
        let rows: Vec<(String, NaiveDateTime)> = on_conn!(conn, c => {
            live.select((user_tokens::id, user_tokens::expires_at)).load(c)
        })?;
        on_conn!(conn, c => {
            diesel::update(live).set(user_tokens::revoked_at.eq(now)).execute(c)
        })?;
        Ok(revocations(rows))
    })
}

/// Every revoked token that has not expired yet (at most `limit`, the deny list's bound).
///
/// # Errors
/// A query failure.
pub async fn revoked_unexpired(
    conn: &mut ReadConn,
    limit: usize,
) -> Result<Vec<Revocation>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows: Vec<(String, NaiveDateTime)> = on_read!(conn, c => {
        user_tokens::table
            .filter(user_tokens::revoked_at.is_not_null())
            .filter(user_tokens::expires_at.gt(crate::db::now()))
            .order(user_tokens::expires_at.desc())
            .limit(limit)
            .select((user_tokens::id, user_tokens::expires_at))
            .load(c)
            .await
    })?;
    Ok(revocations(rows))
}
