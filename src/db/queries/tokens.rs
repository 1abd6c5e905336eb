//! Refresh tokens: issue, rotate with reuse detection, revoke.
//!
//! Rotation follows the OAuth 2.0 Security BCP (RFC 9700 §4.14.2): each refresh token is used
//! once; presenting one that was already rotated means it leaked, so every refresh token of
//! that user is revoked and their sessions end. A token revoked by logout is simply invalid.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewRefreshToken, RefreshTokenRow, UserRow};
use crate::db::queries::users::bump_generation;
use crate::db::schema::{refresh_tokens, users};
use crate::db::{DbConnection, DbError, now, on_conn, write_transaction};
use crate::domain::UserId;

/// Why a refresh token was revoked (`refresh_tokens.revoked_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Replaced by `/auth/refresh`: presenting it again is reuse.
    Rotated,
    /// `/auth/logout`.
    Logout,
    /// `/auth/logout-all`.
    LogoutAll,
    /// Reuse of a rotated token was detected.
    Reuse,
    /// An admin disabled the account.
    Disabled,
    /// The password was reset through a mailed link (`/auth/password-reset/confirm`).
    PasswordReset,
}

impl Revoked {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rotated => "rotated",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::Reuse => "reuse",
            Self::Disabled => "disabled",
            Self::PasswordReset => "password_reset",
        }
    }
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RotateOutcome {
    /// The token was live: it is now revoked and the new one is stored in its place.
    Rotated {
        /// The owner, read in the same transaction.
        user: Box<UserRow>,
    },
    /// The token had already been rotated: every token of `user_id` is now revoked and the
    /// user's sessions must end.
    Reused {
        /// The owner.
        user_id: UserId,
    },
    /// The owner is disabled.
    Disabled,
    /// Unknown, expired or revoked token.
    Invalid,
}

/// Stores a new refresh token.
///
/// # Errors
/// A query failure.
pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => diesel::insert_into(refresh_tokens::table).values(new).execute(c))?;
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
    write_transaction(conn, |conn| {
        let Some(row) = on_conn!(conn, c => {
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented_hash))
                .select(RefreshTokenRow::as_select())
                .first(c)
        })
        .optional()?
        else {
            return Ok(RotateOutcome::Invalid);
        };
        let at = now();
        if row.revoked_reason.as_deref() == Some(Revoked::Rotated.as_str()) {
            end_sessions(conn, row.user_id, Revoked::Reuse)?;
            return Ok(RotateOutcome::Reused {
                user_id: row.user_id,
            });
        }
        if row.revoked_at.is_some() || row.expires_at <= at {
            return Ok(RotateOutcome::Invalid);
        }
        let Some(user) = on_conn!(conn, c => {
            users::table
                .find(row.user_id)
                .select(UserRow::as_select())
                .first(c)
        })
        .optional()?
        else {
            return Ok(RotateOutcome::Invalid);
        };
        if user.disabled {
            return Ok(RotateOutcome::Disabled);
        }
        // Only a token nobody revoked in the meantime is rotated: of two refreshes racing
        // with one token (on two nodes, say), one rotates it and the other finds it rotated,
        // which is reuse; one racing a logout finds it invalid.
        let rotated = on_conn!(conn, c => {
            diesel::update(
                refresh_tokens::table
                    .find(row.id)
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set((
                refresh_tokens::revoked_at.eq(at),
                refresh_tokens::revoked_reason.eq(Revoked::Rotated.as_str()),
            ))
            .execute(c)
        })?;
        if rotated == 0 {
            let reason: Option<String> = on_conn!(conn, c => {
                refresh_tokens::table
                    .find(row.id)
                    .select(refresh_tokens::revoked_reason)
                    .first(c)
            })?;
            if reason.as_deref() != Some(Revoked::Rotated.as_str()) {
                return Ok(RotateOutcome::Invalid);
            }
            end_sessions(conn, row.user_id, Revoked::Reuse)?;
            return Ok(RotateOutcome::Reused {
                user_id: row.user_id,
            });
        }
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
    let at = now();
    on_conn!(conn, c => {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(hash))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set((
            refresh_tokens::revoked_at.eq(at),
            refresh_tokens::revoked_reason.eq(Revoked::Logout.as_str()),
        ))
        .execute(c)
    })?;
    Ok(())
}

/// Ends everything a user is signed in with: revokes every live refresh token (recording
/// `reason`) and moves the token generation forward, so no access token issued before can
/// open a WebSocket. The caller closes the open sessions.
///
/// # Errors
/// A query failure.
pub fn end_sessions(conn: &mut DbConnection, user: UserId, reason: Revoked) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let at = now();
    on_conn!(conn, c => {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::user_id.eq(user))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set((
            refresh_tokens::revoked_at.eq(at),
            refresh_tokens::revoked_reason.eq(reason.as_str()),
        ))
        .execute(c)
    })?;
    bump_generation(conn, user)
}
