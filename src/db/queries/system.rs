//! A project's system user: the sender of the system messages that the project's backend posts
//! through the server API, and the creator of the conversations it creates without naming one.
//! A disabled user with no credentials, no email, username or external id, made on first use
//! and kept in `projects.system_user_id`.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl};

use crate::db::schema::{projects, users};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::{ProjectId, Role, UserId};

/// The system user's display name.
pub const SYSTEM_NAME: &str = "System";

/// The system user of `project`, made now if it has none.
///
/// # Errors
/// [`DbError::NotFound`] for an unknown project; a query failure.
pub fn ensure(conn: &mut DbConnection, project: ProjectId) -> Result<UserId, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let found: Option<Option<UserId>> = on_conn!(conn, c => {
            projects::table
                .find(project)
                .select(projects::system_user_id)
                .first(c)
        })
        .optional()?;
        match found {
            None => Err(DbError::NotFound),
            Some(Some(id)) => Ok(id),
            Some(None) => {
                let id: UserId = on_conn!(conn, c => {
                    diesel::insert_into(users::table)
                        .values((
                            users::project_id.eq(project),
                            users::display_name.eq(SYSTEM_NAME),
                            users::role.eq(Role::Customer.as_str()),
                            users::disabled.eq(true),
                            users::created_at.eq(crate::db::now()),
                        ))
                        .returning(users::id)
                        .get_result(c)
                })?;
                on_conn!(conn, c => {
                    diesel::update(projects::table.find(project))
                        .set(projects::system_user_id.eq(id))
                        .execute(c)
                })?;
                Ok(id)
            }
        }
    })
}

/// The system user of `project`, if it has one yet.
///
/// # Errors
/// A query failure.
pub async fn find(conn: &mut ReadConn, project: ProjectId) -> Result<Option<UserId>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let found: Option<Option<UserId>> = on_read!(conn, c => {
        projects::table
            .find(project)
            .select(projects::system_user_id)
            .first(c)
            .await
    })
    .optional()?;
    Ok(found.flatten())
}
