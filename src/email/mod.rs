//! Account mail (issue 15): verification codes, password reset links, address changes.
//!
//! A handler never waits for SMTP: [`Mailer::send`] puts the mail on a bounded queue
//! (`email.queue_capacity`) and returns; one sender task renders it
//! ([`templates`]), builds an RFC 5322 `multipart/alternative` message and hands it to the
//! [`transport`]: an SMTP server (`email.smtp_url`) or, by default, an `.eml` file in
//! `email.outbox_dir`. A full queue drops the mail with a warning; a failed delivery is
//! logged. Neither reaches the client: the endpoints answer the same whatever happens to the
//! mail, which is also what keeps them from telling which addresses have accounts.
//!
//! [`AccountEmail`] also holds what the mailed tokens need: codes are HMAC-SHA256 under a key
//! derived from the server's secret (a 6-digit code is too small a space for a plain hash), link
//! tokens are 256 random bits stored as SHA-256 (like refresh tokens). The DbWriter messages are
//! in [`writes`].

pub mod templates;
pub mod transport;
pub mod writes;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use lettre::message::Mailbox;
use rand::RngExt as _;
use tokio::sync::mpsc;

use crate::config::EmailSettings;
use crate::domain::UserId;
pub use templates::Template;
use transport::Transport;

/// Wrong codes a verification code survives: the 5th wrong one uses it up, and even the right
/// code is refused (`code_expired`) until a new one is sent.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// One mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// Which mail.
    pub template: Template,
    /// The template's placeholders and their values.
    pub vars: Vec<(&'static str, String)>,
}

/// Sending account mail, and the tokens it carries. Cheap to clone.
#[derive(Clone)]
pub struct AccountEmail {
    queue: mpsc::Sender<Mail>,
    /// Derived from the server's secret; keys the codes' HMAC.
    code_key: Arc<[u8]>,
    /// `email.link_base_url`, else `http://` and the bound address once it is known.
    link_base: Arc<OnceLock<String>>,
}

impl AccountEmail {
    /// Starts the sender task (inside the actix system) for `settings`; `secret` is the
    /// server's.
    ///
    /// # Errors
    /// A bad `email.from` or `email.smtp_url` (checked at config load already).
    pub fn start(settings: &EmailSettings, secret: &[u8]) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("email.from: {e}"))?;
        let transport = match settings.smtp_url() {
            Some(url) => {
                let smtp = transport::smtp_transport(url, settings.smtp_timeout())?.build();
                tracing::info!("account mail goes out over SMTP");
                Transport::Smtp(smtp)
            }
            None => {
                tracing::info!(outbox = %settings.outbox_dir.display(), "no email.smtp_url: account mail is written as .eml files into the outbox folder");
                Transport::Outbox(settings.outbox_dir.clone())
            }
        };
        let (queue, inbox) = mpsc::channel(settings.queue_capacity.max(1));
        actix::spawn(run_sender(
            inbox,
            transport,
            from,
            settings.templates_dir.clone(),
        ));
        let link_base = Arc::new(OnceLock::new());
        if let Some(base) = &settings.link_base_url {
            let _ = link_base.set(base.trim_end_matches('/').to_string());
        }
        Ok(Self {
            queue,
            code_key: crate::api::hmac_sha256(secret, b"parlor email codes v1").into(),
            link_base,
        })
    }

    /// Tells links the address the server listens on (used when `email.link_base_url` is
    /// unset).
    pub fn bound_to(&self, address: SocketAddr) {
        let _ = self.link_base.set(format!("http://{address}"));
    }

    /// `{base}{path}`, e.g. `link("/reset-password?token=...")`.
    pub fn link(&self, path: &str) -> String {
        let base = self
            .link_base
            .get()
            .map_or("http://127.0.0.1:8080", String::as_str);
        format!("{base}{path}")
    }

    /// Queues `mail`. Never waits: with the queue full (or the sender gone) the mail is dropped
    /// with a warning.
    pub fn send(&self, mail: Mail) {
        let template = mail.template.name();
        match self.queue.try_send(mail) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    template,
                    "the mail queue is full (email.queue_capacity); mail dropped"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!(template, "the mail sender has stopped; mail dropped");
            }
        }
    }

    /// The stored form of verification code `code` of `user`: lowercase hex HMAC-SHA256.
    pub fn code_hash(&self, user: UserId, code: &str) -> String {
        hex::encode(crate::api::hmac_sha256(
            &self.code_key,
            format!("verify:{user}:{code}").as_bytes(),
        ))
    }
}

/// A new verification code: 6 decimal digits, uniform over 000000..=999999, from the thread's
/// CSPRNG (ChaCha, seeded from the OS).
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// A new link token (256 random bits, base64url) and its stored form (hex SHA-256).
pub fn new_link_token() -> (String, String) {
    let token = crate::auth::refresh::generate();
    let hash = link_hash(&token);
    (token, hash)
}

/// The stored form of a link token.
pub fn link_hash(token: &str) -> String {
    crate::auth::refresh::digest(token)
}

/// The sender task: renders, builds and delivers each queued mail, one at a time, until every
/// [`AccountEmail`] is dropped.
async fn run_sender(
    mut inbox: mpsc::Receiver<Mail>,
    transport: Transport,
    from: Mailbox,
    templates_dir: Option<std::path::PathBuf>,
) {
    while let Some(mail) = inbox.recv().await {
        let template = mail.template.name();
        let rendered = templates::render(mail.template, &mail.vars, templates_dir.as_deref()).await;
        let message = match transport::build(&from, &mail.to, rendered) {
            Ok(message) => message,
            Err(err) => {
                tracing::warn!(template, error = %err, "cannot build a mail; dropped");
                continue;
            }
        };
        match transport.deliver(message).await {
            Ok(place) => tracing::info!(template, to = %place, "mail sent"),
            Err(err) => tracing::warn!(template, error = %err, "mail delivery failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..50).map(|_| new_code()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(codes.len() > 40);
    }

    #[test]
    fn smtp_urls_choose_tls_as_documented() {
        let t = std::time::Duration::from_secs(1);
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example.com:587",
            "smtp://u:p@mail.example.com:587?tls=opportunistic",
            "smtp://mail.example.com:25?tls=none",
            "smtps://u:p@mail.example.com:465",
        ] {
            assert!(transport::smtp_transport(ok, t).is_ok(), "{ok}");
        }
        for bad in ["http://x", "smtp://mail.example.com?tls=maybe", "not a url"] {
            assert!(transport::smtp_transport(bad, t).is_err(), "{bad}");
        }
    }
}
