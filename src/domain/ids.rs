//! Id newtypes, so a user id cannot be passed where a conversation id is expected. All are
//! 64-bit integers on the wire and in the database, except [`SessionId`]. Their SQL mapping is
//! in `db::ids`, so this layer stays free of diesel.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
