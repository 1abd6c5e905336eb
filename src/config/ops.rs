//! `[metrics]` and `[log]`: what operators watch. Prometheus metrics (`GET /metrics`,
//! [`crate::monitor`]) on the main address behind a token or an instance admin, or on an
//! address of their own; log lines as text or JSON.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `[metrics]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether `GET /metrics` is served at all.
    pub enabled: bool,
    /// An address of its own for `GET /metrics` (e.g. `127.0.0.1:9464`), served there without
    /// authentication: bind it where only the scraper reaches. Empty: only the main address
    /// serves it, behind `token` or an instance admin's access token.
    pub listen: String,
    /// A bearer token that opens `GET /metrics` on the main address
    /// (`Authorization: Bearer <token>`, Prometheus' `authorization` scrape setting). Empty:
    /// only instance admins' access tokens do.
    pub token: SecretString,
}

impl MetricsSettings {
    /// The scrape token, if one is set.
    pub fn token(&self) -> Option<&str> {
        Some(self.token.expose_secret()).filter(|t| !t.is_empty())
    }
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: String::new(),
            token: SecretString::from(String::new()),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (colored on a terminal).
    #[default]
    Pretty,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`, `spans`), for log
    /// shippers.
    Json,
}

/// `[log]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` (default) or `json`. The level comes from `RUST_LOG` (default `info`).
    pub format: LogFormat,
}
