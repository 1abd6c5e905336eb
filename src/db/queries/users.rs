//! User rows: creation (write), lookups and presence contacts (reads), last-seen (write).

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewUser, UserRow};
use crate::db::schema::users;
use crate::db::{AsyncConn, DbConnection};
use crate::domain::{ProjectId, UserId};
use crate::error::DbError;

diesel::define_sql_function! {
    /// SQL `lower(text)`, available on every backend.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Inserts a user unless the email or (case-insensitively) the username is taken.
///
/// # Errors
/// [`DbError::EmailTaken`], [`DbError::UsernameTaken`], or a query failure.
pub fn insert(conn: &mut DbConnection, new: &NewUser) -> Result<UserRow, DbError> {
    use diesel::RunQueryDsl as _;
    conn.immediate_transaction(|conn| {
        let email_taken: i64 = users::table
            .filter(users::project_id.eq(new.project_id))
            .filter(users::email.eq(&new.email))
            .count()
            .get_result(conn)?;
        if email_taken > 0 {
            return Err(DbError::EmailTaken);
        }
        let username_taken: i64 = users::table
            .filter(users::project_id.eq(new.project_id))
            .filter(lower(users::username).eq(new.username.to_lowercase()))
            .count()
            .get_result(conn)?;
        if username_taken > 0 {
            return Err(DbError::UsernameTaken);
        }
        diesel::insert_into(users::table)
            .values(new)
            .returning(UserRow::as_returning())
            .get_result(conn)
            .map_err(|err| match &err {
                // A concurrent insert won the race between the checks above and this insert.
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    info,
                ) if info.message().contains("email") => DbError::EmailTaken,
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => DbError::UsernameTaken,
                _ => DbError::Query(err),
            })
    })
}

/// Finds a user by email (if `login` contains `@`) or by username, case-insensitively.
///
/// # Errors
/// A query failure; an unknown user is `Ok(None)`.
pub async fn find_by_login(
    conn: &mut AsyncConn,
    project: ProjectId,
    login: &str,
) -> Result<Option<UserRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let login = login.trim().to_lowercase();
    let query = users::table
        .filter(users::project_id.eq(project))
        .select(UserRow::as_select());
    let row = if login.contains('@') {
        query.filter(users::email.eq(login)).first(conn).await
    } else {
        query
            .filter(lower(users::username).eq(login))
            .first(conn)
            .await
    };
    Ok(row.optional()?)
}

/// Finds a user by id.
///
/// # Errors
/// A query failure; an unknown id is `Ok(None)`.
pub async fn find(conn: &mut AsyncConn, id: UserId) -> Result<Option<UserRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Which of `ids` exist in the project.
///
/// # Errors
/// A query failure.
pub async fn existing(
    conn: &mut AsyncConn,
    project: ProjectId,
    ids: &[UserId],
) -> Result<Vec<UserId>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(users::table
        .filter(users::project_id.eq(project))
        .filter(users::id.eq_any(ids.to_vec()))
        .select(users::id)
        .load(conn)
        .await?)
}

/// Users who share a conversation of at most `max_participants` participants with `user`
/// (excluding `user`): whose sessions get that user's presence changes.
///
/// Larger conversations (a company-wide channel, a broadcast) carry no presence, as Discord's
/// `large_threshold` does: pushing every connect to every member is O(members²) frames and
/// queries as such a conversation fills up. Each conversation's size is counted only up to
/// `max_participants + 1`, so a large one costs a bounded index scan, not a full count.
///
/// # Errors
/// A query failure.
pub async fn contacts(
    conn: &mut AsyncConn,
    user: UserId,
    max_participants: u32,
) -> Result<Vec<UserId>, DbError> {
    use diesel::sql_types::{BigInt, Integer};
    use diesel_async::RunQueryDsl as _;

    #[derive(diesel::QueryableByName)]
    struct Contact {
        #[diesel(sql_type = BigInt)]
        user_id: UserId,
    }

    let over = i32::try_from(max_participants.saturating_add(1)).unwrap_or(i32::MAX);
    let rows: Vec<Contact> = diesel::sql_query(
        "SELECT DISTINCT o.user_id AS user_id \
         FROM participants m \
         JOIN participants o ON o.conversation_id = m.conversation_id \
         WHERE m.user_id = ?1 AND o.user_id <> ?1 \
           AND (SELECT COUNT(*) FROM (SELECT 1 FROM participants c \
                WHERE c.conversation_id = m.conversation_id LIMIT ?2)) < ?2",
    )
    .bind::<BigInt, _>(user)
    .bind::<Integer, _>(over)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.user_id).collect())
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
    diesel::update(users::table.find(user))
        .set(users::last_seen_at.eq(at))
        .execute(conn)?;
    Ok(())
}
