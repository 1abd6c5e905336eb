//! User rows: creation and account changes (writes), lookups and presence contacts (reads),
//! last-seen (write).

use chrono::NaiveDateTime;
use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};

use crate::db::models::{NewUser, UserRow};
use crate::db::queries::{lower, tokens};
use crate::db::schema::{conversations, participants, users};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::{ProjectId, Role, UserId};

pub mod directory;
mod external;

pub use external::{
    ExternalUser, Upserted, deactivate_external, find_by_external, upsert_external,
};

/// Which of the new user's email or username is taken already, if either (email first).
fn taken(conn: &mut DbConnection, new: &NewUser) -> Result<Option<DbError>, DbError> {
    use diesel::RunQueryDsl as _;
    let in_project = users::table.filter(users::project_id.eq(new.project_id));
    let email: i64 = on_conn!(conn, c => {
        in_project
            .filter(users::email.eq(&new.email))
            .count()
            .get_result(c)
    })?;
    if email > 0 {
        return Ok(Some(DbError::EmailTaken));
    }
    let username: i64 = on_conn!(conn, c => {
        in_project
            .filter(lower(users::username).eq(new.username.to_lowercase()))
            .count()
            .get_result(c)
    })?;
    Ok((username > 0).then_some(DbError::UsernameTaken))
}

/// Inserts a user unless the email or (case-insensitively) the username is taken in the
/// project.
///
/// # Errors
/// [`DbError::EmailTaken`], [`DbError::UsernameTaken`], or a query failure.
pub fn insert(conn: &mut DbConnection, new: &NewUser) -> Result<UserRow, DbError> {
    use diesel::RunQueryDsl as _;
    let inserted = write_transaction(conn, |conn| {
        if let Some(taken) = taken(conn, new)? {
            return Err(taken);
        }
        let row = on_conn!(conn, c => {
            diesel::insert_into(users::table)
                .values(new)
                .returning(UserRow::as_returning())
                .get_result(c)
        })?;
        let data = crate::webhooks::user_data(&row);
        crate::webhooks::enqueue(conn, row.project_id, crate::webhooks::USER_CREATED, data)?;
        Ok(row)
    });
    match inserted {
        // Another writer (the CLI beside the server) won the race between the checks and the
        // insert: the unique index refused it; ask again which one it was.
        Err(err) if err.is_unique_violation() => {
            Err(taken(conn, new)?.unwrap_or(DbError::UsernameTaken))
        }
        other => other,
    }
}

/// Finds a user by email (if `login` contains `@`) or by username, case-insensitively.
///
/// # Errors
/// A query failure; an unknown user is `Ok(None)`.
pub async fn find_by_login(
    conn: &mut ReadConn,
    project: ProjectId,
    login: &str,
) -> Result<Option<UserRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let login = login.trim().to_lowercase();
    let in_project = users::table.filter(users::project_id.eq(project));
    let row = if login.contains('@') {
        on_read!(conn, c => {
            in_project
                .filter(users::email.eq(login))
                .select(UserRow::as_select())
                .first(c)
                .await
        })
    } else {
        on_read!(conn, c => {
            in_project
                .filter(lower(users::username).eq(login))
                .select(UserRow::as_select())
                .first(c)
                .await
        })
    };
    Ok(row.optional()?)
}

/// Finds a user by id.
///
/// # Errors
/// A query failure; an unknown id is `Ok(None)`.
pub async fn find(conn: &mut ReadConn, id: UserId) -> Result<Option<UserRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        users::table
            .find(id)
            .select(UserRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// How many of `ids` exist in the project.
///
/// # Errors
/// A query failure.
pub async fn count_existing(
    conn: &mut ReadConn,
    project: ProjectId,
    ids: &[UserId],
) -> Result<usize, DbError> {
    use diesel_async::RunQueryDsl as _;
    let mut found = 0;
    // SQLite caps bound variables per statement.
    for chunk in ids.chunks(500) {
        let query = users::table
            .filter(users::project_id.eq(project))
            .filter(users::id.eq_any(chunk))
            .count();
        let n: i64 = on_read!(conn, c => query.get_result(c).await)?;
        found += usize::try_from(n).unwrap_or(0);
    }
    Ok(found)
}

/// How many of `ids` are users of `project`, and how many of those are customers.
///
/// # Errors
/// A query failure.
pub async fn count_existing_customers(
    conn: &mut ReadConn,
    project: ProjectId,
    ids: &[UserId],
) -> Result<(usize, usize), DbError> {
    use diesel_async::RunQueryDsl as _;
    let (mut found, mut customers) = (0, 0);
    // SQLite caps bound variables per statement.
    for chunk in ids.chunks(500) {
        let query = users::table
            .filter(users::project_id.eq(project))
            .filter(users::id.eq_any(chunk))
            .select(users::role);
        let roles: Vec<String> = on_read!(conn, c => query.load(c).await)?;
        found += roles.len();
        customers += roles
            .iter()
            .filter(|r| *r == Role::Customer.as_str())
            .count();
    }
    Ok((found, customers))
}

/// Users who share a conversation of at most `max_participants` participants with `user`
/// (excluding `user`): whose sessions get that user's presence changes.
///
/// Larger conversations (a company-wide channel, a broadcast) carry no presence, as Discord's
/// `large_threshold` does: pushing every connect to every member is O(members²) frames and
/// queries as such a conversation fills up. The size comes from the conversation's
/// `participant_count`, so a large one is skipped without reading its members. Channels carry
/// none at all, whatever their size: their followers only read.
///
/// # Errors
/// A query failure.
pub async fn contacts(
    conn: &mut ReadConn,
    user: UserId,
    max_participants: u32,
) -> Result<Vec<UserId>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let mine = diesel::alias!(participants as mine);
    let small_and_mine = mine
        .inner_join(
            conversations::table.on(mine
                .field(participants::conversation_id)
                .eq(conversations::id)
                .and(conversations::participant_count.le(i64::from(max_participants)))
                .and(conversations::kind.ne(crate::domain::ConversationKind::Channel.as_str()))),
        )
        .filter(mine.field(participants::user_id).eq(user))
        .select(mine.field(participants::conversation_id));
    let query = participants::table
        .filter(participants::conversation_id.eq_any(small_and_mine))
        .filter(participants::user_id.ne(user))
        .select(participants::user_id)
        .distinct();
    Ok(on_read!(conn, c => query.load(c).await)?)
}

/// Records when the user's last session ended.
///
/// # Errors
/// A query failure.
pub fn touch_last_seen(
    conn: &mut DbConnection,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::update(users::table.find(user))
            .set(users::last_seen_at.eq(at))
            .execute(c)
    })?;
    // An agent whose last session ended is offline for the desk (no row: not an agent).
    crate::db::queries::desk::went_offline(conn, user, at)
}

/// An admin's change to an account (`PATCH /api/v1/users/{id}`).
#[derive(Debug, Clone, Copy)]
pub struct AccountChange {
    /// The user.
    pub user_id: UserId,
    /// The project the admin acts in (a user elsewhere is `not_found`).
    pub project_id: ProjectId,
    /// A new role.
    pub role: Option<Role>,
    /// Disable or re-enable.
    pub disabled: Option<bool>,
}

/// Applies an [`AccountChange`]. When the role changes or the account is disabled, the user's
/// token generation moves forward (access tokens issued before can no longer open a
/// WebSocket); disabling also revokes every refresh token. Answers the row and whether the
/// user's open sessions must end.
///
/// # Errors
/// [`DbError::NotFound`] for a user of another project or none, or a query failure.
pub fn change_account(
    conn: &mut DbConnection,
    change: &AccountChange,
) -> Result<(UserRow, bool), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let row: UserRow = on_conn!(conn, c => {
            users::table
                .find(change.user_id)
                .filter(users::project_id.eq(change.project_id))
                .select(UserRow::as_select())
                .first(c)
        })
        .optional()?
        .ok_or(DbError::NotFound)?;
        let new_role = change.role.filter(|role| *role != row.role());
        let disabling = change.disabled == Some(true) && !row.disabled;
        if let Some(role) = new_role {
            on_conn!(conn, c => {
                diesel::update(users::table.find(row.id))
                    .set(users::role.eq(role.as_str()))
                    .execute(c)
            })?;
        }
        if let Some(disabled) = change.disabled {
            on_conn!(conn, c => {
                diesel::update(users::table.find(row.id))
                    .set(users::disabled.eq(disabled))
                    .execute(c)
            })?;
        }
        let end_sessions = new_role.is_some() || disabling;
        if disabling {
            tokens::end_sessions(conn, row.id, tokens::Revoked::Disabled)?;
        } else if end_sessions {
            bump_generation(conn, row.id)?;
        }
        let row = on_conn!(conn, c => {
            users::table
                .find(row.id)
                .select(UserRow::as_select())
                .first(c)
        })?;
        Ok((row, end_sessions))
    })
}

/// Moves the user's token generation forward: access tokens issued before stop opening
/// WebSockets.
///
/// # Errors
/// A query failure.
pub fn bump_generation(conn: &mut DbConnection, user: UserId) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::update(users::table.find(user))
            .set(users::token_generation.eq(users::token_generation + 1))
            .execute(c)
    })?;
    Ok(())
}
