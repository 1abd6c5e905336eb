//! Domain values: id newtypes, roles, and validated inputs.
//!
//! Validation lives here so REST and WebSocket paths apply the same rules; each constructor
//! returns [`AppError::Validation`] naming the field.

mod ids;
mod validate;

pub use ids::{ConversationId, MessageId, ProjectId, SessionId, UploadId, UserId};
pub use validate::{
    Email, MessageContent, Password, Username, validate_client_msg_id, validate_display_name,
};

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The project every row belongs to until multi-tenancy is exposed (created by the first
/// migration).
pub const DEFAULT_PROJECT: ProjectId = ProjectId(1);

/// What a user may do. Stored as lowercase text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees and manages every conversation of the project, creates users.
    Admin,
    /// Support staff: closes conversations.
    Agent,
    /// An end user; what self-registration gives.
    Customer,
}

impl Role {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
            Self::Customer => "customer",
        }
    }

    /// Whether this role may close conversations (agents and admins).
    pub fn can_close(self) -> bool {
        matches!(self, Self::Admin | Self::Agent)
    }
}

impl std::str::FromStr for Role {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "agent" => Ok(Self::Agent),
            "customer" => Ok(Self::Customer),
            _ => Err(AppError::Validation(
                "role: must be admin, agent or customer".into(),
            )),
        }
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
