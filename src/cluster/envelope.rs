//! What nodes tell each other through Redis: an [`Envelope`] per event, published once by the
//! node where it happened.
//!
//! Wire form: the [`Header`] as one line of JSON, a newline, then the WebSocket frame the
//! receiving nodes pass to their sessions as is (empty for events that carry none). The frame
//! is encoded once, by the origin node, and never parsed again.

use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use crate::actors::session::EndSession;
use crate::domain::{ConversationId, MemberRole, ProjectId, ReceiptKind, TokenId, UserId};
use crate::protocol::StatusEvent;

/// The Redis channel of one conversation's events: `{prefix}:c:{id}`.
pub fn conversation_channel(prefix: &str, id: ConversationId) -> String {
    format!("{prefix}:c:{id}")
}

/// The Redis channel of events for every node (presence, revocations, catch-up):
/// `{prefix}:global`.
pub fn global_channel(prefix: &str) -> String {
    format!("{prefix}:global")
}

/// The conversation a channel name belongs to, if it is a conversation's.
pub fn channel_conversation(prefix: &str, channel: &str) -> Option<ConversationId> {
    channel
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(":c:"))
        .and_then(|id| id.parse().ok())
        .map(ConversationId)
}

/// The header of an envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// The node that published it (a node ignores its own envelopes).
    pub node: String,
    /// What happened.
    pub event: Event,
}

/// An event, with what the receiving nodes need to order and apply it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// `message:new`, `message:updated` or `message:deleted`: the change that took the
    /// conversation to `version` (and, for a new message, stored it with `seq`). Delivered in
    /// version order on every node.
    Message {
        /// The conversation.
        conversation_id: ConversationId,
        /// Its version after this change.
        version: i64,
        /// The new message's seq; `None` for an edit or deletion.
        seq: Option<i64>,
        /// An internal note's change: for agents' and admins' sessions only.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        private: bool,
    },
    /// An event that follows message `seq` (a receipt up to it, the close after the last
    /// message, a typing indicator after nothing): delivered once that message is.
    After {
        /// The conversation.
        conversation_id: ConversationId,
        /// The seq it follows (0: none).
        seq: i64,
        /// What it changes in the rooms' cached state.
        effect: Effect,
    },
    /// A user's status changed (first session opened anywhere, last one closed, or their node
    /// died): the nodes tell their sessions of `contacts`.
    Presence {
        /// The `user:status` data.
        status: StatusEvent,
        /// Who shares a small enough conversation with the user.
        contacts: Vec<UserId>,
    },
    /// End every session of a user, on every node (logout everywhere, a reused refresh token,
    /// a role change, a disabled account).
    EndSessions {
        /// Whose.
        user_id: UserId,
        /// Why: decides the close code.
        end: SessionEnd,
    },
    /// User tokens were revoked through the server API: every node lists them as revoked and
    /// ends the sessions that run on them (4003).
    TokensRevoked {
        /// Whose.
        user_id: UserId,
        /// Each token's id and expiry (Unix seconds).
        tokens: Vec<(TokenId, i64)>,
    },
    /// A project's settings changed: every node holds them in memory.
    ProjectSettings {
        /// The project.
        project_id: ProjectId,
        /// Its settings as stored (a JSON object).
        settings: String,
    },
    /// An event for every session of `users` (a `mention`), whatever node they are on: the
    /// envelope's frame goes to each.
    Notify {
        /// Whose sessions.
        users: Vec<UserId>,
    },
    /// A node lost Redis for a while and is back (published once its users are registered
    /// again): every node's rooms read what they missed and tell their sessions to `resync`,
    /// and every node's sessions get their contacts' current status.
    CatchUp,
}

/// What an [`Event::After`] changes in the room's cached state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Nothing (typing indicators).
    None,
    /// A participant's watermark moved.
    Receipt {
        /// Whose.
        user_id: UserId,
        /// Which watermark.
        receipt: ReceiptKind,
        /// Up to which seq.
        seq: i64,
    },
    /// The conversation closed.
    Closed,
    /// A support conversation's status changed.
    Status {
        /// The new status.
        status: crate::domain::ConversationStatus,
    },
    /// A support conversation's assignee changed: the assignee's sessions are told through
    /// presence, so the rooms skip them.
    Assigned {
        /// The new assignee.
        assignee_id: Option<UserId>,
    },
    /// A user was added to the participants or given a new role (`role`), or removed from
    /// them (`role: None`).
    Participant {
        /// Who.
        user_id: UserId,
        /// Their role now; `None` when they were removed.
        role: Option<MemberRole>,
    },
}

/// Why a user's sessions end ([`EndSession`] without its text).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// 4001 signed out.
    SignedOut,
    /// 4003 account changed.
    AccountChanged,
}

impl SessionEnd {
    /// The close frame.
    pub fn frame(self) -> EndSession {
        match self {
            Self::SignedOut => EndSession::SIGNED_OUT,
            Self::AccountChanged => EndSession::ACCOUNT_CHANGED,
        }
    }

    /// The reason of `end`, as sent to other nodes.
    pub fn of(end: EndSession) -> Self {
        if end == EndSession::ACCOUNT_CHANGED {
            Self::AccountChanged
        } else {
            Self::SignedOut
        }
    }
}

/// A decoded envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Who sent it and what happened.
    pub header: Header,
    /// The frame for the sessions (empty when the event carries none).
    pub frame: ByteString,
}

impl Envelope {
    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(&self.header).unwrap_or_default();
        out.push(b'\n');
        out.extend_from_slice(self.frame.as_bytes());
        out
    }

    /// Parses the wire form; `None` for anything else (a foreign publisher, a newer format).
    pub fn decode(payload: &[u8]) -> Option<Self> {
        let split = payload.iter().position(|b| *b == b'\n')?;
        let header: Header = serde_json::from_slice(&payload[..split]).ok()?;
        let frame = std::str::from_utf8(&payload[split + 1..]).ok()?;
        Some(Self {
            header,
            frame: ByteString::from(frame),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_with_the_frame_untouched() {
        let envelope = Envelope {
            header: Header {
                node: "n1".into(),
                event: Event::Message {
                    conversation_id: ConversationId(7),
                    version: 12,
                    seq: Some(9),
                    private: false,
                },
            },
            frame: ByteString::from(r#"{"type":"message:new","data":{"x":"a\nb"}}"#),
        };
        assert_eq!(Envelope::decode(&envelope.encode()), Some(envelope));
        assert_eq!(Envelope::decode(b"no header"), None);
        assert_eq!(
            channel_conversation("p", &conversation_channel("p", ConversationId(42))),
            Some(ConversationId(42))
        );
        assert_eq!(
            channel_conversation("q", &conversation_channel("p", ConversationId(42))),
            None
        );
        assert_eq!(channel_conversation("p", &global_channel("p")), None);
    }
}
