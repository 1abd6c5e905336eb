//! Webhook rows: endpoints (`webhooks`) and the outbox of their deliveries
//! (`webhook_deliveries`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::utc;
use crate::api::{DeliveryView, WebhookView};
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::domain::ProjectId;

/// A `webhooks` row. `secret` (the signing secret, or a Telegram bot token) never leaves the
/// server but in the creation answer.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    /// Primary key.
    pub id: i64,
    /// Tenant.
    pub project_id: ProjectId,
    /// `http` or `telegram`.
    pub kind: String,
    /// `http`: the target URL.
    pub url: Option<String>,
    /// `http`: the HMAC key; `telegram`: the bot token.
    pub secret: String,
    /// `telegram`: the chat.
    pub chat_id: Option<String>,
    /// Space-separated event types.
    pub events: String,
    /// Whether new events are queued for it and its deliveries attempted.
    pub enabled: bool,
    /// Why it is disabled.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success; past `webhooks.disable_after_failures` it is
    /// disabled.
    pub consecutive_failures: i64,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

impl WebhookRow {
    /// Its event types.
    pub fn event_list(&self) -> Vec<String> {
        self.events.split_whitespace().map(str::to_string).collect()
    }

    /// Whether it receives `event_type`.
    pub fn subscribes(&self, event_type: &str) -> bool {
        self.events.split_whitespace().any(|e| e == event_type)
    }

    /// The public view: no secret, a Telegram bot token masked.
    pub fn view(&self) -> WebhookView {
        let telegram = self.kind == crate::webhooks::KIND_TELEGRAM;
        WebhookView {
            id: self.id,
            kind: self.kind.clone(),
            url: self.url.clone(),
            events: self.event_list(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            created_at: utc(self.created_at),
            chat_id: self.chat_id.clone(),
            bot_token: telegram.then(|| crate::webhooks::telegram::mask(&self.secret)),
        }
    }
}

/// A new `webhooks` row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook {
    /// Tenant.
    pub project_id: ProjectId,
    /// `http` or `telegram`.
    pub kind: String,
    /// `http`: the target URL.
    pub url: Option<String>,
    /// The signing secret or bot token.
    pub secret: String,
    /// `telegram`: the chat.
    pub chat_id: Option<String>,
    /// Space-separated event types.
    pub events: String,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// A `webhook_deliveries` row: one event for one endpoint.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// Primary key; deliveries to one endpoint are attempted in this order.
    pub id: i64,
    /// Tenant.
    pub project_id: ProjectId,
    /// The endpoint.
    pub webhook_id: i64,
    /// `evt_...`, the same on every attempt.
    pub event_id: String,
    /// `message.created`, ...
    pub event_type: String,
    /// The JSON body, exactly as sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// The last HTTP status answered.
    pub last_status_code: Option<i32>,
    /// When the next attempt is due.
    pub next_attempt_at: NaiveDateTime,
    /// A worker's lease on it.
    pub locked_until: Option<NaiveDateTime>,
    /// When it was queued, or queued again by a redelivery: still failing
    /// `webhooks.max_age_h` later, it is `failed`.
    pub queued_at: NaiveDateTime,
    /// When the event was stored.
    pub created_at: NaiveDateTime,
    /// When it was accepted.
    pub delivered_at: Option<NaiveDateTime>,
}

impl DeliveryRow {
    /// The public view.
    pub fn view(&self) -> DeliveryView {
        DeliveryView {
            id: self.id,
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            status: self.status.clone(),
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            last_status_code: self.last_status_code,
            next_attempt_at: utc(self.next_attempt_at),
            created_at: utc(self.created_at),
            delivered_at: self.delivered_at.map(utc),
        }
    }
}

/// A new `webhook_deliveries` row (pending). `None` binds NULL so many rows fit one `INSERT`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_deliveries, treat_none_as_default_value = false)]
pub struct NewDelivery {
    /// Tenant.
    pub project_id: ProjectId,
    /// The endpoint.
    pub webhook_id: i64,
    /// `evt_...`.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The JSON body.
    pub payload: String,
    /// `pending`.
    pub status: String,
    /// Now: attempted at once.
    pub next_attempt_at: NaiveDateTime,
    /// Now.
    pub queued_at: NaiveDateTime,
    /// Now.
    pub created_at: NaiveDateTime,
}
