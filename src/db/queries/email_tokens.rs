//! One-time email tokens (issue 15): verification codes, password reset links, address
//! changes. Every function here is a write, run on the DbWriter threads
//! ([`crate::email::writes`]). Tokens are stored hashed only; a token is used once, refused once
//! expired, and a new token of a purpose deletes the user's unused ones of that purpose (OWASP
//! Forgot Password Cheat Sheet: one live reset link at a time).

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{EmailTokenRow, NewEmailToken, TokenPurpose, UserRow};
use crate::db::schema::{email_tokens, users};
use crate::db::{DbConnection, DbError, on_conn, write_transaction};
use crate::domain::UserId;

/// Why a code or link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No such live token (unknown, already used, replaced), or a wrong code.
    Invalid,
    /// Past its `expires_at`.
    Expired,
    /// A code that took its most wrong tries: even the right one is refused now.
    Exhausted,
}

/// Stores `new`, deleting the user's unused tokens of the same purpose first.
///
/// # Errors
/// A query failure.
pub fn issue(conn: &mut DbConnection, new: &NewEmailToken) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        on_conn!(conn, c => {
            diesel::delete(
                email_tokens::table
                    .filter(email_tokens::user_id.eq(new.user_id))
                    .filter(email_tokens::purpose.eq(&new.purpose))
                    .filter(email_tokens::used_at.is_null()),
            )
            .execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::insert_into(email_tokens::table)
                .values(new)
                .execute(c)
        })?;
        Ok(())
    })
}

/// Checks a verification code of `user` against their live code, whose stored hash is
/// `code_hash` when it matches. A wrong code counts one try; past `max_attempts` wrong tries the
/// code is refused, right or not. The right code is used up and proves the address
/// (`users.email_verified_at`); answers the user's row then.
///
/// # Errors
/// A query failure.
pub fn check_code(
    conn: &mut DbConnection,
    user: UserId,
    code_hash: &str,
    now: NaiveDateTime,
    max_attempts: i64,
) -> Result<Result<UserRow, Refused>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let live: Option<EmailTokenRow> = on_conn!(conn, c => {
            email_tokens::table
                .filter(email_tokens::user_id.eq(user))
                .filter(email_tokens::purpose.eq(TokenPurpose::Verify.as_str()))
                .filter(email_tokens::used_at.is_null())
                .order(email_tokens::id.desc())
                .select(EmailTokenRow::as_select())
                .first(c)
        })
        .optional()?;
        let Some(live) = live else {
            return Ok(Err(Refused::Invalid));
        };
        if live.attempts >= max_attempts {
            return Ok(Err(Refused::Exhausted));
        }
        if live.expires_at <= now {
            return Ok(Err(Refused::Expired));
        }
        // Conditional updates: two writers (PostgreSQL) cannot both spend the last try.
        let unspent = email_tokens::table
            .find(live.id)
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::attempts.lt(max_attempts));
        if live.token_hash != code_hash {
            let counted = on_conn!(conn, c => {
                diesel::update(unspent)
                    .set(email_tokens::attempts.eq(email_tokens::attempts + 1))
                    .execute(c)
            })?;
            return Ok(Err(if counted == 0 {
                Refused::Exhausted
            } else {
                Refused::Invalid
            }));
        }
        let used = on_conn!(conn, c => {
            diesel::update(unspent)
                .set(email_tokens::used_at.eq(Some(now)))
                .execute(c)
        })?;
        if used == 0 {
            return Ok(Err(Refused::Exhausted));
        }
        mark_verified(conn, user, now)?;
        Ok(Ok(find_user(conn, user)?))
    })
}

/// Uses the live link token of `purpose` whose hash is `token_hash`: answers its row, now used.
///
/// # Errors
/// A query failure.
pub fn use_link(
    conn: &mut DbConnection,
    purpose: TokenPurpose,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Result<EmailTokenRow, Refused>, DbError> {
    use diesel::RunQueryDsl as _;
    let row: Option<EmailTokenRow> = on_conn!(conn, c => {
        email_tokens::table
            .filter(email_tokens::token_hash.eq(token_hash))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null())
            .select(EmailTokenRow::as_select())
            .first(c)
    })
    .optional()?;
    let Some(row) = row else {
        return Ok(Err(Refused::Invalid));
    };
    if row.expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    let used = on_conn!(conn, c => {
        diesel::update(
            email_tokens::table
                .find(row.id)
                .filter(email_tokens::used_at.is_null()),
        )
        .set(email_tokens::used_at.eq(Some(now)))
        .execute(c)
    })?;
    Ok(if used == 1 {
        Ok(row)
    } else {
        Err(Refused::Invalid)
    })
}

/// Uses a reset link and sets the user's password to `password_hash` (bcrypt). Following the
/// link proved the address, so it counts as verified. Answers the user's row; the caller then
/// ends every session of theirs.
///
/// # Errors
/// A query failure.
pub fn reset_password(
    conn: &mut DbConnection,
    token_hash: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<Result<UserRow, Refused>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let token = match use_link(conn, TokenPurpose::Reset, token_hash, now)? {
            Ok(token) => token,
            Err(refused) => return Ok(Err(refused)),
        };
        on_conn!(conn, c => {
            diesel::update(users::table.find(token.user_id))
                .set(users::password_hash.eq(Some(password_hash)))
                .execute(c)
        })?;
        mark_verified(conn, token.user_id, now)?;
        Ok(Ok(find_user(conn, token.user_id)?))
    })
}

/// Uses an address change link: the user's email becomes the token's `new_email`, verified.
/// Answers the user's row and their previous address.
///
/// # Errors
/// [`DbError::EmailTaken`] when the new address was registered in the project meanwhile (the
/// link stays unused), or a query failure.
pub fn change_email(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Result<(UserRow, Option<String>), Refused>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let token = match use_link(conn, TokenPurpose::Change, token_hash, now)? {
            Ok(token) => token,
            Err(refused) => return Ok(Err(refused)),
        };
        let (Some(new_email), before) = (token.new_email, find_user(conn, token.user_id)?) else {
            return Ok(Err(Refused::Invalid));
        };
        let taken: i64 = on_conn!(conn, c => {
            users::table
                .filter(users::project_id.eq(token.project_id))
                .filter(users::email.eq(&new_email))
                .count()
                .get_result(c)
        })?;
        if taken > 0 {
            return Err(DbError::EmailTaken);
        }
        on_conn!(conn, c => {
            diesel::update(users::table.find(token.user_id))
                .set((
                    users::email.eq(Some(&new_email)),
                    users::email_verified_at.eq(Some(now)),
                ))
                .execute(c)
        })?;
        Ok(Ok((find_user(conn, token.user_id)?, before.email)))
    })
}

/// Deletes tokens that expired before `cutoff` (used or not).
///
/// # Errors
/// A query failure.
pub fn sweep(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<usize, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        diesel::delete(email_tokens::table.filter(email_tokens::expires_at.lt(cutoff))).execute(c)
    })?)
}

/// Sets `users.email_verified_at` to `now` unless it is set.
fn mark_verified(conn: &mut DbConnection, user: UserId, now: NaiveDateTime) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::update(
            users::table
                .find(user)
                .filter(users::email_verified_at.is_null()),
        )
        .set(users::email_verified_at.eq(Some(now)))
        .execute(c)
    })?;
    Ok(())
}

fn find_user(conn: &mut DbConnection, user: UserId) -> Result<UserRow, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        users::table
            .find(user)
            .select(UserRow::as_select())
            .first(c)
    })?)
}
