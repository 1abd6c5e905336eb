//! Domain values: id newtypes, roles, conversation kinds and states, validated inputs.
//!
//! The lowest layer: it knows nothing of actix, diesel or HTTP. Validation lives here so REST
//! and WebSocket paths apply the same rules; each constructor returns [`Invalid`] with a message
//! that starts with the field's name. The storage mapping of the ids lives in `db::ids`; their
//! OpenAPI schemas are derived here (`utoipa::ToSchema`, a description only).

mod emoji;
mod ids;
pub mod mentions;
mod scope;
mod search;
mod text;
mod validate;

pub use emoji::{Emoji, MAX_EMOJI_BYTES};
pub use ids::{ConversationId, MessageId, ProjectId, SessionId, TokenId, UploadId, UserId};
pub use scope::Scope;
pub use search::{Alternative, MAX_SEARCH_CHARS, SearchText};

pub use text::{invisible_character, visible_text};
pub use validate::{
    Description, Email, ExternalId, MessageContent, Password, ProjectName, Title, Username,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

/// What a conversation is (docs/PROTOCOL.md §4.2): `direct` (two people, one per pair),
/// `group`, `channel` (broadcast: its owners, admins and moderators post, followers read) or
/// `support` (a customer with the support team).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// Exactly two participants, unique per pair.
    Direct,
    /// Any number of members, public or private.
    Group,
    /// Broadcast to followers.
    Channel,
    /// A customer's conversation with the support team.
    Support,
}

impl ConversationKind {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
            Self::Channel => "channel",
            Self::Support => "support",
        }
    }
    /// Parses the stored form; anything unknown reads as a group.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "direct" => Self::Direct,
            "channel" => Self::Channel,
            "support" => Self::Support,
            _ => Self::Group,
        }
    }
}

/// Who finds a group or channel: `public` ones are listed in the project's directory and
/// anyone in the project may join; `private` ones are joined by invitation only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Listed; anyone in the project may join.
    Public,
    /// By invitation only.
    #[default]
    Private,
}

impl Visibility {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
    /// Parses the stored form; anything but `public` is private.
    pub fn from_stored(s: &str) -> Self {
        if s == "public" {
            Self::Public
        } else {
            Self::Private
        }
    }
}

/// A participant's role in one conversation, lowest first, so roles compare by rank
/// (docs/PROTOCOL.md, *Member roles*).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Follows a channel: reads, does not post.
    Follower,
    /// A member.
    #[default]
    Member,
    /// Moderates.
    Moderator,
    /// Administers the conversation.
    Admin,
    /// Owns it.
    Owner,
}

impl MemberRole {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Moderator => "moderator",
            Self::Member => "member",
            Self::Follower => "follower",
        }
    }
    /// Parses the stored form; anything unknown reads as a member.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "owner" => Self::Owner,
            "admin" => Self::Admin,
            "moderator" => Self::Moderator,
            "follower" => Self::Follower,
            _ => Self::Member,
        }
    }
}

/// The role a user added after the conversation's creation starts with: a channel's follow
/// it, everyone else is a member.
pub fn joining_role(kind: ConversationKind) -> MemberRole {
    match kind {
        ConversationKind::Channel => MemberRole::Follower,
        _ => MemberRole::Member,
    }
}

/// A conversation's status. Every kind is `open` or `closed`; a support conversation is instead
/// `open`, `pending` (waiting on the customer), `snoozed` (until a time, then open again) or
/// `resolved` (closing one resolves it). docs/PROTOCOL.md §4.2 and *Support desk*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    /// Accepts messages.
    Open,
    /// A support conversation waiting on the customer: a customer's message opens it again.
    Pending,
    /// A support conversation put aside until `snoozed_until`, then open again (or at the
    /// customer's next message).
    Snoozed,
    /// A support conversation the team resolved: it still takes messages; a customer's opens it
    /// again (or starts a new conversation, per `desk.resolved_reply`), the team's leave it
    /// resolved.
    Resolved,
    /// Closed by an agent or admin (every kind but support); sends fail with
    /// `conversation_closed`.
    Closed,
}

impl ConversationStatus {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Snoozed => "snoozed",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
    /// Parses the stored form; anything unknown reads as open.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "snoozed" => Self::Snoozed,
            "resolved" => Self::Resolved,
            "closed" => Self::Closed,
            _ => Self::Open,
        }
    }
    /// Whether it is over: `closed`, or a support conversation's `resolved` (what the
    /// `conversation:closed` event and `closed_at` report).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Closed | Self::Resolved)
    }
}

/// An agent's availability, set by the agent (`PUT /api/v1/desk/availability`) and made
/// `offline` by presence when their last session ends. Auto-assignment gives new support
/// conversations to `online` agents only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// Takes new conversations.
    Online,
    /// Connected, takes none.
    Busy,
    /// Away.
    Offline,
}

impl Availability {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Busy => "busy",
            Self::Offline => "offline",
        }
    }
    /// Parses the stored form; anything unknown reads as offline.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "online" => Self::Online,
            "busy" => Self::Busy,
            _ => Self::Offline,
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
