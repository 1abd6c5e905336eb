//! Where a built mail goes: an SMTP server (lettre, async on tokio, TLS through rustls), or,
//! without `email.smtp_url`, an RFC 5322 `.eml` file in `email.outbox_dir`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::templates::Rendered;

/// Where mail goes.
pub enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this folder.
    Outbox(PathBuf),
}

/// The SMTP transport builder for `url`, with Parlor's reading of `smtp://` (lettre's own
/// `from_url` takes a bare `smtp://` as plaintext): STARTTLS is required unless the URL says
/// `?tls=none` or `?tls=opportunistic`, or the host is `localhost`, `127.0.0.1` or `::1` (a
/// local relay or test sink, plaintext). `smtps://` is implicit TLS (RFC 8314).
///
/// # Errors
/// Not a URL, or one lettre cannot read (unknown scheme or `tls` value, no host).
pub fn smtp_transport(url: &str, timeout: Duration) -> anyhow::Result<AsyncSmtpTransportBuilder> {
    let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("email.smtp_url: {e}"))?;
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let local = matches!(
        parsed.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    let mut adjusted = parsed.clone();
    match (parsed.scheme(), tls.as_deref()) {
        ("smtp", Some("none")) => {
            let rest: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| k != "tls")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            adjusted.set_query(None);
            if !rest.is_empty() {
                adjusted.query_pairs_mut().extend_pairs(rest);
            }
        }
        ("smtp", None) if !local => {
            adjusted.query_pairs_mut().append_pair("tls", "required");
        }
        _ => {}
    }
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(adjusted.as_str())?.timeout(Some(timeout)))
}

/// A `multipart/alternative` message (text, then HTML: RFC 2046 §5.1.4, the last part is the
/// richest). Parts of plain ASCII lines go as `7bit`, so a link in the `.eml` reads (and
/// `grep`s) as it is.
///
/// # Errors
/// A bad `to` address or a message lettre refuses.
pub fn build(from: &Mailbox, to: &str, mail: Rendered) -> anyhow::Result<Message> {
    let to: Mailbox = to.parse()?;
    let alternative = MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, mail.text))
        .singlepart(part(ContentType::TEXT_HTML, mail.html));
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject)
        .multipart(alternative)?)
}

/// One part of `content_type` holding `text` (UTF-8): `7bit` when every line is ASCII, at most
/// 998 characters and free of NUL and bare CR (RFC 5322 §2.1.1, RFC 2045 §2.7; lettre itself
/// sends anything over 76 characters a line as quoted-printable), else lettre's choice.
fn part(content_type: ContentType, text: String) -> SinglePart {
    let lines: Vec<&str> = text.lines().collect();
    let seven_bit = lines
        .iter()
        .all(|l| l.is_ascii() && l.len() <= 998 && !l.contains(['\0', '\r']));
    let builder = SinglePart::builder().header(content_type);
    if seven_bit {
        let mut crlf = lines.join("\r\n");
        crlf.push_str("\r\n");
        builder.body(Body::dangerous_pre_encoded(
            crlf.into_bytes(),
            ContentTransferEncoding::SevenBit,
        ))
    } else {
        builder.body(text)
    }
}

impl Transport {
    /// Delivers `message`: answers where it went (the SMTP server, or the file's path).
    ///
    /// # Errors
    /// The SMTP server refused it or could not be reached; the file could not be written.
    pub async fn deliver(&self, message: Message) -> anyhow::Result<String> {
        match self {
            Self::Smtp(smtp) => {
                smtp.send(message).await?;
                Ok("smtp".into())
            }
            Self::Outbox(dir) => Ok(write_eml(dir, &message.formatted())
                .await?
                .display()
                .to_string()),
        }
    }
}

/// Writes `bytes` as a new `.eml` file in `dir` (created if missing), named by time and a
/// random id so names sort by sending time and never clash.
async fn write_eml(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let name = format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        uuid::Uuid::new_v4().simple()
    );
    let path = dir.join(name);
    // Written under a temporary name, then renamed: a reader never sees half a mail.
    let partial = path.with_extension("eml.part");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}
