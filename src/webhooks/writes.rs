//! The DbWriter messages of webhooks: endpoint changes (from the HTTP handlers), claims and
//! outcomes (from the [`worker`](super::worker)), redelivery. Handled on the writer threads
//! like every other write.

use actix::prelude::*;
use chrono::NaiveDateTime;

use crate::actors::db_writer::DbWriter;
use crate::db::DbError;
use crate::db::models::{DeliveryRow, NewWebhook, WebhookRow};
use crate::db::queries::webhooks::deliveries::{self, Attempt, Claimed};
use crate::db::queries::webhooks::{self, WebhookChange};
use crate::domain::ProjectId;

/// Create an endpoint.
#[derive(Message, Debug)]
#[rtype(result = "Result<WebhookRow, DbError>")]
pub struct CreateWebhook {
    /// The validated row.
    pub webhook: NewWebhook,
}

/// Change an endpoint.
#[derive(Message, Debug)]
#[rtype(result = "Result<WebhookRow, DbError>")]
pub struct UpdateWebhook {
    /// What to change.
    pub change: WebhookChange,
}

/// Delete an endpoint and its deliveries.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<(), DbError>")]
pub struct DeleteWebhook {
    /// The project.
    pub project_id: ProjectId,
    /// The endpoint.
    pub id: i64,
}

/// Claim due deliveries (see [`deliveries::claim`]).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<Vec<Claimed>, DbError>")]
pub struct ClaimDeliveries {
    /// Now.
    pub now: NaiveDateTime,
    /// The lease's end.
    pub lease_until: NaiveDateTime,
    /// Most deliveries to claim.
    pub limit: usize,
}

/// Record an attempt's outcome (see [`deliveries::record`]).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), DbError>")]
pub struct RecordAttempt {
    /// The outcome.
    pub attempt: Attempt,
}

/// Queue a delivery again.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<DeliveryRow, DbError>")]
pub struct Redeliver {
    /// The project.
    pub project_id: ProjectId,
    /// The endpoint.
    pub webhook_id: i64,
    /// The delivery.
    pub id: i64,
}

/// Delete delivered and failed deliveries of events older than `before` (at most `limit`).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<usize, DbError>")]
pub struct PruneDeliveries {
    /// The cutoff.
    pub before: NaiveDateTime,
    /// Most rows deleted by one message.
    pub limit: i64,
}

impl Handler<PruneDeliveries> for DbWriter {
    type Result = Result<usize, DbError>;
    fn handle(&mut self, msg: PruneDeliveries, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| deliveries::prune(conn, msg.before, msg.limit))
    }
}

impl Handler<CreateWebhook> for DbWriter {
    type Result = Result<WebhookRow, DbError>;
    fn handle(&mut self, msg: CreateWebhook, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| webhooks::insert(conn, &msg.webhook))
    }
}

impl Handler<UpdateWebhook> for DbWriter {
    type Result = Result<WebhookRow, DbError>;
    fn handle(&mut self, msg: UpdateWebhook, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| webhooks::update(conn, &msg.change))
    }
}

impl Handler<DeleteWebhook> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: DeleteWebhook, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| webhooks::delete(conn, msg.project_id, msg.id))
    }
}

impl Handler<ClaimDeliveries> for DbWriter {
    type Result = Result<Vec<Claimed>, DbError>;
    fn handle(&mut self, msg: ClaimDeliveries, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| deliveries::claim(conn, msg.now, msg.lease_until, msg.limit))
    }
}

impl Handler<RecordAttempt> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: RecordAttempt, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| deliveries::record(conn, &msg.attempt))
    }
}

impl Handler<Redeliver> for DbWriter {
    type Result = Result<DeliveryRow, DbError>;
    fn handle(&mut self, msg: Redeliver, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            deliveries::redeliver(
                conn,
                msg.project_id,
                msg.webhook_id,
                msg.id,
                crate::db::now(),
            )
        })
    }
}
