//! Project rows (tenants): creation, changes and deletion with all their data (writes, by the
//! DbWriter and the CLI), lookups and pages (reads).

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewProject, ProjectRow};
use crate::db::schema::{
    api_keys, conversations, messages, participants, projects, refresh_tokens, uploads,
    user_tokens, users,
};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::{DEFAULT_PROJECT, ProjectId, UserId};

/// Whether a project other than `except` has this name.
fn name_taken(
    conn: &mut DbConnection,
    name: &str,
    except: Option<ProjectId>,
) -> Result<bool, DbError> {
    use diesel::RunQueryDsl as _;
    let others: i64 = on_conn!(conn, c => {
        projects::table
            .filter(projects::name.eq(name))
            .filter(projects::id.ne(except.unwrap_or(ProjectId(0))))
            .count()
            .get_result(c)
    })?;
    Ok(others > 0)
}

/// Inserts a project.
///
/// # Errors
/// [`DbError::NameTaken`], or a query failure.
pub fn insert(conn: &mut DbConnection, new: &NewProject) -> Result<ProjectRow, DbError> {
    use diesel::RunQueryDsl as _;
    let inserted = write_transaction(conn, |conn| {
        if name_taken(conn, &new.name, None)? {
            return Err(DbError::NameTaken);
        }
        Ok(on_conn!(conn, c => {
            diesel::insert_into(projects::table)
                .values(new)
                .returning(ProjectRow::as_returning())
                .get_result(c)
        })?)
    });
    match inserted {
        Err(err) if err.is_unique_violation() => Err(DbError::NameTaken),
        other => other,
    }
}

/// A change to a project: each `Some` field is set.
#[derive(Debug, Clone)]
pub struct ProjectChange {
    /// Which project.
    pub id: ProjectId,
    /// A new unique name.
    pub name: Option<String>,
    /// Self-registration on or off.
    pub self_registration: Option<bool>,
    /// The settings to store (a JSON object, already merged and checked).
    pub settings: Option<String>,
}

/// Applies `change`; answers the project as it is now.
///
/// # Errors
/// [`DbError::NotFound`], [`DbError::NameTaken`], or a query failure.
pub fn update(conn: &mut DbConnection, change: &ProjectChange) -> Result<ProjectRow, DbError> {
    use diesel::RunQueryDsl as _;
    let updated = write_transaction(conn, |conn| {
        if let Some(name) = &change.name {
            if name_taken(conn, name, Some(change.id))? {
                return Err(DbError::NameTaken);
            }
            on_conn!(conn, c => {
                diesel::update(projects::table.find(change.id))
                    .set(projects::name.eq(name))
                    .execute(c)
            })?;
        }
        if let Some(settings) = &change.settings {
            on_conn!(conn, c => {
                diesel::update(projects::table.find(change.id))
                    .set(projects::settings.eq(settings))
                    .execute(c)
            })?;
        }
        if let Some(on) = change.self_registration {
            on_conn!(conn, c => {
                diesel::update(projects::table.find(change.id))
                    .set(projects::self_registration.eq(on))
                    .execute(c)
            })?;
        }
        on_conn!(conn, c => {
            projects::table
                .find(change.id)
                .select(ProjectRow::as_select())
                .first(c)
        })
        .optional()?
        .ok_or(DbError::NotFound)
    });
    match updated {
        Err(err) if err.is_unique_violation() => Err(DbError::NameTaken),
        other => other,
    }
}

/// What deleting a project removed that lives outside the database.
#[derive(Debug, Default)]
pub struct Removed {
    /// Its users, whose open sessions must end.
    pub users: Vec<UserId>,
    /// SHA-256 of every stored file no upload references any more: the caller deletes them.
    pub orphans: Vec<String>,
}

/// Deletes project `id` and every row of its data (messages, participants, conversations,
/// uploads, refresh tokens, users, API keys, webhooks and their deliveries), in one transaction, provided `confirm` is its name.
///
/// # Errors
/// [`DbError::NotFound`]; [`DbError::Invalid`] for the default project or a `confirm` that is
/// not the name; a query failure.
pub fn delete(conn: &mut DbConnection, id: ProjectId, confirm: &str) -> Result<Removed, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let name: String = on_conn!(conn, c => {
            projects::table.find(id).select(projects::name).first(c)
        })
        .optional()?
        .ok_or(DbError::NotFound)?;
        if id == DEFAULT_PROJECT {
            return Err(DbError::Invalid(
                "id: the default project (1) cannot be deleted".into(),
            ));
        }
        if confirm != name {
            return Err(DbError::Invalid(
                "confirm: must be the project's name, exactly".into(),
            ));
        }
        let users: Vec<UserId> = on_conn!(conn, c => {
            users::table
                .filter(users::project_id.eq(id))
                .select(users::id)
                .load(c)
        })?;
        let shas: Vec<String> = on_conn!(conn, c => {
            uploads::table
                .filter(uploads::project_id.eq(id))
                .select(uploads::sha256)
                .distinct()
                .load(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(messages::table.filter(messages::project_id.eq(id))).execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(participants::table.filter(participants::project_id.eq(id))).execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(uploads::table.filter(uploads::project_id.eq(id))).execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(conversations::table.filter(conversations::project_id.eq(id)))
                .execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::project_id.eq(id)))
                .execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(user_tokens::table.filter(user_tokens::project_id.eq(id))).execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::update(projects::table.find(id))
                .set(projects::system_user_id.eq(None::<UserId>))
                .execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(users::table.filter(users::project_id.eq(id))).execute(c)
        })?;
        on_conn!(conn, c => {
            diesel::delete(api_keys::table.filter(api_keys::project_id.eq(id))).execute(c)
        })?;
        crate::db::queries::webhooks::delete_project(conn, id)?;
        on_conn!(conn, c => diesel::delete(projects::table.find(id)).execute(c))?;
        let still: std::collections::HashSet<String> = on_conn!(conn, c => {
            uploads::table
                .filter(uploads::sha256.eq_any(&shas))
                .select(uploads::sha256)
                .distinct()
                .load::<String>(c)
        })?
        .into_iter()
        .collect();
        let orphans = shas.into_iter().filter(|s| !still.contains(s)).collect();
        Ok(Removed { users, orphans })
    })
}

/// Whether project `id` exists (for the CLI, on a write connection).
///
/// # Errors
/// A query failure.
pub fn exists(conn: &mut DbConnection, id: ProjectId) -> Result<bool, DbError> {
    use diesel::RunQueryDsl as _;
    let n: i64 = on_conn!(conn, c => projects::table.find(id).count().get_result(c))?;
    Ok(n > 0)
}

/// Finds a project by id.
///
/// # Errors
/// A query failure; an unknown id is `Ok(None)`.
pub async fn find(conn: &mut ReadConn, id: ProjectId) -> Result<Option<ProjectRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        projects::table
            .find(id)
            .select(ProjectRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// Projects with an id above `after`, ascending, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn page(conn: &mut ReadConn, after: i64, limit: i64) -> Result<Vec<ProjectRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        projects::table
            .filter(projects::id.gt(ProjectId(after)))
            .order(projects::id.asc())
            .limit(limit)
            .select(ProjectRow::as_select())
            .load(c)
            .await
    })?)
}

/// Every project's settings that are not empty (`{}`): for the in-memory registry.
///
/// # Errors
/// A query failure.
pub async fn all_settings(conn: &mut ReadConn) -> Result<Vec<(ProjectId, String)>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        projects::table
            .filter(projects::settings.ne("{}"))
            .select((projects::id, projects::settings))
            .load(c)
            .await
    })?)
}
