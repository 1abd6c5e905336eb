//! Webhook endpoints (writes by the DbWriter: create, change, delete; reads: one, pages) and,
//! in [`deliveries`], their outbox: the worker's claims and outcomes, the delivery log and
//! redelivery. Events are written into the outbox by [`crate::webhooks::enqueue`].

pub mod deliveries;

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{NewWebhook, WebhookRow};
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::ProjectId;

/// Inserts an endpoint, unless the project has [`MAX_PER_PROJECT`] already.
///
/// [`MAX_PER_PROJECT`]: crate::webhooks::MAX_PER_PROJECT
///
/// # Errors
/// [`DbError::Invalid`] past the bound; a query failure.
pub fn insert(conn: &mut DbConnection, new: &NewWebhook) -> Result<WebhookRow, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let existing: i64 = on_conn!(conn, c => {
            webhooks::table
                .filter(webhooks::project_id.eq(new.project_id))
                .count()
                .get_result(c)
        })?;
        if existing >= crate::webhooks::MAX_PER_PROJECT {
            return Err(DbError::Invalid(format!(
                "url: a project has at most {} webhooks",
                crate::webhooks::MAX_PER_PROJECT
            )));
        }
        Ok(on_conn!(conn, c => {
            diesel::insert_into(webhooks::table)
                .values(new)
                .returning(WebhookRow::as_returning())
                .get_result(c)
        })?)
    })
}

/// A change to an endpoint: each `Some` field is set. `enabled: Some(true)` also clears the
/// disabled reason and the failure count; `Some(false)` records that an admin disabled it.
#[derive(Debug, Clone)]
pub struct WebhookChange {
    /// The project (another project's endpoint is `not_found`).
    pub project_id: ProjectId,
    /// Which endpoint.
    pub id: i64,
    /// A new URL (`http`).
    pub url: Option<String>,
    /// New event types, space-separated.
    pub events: Option<String>,
    /// A new secret or bot token.
    pub secret: Option<String>,
    /// A new chat (`telegram`).
    pub chat_id: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Applies `change`; answers the endpoint as it is now.
///
/// # Errors
/// [`DbError::NotFound`]; a query failure.
pub fn update(conn: &mut DbConnection, change: &WebhookChange) -> Result<WebhookRow, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let target = webhooks::table
            .filter(webhooks::id.eq(change.id))
            .filter(webhooks::project_id.eq(change.project_id));
        let found: i64 = on_conn!(conn, c => target.count().get_result(c))?;
        if found == 0 {
            return Err(DbError::NotFound);
        }
        if let Some(url) = &change.url {
            on_conn!(conn, c => diesel::update(target).set(webhooks::url.eq(url)).execute(c))?;
        }
        if let Some(events) = &change.events {
            on_conn!(conn, c => {
                diesel::update(target).set(webhooks::events.eq(events)).execute(c)
            })?;
        }
        if let Some(secret) = &change.secret {
            on_conn!(conn, c => {
                diesel::update(target).set(webhooks::secret.eq(secret)).execute(c)
            })?;
        }
        if let Some(chat) = &change.chat_id {
            on_conn!(conn, c => {
                diesel::update(target).set(webhooks::chat_id.eq(chat)).execute(c)
            })?;
        }
        match change.enabled {
            Some(true) => on_conn!(conn, c => {
                diesel::update(target)
                    .set((
                        webhooks::enabled.eq(true),
                        webhooks::disabled_reason.eq(None::<String>),
                        webhooks::consecutive_failures.eq(0),
                    ))
                    .execute(c)
            })?,
            Some(false) => on_conn!(conn, c => {
                diesel::update(target.filter(webhooks::enabled.eq(true)))
                    .set((
                        webhooks::enabled.eq(false),
                        webhooks::disabled_reason.eq("disabled by an admin"),
                    ))
                    .execute(c)
            })?,
            None => 0,
        };
        Ok(on_conn!(conn, c => target.select(WebhookRow::as_select()).first(c))?)
    })
}

/// Deletes endpoint `id` of `project` and its deliveries.
///
/// # Errors
/// [`DbError::NotFound`]; a query failure.
pub fn delete(conn: &mut DbConnection, project: ProjectId, id: i64) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let target = webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::project_id.eq(project));
        let found: i64 = on_conn!(conn, c => target.count().get_result(c))?;
        if found == 0 {
            return Err(DbError::NotFound);
        }
        on_conn!(conn, c => {
            diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
                .execute(c)
        })?;
        on_conn!(conn, c => diesel::delete(target).execute(c))?;
        Ok(())
    })
}

/// Deletes every endpoint and delivery of `project` (inside the project's deletion).
///
/// # Errors
/// A query failure.
pub fn delete_project(conn: &mut DbConnection, project: ProjectId) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::delete(
            webhook_deliveries::table.filter(webhook_deliveries::project_id.eq(project)),
        )
        .execute(c)
    })?;
    on_conn!(conn, c => {
        diesel::delete(webhooks::table.filter(webhooks::project_id.eq(project))).execute(c)
    })?;
    Ok(())
}

/// Endpoint `id` of `project`.
///
/// # Errors
/// A query failure; none is `Ok(None)`.
pub async fn find(
    conn: &mut ReadConn,
    project: ProjectId,
    id: i64,
) -> Result<Option<WebhookRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::project_id.eq(project))
            .select(WebhookRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// The project's endpoints with an id above `after`, ascending, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    project: ProjectId,
    after: i64,
    limit: i64,
) -> Result<Vec<WebhookRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        webhooks::table
            .filter(webhooks::project_id.eq(project))
            .filter(webhooks::id.gt(after))
            .order(webhooks::id.asc())
            .limit(limit)
            .select(WebhookRow::as_select())
            .load(c)
            .await
    })?)
}
