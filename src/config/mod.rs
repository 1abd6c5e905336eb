//! Layered configuration: built-in defaults, then a TOML file, then environment variables.
//!
//! Every key has a default (the `Default` impls below, mirrored one to one by the shipped
//! `config.toml`, which a test checks). A file given with `--config FILE` must exist; the default
//! `config.toml` in the working directory is optional. Any key can be overridden with
//! `PARLOR__<SECTION>__<KEY>`, e.g. `PARLOR__SERVER__BIND=127.0.0.1:9000`; lists take commas
//! (`PARLOR__SERVER__ALLOWED_ORIGINS=self,https://chat.example.com`).
//!
//! Keys carry their unit in the name (`_s` seconds, `_bytes`, `_chars`), after the Matrix servers'
//! habit.

mod database;
mod desk;
mod email;
mod ops;
mod sections;
mod webhooks;

pub use database::DatabaseSettings;
pub use desk::{DeskSettings, ResolvedReply};
pub use email::EmailSettings;
pub use ops::{LogFormat, LogSettings, MetricsSettings};
pub use sections::{
    AuthSettings, ClusterSettings, LimitSettings, RealtimeSettings, ServerSettings, UploadSettings,
};
pub use webhooks::WebhookSettings;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The whole configuration tree. Sections mirror `config.toml`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener and browser-facing policy.
    pub server: ServerSettings,
    /// Where the data lives.
    pub database: DatabaseSettings,
    /// Uploaded files.
    pub uploads: UploadSettings,
    /// Tokens and password hashing.
    pub auth: AuthSettings,
    /// WebSocket sessions, heartbeats and typing indicators.
    pub realtime: RealtimeSettings,
    /// Message size and rate limits.
    pub limits: LimitSettings,
    /// Several nodes over Redis.
    pub cluster: ClusterSettings,
    /// Delivery of events to project webhooks.
    pub webhooks: WebhookSettings,
    /// The support desk.
    pub desk: DeskSettings,
    /// Account mail: SMTP or the outbox folder, templates, token lifetimes.
    pub email: EmailSettings,
    /// Prometheus metrics.
    pub metrics: MetricsSettings,
    /// Log lines.
    pub log: LogSettings,
}

/// Parses an entry of `server.trusted_proxies`: a CIDR block (`10.0.0.0/8`) or a single
/// address (`::1`, taken as /32 or /128).
pub fn parse_net(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

pub(crate) fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::MAX)
}

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file given with `--config` does not exist.
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    /// A file or variable could not be read or has the wrong shape.
    #[error(transparent)]
    Invalid(#[from] config::ConfigError),
    /// A value is out of range.
    #[error("invalid setting {key}: {message}")]
    OutOfRange {
        /// Dotted key, e.g. `auth.bcrypt_cost`.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl Settings {
    /// Loads defaults, then `path` (or `./config.toml` when `path` is `None` and it exists), then
    /// `PARLOR__*` environment variables.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when an explicit `path` does not exist, [`ConfigError::Invalid`]
    /// for an unreadable file, unknown key or wrongly typed value, [`ConfigError::OutOfRange`]
    /// for values that parse but make no sense.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (file, required) = match path {
            Some(p) if !p.exists() => return Err(ConfigError::Missing(p.to_path_buf())),
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("config.toml"), false),
        };
        let settings: Settings = config::Config::builder()
            .add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(required),
            )
            .add_source(
                config::Environment::with_prefix("PARLOR")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.allowed_origins")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("uploads.allowed_types"),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks ranges that serde cannot express.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, message: &str| {
            Err(ConfigError::OutOfRange {
                key,
                message: message.to_string(),
            })
        };
        if !(4..=31).contains(&self.auth.bcrypt_cost) {
            return bad("auth.bcrypt_cost", "must be between 4 and 31");
        }
        if self.auth.access_token_ttl_s == 0 || self.auth.refresh_token_ttl_s == 0 {
            return bad("auth.*_token_ttl_s", "must be at least 1 second");
        }
        if self.auth.user_token_ttl_s == 0
            || self.auth.user_token_ttl_s > self.auth.user_token_max_ttl_s
        {
            return bad(
                "auth.user_token_ttl_s",
                "must be at least 1 second and at most auth.user_token_max_ttl_s",
            );
        }
        if self.server.backlog == 0 {
            return bad("server.backlog", "must be 1 to 65535");
        }
        if self.realtime.max_queued_bytes < 1024 {
            return bad("realtime.max_queued_bytes", "must be at least 1024");
        }
        if !self.metrics.listen.is_empty()
            && self.metrics.listen.parse::<std::net::SocketAddr>().is_err()
        {
            return bad(
                "metrics.listen",
                "must be empty or an address such as 127.0.0.1:9464",
            );
        }
        if self.realtime.heartbeat_interval_s <= 0.0 || self.realtime.client_timeout_s <= 0.0 {
            return bad(
                "realtime.heartbeat_interval_s",
                "intervals must be positive",
            );
        }
        if self.limits.messages_per_window == 0 || self.limits.message_window_s == 0 {
            return bad("limits.messages_per_window", "rate limit must be positive");
        }
        if !(1..=10_000).contains(&self.database.group_commit_max_batch) {
            return bad("database.group_commit_max_batch", "must be 1 to 10000");
        }
        if self.database.group_commit_max_wait_us > 1_000_000 {
            return bad("database.group_commit_max_wait_us", "must be at most 1 s");
        }
        if self.realtime.commands_per_second == 0 || self.realtime.commands_burst == 0 {
            return bad(
                "realtime.commands_per_second",
                "command limits must be positive",
            );
        }
        if self.realtime.max_in_flight == 0 || self.realtime.max_sessions_per_user == 0 {
            return bad("realtime.max_in_flight", "must be at least 1");
        }
        if self.uploads.sweep_interval_s <= 0.0 || self.uploads.unattached_ttl_h < 0.0 {
            return bad(
                "uploads.sweep_interval_s",
                "the sweep interval must be positive and the time to live not negative",
            );
        }
        if self.realtime.max_replay == 0 {
            return bad("realtime.max_replay", "must be at least 1");
        }
        if let Some(bad_proxy) = self
            .server
            .trusted_proxies
            .iter()
            .find(|p| parse_net(p).is_none())
        {
            return Err(ConfigError::OutOfRange {
                key: "server.trusted_proxies",
                message: format!("{bad_proxy:?} is not an IP address or CIDR block"),
            });
        }
        if self.database.read_pool_size == 0 {
            return bad("database.read_pool_size", "must be at least 1");
        }
        if !(1..=64).contains(&self.database.writers) {
            return bad("database.writers", "must be 1 to 64");
        }
        if self.cluster.enabled() {
            if !crate::db::DatabaseUrl::parse(&self.database.url).is_ok_and(|u| u.is_postgres()) {
                return bad(
                    "cluster.redis_url",
                    "several nodes need a database they can share: set database.url to a \
                     postgres:// URL (SQLite is one process's file)",
                );
            }
            if secrecy::ExposeSecret::expose_secret(&self.auth.jwt_secret)
                .trim()
                .is_empty()
            {
                return bad(
                    "auth.jwt_secret",
                    "several nodes must share one secret: set auth.jwt_secret (at least 32 \
                     bytes) on every node",
                );
            }
            let prefix = &self.cluster.redis_prefix;
            if prefix.is_empty() || prefix.contains(char::is_whitespace) {
                return bad("cluster.redis_prefix", "must be a word without spaces");
            }
            if self.cluster.presence_ttl_s.is_nan() || self.cluster.presence_ttl_s < 0.5 {
                return bad("cluster.presence_ttl_s", "must be at least 0.5");
            }
        }
        if self.webhooks.max_age_h.is_nan() || self.webhooks.max_age_h < 0.0 {
            return bad("webhooks.max_age_h", "must not be negative");
        }
        if self.webhooks.log_retention_h.is_nan() || self.webhooks.log_retention_h < 0.0 {
            return bad("webhooks.log_retention_h", "must not be negative");
        }
        if !self.webhooks.telegram_api_base.starts_with("http://")
            && !self.webhooks.telegram_api_base.starts_with("https://")
        {
            return bad("webhooks.telegram_api_base", "must be an http(s) URL");
        }
        self.email.validate()?;
        if !matches!(
            self.database
                .sqlite_synchronous
                .to_ascii_lowercase()
                .as_str(),
            "off" | "normal" | "full" | "extra"
        ) {
            return bad(
                "database.sqlite_synchronous",
                "must be off, normal, full or extra",
            );
        }
        Ok(())
    }
}
