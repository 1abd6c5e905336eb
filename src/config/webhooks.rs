//! `[webhooks]`: delivery of a project's events to its endpoints (docs/SERVER_API.md,
//! *Webhooks*).

use std::time::Duration;

use serde::Deserialize;

use super::secs;

/// `[webhooks]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Whether this node delivers webhooks. Events are queued whatever this says; with several
    /// nodes, any number of them may deliver (each delivery is leased to one at a time).
    pub enabled: bool,
    /// How often the delivery worker looks for due deliveries when it found none, in
    /// milliseconds.
    pub poll_interval_ms: u64,
    /// Wait before the second attempt, in milliseconds; each further one waits twice as long
    /// (with jitter: between half and all of it), up to `max_backoff_s`.
    pub initial_backoff_ms: u64,
    /// Longest wait between two attempts, in seconds.
    pub max_backoff_s: u64,
    /// A delivery still failing this many hours after it was queued is marked `failed`
    /// (fractions allowed).
    pub max_age_h: f64,
    /// How long one attempt may take (connect, send, answer), in milliseconds.
    pub timeout_ms: u64,
    /// An endpoint whose attempts fail this many times in a row is disabled, with the reason
    /// shown; 0 never disables.
    pub disable_after_failures: u32,
    /// Base URL of the Telegram Bot API (`{base}/bot{token}/sendMessage`).
    pub telegram_api_base: String,
    /// Allow webhook URLs that resolve to loopback, private, link-local or other internal
    /// addresses. Off by default (OWASP SSRF Prevention Cheat Sheet): a project admin could
    /// otherwise make the server call internal services.
    pub allow_private_targets: bool,
    /// Delivered and failed deliveries are deleted from the delivery log this many hours after
    /// their event (fractions allowed); pending ones are kept until they end.
    pub log_retention_h: f64,
}

impl WebhookSettings {
    /// `poll_interval_ms` as a duration (at least 1 ms).
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(1))
    }

    /// `initial_backoff_ms` as a duration.
    pub fn initial_backoff(&self) -> Duration {
        Duration::from_millis(self.initial_backoff_ms)
    }

    /// `max_backoff_s` as a duration.
    pub fn max_backoff(&self) -> Duration {
        Duration::from_secs(self.max_backoff_s)
    }

    /// `max_age_h` as a duration.
    pub fn max_age(&self) -> Duration {
        secs(self.max_age_h * 3600.0)
    }

    /// `log_retention_h` as a duration.
    pub fn log_retention(&self) -> Duration {
        secs(self.log_retention_h * 3600.0)
    }

    /// `timeout_ms` as a duration (at least 1 ms).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_ms: 1000,
            initial_backoff_ms: 1000,
            max_backoff_s: 3600,
            max_age_h: 24.0,
            timeout_ms: 10_000,
            disable_after_failures: 50,
            telegram_api_base: "https://api.telegram.org".into(),
            allow_private_targets: false,
            log_retention_h: 720.0,
        }
    }
}
