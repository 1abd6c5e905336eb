//! The templates of account mail: each a plain text part (`NAME.txt`, whose first line is
//! `Subject: ...`) and an HTML part (`NAME.html`), built in from `templates/email/`. A file of
//! the same name in `email.templates_dir` replaces the built-in one (read at each send, so an
//! edit needs no restart). Placeholders are `{{key}}`; in the HTML part every value is
//! HTML-escaped, in the text part and the subject it is inserted as is (control characters
//! other than newlines dropped from the subject, so no value can add a header line).

use std::path::Path;

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A verification code for a new account: `username`, `code`, `minutes`.
    VerifyCode,
    /// To an address someone tried to register again: `reset_url`.
    AccountExists,
    /// A password reset link: `username`, `link`, `minutes`.
    PasswordReset,
    /// To the new address of a change: `username`, `new_email`, `link`, `hours`.
    ChangeConfirm,
    /// To the old address when a change is asked for: `username`, `new_email`.
    ChangeRequested,
    /// To the old address once the change is done: `username`, `new_email`.
    EmailChanged,
}

impl Template {
    /// The file name without extension (`verify_code`).
    pub fn name(self) -> &'static str {
        match self {
            Self::VerifyCode => "verify_code",
            Self::AccountExists => "account_exists",
            Self::PasswordReset => "password_reset",
            Self::ChangeConfirm => "change_confirm",
            Self::ChangeRequested => "change_requested",
            Self::EmailChanged => "email_changed",
        }
    }

    /// The built-in `(text, html)`.
    fn built_in(self) -> (&'static str, &'static str) {
        macro_rules! files {
            ($name:literal) => {
                (
                    include_str!(concat!("../../templates/email/", $name, ".txt")),
                    include_str!(concat!("../../templates/email/", $name, ".html")),
                )
            };
        }
        match self {
            Self::VerifyCode => files!("verify_code"),
            Self::AccountExists => files!("account_exists"),
            Self::PasswordReset => files!("password_reset"),
            Self::ChangeConfirm => files!("change_confirm"),
            Self::ChangeRequested => files!("change_requested"),
            Self::EmailChanged => files!("email_changed"),
        }
    }
}

/// A mail ready to be built: subject, text part, HTML part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part.
    pub html: String,
}

/// Renders `template` with `vars`, each part from `overrides` (a folder) when it has the file,
/// else built in. An override that cannot be read is logged and the built-in one used.
pub async fn render(
    template: Template,
    vars: &[(&str, String)],
    overrides: Option<&Path>,
) -> Rendered {
    let (text, html) = template.built_in();
    let text = read_override(overrides, template, "txt")
        .await
        .unwrap_or_else(|| text.into());
    let html = read_override(overrides, template, "html")
        .await
        .unwrap_or_else(|| html.into());
    render_parts(&text, &html, vars)
}

async fn read_override(dir: Option<&Path>, template: Template, ext: &str) -> Option<String> {
    let path = dir?.join(format!("{}.{ext}", template.name()));
    match tokio::fs::read_to_string(&path).await {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "cannot read a mail template; using the built-in one");
            None
        }
    }
}

/// Fills `text` (whose first line may be `Subject: ...`) and `html` with `vars`.
pub fn render_parts(text: &str, html: &str, vars: &[(&str, String)]) -> Rendered {
    let (subject, body) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("Subject:") => (
            first.trim_start_matches("Subject:").trim(),
            rest.trim_start_matches(['\r', '\n']),
        ),
        _ => ("", text),
    };
    let subject: String = fill(subject, vars, |v| v.to_string())
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    Rendered {
        subject,
        text: fill(body, vars, |v| v.to_string()),
        html: fill(html, vars, escape_html),
    }
}

/// `template` with each `{{key}}` of `vars` replaced by `encode(value)`; other text, unknown
/// placeholders included, is kept.
fn fill(template: &str, vars: &[(&str, String)], encode: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        match vars.iter().find(|(k, _)| *k == key) {
            Some((_, value)) => out.push_str(&encode(value)),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `text` safe inside HTML text and double-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_html_only_and_unknown_keys_stay() {
        let vars = [("name", "<b>Ann & Bo</b>".to_string())];
        let r = render_parts(
            "Subject: Hi {{name}}\n\nHello {{ name }}, {{other}}",
            "<p>{{name}}</p>",
            &vars,
        );
        assert_eq!(r.subject, "Hi <b>Ann & Bo</b>");
        assert_eq!(r.text, "Hello <b>Ann & Bo</b>, {{other}}");
        assert_eq!(r.html, "<p>&lt;b&gt;Ann &amp; Bo&lt;/b&gt;</p>");
    }

    #[test]
    fn a_value_cannot_add_a_header_line_through_the_subject() {
        let vars = [("code", "1\r\nBcc: x@example.com".to_string())];
        let r = render_parts("Subject: Code {{code}}\n\nbody", "", &vars);
        assert_eq!(r.subject, "Code 1Bcc: x@example.com");
        assert!(!r.subject.contains('\n'));
    }

    #[test]
    fn every_built_in_template_has_a_subject_and_both_parts() {
        for t in [
            Template::VerifyCode,
            Template::AccountExists,
            Template::PasswordReset,
            Template::ChangeConfirm,
            Template::ChangeRequested,
            Template::EmailChanged,
        ] {
            let (text, html) = t.built_in();
            let r = render_parts(text, html, &[]);
            assert!(!r.subject.is_empty(), "{}", t.name());
            assert!(!r.text.starts_with("Subject"), "{}", t.name());
            assert!(r.html.contains("<html>"), "{}", t.name());
        }
    }
}
