//! The delivery worker: a task started by `startup` (when `webhooks.enabled`) that lives as long
//! as the server.
//!
//! Every `webhooks.poll_interval_ms` it asks the read pool whether a delivery is due; if one
//! is, it claims up to [`BATCH`] through the DbWriter (each the head of its endpoint's queue,
//! leased to this node: [`deliveries::claim`](crate::db::queries::webhooks::deliveries::claim)),
//! attempts them concurrently, each bounded by `webhooks.timeout_ms`, and records each outcome
//! ([`RecordAttempt`]), which makes the endpoint's next delivery its head. After a batch it
//! looks again at once, so an endpoint's backlog drains at the speed of its answers.
//!
//! An attempt is a signed POST of the stored body ([`super::sign`]), never following
//! redirects, to a URL checked again against internal addresses ([`super::target`]); or, for
//! a Telegram sink, a Bot API call ([`super::telegram`]). A failed attempt is retried after
//! `initial_backoff_ms · 2^(attempts-1)`, capped at `max_backoff_s`, with jitter (between
//! half and all of it); still failing `max_age_h` after it was queued, the delivery is
//! `failed`. A second task deletes delivered and failed deliveries older than
//! `webhooks.log_retention_h` from the log, every hour.

use std::time::Duration;

use actix::prelude::*;
use chrono::TimeDelta;
use serde_json::Value;

use super::{KIND_TELEGRAM, MESSAGE_CREATED, sign, target, telegram};
use crate::actors::db_writer::DbWriter;
use crate::actors::presence::{OnlineAmong, PresenceRegistry};
use crate::config::WebhookSettings;
use crate::db::queries::conversations;
use crate::db::queries::webhooks::deliveries::{self, Attempt, Claimed, Outcome};
use crate::db::{Database, DbError};
use crate::domain::UserId;
use crate::webhooks::writes::{ClaimDeliveries, PruneDeliveries, RecordAttempt};

/// Most deliveries claimed and attempted at once by one node.
pub const BATCH: usize = 32;

/// How often the delivery log is pruned (`webhooks.log_retention_h`).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Most log rows deleted per transaction while pruning.
const PRUNE_BATCH: i64 = 1000;

/// What the worker needs.
pub struct WorkerDeps {
    /// For the due check and a conversation's participants.
    pub db: Database,
    /// Claims and outcomes.
    pub writer: Addr<DbWriter>,
    /// Who has an open session (Telegram sink).
    pub presence: Addr<PresenceRegistry>,
    /// `[webhooks]`.
    pub settings: WebhookSettings,
}

/// Starts the worker on the current actix system.
///
/// # Errors
/// The HTTP client cannot be built (no TLS roots).
pub fn spawn(deps: WorkerDeps) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(deps.settings.timeout())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Parlor-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let (writer, retention) = (deps.writer.clone(), deps.settings.log_retention());
    actix::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            let cutoff = crate::db::now()
                .checked_sub_signed(TimeDelta::from_std(retention).unwrap_or(TimeDelta::MAX))
                .unwrap_or(chrono::NaiveDateTime::MIN);
            loop {
                let prune = PruneDeliveries {
                    before: cutoff,
                    limit: PRUNE_BATCH,
                };
                match writer.send(prune).await {
                    Ok(Ok(n)) if n > 0 => tracing::debug!(deleted = n, "webhook log pruned"),
                    Ok(Ok(_)) => break,
                    Ok(Err(err)) => {
                        tracing::warn!(error = ?err, "webhook log pruning failed");
                        break;
                    }
                    // The writer is gone: the server is stopping.
                    Err(_) => return,
                }
            }
        }
    });
    actix::spawn(async move {
        loop {
            match tick(&deps, &client).await {
                Ok(claimed) if claimed > 0 => tokio::task::yield_now().await,
                Ok(_) => tokio::time::sleep(deps.settings.poll_interval()).await,
                Err(DbError::WriterGone) => return,
                Err(err) => {
                    tracing::warn!(error = ?err, "webhook delivery round failed");
                    tokio::time::sleep(deps.settings.poll_interval()).await;
                }
            }
        }
    });
    Ok(())
}

/// One round: claims due deliveries, attempts them, records the outcomes. Answers how many it
/// claimed.
async fn tick(deps: &WorkerDeps, client: &reqwest::Client) -> Result<usize, DbError> {
    let now = crate::db::now();
    {
        let mut conn = deps.db.read().await?;
        if !deliveries::any_due(&mut conn, now).await? {
            return Ok(0);
        }
    }
    let lease = TimeDelta::from_std(deps.settings.timeout() * 2 + Duration::from_secs(30))
        .unwrap_or(TimeDelta::MAX);
    let claim = ClaimDeliveries {
        now,
        lease_until: now.checked_add_signed(lease).unwrap_or(now),
        limit: BATCH,
    };
    let claimed = deps
        .writer
        .send(claim)
        .await
        .map_err(|_| DbError::WriterGone)??;
    let count = claimed.len();
    let attempts = claimed.into_iter().map(|c| attempt(deps, client, c));
    for attempt in futures_util::future::join_all(attempts).await {
        deps.writer
            .send(RecordAttempt { attempt })
            .await
            .map_err(|_| DbError::WriterGone)??;
    }
    Ok(count)
}

/// Attempts one delivery and says what to record.
async fn attempt(deps: &WorkerDeps, client: &reqwest::Client, claimed: Claimed) -> Attempt {
    let Claimed { delivery, webhook } = claimed;
    let outcome = if webhook.kind == KIND_TELEGRAM {
        to_telegram(
            deps,
            client,
            &webhook.secret,
            webhook.chat_id.as_deref(),
            &delivery,
        )
        .await
    } else {
        to_http(deps, client, &webhook, &delivery).await
    };
    match &outcome {
        Outcome::Delivered { .. } => tracing::debug!(
            webhook_id = webhook.id,
            delivery_id = delivery.id,
            event_id = %delivery.event_id,
            "webhook delivered"
        ),
        Outcome::Failed { error, .. } => tracing::info!(
            webhook_id = webhook.id,
            delivery_id = delivery.id,
            event_id = %delivery.event_id,
            attempts = delivery.attempts + 1,
            %error,
            "webhook attempt failed"
        ),
    }
    let at = crate::db::now();
    let wait = TimeDelta::from_std(backoff(&deps.settings, delivery.attempts + 1))
        .unwrap_or(TimeDelta::MAX);
    Attempt {
        delivery_id: delivery.id,
        at,
        outcome,
        retry_at: at.checked_add_signed(wait).unwrap_or(at),
        max_age: TimeDelta::from_std(deps.settings.max_age()).unwrap_or(TimeDelta::MAX),
        disable_after: deps.settings.disable_after_failures,
    }
}

/// The wait after the `attempts`-th failed attempt: `initial · 2^(attempts-1)` capped at the
/// maximum, then a random point between half of it and all of it.
pub fn backoff(settings: &WebhookSettings, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    let full = settings
        .initial_backoff()
        .saturating_mul(2u32.saturating_pow(doublings.min(31)))
        .min(settings.max_backoff());
    let half = full / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rand::random::<u64>() % jitter_ms.saturating_add(1))
}

/// A signed POST of the stored body to an `http` endpoint.
async fn to_http(
    deps: &WorkerDeps,
    client: &reqwest::Client,
    webhook: &crate::db::models::WebhookRow,
    delivery: &crate::db::models::DeliveryRow,
) -> Outcome {
    let failed = |error: String| Outcome::Failed {
        status_code: None,
        error,
    };
    let url = match target::parse(webhook.url.as_deref().unwrap_or_default()) {
        Ok(url) => url,
        Err(err) => return failed(err),
    };
    if let Err(err) = target::check_resolves(&url, deps.settings.allow_private_targets).await {
        return failed(err);
    }
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign::header_value(&webhook.secret, timestamp, &delivery.payload);
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(sign::HEADER, signature)
        .header("Parlor-Event-Id", &delivery.event_id)
        .header("Parlor-Event-Type", &delivery.event_type)
        .body(delivery.payload.clone())
        .send()
        .await;
    answered(sent, "the endpoint")
}

/// The outcome of an HTTP call: 2xx is delivered; anything else, or no answer, failed.
fn answered(sent: Result<reqwest::Response, reqwest::Error>, who: &str) -> Outcome {
    match sent {
        Ok(response) => {
            let code = i32::from(response.status().as_u16());
            if response.status().is_success() {
                Outcome::Delivered {
                    status_code: Some(code),
                }
            } else {
                Outcome::Failed {
                    status_code: Some(code),
                    error: format!("{who} answered HTTP {code}"),
                }
            }
        }
        // Without the URL: a Telegram URL holds the bot token.
        Err(err) => Outcome::Failed {
            status_code: None,
            error: if err.is_timeout() {
                format!("{who} did not answer in time")
            } else if err.is_connect() {
                format!("cannot connect to {who}")
            } else {
                format!("{who}: {}", err.without_url())
            },
        },
    }
}

/// A Telegram alert, for `message.created` only when a recipient has no open session.
async fn to_telegram(
    deps: &WorkerDeps,
    client: &reqwest::Client,
    token: &str,
    chat: Option<&str>,
    delivery: &crate::db::models::DeliveryRow,
) -> Outcome {
    let failed = |error: &str| Outcome::Failed {
        status_code: None,
        error: error.to_string(),
    };
    let Some(chat) = chat else {
        return failed("no chat_id");
    };
    let event: Value = serde_json::from_str(&delivery.payload).unwrap_or(Value::Null);
    let data = event.get("data").cloned().unwrap_or(Value::Null);
    let text = if delivery.event_type == MESSAGE_CREATED {
        let Some(message) = telegram::NewMessage::from_data(&data) else {
            return failed("the event carries no message");
        };
        let offline = match offline_recipients(deps, &message).await {
            Ok(offline) => offline,
            Err(err) => return failed(&format!("cannot read the participants: {err}")),
        };
        if offline.is_empty() {
            // Everyone sees it live: nothing to send.
            return Outcome::Delivered { status_code: None };
        }
        telegram::message_text(&message, &offline)
    } else {
        telegram::event_text(&delivery.event_type, &data)
    };
    let sent = client
        .post(telegram::send_url(&deps.settings.telegram_api_base, token))
        .json(&telegram::send_body(chat, &text))
        .send()
        .await;
    answered(sent, "Telegram")
}

/// The message's recipients (participants but its sender) with no open session anywhere.
async fn offline_recipients(
    deps: &WorkerDeps,
    message: &telegram::NewMessage,
) -> Result<Vec<UserId>, DbError> {
    let participants = {
        let mut conn = deps.db.read().await?;
        conversations::participant_ids(&mut conn, message.conversation_id).await?
    };
    let recipients: Vec<UserId> = participants
        .into_iter()
        .filter(|user| *user != message.sender_id)
        .collect();
    if recipients.is_empty() {
        return Ok(recipients);
    }
    let online = deps
        .presence
        .send(OnlineAmong {
            users: recipients.clone(),
        })
        .await
        .unwrap_or_default();
    Ok(recipients
        .into_iter()
        .filter(|user| !online.contains(user))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let settings = WebhookSettings {
            initial_backoff_ms: 1000,
            max_backoff_s: 10,
            ..WebhookSettings::default()
        };
        for (attempts, full_ms) in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (5, 10_000)] {
            for _ in 0..20 {
                let wait = backoff(&settings, attempts).as_millis();
                assert!(
                    (full_ms / 2..=full_ms).contains(&wait),
                    "attempt {attempts}: {wait} ms"
                );
            }
        }
        assert!(backoff(&settings, i64::MAX) <= Duration::from_secs(10));
    }
}
