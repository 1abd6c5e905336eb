//! Validated input values. Each `parse` returns [`Invalid`] with a message that starts with the
//! field name.

use super::{Invalid, visible_text};

/// An email address, trimmed and lowercased (addresses are compared case-insensitively).
/// Syntax per RFC 5321/5322 as checked by the `email_address` crate; at most 254 bytes
/// (RFC 5321 §4.5.3.1.3 path limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// [`Invalid`] for an empty, over-long or malformed address.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim().to_lowercase();
        if value.len() > 254 || !email_address::EmailAddress::is_valid(&value) {
            return Err(Invalid::field("email", "must be a valid email address"));
        }
        Ok(Self(value))
    }
    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username: 3 to 32 characters of `[A-Za-z0-9_.-]`. Case is kept for display; uniqueness
/// and login ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// # Errors
    /// [`Invalid`] when the length or a character is out of bounds.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok_len = (3..=32).contains(&raw.len());
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok_len || !ok_chars {
            return Err(Invalid::field(
                "username",
                "3 to 32 characters of letters, digits, '_', '.' or '-'",
            ));
        }
        Ok(Self(raw.to_string()))
    }
    /// The username as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8 to 72 bytes. 72 is bcrypt's input limit: longer inputs would be silently
/// truncated, so they are refused (OWASP Password Storage Cheat Sheet).
pub struct Password(String);

impl Password {
    /// # Errors
    /// [`Invalid`] when shorter than 8 characters or longer than 72 bytes.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.chars().count() < 8 {
            return Err(Invalid::field("password", "must be at least 8 characters"));
        }
        if raw.len() > 72 {
            return Err(Invalid::field("password", "must be at most 72 bytes"));
        }
        Ok(Self(raw.to_string()))
    }
    /// The plaintext, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A short name people see: trimmed, at most `max_chars` characters, nothing hidden
/// ([`visible_text`]); blank becomes `None`.
fn shown_name(field: &str, raw: Option<&str>, max_chars: usize) -> Result<Option<String>, Invalid> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if name.chars().count() > max_chars => Err(Invalid::field(
            field,
            format_args!("at most {max_chars} characters"),
        )),
        Some(name) => {
            visible_text(field, name)?;
            Ok(Some(name.to_string()))
        }
    }
}

/// Checks an optional display name: at most 64 characters, no control, bidirectional or
/// invisible characters.
///
/// # Errors
/// [`Invalid`] naming `display_name`.
pub fn validate_display_name(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    shown_name("display_name", raw, 64)
}

/// An optional conversation title: at most 200 characters, no control, bidirectional or
/// invisible characters; blank is no title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title;

impl Title {
    /// # Errors
    /// [`Invalid`] naming `title`.
    pub fn parse(raw: Option<&str>) -> Result<Option<String>, Invalid> {
        shown_name("title", raw, 200)
    }
}

/// An optional conversation description: at most 1,000 characters, no control, bidirectional
/// or invisible characters; blank is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description;

impl Description {
    /// # Errors
    /// [`Invalid`] naming `description`.
    pub fn parse(raw: Option<&str>) -> Result<Option<String>, Invalid> {
        shown_name("description", raw, 1000)
    }
}

/// A project's name: required, at most 100 characters, no control, bidirectional or invisible
/// characters; trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName;

impl ProjectName {
    /// # Errors
    /// [`Invalid`] naming `name`.
    pub fn parse(raw: &str) -> Result<String, Invalid> {
        shown_name("name", Some(raw), 100)?.ok_or_else(|| Invalid::field("name", "is required"))
    }
}

/// The id a project's backend knows a user by: 1 to 128 characters, none of them whitespace,
/// control, bidirectional or invisible, and no `/` (it travels in URL paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId;

impl ExternalId {
    /// # Errors
    /// [`Invalid`] naming `external_id`.
    pub fn parse(raw: &str) -> Result<String, Invalid> {
        let bad = raw.is_empty()
            || raw.chars().count() > 128
            || raw
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/');
        if bad {
            return Err(Invalid::field(
                "external_id",
                "1 to 128 characters, without spaces, control characters or /",
            ));
        }
        visible_text("external_id", raw)?;
        Ok(raw.to_string())
    }
}

/// Message text: not blank, at most `max_chars` characters (`limits.message_max_chars`).
#[derive(Debug, Clone)]
pub struct MessageContent(String);

impl MessageContent {
    /// Like [`parse`](Self::parse), but blank text is allowed (and stored as empty) when the
    /// message carries an attachment.
    ///
    /// # Errors
    /// [`Invalid`] naming `content`.
    pub fn parse_with_attachment(
        raw: &str,
        max_chars: usize,
        has_attachment: bool,
    ) -> Result<Self, Invalid> {
        if has_attachment && raw.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        Self::parse(raw, max_chars)
    }

    /// # Errors
    /// [`Invalid`] naming `content` when empty, only whitespace, or too long.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, Invalid> {
        if raw.trim().is_empty() {
            return Err(Invalid::field("content", "must not be empty"));
        }
        // PostgreSQL's text cannot hold it: refused on every backend alike.
        if raw.contains('\0') {
            return Err(Invalid::field("content", "must not contain U+0000 (NUL)"));
        }
        if raw.chars().count() > max_chars {
            return Err(Invalid::field(
                "content",
                format_args!("must be at most {max_chars} characters"),
            ));
        }
        Ok(Self(raw.to_string()))
    }
    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
    /// The text, borrowed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a client message id: 1 to 64 characters.
///
/// # Errors
/// [`Invalid`] naming `client_msg_id`.
pub fn validate_client_msg_id(raw: Option<String>) -> Result<Option<String>, Invalid> {
    match raw {
        Some(id) if id.is_empty() || id.chars().count() > 64 => {
            Err(Invalid::field("client_msg_id", "1 to 64 characters"))
        }
        Some(id) if id.contains('\0') => Err(Invalid::field(
            "client_msg_id",
            "must not contain U+0000 (NUL)",
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_alphabet_and_length() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("al.ice_-9").is_ok());
        assert!(Username::parse("ålice").is_err());
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(|e| e.0).ok(),
            Some("ann@example.com".to_string())
        );
        assert!(Email::parse("not-an-email").is_err());
        assert!(Email::parse("").is_err());
    }

    #[test]
    fn content_counts_characters_not_bytes() {
        assert!(MessageContent::parse("é".repeat(10).as_str(), 10).is_ok());
        assert!(MessageContent::parse("é".repeat(11).as_str(), 10).is_err());
        assert!(MessageContent::parse("   ", 10).is_err());
    }

    #[test]
    fn passwords_over_bcrypts_limit_are_refused() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(73)).is_err());
    }

    #[test]
    fn display_names_and_titles_refuse_hidden_characters() {
        assert_eq!(
            validate_display_name(Some("  Ann ")),
            Ok(Some("Ann".into()))
        );
        assert_eq!(validate_display_name(Some("   ")), Ok(None));
        assert!(validate_display_name(Some("Ann\u{202e}")).is_err());
        assert!(validate_display_name(Some(&"x".repeat(65))).is_err());
        assert!(Title::parse(Some("a\u{200b}b")).is_err());
        assert_eq!(Title::parse(Some("Order")), Ok(Some("Order".into())));
    }
}
