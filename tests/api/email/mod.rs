//! Account email (issue 15): verification codes, password reset, address change. `smtp` runs
//! the flows against a real SMTP server process (Python's aiosmtpd); `outbox` reads the `.eml`
//! files written without one.

mod outbox;
mod smtp;
mod verification;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a test waits for a mail.
const MAIL_TIMEOUT: Duration = Duration::from_secs(10);

/// A mail as a recipient sees it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub content_type: String,
    pub text: String,
    pub html: String,
}

/// Parses an RFC 5322 message: its `To`, `Subject`, and the bodies of its `text/plain` and
/// `text/html` parts.
pub fn parse(bytes: &[u8]) -> Received {
    let mail = mailparse::parse_mail(bytes).expect("an RFC 5322 message");
    let header = |name: &str| {
        mailparse::MailHeaderMap::get_first_value(mail.headers.as_slice(), name).unwrap_or_default()
    };
    let (mut text, mut html) = (String::new(), String::new());
    for part in mail.parts() {
        match part.ctype.mimetype.as_str() {
            "text/plain" => text = part.get_body().expect("text body"),
            "text/html" => html = part.get_body().expect("html body"),
            _ => {}
        }
    }
    Received {
        to: header("To"),
        subject: header("Subject"),
        content_type: mail.ctype.mimetype.clone(),
        text,
        html,
    }
}

/// The files of `dirs` (not recursive), oldest first (by modification time, then name).
fn files_in(dirs: &[PathBuf], extension: Option<&str>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| extension.is_none_or(|ext| p.extension().is_some_and(|e| e == ext)))
        .collect();
    files.sort_by_key(|p| {
        let modified = std::fs::metadata(p).and_then(|m| m.modified()).ok();
        (modified, p.clone())
    });
    files
}

/// Waits until `dirs` hold `count` mails to `to` (polling, with a deadline); answers them.
pub async fn wait_for_mails(
    dirs: &[PathBuf],
    extension: Option<&str>,
    to: &str,
    count: usize,
) -> Vec<Received> {
    let deadline = Instant::now() + MAIL_TIMEOUT;
    loop {
        let mails: Vec<Received> = files_in(dirs, extension)
            .iter()
            .map(|p| parse(&std::fs::read(p).expect("mail file")))
            .filter(|m| m.to.contains(to))
            .collect();
        if mails.len() >= count {
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{count} mail(s) to {to} expected within {MAIL_TIMEOUT:?}, {} arrived: {mails:#?}",
            mails.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every mail in `dirs` to `to`, now.
pub fn mails_to(dirs: &[PathBuf], extension: Option<&str>, to: &str) -> Vec<Received> {
    files_in(dirs, extension)
        .iter()
        .map(|p| parse(&std::fs::read(p).expect("mail file")))
        .filter(|m| m.to.contains(to))
        .collect()
}

/// The first run of exactly six digits in `text`.
pub fn code_in(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                return text[start..i].to_string();
            }
        } else {
            i += 1;
        }
    }
    panic!("no 6-digit code in {text:?}")
}

/// The link to `path` in `text` (`http://...{path}?token=...`) and its token.
pub fn link_in(text: &str, path: &str) -> (String, String) {
    let marker = format!("{path}?token=");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} link in {text:?}"));
    let start = text[..at].rfind("http").expect("an absolute link");
    let token: String = text[at + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 22, "a token of at least 128 bits: {token:?}");
    (format!("{}{token}", &text[start..at + marker.len()]), token)
}

/// Moves every email token's expiry into the past, beside the server (as time passing would).
pub fn expire_tokens(app: &crate::helpers::TestApp) {
    use diesel::prelude::*;
    use parlor::db::schema::email_tokens;
    let past = chrono::Utc::now().naive_utc() - chrono::TimeDelta::minutes(1);
    parlor::on_conn!(&mut app.db(), c => {
        diesel::update(email_tokens::table)
            .set(email_tokens::expires_at.eq(past))
            .execute(c)
    })
    .unwrap();
}
