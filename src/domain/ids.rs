//! Id newtypes, so a user id cannot be passed where a conversation id is expected. All are
//! 64-bit integers on the wire and in the database, except [`SessionId`]. Their SQL mapping is
//! in `db::ids`, so this layer stays free of diesel.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(example = 1)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A tenant. Every chat row carries one.
    ProjectId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A conversation (direct or group).
    ConversationId
);
id_type!(
    /// A stored message (global id; `seq` orders messages within a conversation).
    MessageId
);
id_type!(
    /// An uploaded file.
    UploadId
);

/// One WebSocket connection. Random (UUID v4), so it reveals nothing about other sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct SessionId(pub uuid::Uuid);

impl SessionId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A user token minted by the server API (`POST /api/v1/server/users/{external_id}/tokens`):
/// 128 random bits, written `ut_` and 32 lowercase hex digits. It is the token's JWT `jti`
/// (RFC 7519 §4.1.7) and the key of its `user_tokens` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub u128);

impl TokenId {
    const PREFIX: &'static str = "ut_";

    /// A fresh random id.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Reads `ut_<32 hex>`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix(Self::PREFIX)?;
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(hex, 16).ok().map(Self)
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{:032x}", Self::PREFIX, self.0)
    }
}

impl Serialize for TokenId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TokenId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not a token id (ut_<32 hex>)"))
    }
}

#[cfg(test)]
mod tests {
    use super::TokenId;

    #[test]
    fn token_ids_round_trip_and_reject_other_text() {
        let id = TokenId::random();
        assert_eq!(TokenId::parse(&id.to_string()), Some(id));
        assert_eq!(id.to_string().len(), 35);
        assert_eq!(
            TokenId::parse("ut_00000000000000000000000000000001"),
            Some(TokenId(1))
        );
        assert_eq!(TokenId::parse("ut_1"), None);
        assert_eq!(TokenId::parse("pk_00000000000000000000000000000001"), None);
        assert_eq!(TokenId::parse("ut_0000000000000000000000000000000g"), None);
    }
}
