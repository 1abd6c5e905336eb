//! Domain values: id newtypes, roles, conversation kinds and states, validated inputs.
//!
//! The lowest layer: it knows nothing of actix, diesel or HTTP. Validation lives here so REST
//! and WebSocket paths apply the same rules; each constructor returns [`Invalid`] with a message
//! that starts with the field's name. The storage mapping of the ids lives in `db::ids`.

mod ids;
mod scope;
mod text;
mod validate;

pub use ids::{ConversationId, MessageId, ProjectId, SessionId, TokenId, UploadId, UserId};
pub use scope::Scope;
pub use text::{invisible_character, visible_text};
pub use validate::{
    Email, ExternalId, MessageContent, Password, ProjectName, Title, Username,
    validate_client_msg_id, validate_display_name,
};

use serde::{Deserialize, Serialize};

/// A value a client sent breaks a rule. The message starts with the offending field
/// (`username: 3 to 32 characters ...`); it becomes `validation_failed` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    /// `field: message`.
    pub fn field(field: &str, message: impl std::fmt::Display) -> Self {
        Self(format!("{field}: {message}"))
    }
}

/// The project every row belongs to until multi-tenancy is exposed (created by the first
/// migration).
pub const DEFAULT_PROJECT: ProjectId = ProjectId(1);

/// What a user may do in their project. Stored as lowercase text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees and manages every conversation of the project, creates and manages users.
    Admin,
    /// Support staff: closes conversations and deletes messages where they participate.
    Agent,
    /// An end user; what self-registration gives.
    Customer,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 3] = [Self::Admin, Self::Agent, Self::Customer];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
            Self::Customer => "customer",
        }
    }

    /// Support staff: agents and admins.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::Agent)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| Invalid::field("role", "must be admin, agent or customer"))
    }
}

/// `direct` (exactly two participants) or `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// Two participants.
    Direct,
    /// One, or three or more participants.
    Group,
}

impl ConversationKind {
    /// `direct` for exactly two participants, else `group`.
    pub fn for_participant_count(n: usize) -> Self {
        if n == 2 { Self::Direct } else { Self::Group }
    }
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }
    /// Parses the stored form; anything but `direct` reads as a group.
    pub fn from_stored(s: &str) -> Self {
        if s == "direct" {
            Self::Direct
        } else {
            Self::Group
        }
    }
}

/// `open` or `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    /// Accepts messages.
    Open,
    /// Closed by an agent or admin; sends fail with `conversation_closed`.
    Closed,
}

impl ConversationStatus {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
    /// Parses the stored form; anything but `closed` reads as open.
    pub fn from_stored(s: &str) -> Self {
        if s == "closed" {
            Self::Closed
        } else {
            Self::Open
        }
    }
}

/// Which watermark a receipt moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// `message:delivered`: the user's clients hold every message up to the seq.
    Delivered,
    /// `message:read`: the user has seen them (also moves the delivery watermark).
    Read,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_stored_form_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
    }
}
