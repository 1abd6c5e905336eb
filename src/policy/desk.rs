//! The support desk's rules (issue 15; docs/PROTOCOL.md, *Support desk*): who writes internal
//! notes, changes a support conversation's status or assignee, labels it, and rates it.
//! [`check`](super::check) has already decided that the actor sees the conversation (a
//! participant, an admin, or the support team, which sees every support conversation of its
//! project).

use super::{ConversationFacts, Denied};
use crate::domain::{ConversationKind, ConversationStatus, Role, UserId};

/// Something done to a support conversation through the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskAction {
    /// Write an internal note (`"private": true`): agents and admins who take part.
    Note,
    /// Change its status (`open`, `pending`, `snoozed`, `resolved`): agents and admins.
    SetStatus,
    /// Assign it to an agent, or unassign it: agents and admins.
    Assign,
    /// Add or remove a label: agents and admins.
    Label,
    /// Rate it after its resolution (CSAT): its customer, a participant outside the team.
    Rate,
}

const ONLY_SUPPORT: &str = "this is for support conversations only";
const ONLY_TEAM: &str = "only agents and admins can do this";

/// Decides `action` by someone with `role` on a conversation they see.
pub(super) fn decide(
    role: Role,
    action: DeskAction,
    facts: &ConversationFacts,
) -> Result<(), Denied> {
    if facts.kind != ConversationKind::Support {
        return Err(Denied::Forbidden(ONLY_SUPPORT));
    }
    match action {
        DeskAction::Note if !role.is_staff() => Err(Denied::Forbidden(ONLY_TEAM)),
        DeskAction::Note if !facts.participant => Err(Denied::Forbidden(
            "join the conversation to write notes in it",
        )),
        DeskAction::Note if facts.status == ConversationStatus::Closed => {
            Err(Denied::ConversationClosed)
        }
        DeskAction::Note => Ok(()),
        DeskAction::SetStatus | DeskAction::Assign | DeskAction::Label if role.is_staff() => Ok(()),
        DeskAction::SetStatus | DeskAction::Assign | DeskAction::Label => {
            Err(Denied::Forbidden(ONLY_TEAM))
        }
        DeskAction::Rate if role.is_staff() || !facts.participant => Err(Denied::Forbidden(
            "only the conversation's customer can rate it",
        )),
        DeskAction::Rate => Ok(()),
    }
}

/// Whether a customer's message into a `resolved` support conversation is taken (and opens it
/// again) or refused with `conversation_closed`, so that the customer starts a new
/// conversation: `desk.resolved_reply` is `reopen` or `new`. The team's messages are always
/// taken and leave it resolved.
///
/// # Errors
/// [`Denied::ConversationClosed`] for a customer's message when replies start anew.
pub fn check_resolved_reply(
    role: Role,
    facts: &ConversationFacts,
    reopen: bool,
) -> Result<(), Denied> {
    let resolved =
        facts.kind == ConversationKind::Support && facts.status == ConversationStatus::Resolved;
    if resolved && !role.is_staff() && !reopen {
        return Err(Denied::ConversationClosed);
    }
    Ok(())
}

/// Whose figures of `GET /api/v1/desk/metrics` someone with `role` (user `actor`) reads when
/// asking for `agent`'s: an admin any agent's or, asking for nobody, the whole team's; an
/// agent only their own (asking for nobody means themselves); a customer none. Answers the
/// agent whose figures they get (`None`: the team's).
///
/// # Errors
/// [`Denied::Forbidden`] for a customer, or an agent asking for another agent's figures.
pub fn metrics_scope(
    role: Role,
    actor: UserId,
    agent: Option<UserId>,
) -> Result<Option<UserId>, Denied> {
    match (role, agent) {
        (Role::Admin, agent) => Ok(agent),
        (Role::Agent, None) => Ok(Some(actor)),
        (Role::Agent, Some(agent)) if agent == actor => Ok(Some(agent)),
        (Role::Agent, Some(_)) => Err(Denied::Forbidden(
            "agents read their own figures; admins read everyone's",
        )),
        (Role::Customer, _) => Err(Denied::Forbidden(ONLY_TEAM)),
    }
}
