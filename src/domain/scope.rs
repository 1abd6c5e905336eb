//! [`Scope`]: what an API key may do on the server API (docs/SERVER_API.md).

use serde::{Deserialize, Serialize};

use super::Invalid;

/// One permission of an API key. Stored space-separated; sent as strings such as
/// `"users:write"`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    /// Upsert and deactivate users.
    #[serde(rename = "users:write")]
    UsersWrite,
    /// Mint and revoke user tokens.
    #[serde(rename = "tokens:write")]
    TokensWrite,
    /// Create conversations, change their participants, close them.
    #[serde(rename = "conversations:write")]
    ConversationsWrite,
    /// Post messages as users or as the system.
    #[serde(rename = "messages:write")]
    MessagesWrite,
    /// Read users, conversations and messages.
    #[serde(rename = "read")]
    Read,
}

impl Scope {
    /// Every scope: what a key gets when none are named.
    pub const ALL: [Scope; 5] = [
        Self::UsersWrite,
        Self::TokensWrite,
        Self::ConversationsWrite,
        Self::MessagesWrite,
        Self::Read,
    ];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersWrite => "users:write",
            Self::TokensWrite => "tokens:write",
            Self::ConversationsWrite => "conversations:write",
            Self::MessagesWrite => "messages:write",
            Self::Read => "read",
        }
    }

    /// Parses a list of scope names (at least one; duplicates collapse), sorted.
    ///
    /// # Errors
    /// [`Invalid`] naming `scopes` for an empty list or an unknown name.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Scope>, Invalid> {
        let mut scopes = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            let scope = Self::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| {
                    Invalid::field(
                        "scopes",
                        format_args!(
                            "unknown scope {name:?}; use users:write, tokens:write, \
                             conversations:write, messages:write or read"
                        ),
                    )
                })?;
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(Invalid::field("scopes", "name at least one scope"));
        }
        Ok(scopes)
    }

    /// The stored form of a list: space-separated.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads a stored list; unknown names (from a newer version) are skipped.
    pub fn split(stored: &str) -> Vec<Scope> {
        stored
            .split_whitespace()
            .filter_map(|name| Self::ALL.into_iter().find(|s| s.as_str() == name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_parse_sort_dedup_and_round_trip() {
        let scopes = Scope::parse_list(&["read", "users:write", "read"]).unwrap();
        assert_eq!(scopes, [Scope::UsersWrite, Scope::Read]);
        assert_eq!(Scope::split(&Scope::join(&scopes)), scopes);
        assert!(Scope::parse_list::<&str>(&[]).is_err());
        assert!(Scope::parse_list(&["admin"]).is_err());
        assert_eq!(Scope::split("read bogus"), [Scope::Read]);
    }
}
