//! Validated input values. Each `parse` returns [`AppError::Validation`] with a message that
//! starts with the field name.

use crate::error::AppError;

/// An email address, trimmed and lowercased (addresses are compared case-insensitively).
/// Syntax per RFC 5321/5322 as checked by the `email_address` crate; at most 254 bytes
/// (RFC 5321 §4.5.3.1.3 path limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// `validation_failed` for an empty, over-long or malformed address.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let value = raw.trim().to_lowercase();
        if value.len() > 254 || !email_address::EmailAddress::is_valid(&value) {
            return Err(AppError::Validation(
                "email: must be a valid email address".into(),
            ));
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
    /// `validation_failed` when the length or a character is out of bounds.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok_len = (3..=32).contains(&raw.len());
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok_len || !ok_chars {
            return Err(AppError::Validation(
                "username: 3 to 32 characters of letters, digits, '_', '.' or '-'".into(),
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
    /// `validation_failed` when shorter than 8 characters or longer than 72 bytes.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if raw.chars().count() < 8 {
            return Err(AppError::Validation(
                "password: must be at least 8 characters".into(),
            ));
        }
        if raw.len() > 72 {
            return Err(AppError::Validation(
                "password: must be at most 72 bytes".into(),
            ));
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

/// Checks an optional display name: at most 64 characters, no control characters.
///
/// # Errors
/// `validation_failed` naming `display_name`.
pub fn validate_display_name(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if name.chars().count() > 64 || name.chars().any(char::is_control) => {
            Err(AppError::Validation(
                "display_name: at most 64 characters, no control characters".into(),
            ))
        }
        Some(name) => Ok(Some(name.to_string())),
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
    /// `validation_failed` naming `content`.
    pub fn parse_with_attachment(
        raw: &str,
        max_chars: usize,
        has_attachment: bool,
    ) -> Result<Self, AppError> {
        if has_attachment && raw.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        Self::parse(raw, max_chars)
    }

    /// # Errors
    /// `validation_failed` naming `content` when empty, only whitespace, or too long.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, AppError> {
        if raw.trim().is_empty() {
            return Err(AppError::Validation("content: must not be empty".into()));
        }
        if raw.chars().count() > max_chars {
            return Err(AppError::Validation(format!(
                "content: must be at most {max_chars} characters"
            )));
        }
        Ok(Self(raw.to_string()))
    }
    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Checks a client message id: 1 to 64 characters.
///
/// # Errors
/// `validation_failed` naming `client_msg_id`.
pub fn validate_client_msg_id(raw: Option<String>) -> Result<Option<String>, AppError> {
    match raw {
        Some(id) if id.is_empty() || id.chars().count() > 64 => Err(AppError::Validation(
            "client_msg_id: 1 to 64 characters".into(),
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
}
