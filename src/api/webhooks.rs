//! Webhooks: a project's endpoints (`/api/v1/projects/{id}/webhooks`) and their delivery logs
//! (docs/SERVER_API.md, *Webhooks*).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An endpoint as its project's admins see it, never its secret:
/// `{id, type, url, events, enabled, disabled_reason, created_at}`, and for a Telegram sink
/// `chat_id` and a masked `bot_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookView {
    /// Endpoint id.
    pub id: i64,
    /// `http` (signed POSTs to `url`) or `telegram` (Bot API `sendMessage` to `chat_id`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The target of an `http` endpoint; null for `telegram`.
    pub url: Option<String>,
    /// The event types it receives.
    pub events: Vec<String>,
    /// False once disabled, by an admin or after too many failed attempts.
    pub enabled: bool,
    /// Why it was disabled, while it is.
    pub disabled_reason: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// `telegram`: the chat messages go to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// `telegram`: the bot token, masked (`<bot id>:****`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<String>,
}

/// The answer to creating an endpoint: its view and, for `http`, the signing secret (the only
/// answer that shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookCreated {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `http`: the secret deliveries are signed with (`whsec_...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `POST /api/v1/projects/{id}/webhooks` body: `{url, events, secret?}` for an `http` endpoint,
/// `{type: "telegram", bot_token, chat_id, events?}` for a Telegram sink.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// `http` (the default) or `telegram`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `http`: an `http://` or `https://` URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Event types (`message.created`, ...). Required for `http`; `telegram` defaults to
    /// `message.created`.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// `http`: the signing secret (16 to 256 printable ASCII characters); generated if absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// `telegram`: the bot's token (`<digits>:<token>`).
    #[serde(default)]
    pub bot_token: Option<String>,
    /// `telegram`: the chat id (a number or `@channel`).
    #[serde(default)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub chat_id: Option<serde_json::Value>,
}

/// `PATCH /api/v1/projects/{id}/webhooks/{webhook_id}` body: each field present is changed.
/// `enabled: true` re-enables a disabled endpoint and clears its `disabled_reason`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookBody {
    /// `http`: a new URL.
    #[serde(default)]
    pub url: Option<String>,
    /// New event types.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// `http`: a new signing secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `telegram`: a new bot token.
    #[serde(default)]
    pub bot_token: Option<String>,
    /// `telegram`: a new chat id.
    #[serde(default)]
    pub chat_id: Option<serde_json::Value>,
}

/// One delivery of an event to an endpoint: `{id, event_id, type, status, attempts,
/// last_error, last_status_code, next_attempt_at, created_at, delivered_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// Delivery id (for redelivery).
    pub id: i64,
    /// The event's id (`evt_...`), the one in the payload, the same on every attempt.
    pub event_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// What went wrong on the last failed attempt.
    pub last_error: Option<String>,
    /// The HTTP status the endpoint last answered, if it answered.
    pub last_status_code: Option<i32>,
    /// When the next attempt is due (meaningful while `pending`).
    pub next_attempt_at: DateTime<Utc>,
    /// When the event was stored.
    pub created_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}
