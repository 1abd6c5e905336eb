//! Labels: a project's titles that the team puts on support conversations (the queue filters
//! by them, conversation views list them).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable};
use serde::Serialize;

use crate::db::schema::{conversation_labels, labels};
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{ConversationId, ProjectId};

/// A stored label.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = labels)]
pub struct LabelRow {
    /// Primary key.
    pub id: i64,
    /// Tenant.
    pub project_id: ProjectId,
    /// 1–64 characters, trimmed, unique in the project (case-sensitive).
    pub title: String,
    /// Free text, or null.
    pub description: Option<String>,
    /// `#rrggbb`, or null.
    pub color: Option<String>,
    /// When it was made (UTC).
    pub created_at: NaiveDateTime,
}

/// A label as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelView {
    /// Its id.
    pub id: i64,
    /// 1–64 characters, unique in the project (case-sensitive).
    pub title: String,
    /// Free text (at most 1000 characters), or null.
    pub description: Option<String>,
    /// `#rrggbb`, or null.
    pub color: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

impl LabelRow {
    /// The API's view of it.
    pub fn view(&self) -> LabelView {
        LabelView {
            id: self.id,
            title: self.title.clone(),
            description: self.description.clone(),
            color: self.color.clone(),
            created_at: self.created_at.and_utc(),
        }
    }
}

/// A write to a project's labels (fields already validated).
#[derive(Debug, Clone)]
pub enum LabelChange {
    /// Make one.
    Create {
        /// Trimmed title.
        title: String,
        /// Description, or none.
        description: Option<String>,
        /// `#rrggbb`, or none.
        color: Option<String>,
    },
    /// Change one.
    Update {
        /// Which.
        id: i64,
        /// The new title, if it changes.
        title: Option<String>,
        /// The new description (`Some(None)` clears it), if it changes.
        description: Option<Option<String>>,
        /// The new color (`Some(None)` clears it), if it changes.
        color: Option<Option<String>>,
    },
    /// Remove one, from every conversation too.
    Delete {
        /// Which.
        id: i64,
    },
}

const TAKEN: &str = "title: a label of this project has it already";

/// Applies `change` to `project`'s labels: the row made or changed (`None` for a deletion).
///
/// # Errors
/// [`DbError::NotFound`] for an id that is not the project's; [`DbError::Conflict`] for a
/// taken title; a query failure.
pub fn write_label(
    conn: &mut DbConnection,
    project: ProjectId,
    change: &LabelChange,
) -> Result<Option<LabelRow>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let id = match change {
            LabelChange::Create {
                title,
                description,
                color,
            } => {
                if find_title(conn, project, title)?.is_some() {
                    return Err(DbError::Conflict(TAKEN.into()));
                }
                create(
                    conn,
                    project,
                    title,
                    description.as_deref(),
                    color.as_deref(),
                )?
            }
            LabelChange::Update {
                id,
                title,
                description,
                color,
            } => {
                if let Some(title) = title
                    && find_title(conn, project, title)?.is_some_and(|other| other != *id)
                {
                    return Err(DbError::Conflict(TAKEN.into()));
                }
                let target = labels::table
                    .filter(labels::id.eq(*id))
                    .filter(labels::project_id.eq(project));
                // A no-op assignment keeps the statement valid when nothing else changes.
                let n = on_conn!(conn, c => {
                    diesel::update(target)
                        .set((
                            labels::project_id.eq(project),
                            title.as_ref().map(|v| labels::title.eq(v)),
                            description.as_ref().map(|v| labels::description.eq(v)),
                            color.as_ref().map(|v| labels::color.eq(v)),
                        ))
                        .execute(c)
                })?;
                if n == 0 {
                    return Err(DbError::NotFound);
                }
                *id
            }
            LabelChange::Delete { id } => {
                let target = labels::table
                    .filter(labels::id.eq(*id))
                    .filter(labels::project_id.eq(project));
                let n = on_conn!(conn, c => diesel::delete(target).execute(c))?;
                if n == 0 {
                    return Err(DbError::NotFound);
                }
                on_conn!(conn, c => {
                    diesel::delete(
                        conversation_labels::table.filter(conversation_labels::label_id.eq(*id)),
                    )
                    .execute(c)
                })?;
                return Ok(None);
            }
        };
        let row = on_conn!(conn, c => {
            labels::table
                .find(id)
                .select(<LabelRow as diesel::SelectableHelper<_>>::as_select())
                .first(c)
        })?;
        Ok(Some(row))
    })
}

/// Makes a label: its id.
fn create(
    conn: &mut DbConnection,
    project: ProjectId,
    title: &str,
    description: Option<&str>,
    color: Option<&str>,
) -> Result<i64, DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::insert_into(labels::table)
            .values((
                labels::project_id.eq(project),
                labels::title.eq(title),
                labels::description.eq(description),
                labels::color.eq(color),
                labels::created_at.eq(now()),
            ))
            .execute(c)
    })?;
    find_title(conn, project, title)?.ok_or(DbError::NotFound)
}

/// The id of `project`'s label titled `title`, if any.
fn find_title(
    conn: &mut DbConnection,
    project: ProjectId,
    title: &str,
) -> Result<Option<i64>, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        labels::table
            .filter(labels::project_id.eq(project))
            .filter(labels::title.eq(title))
            .select(labels::id)
            .first(c)
    })
    .optional()?)
}

/// Puts the label titled `title` on conversation `id` of `project` (`add`, making the label
/// when the project has none of that title; idempotent) or takes it off: the conversation's
/// label titles afterwards, ascending.
///
/// # Errors
/// [`DbError::NotFound`] when taking off a label the conversation does not carry; a query
/// failure.
pub fn label_conversation(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    title: &str,
    add: bool,
) -> Result<Vec<String>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let label = match (find_title(conn, project, title)?, add) {
            (Some(label), _) => label,
            (None, true) => create(conn, project, title, None, None)?,
            (None, false) => return Err(DbError::NotFound),
        };
        let target = conversation_labels::table
            .filter(conversation_labels::conversation_id.eq(id))
            .filter(conversation_labels::label_id.eq(label));
        let carried: i64 = on_conn!(conn, c => target.count().get_result(c))?;
        match (add, carried > 0) {
            (true, false) => {
                on_conn!(conn, c => {
                    diesel::insert_into(conversation_labels::table)
                        .values((
                            conversation_labels::conversation_id.eq(id),
                            conversation_labels::label_id.eq(label),
                            conversation_labels::project_id.eq(project),
                            conversation_labels::created_at.eq(now()),
                        ))
                        .execute(c)
                })?;
            }
            (false, true) => {
                on_conn!(conn, c => diesel::delete(target).execute(c))?;
            }
            (false, false) => return Err(DbError::NotFound),
            (true, true) => {}
        }
        Ok(on_conn!(conn, c => {
            conversation_labels::table
                .inner_join(labels::table)
                .filter(conversation_labels::conversation_id.eq(id))
                .order(labels::title)
                .select(labels::title)
                .load(c)
        })?)
    })
}

/// `project`'s labels by id, after `after`, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn list_labels(
    conn: &mut ReadConn,
    project: ProjectId,
    after: i64,
    limit: i64,
) -> Result<Vec<LabelRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        labels::table
            .filter(labels::project_id.eq(project))
            .filter(labels::id.gt(after))
            .order(labels::id)
            .limit(limit)
            .select(<LabelRow as diesel::SelectableHelper<_>>::as_select())
            .load(c)
            .await
    })?)
}
