//! `[email]`: how account mail (verification codes, password reset links, address changes;
//! issue 15) leaves the server, and how long its tokens live.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;

/// `[email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// SMTP server to send through; unset or empty (the default): every mail is written as an
    /// RFC 5322 `.eml` file into `outbox_dir` instead. `smtps://USER:PASS@HOST:465` is implicit
    /// TLS; `smtp://USER:PASS@HOST:587` is STARTTLS, required; `smtp://HOST:PORT?tls=none` is
    /// plaintext (also what `smtp://` to `localhost`, `127.0.0.1` or `::1` without `tls=`
    /// means: a local relay or test sink); `?tls=opportunistic` uses STARTTLS when offered.
    /// TLS is rustls with the platform's certificate roots. Holds a password: never logged.
    pub smtp_url: Option<SecretString>,
    /// The `From` of every mail (RFC 5322 mailbox: `Name <address>` or `address`).
    pub from: String,
    /// Folder the `.eml` files go to when `smtp_url` is unset (created if missing).
    pub outbox_dir: PathBuf,
    /// A folder whose files replace the built-in templates of the same name
    /// (`verify_code.txt`, `verify_code.html`, ...; README, *Account email*). Unset: built-in.
    pub templates_dir: Option<PathBuf>,
    /// The start of the links in mails (`{link_base_url}/reset-password?token=...`): the
    /// server's public URL, without a trailing slash. Unset: `http://` and the bound address.
    pub link_base_url: Option<String>,
    /// Lifetime of a verification code, in seconds (10 minutes).
    pub code_ttl_s: u64,
    /// Lifetime of a password reset link, in seconds (30 minutes).
    pub reset_ttl_s: u64,
    /// Lifetime of an address change link, in seconds (24 hours).
    pub change_ttl_s: u64,
    /// Mails waiting to be sent; past it a mail is dropped with a warning (a request never
    /// waits for SMTP).
    pub queue_capacity: usize,
    /// How long one SMTP delivery may take, in seconds.
    pub smtp_timeout_s: u64,
}

impl EmailSettings {
    /// The SMTP URL, when one is set.
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url
            .as_ref()
            .map(|url| url.expose_secret().trim())
            .filter(|url| !url.is_empty())
    }

    /// `smtp_timeout_s` as a duration (at least 1 s).
    pub fn smtp_timeout(&self) -> Duration {
        Duration::from_secs(self.smtp_timeout_s.max(1))
    }

    /// Checks the keys serde cannot.
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
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad(
                "email.from",
                "must be a mailbox: `Name <address>` or `address`",
            );
        }
        if let Some(url) = self.smtp_url()
            && crate::email::transport::smtp_transport(url, self.smtp_timeout()).is_err()
        {
            return bad(
                "email.smtp_url",
                "must be smtp://[USER:PASS@]HOST[:PORT][?tls=required|opportunistic|none] or \
                 smtps://[USER:PASS@]HOST[:PORT]",
            );
        }
        if let Some(base) = &self.link_base_url
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            return bad("email.link_base_url", "must be an http(s) URL");
        }
        if self.code_ttl_s == 0 || self.reset_ttl_s == 0 || self.change_ttl_s == 0 {
            return bad("email.*_ttl_s", "must be at least 1 second");
        }
        if self.queue_capacity == 0 {
            return bad("email.queue_capacity", "must be at least 1");
        }
        Ok(())
    }
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Parlor <no-reply@localhost>".into(),
            outbox_dir: PathBuf::from("data/outbox"),
            templates_dir: None,
            link_base_url: None,
            code_ttl_s: 600,
            reset_ttl_s: 1800,
            change_ttl_s: 86_400,
            queue_capacity: 1000,
            smtp_timeout_s: 10,
        }
    }
}
