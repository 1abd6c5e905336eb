//! Users known by the id a project's backend gives them (server API): upsert, deactivation,
//! lookup.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use super::{AccountChange, bump_generation, change_account};
use crate::db::models::UserRow;
use crate::db::schema::users;
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::{ProjectId, Role, UserId};

/// What a project's backend sets on a user it upserts (`PUT /api/v1/server/users/{external_id}`):
/// each `Some` field is set; on creation the others take their defaults (role `customer`).
#[derive(Debug, Clone)]
pub struct ExternalUser {
    /// The project.
    pub project_id: ProjectId,
    /// The backend's id for the user.
    pub external_id: String,
    /// Display name (validated).
    pub display_name: Option<String>,
    /// Email (normalized), unique in the project.
    pub email: Option<String>,
    /// `customer` or `agent`.
    pub role: Option<Role>,
    /// A JSON object as text (at most 4 KiB).
    pub metadata: Option<String>,
}

/// What an upsert did.
#[derive(Debug)]
pub struct Upserted {
    /// The user as stored now.
    pub row: UserRow,
    /// Created (rather than updated).
    pub created: bool,
    /// The role changed: the user's open sessions must end (their tokens name the old role).
    pub end_sessions: bool,
}

/// The user of `project` whose external id is `external_id`.
fn find_external(
    conn: &mut DbConnection,
    project: ProjectId,
    external_id: &str,
) -> Result<Option<UserRow>, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        users::table
            .filter(users::project_id.eq(project))
            .filter(users::external_id.eq(external_id))
            .select(UserRow::as_select())
            .first(c)
    })
    .optional()?)
}

/// Creates or updates the user `new.external_id` of `new.project_id`, in one transaction.
/// Idempotent: the same call again changes nothing.
///
/// # Errors
/// [`DbError::EmailTaken`] when another user of the project has the email; a query failure.
pub fn upsert_external(conn: &mut DbConnection, new: &ExternalUser) -> Result<Upserted, DbError> {
    use diesel::RunQueryDsl as _;
    let upserted = write_transaction(conn, |conn| {
        let existing = find_external(conn, new.project_id, &new.external_id)?;
        if let Some(email) = &new.email {
            let others: i64 = on_conn!(conn, c => {
                users::table
                    .filter(users::project_id.eq(new.project_id))
                    .filter(users::email.eq(email))
                    .filter(users::id.ne(existing.as_ref().map_or(UserId(0), |u| u.id)))
                    .count()
                    .get_result(c)
            })?;
            if others > 0 {
                return Err(DbError::EmailTaken);
            }
        }
        let Some(row) = existing else {
            let row = on_conn!(conn, c => {
                diesel::insert_into(users::table)
                    .values((
                        users::project_id.eq(new.project_id),
                        users::external_id.eq(&new.external_id),
                        users::email.eq(&new.email),
                        users::display_name.eq(&new.display_name),
                        users::role.eq(new.role.unwrap_or(Role::Customer).as_str()),
                        users::metadata.eq(&new.metadata),
                        users::created_at.eq(crate::db::now()),
                        // The project's backend vouches for its users' addresses.
                        users::email_verified_at.eq(Some(crate::db::now())),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(c)
            })?;
            let data = crate::webhooks::user_data(&row);
            crate::webhooks::enqueue(conn, row.project_id, crate::webhooks::USER_CREATED, data)?;
            return Ok(Upserted {
                row,
                created: true,
                end_sessions: false,
            });
        };
        let target = users::table.find(row.id);
        if let Some(email) = &new.email {
            on_conn!(conn, c => diesel::update(target).set(users::email.eq(email)).execute(c))?;
        }
        if let Some(name) = &new.display_name {
            on_conn!(conn, c => {
                diesel::update(target).set(users::display_name.eq(name)).execute(c)
            })?;
        }
        if let Some(metadata) = &new.metadata {
            on_conn!(conn, c => {
                diesel::update(target).set(users::metadata.eq(metadata)).execute(c)
            })?;
        }
        let new_role = new.role.filter(|role| *role != row.role());
        if let Some(role) = new_role {
            on_conn!(conn, c => {
                diesel::update(target).set(users::role.eq(role.as_str())).execute(c)
            })?;
            bump_generation(conn, row.id)?;
        }
        let row = on_conn!(conn, c => target.select(UserRow::as_select()).first(c))?;
        Ok(Upserted {
            row,
            created: false,
            end_sessions: new_role.is_some(),
        })
    });
    match upserted {
        // A concurrent upsert of the same external id (or email) won the race.
        Err(err) if err.is_unique_violation() => Err(DbError::EmailTaken),
        other => other,
    }
}

/// Deactivates the user `external_id` of `project` (disabled, refresh tokens revoked, access
/// tokens unable to open a WebSocket). Idempotent.
///
/// # Errors
/// [`DbError::NotFound`]; a query failure.
pub fn deactivate_external(
    conn: &mut DbConnection,
    project: ProjectId,
    external_id: &str,
) -> Result<UserRow, DbError> {
    let row = find_external(conn, project, external_id)?.ok_or(DbError::NotFound)?;
    let change = AccountChange {
        user_id: row.id,
        project_id: project,
        role: None,
        disabled: Some(true),
    };
    change_account(conn, &change).map(|(row, _)| row)
}

/// The user `external_id` of `project`.
///
/// # Errors
/// A query failure; none is `Ok(None)`.
pub async fn find_by_external(
    conn: &mut ReadConn,
    project: ProjectId,
    external_id: &str,
) -> Result<Option<UserRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        users::table
            .filter(users::project_id.eq(project))
            .filter(users::external_id.eq(external_id))
            .select(UserRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}
