//! Room permissions: what a participant may do to a conversation's membership and content,
//! decided by their member role (`owner` > `admin` > `moderator` > `member` > `follower`) and
//! the conversation's kind. docs/PROTOCOL.md §2 (*Member roles and permissions*) is the same
//! table for client authors:
//!
//! | action                                  | owner | admin | moderator | member | follower |
//! |-----------------------------------------|:-----:|:-----:|:---------:|:------:|:--------:|
//! | post in a channel                       |  yes  |  yes  |    yes    |   —    |    no    |
//! | react, reply, leave                     |  yes  |  yes  |    yes    |  yes   |   yes    |
//! | `@all` / `@here`, pin, delete others'   |  yes  |  yes  |    yes    |   no   |    no    |
//! | add members, create and revoke invites  |  yes  |  yes  |    no     |   no   |    no    |
//! | edit title, description, visibility     |  yes  |  yes  |    no     |   no   |    no    |
//! | remove or ban a lower role              |  yes  |  yes  |    no     |   no   |    no    |
//! | set a lower role, up to your own        |  yes  |  yes  |    no     |   no   |    no    |
//! | transfer ownership                      |  yes  |  no   |    no     |   no   |    no    |
//!
//! Project admins act as owners in every group and channel of their project. A `direct`
//! conversation has exactly its two people: they pin, react and mention, and nobody adds,
//! removes, bans, invites or leaves. A `support` conversation keeps the support desk's rules:
//! project agents and admins add and remove participants, pin and edit its info; it has no
//! invites, bans or member roles.

use super::{Actor, ConversationFacts, Denied, ONLY_PARTICIPANTS};
use crate::domain::{ConversationKind, ConversationStatus, MemberRole, Role};

/// Something a user does to a conversation's membership or content, decided by
/// [`check`](super::check) with [`Action::Room`](super::Action::Room).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomAction {
    /// Add participants (`POST .../participants`).
    AddMembers,
    /// Remove a participant whose role is `target` (`DELETE .../participants/{user_id}`).
    Remove {
        /// The removed participant's role.
        target: MemberRole,
    },
    /// Ban a user whose role is `target` (`None`: not a participant): removed, and cannot
    /// rejoin by invite or from the directory.
    Ban {
        /// Their role, if they participate.
        target: Option<MemberRole>,
    },
    /// Change a participant's role from `target` to `to` (`PATCH .../participants/{user_id}`).
    /// `to: owner` from an owner transfers the ownership.
    SetRole {
        /// Their role now.
        target: MemberRole,
        /// The role asked for.
        to: MemberRole,
    },
    /// Edit the title, description or visibility.
    EditInfo,
    /// Pin or unpin a message.
    Pin,
    /// Create, list or revoke invite links.
    ManageInvites,
    /// Mention `@all` or `@here`.
    MentionAll,
    /// Add or remove a reaction.
    React,
    /// Leave (`POST .../leave`).
    Leave,
    /// Join a public group or follow a public channel from the directory; `banned` when the
    /// user is banned from it.
    JoinPublic {
        /// Whether the user is banned from the conversation.
        banned: bool,
    },
}

const DIRECT: &str = "a direct conversation has exactly its two participants";
const SUPPORT_STAFF: &str = "only agents and admins can do this in a support conversation";
const NO_ROLES: &str = "member roles, bans and invites apply to groups and channels";
const BANNED: &str = "you are banned from this conversation";

/// The role the actor acts with in a group or channel: project admins act as owners;
/// participants with their member role; others with none.
fn acting_role(actor: &Actor, facts: &ConversationFacts) -> Option<MemberRole> {
    if actor.role == Role::Admin {
        Some(MemberRole::Owner)
    } else if facts.participant {
        Some(facts.member_role.unwrap_or_default())
    } else {
        None
    }
}

/// Whether `role` reaches `needed`, with the refusal naming who may.
fn at_least(role: Option<MemberRole>, needed: MemberRole) -> Result<(), Denied> {
    if role.is_some_and(|r| r >= needed) {
        return Ok(());
    }
    Err(Denied::Forbidden(match needed {
        MemberRole::Owner => "only an owner can do this",
        MemberRole::Admin => "only owners and admins can do this",
        _ => "only owners, admins and moderators can do this",
    }))
}

/// Decides a [`RoomAction`] once the conversation is known to be visible to the actor.
pub(super) fn decide(
    actor: &Actor,
    action: RoomAction,
    facts: &ConversationFacts,
) -> Result<(), Denied> {
    use RoomAction::*;
    let participates = || {
        if facts.participant {
            Ok(())
        } else {
            Err(Denied::Forbidden(ONLY_PARTICIPANTS))
        }
    };
    match (facts.kind, action) {
        (_, JoinPublic { .. }) if facts.participant => Ok(()),
        (ConversationKind::Group | ConversationKind::Channel, JoinPublic { banned: true }) => {
            Err(Denied::Forbidden(BANNED))
        }
        (ConversationKind::Group | ConversationKind::Channel, JoinPublic { .. })
            if facts.visibility == crate::domain::Visibility::Public =>
        {
            Ok(())
        }
        // Agents and admins join a support conversation of their project to reply.
        (ConversationKind::Support, JoinPublic { .. }) if actor.role.is_staff() => Ok(()),
        (_, JoinPublic { .. }) => Err(Denied::Forbidden(
            "only public groups and channels can be joined; others by invitation",
        )),
        (_, React) => {
            participates()?;
            if facts.status == ConversationStatus::Closed {
                return Err(Denied::ConversationClosed);
            }
            Ok(())
        }
        (ConversationKind::Direct, Leave) => Err(Denied::Forbidden(DIRECT)),
        (_, Leave) => participates(),
        (ConversationKind::Direct, Pin | MentionAll) => participates(),
        (ConversationKind::Direct, _) => Err(Denied::Forbidden(DIRECT)),
        (ConversationKind::Support, MentionAll) => participates(),
        (ConversationKind::Support, AddMembers | Remove { .. } | Pin | EditInfo) => {
            if actor.role.is_staff() {
                Ok(())
            } else {
                Err(Denied::Forbidden(SUPPORT_STAFF))
            }
        }
        (ConversationKind::Support, _) => Err(Denied::Forbidden(NO_ROLES)),
        (_, MentionAll | Pin) => at_least(acting_role(actor, facts), MemberRole::Moderator),
        (_, AddMembers | EditInfo | ManageInvites) => {
            at_least(acting_role(actor, facts), MemberRole::Admin)
        }
        (
            _,
            Remove { target }
            | Ban {
                target: Some(target),
            },
        ) => {
            let role = acting_role(actor, facts);
            at_least(role, MemberRole::Admin)?;
            outranks(role, target)
        }
        (_, Ban { target: None }) => at_least(acting_role(actor, facts), MemberRole::Admin),
        (_, SetRole { target, to }) => {
            let role = acting_role(actor, facts);
            at_least(role, MemberRole::Admin)?;
            outranks(role, target)?;
            if to == MemberRole::Owner {
                return at_least(role, MemberRole::Owner);
            }
            if role.is_some_and(|r| to <= r) {
                Ok(())
            } else {
                Err(Denied::Forbidden("nobody can give a role above their own"))
            }
        }
    }
}

/// Whether `role` is above `target`: nobody removes, bans or re-roles their equal or better.
fn outranks(role: Option<MemberRole>, target: MemberRole) -> Result<(), Denied> {
    if role.is_some_and(|r| r > target) {
        Ok(())
    } else {
        Err(Denied::Forbidden(
            "only a higher role can change this participant",
        ))
    }
}

#[cfg(test)]
mod tests;
