//! The outbox of webhook deliveries: the worker's claims ([`claim`]) and outcomes
//! ([`record`]), the delivery log ([`page`]) and redelivery ([`redeliver`]).
//!
//! Deliveries to one endpoint are attempted one at a time, in the order they were queued:
//! only the oldest pending delivery of an endpoint (its head) can be claimed, and the next one
//! becomes the head when the worker records the outcome. A claim is a lease
//! (`locked_until`), taken in a transaction that on PostgreSQL locks the rows with `FOR UPDATE
//! SKIP LOCKED`, so with several nodes each delivery is attempted by one node at a time, and a
//! node that dies mid-attempt only delays it until the lease ends.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};

use crate::db::models::{DeliveryRow, WebhookRow};
use crate::db::schema::{webhook_deliveries as deliveries, webhooks};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read, write_transaction};
use crate::domain::ProjectId;
use crate::webhooks::{DELIVERED, FAILED, PENDING};

/// A claimed delivery and its endpoint.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery (its lease taken).
    pub delivery: DeliveryRow,
    /// Where it goes.
    pub webhook: WebhookRow,
}

/// Whether any delivery of an enabled endpoint may be due now (a cheap read before [`claim`]
/// takes the writer).
///
/// # Errors
/// A query failure.
pub async fn any_due(conn: &mut ReadConn, now: NaiveDateTime) -> Result<bool, DbError> {
    use diesel_async::RunQueryDsl as _;
    let found: Option<i64> = on_read!(conn, c => {
        deliveries::table
            .inner_join(webhooks::table)
            .filter(webhooks::enabled.eq(true))
            .filter(deliveries::status.eq(PENDING))
            .filter(deliveries::next_attempt_at.le(now))
            .filter(
                deliveries::locked_until
                    .is_null()
                    .or(deliveries::locked_until.le(now)),
            )
            .select(deliveries::id)
            .first(c)
            .await
    })
    .optional()?;
    Ok(found.is_some())
}

/// Claims up to `limit` due deliveries, each the head of its enabled endpoint's queue and not
/// leased, until `lease_until`.
///
/// # Errors
/// A query failure.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: usize,
) -> Result<Vec<Claimed>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        // The head of every endpoint's queue: one row per endpoint with pending deliveries.
        let heads: Vec<Option<i64>> = on_conn!(conn, c => {
            deliveries::table
                .filter(deliveries::status.eq(PENDING))
                .group_by(deliveries::webhook_id)
                .select(diesel::dsl::min(deliveries::id))
                .load(c)
        })?;
        let mut heads: Vec<i64> = heads.into_iter().flatten().collect();
        heads.sort_unstable();
        let mut claimed: Vec<Claimed> = Vec::new();
        for chunk in heads.chunks(500) {
            let room = i64::try_from(limit.saturating_sub(claimed.len())).unwrap_or(0);
            if room == 0 {
                break;
            }
            // One expression per backend: `as_select` is typed by the backend it runs on.
            macro_rules! due {
                () => {
                    deliveries::table
                        .inner_join(webhooks::table)
                        .filter(deliveries::id.eq_any(chunk))
                        // Again: another node may have finished it since the heads were read.
                        .filter(deliveries::status.eq(PENDING))
                        .filter(deliveries::next_attempt_at.le(now))
                        .filter(
                            deliveries::locked_until
                                .is_null()
                                .or(deliveries::locked_until.le(now)),
                        )
                        .filter(webhooks::enabled.eq(true))
                        .order(deliveries::id.asc())
                        .limit(room)
                        .select((DeliveryRow::as_select(), WebhookRow::as_select()))
                };
            }
            let rows: Vec<(DeliveryRow, WebhookRow)> = match conn {
                DbConnection::Sqlite(c) => due!().load(c)?,
                DbConnection::Postgres(c) => due!().for_update().skip_locked().load(&mut **c)?,
            };
            claimed.extend(
                rows.into_iter()
                    .map(|(delivery, webhook)| Claimed { delivery, webhook }),
            );
        }
        let ids: Vec<i64> = claimed.iter().map(|c| c.delivery.id).collect();
        if !ids.is_empty() {
            on_conn!(conn, c => {
                diesel::update(deliveries::table.filter(deliveries::id.eq_any(&ids)))
                    .set(deliveries::locked_until.eq(lease_until))
                    .execute(c)
            })?;
        }
        Ok(claimed)
    })
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (a 2xx answer; `None` for a Telegram sink with nothing to send).
    Delivered {
        /// The HTTP status answered.
        status_code: Option<i32>,
    },
    /// Refused, unanswered or not sent.
    Failed {
        /// The HTTP status answered, if any.
        status_code: Option<i32>,
        /// What went wrong (no secrets).
        error: String,
    },
}

/// The outcome of one attempt, to record.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The delivery.
    pub delivery_id: i64,
    /// When it ended.
    pub at: NaiveDateTime,
    /// How.
    pub outcome: Outcome,
    /// When to try again after a failure.
    pub retry_at: NaiveDateTime,
    /// `webhooks.max_age_h`: a failure this long after it was queued is final.
    pub max_age: TimeDelta,
    /// `webhooks.disable_after_failures` (0: never).
    pub disable_after: u32,
}

/// Records `attempt`: the delivery is `delivered`, `pending` again (at `retry_at`) or
/// `failed`, its lease released; the endpoint's failure count is reset or moved forward, and
/// past `disable_after` the endpoint is disabled with the reason. A delivery deleted meanwhile
/// (its endpoint deleted) is ignored.
///
/// # Errors
/// A query failure.
pub fn record(conn: &mut DbConnection, attempt: &Attempt) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let target = deliveries::table.find(attempt.delivery_id);
        let Some(row) = on_conn!(conn, c => {
            target.select(DeliveryRow::as_select()).first(c)
        })
        .optional()?
        else {
            return Ok(());
        };
        let endpoint = webhooks::table.find(row.webhook_id);
        match &attempt.outcome {
            Outcome::Delivered { status_code } => {
                on_conn!(conn, c => {
                    diesel::update(target)
                        .set((
                            deliveries::status.eq(DELIVERED),
                            deliveries::attempts.eq(deliveries::attempts + 1),
                            deliveries::delivered_at.eq(attempt.at),
                            deliveries::last_status_code.eq(status_code),
                            deliveries::last_error.eq(None::<String>),
                            deliveries::locked_until.eq(None::<NaiveDateTime>),
                        ))
                        .execute(c)
                })?;
                on_conn!(conn, c => {
                    diesel::update(endpoint.filter(webhooks::consecutive_failures.ne(0)))
                        .set(webhooks::consecutive_failures.eq(0))
                        .execute(c)
                })?;
            }
            Outcome::Failed { status_code, error } => {
                let expired = attempt.at - row.queued_at >= attempt.max_age;
                on_conn!(conn, c => {
                    diesel::update(target)
                        .set((
                            deliveries::status.eq(if expired { FAILED } else { PENDING }),
                            deliveries::attempts.eq(deliveries::attempts + 1),
                            deliveries::last_status_code.eq(status_code),
                            deliveries::last_error.eq(error),
                            deliveries::next_attempt_at.eq(attempt.retry_at),
                            deliveries::locked_until.eq(None::<NaiveDateTime>),
                        ))
                        .execute(c)
                })?;
                let failures: Option<i64> = on_conn!(conn, c => {
                    diesel::update(endpoint)
                        .set(webhooks::consecutive_failures.eq(webhooks::consecutive_failures + 1))
                        .returning(webhooks::consecutive_failures)
                        .get_result(c)
                })
                .optional()?;
                let limit = i64::from(attempt.disable_after);
                if limit > 0 && failures.is_some_and(|n| n >= limit) {
                    let reason = format!(
                        "disabled after {limit} consecutive failed delivery attempts; last: {error}"
                    );
                    let disabled = on_conn!(conn, c => {
                        diesel::update(endpoint.filter(webhooks::enabled.eq(true)))
                            .set((
                                webhooks::enabled.eq(false),
                                webhooks::disabled_reason.eq(&reason),
                            ))
                            .execute(c)
                    })?;
                    if disabled > 0 {
                        tracing::warn!(webhook_id = row.webhook_id, %reason, "webhook disabled");
                    }
                }
            }
        }
        Ok(())
    })
}

/// Queues delivery `id` of endpoint `webhook` of `project` again, due now, with the same event
/// id and body; answers it as it is now. A pending one is simply made due now.
///
/// # Errors
/// [`DbError::NotFound`]; a query failure.
pub fn redeliver(
    conn: &mut DbConnection,
    project: ProjectId,
    webhook: i64,
    id: i64,
    now: NaiveDateTime,
) -> Result<DeliveryRow, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let target = deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::webhook_id.eq(webhook))
            .filter(deliveries::project_id.eq(project));
        let row: DeliveryRow = on_conn!(conn, c => {
            target.select(DeliveryRow::as_select()).first(c)
        })
        .optional()?
        .ok_or(DbError::NotFound)?;
        if row.status == PENDING {
            on_conn!(conn, c => {
                diesel::update(target).set(deliveries::next_attempt_at.eq(now)).execute(c)
            })?;
        } else {
            on_conn!(conn, c => {
                diesel::update(target)
                    .set((
                        deliveries::status.eq(PENDING),
                        deliveries::next_attempt_at.eq(now),
                        deliveries::queued_at.eq(now),
                        deliveries::delivered_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(c)
            })?;
        }
        Ok(on_conn!(conn, c => target.select(DeliveryRow::as_select()).first(c))?)
    })
}

/// Deletes up to `limit` delivered or failed deliveries whose event is older than `before`;
/// answers how many.
///
/// # Errors
/// A query failure.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> Result<usize, DbError> {
    use diesel::RunQueryDsl as _;
    let old = deliveries::table
        .filter(deliveries::created_at.lt(before))
        .filter(deliveries::status.ne(PENDING))
        .select(deliveries::id)
        .limit(limit);
    let ids: Vec<i64> = on_conn!(conn, c => old.load(c))?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(on_conn!(conn, c => {
        diesel::delete(deliveries::table.filter(deliveries::id.eq_any(&ids))).execute(c)
    })?)
}

/// Deliveries of endpoint `webhook` of `project` with an id above `after`, ascending, at most
/// `limit`.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    project: ProjectId,
    webhook: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        deliveries::table
            .filter(deliveries::webhook_id.eq(webhook))
            .filter(deliveries::project_id.eq(project))
            .filter(deliveries::id.gt(after))
            .order(deliveries::id.asc())
            .limit(limit)
            .select(DeliveryRow::as_select())
            .load(c)
            .await
    })?)
}
