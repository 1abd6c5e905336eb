//! Refresh tokens: issue, rotate with reuse detection, revoke.
//!
//! Rotation follows the OAuth 2.0 Security BCP (RFC 9700 §4.14.2): each refresh token is used
//! once; presenting one that was already rotated means it leaked, so every refresh token of
//! that user is revoked. A token revoked by logout is simply invalid.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewRefreshToken, RefreshTokenRow, UserRow};
use crate::db::schema::{refresh_tokens, users};
use crate::db::{DbConnection, now};
use crate::domain::UserId;
use crate::error::DbError;

const ROTATED: &str = "rotated";
const LOGOUT: &str = "logout";
const REUSE: &str = "reuse";

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RotateOutcome {
    /// The token was live: it is now revoked and the new one is stored in its place.
    Rotated {
        /// The owner, read in the same transaction.
        user: Box<UserRow>,
    },
    /// The token had already been revoked: every token of `user_id` is now revoked.
    Reused {
        /// The owner.
        user_id: UserId,
    },
    /// Unknown or expired token.
    Invalid,
}

/// Stores a new refresh token.
///
/// # Errors
/// A query failure.
pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    diesel::insert_into(refresh_tokens::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// Revokes `presented_hash` and stores `new_hash` (same owner, expiring at `expires_at`), or
/// detects reuse.
///
/// # Errors
/// A query failure.
pub fn rotate(
    conn: &mut DbConnection,
    presented_hash: &str,
    new_hash: &str,
    expires_at: chrono::NaiveDateTime,
) -> Result<RotateOutcome, DbError> {
    use diesel::RunQueryDsl as _;
    conn.immediate_transaction(|conn| {
        let Some(row) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented_hash))
            .select(RefreshTokenRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(RotateOutcome::Invalid);
        };
        let at = now();
        if row.revoked_reason.as_deref() == Some(ROTATED) {
            revoke_all(conn, row.user_id, REUSE)?;
            return Ok(RotateOutcome::Reused {
                user_id: row.user_id,
            });
        }
        if row.revoked_at.is_some() || row.expires_at <= at {
            return Ok(RotateOutcome::Invalid);
        }
        let Some(user) = users::table
            .find(row.user_id)
            .select(UserRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(RotateOutcome::Invalid);
        };
        diesel::update(refresh_tokens::table.find(row.id))
            .set((
                refresh_tokens::revoked_at.eq(at),
                refresh_tokens::revoked_reason.eq(ROTATED),
            ))
            .execute(conn)?;
        insert(
            conn,
            &NewRefreshToken {
                project_id: row.project_id,
                user_id: row.user_id,
                token_hash: new_hash.to_string(),
                created_at: at,
                expires_at,
            },
        )?;
        Ok(RotateOutcome::Rotated {
            user: Box::new(user),
        })
    })
}

/// Revokes one token (logout). Unknown tokens are ignored.
///
/// # Errors
/// A query failure.
pub fn revoke(conn: &mut DbConnection, hash: &str) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(hash))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set((
        refresh_tokens::revoked_at.eq(now()),
        refresh_tokens::revoked_reason.eq(LOGOUT),
    ))
    .execute(conn)?;
    Ok(())
}

/// Revokes every live token of a user, recording `reason`.
///
/// # Errors
/// A query failure.
pub fn revoke_all(conn: &mut DbConnection, user: UserId, reason: &str) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set((
        refresh_tokens::revoked_at.eq(now()),
        refresh_tokens::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(())
}
