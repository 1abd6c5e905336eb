//! The access policy: the one place that decides "may this user do this here".
//!
//! Every caller asks [`check`] (conversation actions), [`check_upload`] (reading a file) or
//! [`check_users`] (managing accounts): the room actor for everything that passes through a
//! conversation, the REST handlers for reads, the uploads handlers, and the database writer,
//! which asks again under its transaction with fresh facts for edits and deletes. None of them
//! repeats a rule.
//!
//! Inputs are plain facts: who asks ([`Actor`]: user, project, role), the conversation
//! ([`ConversationFacts`]: project, status, whether the actor participates) and, for edits and
//! deletes, the message ([`MessageFacts`]). The answer is `Ok(())` or the [`Denied`] reason to
//! give, checked in this order:
//!
//! 1. another project: always `not_found`, never `forbidden`, so ids reveal nothing across
//!    tenants (ARCHITECTURE.md, *Access policy*);
//! 2. visibility: participants see a conversation; admins see every conversation of their
//!    project; everyone in the project sees its public groups and channels. Invisible: `not_found`. Actions that need participation itself (join, post,
//!    typing, receipts) answer an admin who is not a participant `forbidden`: the admin can see
//!    the conversation, so hiding it would be a lie;
//! 3. role and ownership: closing needs an agent or admin; editing needs the author; deleting
//!    needs the author, staff (agents only where they participate, since they see nothing
//!    else) or a moderator of the group or channel; membership, pins, invites and mentions of
//!    everyone follow the member roles ([`RoomAction`], `policy/rooms.rs`);
//! 4. state: a deleted message cannot be edited (`message_deleted`); a closed conversation
//!    takes no new messages, typing or edits (`conversation_closed`).
//!
//! docs/PROTOCOL.md §2 (*Roles*) is the same table for client authors.

use crate::domain::{
    ConversationKind, ConversationStatus, MemberRole, ProjectId, Role, Scope, UserId, Visibility,
};

mod desk;
mod rooms;
pub use desk::{DeskAction, check_resolved_reply, metrics_scope};
pub use rooms::RoomAction;

/// Who asks: from an access token (or, later, an API key acting for a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: UserId,
    /// Their project (tenant).
    pub project_id: ProjectId,
    /// Their role in it.
    pub role: Role,
}

/// What the policy needs to know of a conversation, from the room's cache or the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationFacts {
    /// Its project.
    pub project_id: ProjectId,
    /// Open or closed.
    pub status: ConversationStatus,
    /// Whether the actor is one of its participants.
    pub participant: bool,
    /// Its kind.
    pub kind: ConversationKind,
    /// The actor's role in it, where known (the room knows every participant's; `None` counts
    /// as `member` for a participant).
    pub member_role: Option<MemberRole>,
    /// Public groups and channels are seen (read, joined) by everyone in their project.
    pub visibility: Visibility,
}

/// What the policy needs to know of a message being edited or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFacts {
    /// Its author.
    pub sender_id: UserId,
    /// Whether it is a tombstone already.
    pub deleted: bool,
}

/// Something a user may try to do to a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the conversation, its history and its participants (REST reads).
    ReadHistory,
    /// `conversation:join`: receive its events.
    Join,
    /// `message:send` or REST send.
    Post,
    /// `typing:start` (`true`) or `typing:stop` (`false`).
    Typing(bool),
    /// `message:delivered`, `message:read`, REST read receipts.
    Receipt,
    /// `message:edit`, `PATCH /messages/{id}`.
    Edit(MessageFacts),
    /// `message:delete`, `DELETE /messages/{id}`.
    Delete(MessageFacts),
    /// Close the conversation.
    Close,
    /// Read a file attached to one of its messages.
    Download,
    /// Upload a file bound to it (`POST /uploads` with `conversation_id`).
    Upload,
    /// Membership and content moderation, by member role ([`RoomAction`], `rooms.rs`).
    Room(RoomAction),
    /// The support desk: notes, status, assignment, labels, ratings ([`DeskAction`],
    /// `desk.rs`).
    Desk(DeskAction),
}

/// Why an action is refused; each becomes an error code (`not_found`, `forbidden`,
/// `conversation_closed`, `message_deleted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The thing does not exist for this actor (`<what> not found`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The actor sees it but may not do this (the reason is shown to the client).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The conversation is closed.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// The message is deleted.
    #[error("the message was deleted")]
    MessageDeleted,
}

const ONLY_PARTICIPANTS: &str = "only participants can do this";

/// Decides `action` by `actor` on a conversation described by `facts`.
///
/// # Errors
/// The [`Denied`] reason, per the module docs.
pub fn check(actor: &Actor, action: Action, facts: &ConversationFacts) -> Result<(), Denied> {
    let missing = match action {
        Action::Edit(_) | Action::Delete(_) => Denied::NotFound("message"),
        _ => Denied::NotFound("conversation"),
    };
    if actor.project_id != facts.project_id {
        return Err(missing);
    }
    let admin = actor.role == Role::Admin;
    let public = facts.visibility == Visibility::Public
        && matches!(
            facts.kind,
            ConversationKind::Group | ConversationKind::Channel
        );
    // The support team sees every support conversation of its project (the queue), and
    // joins one to reply.
    let desk = actor.role.is_staff() && facts.kind == ConversationKind::Support;
    let visible = facts.participant || admin || public || desk;
    if !visible {
        return Err(missing);
    }
    // Every status takes messages but `closed` (a resolved support conversation too: a
    // customer's message opens it again, `desk.rs`).
    let open = facts.status != ConversationStatus::Closed;
    match action {
        Action::ReadHistory | Action::Download => Ok(()),
        Action::Upload if facts.participant => Ok(()),
        Action::Upload => Err(missing),
        Action::Join
        | Action::Receipt
        | Action::Typing(false)
        | Action::Post
        | Action::Typing(true)
            if !facts.participant =>
        {
            Err(Denied::Forbidden(ONLY_PARTICIPANTS))
        }
        Action::Join | Action::Receipt | Action::Typing(false) => Ok(()),
        // Channels broadcast: their owners, admins and moderators post; followers read.
        Action::Post | Action::Typing(true)
            if facts.kind == ConversationKind::Channel
                && facts.member_role.unwrap_or(MemberRole::Member) < MemberRole::Moderator =>
        {
            Err(Denied::Forbidden(
                "only the channel's owners, admins and moderators post in it",
            ))
        }
        Action::Post | Action::Typing(true) if open => Ok(()),
        Action::Post | Action::Typing(true) => Err(Denied::ConversationClosed),
        Action::Edit(message) if message.sender_id != actor.user_id => {
            Err(Denied::Forbidden("only the sender may edit a message"))
        }
        Action::Edit(message) if message.deleted => Err(Denied::MessageDeleted),
        Action::Edit(_) if !open => Err(Denied::ConversationClosed),
        Action::Edit(_) => Ok(()),
        Action::Delete(message) if message.sender_id == actor.user_id || actor.role.is_staff() => {
            Ok(())
        }
        // Moderators of a group or channel delete others' messages too.
        Action::Delete(_)
            if facts.participant
                && matches!(
                    facts.kind,
                    ConversationKind::Group | ConversationKind::Channel
                )
                && facts.member_role.unwrap_or_default() >= MemberRole::Moderator =>
        {
            Ok(())
        }
        Action::Delete(_) => Err(Denied::Forbidden(
            "only the sender, a moderator, an agent or an admin may delete a message",
        )),
        Action::Close if actor.role.is_staff() => Ok(()),
        Action::Close => Err(Denied::Forbidden(
            "only agents and admins can close conversations",
        )),
        Action::Room(room) => rooms::decide(actor, room, facts),
        Action::Desk(desk) => desk::decide(actor.role, desk, facts),
    }
}

/// Decides whether the backend of `project` (an API key with `messages:write`, already
/// checked by [`check_key`]) may post a system message into a conversation described by
/// `facts`: one of its own project that is open. Docs: docs/SERVER_API.md, *Messages*.
///
/// # Errors
/// `NotFound` for another project's conversation, `ConversationClosed` for a closed one.
pub fn check_system_post(project: ProjectId, facts: &ConversationFacts) -> Result<(), Denied> {
    if project != facts.project_id {
        return Err(Denied::NotFound("conversation"));
    }
    if facts.status == ConversationStatus::Closed {
        return Err(Denied::ConversationClosed);
    }
    Ok(())
}

/// Whether `actor`'s conversation list holds every conversation of their project (admins), or
/// only those they take part in: the list form of [`Action::ReadHistory`].
pub fn lists_every_conversation(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

/// Whether `actor`'s conversation list also holds every support conversation of their project
/// that they do not take part in: the support team's (agents', and admins' anyway).
pub fn lists_support_conversations(actor: &Actor) -> bool {
    actor.role.is_staff()
}

/// What the policy needs to know of an uploaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadFacts {
    /// Its project.
    pub project_id: ProjectId,
    /// Who uploaded it.
    pub uploader_id: UserId,
    /// The conversation of the message it is attached to, if it is attached.
    pub attached_to: Option<ConversationFacts>,
}

/// Decides whether `actor` may read a file: its uploader always; once it is attached to a
/// message, whoever may [`Action::Download`] in that conversation. Every refusal is
/// `not_found` (`upload not found`), so upload ids reveal nothing about other conversations.
///
/// # Errors
/// [`Denied::NotFound`].
pub fn check_upload(actor: &Actor, upload: &UploadFacts) -> Result<(), Denied> {
    let missing = Denied::NotFound("upload");
    if actor.project_id != upload.project_id {
        return Err(missing);
    }
    if upload.uploader_id == actor.user_id {
        return Ok(());
    }
    match &upload.attached_to {
        Some(conversation) => check(actor, Action::Download, conversation).map_err(|_| missing),
        None => Err(missing),
    }
}

/// Decides whether `actor` may manage the accounts of `project` (create users, change roles,
/// disable): admins of that project.
///
/// # Errors
/// `not_found` (`user not found`) for another project, `forbidden` for non-admins.
pub fn check_users(actor: &Actor, project: ProjectId) -> Result<(), Denied> {
    if actor.project_id != project {
        return Err(Denied::NotFound("user"));
    }
    if actor.role != Role::Admin {
        return Err(Denied::Forbidden("only admins may do this"));
    }
    Ok(())
}

/// A caller's account as it is now (read from the database, not from their token), for the
/// instance-wide actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    /// Their project.
    pub project_id: ProjectId,
    /// Their role in it.
    pub role: Role,
    /// An instance admin.
    pub instance_admin: bool,
    /// Disabled by an admin.
    pub disabled: bool,
}

/// Decides whether `account` may manage projects (`/api/v1/admin/projects`): enabled instance
/// admins only, whatever their project and role.
///
/// # Errors
/// `forbidden` for everyone else (the routes exist for every signed-in user to see).
pub fn check_instance(account: &Account) -> Result<(), Denied> {
    if account.instance_admin && !account.disabled {
        Ok(())
    } else {
        Err(Denied::Forbidden(
            "only instance admins may manage projects",
        ))
    }
}

/// Decides whether `account` may manage the API keys of `project`: its admins, and instance
/// admins.
///
/// # Errors
/// `not_found` (`project not found`) for another project's users, `forbidden` for the
/// project's non-admins.
pub fn check_api_keys(account: &Account, project: ProjectId) -> Result<(), Denied> {
    if account.disabled {
        return Err(Denied::Forbidden("this account is disabled"));
    }
    if account.instance_admin {
        return Ok(());
    }
    if account.project_id != project {
        return Err(Denied::NotFound("project"));
    }
    if account.role != Role::Admin {
        return Err(Denied::Forbidden(
            "only the project's admins may manage its API keys",
        ));
    }
    Ok(())
}

/// Decides whether `account` may manage the webhooks of `project` (endpoints, delivery logs,
/// redelivery): as for API keys, its admins and instance admins.
///
/// # Errors
/// `not_found` (`project not found`) for another project's users, `forbidden` for the
/// project's non-admins.
pub fn check_webhooks(account: &Account, project: ProjectId) -> Result<(), Denied> {
    match check_api_keys(account, project) {
        Err(Denied::Forbidden(_)) if !account.disabled => Err(Denied::Forbidden(
            "only the project's admins may manage its webhooks",
        )),
        other => other,
    }
}

/// An API key as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFacts<'a> {
    /// The project it acts for.
    pub project_id: ProjectId,
    /// What it may do.
    pub scopes: &'a [Scope],
}

/// Decides whether `key` may make a server API call that needs `scope` on something of
/// `project`.
///
/// # Errors
/// `not_found` (naming `what`) for another project's things, `forbidden` for a call outside
/// the key's scopes.
pub fn check_key(
    key: &KeyFacts<'_>,
    scope: Scope,
    project: ProjectId,
    what: &'static str,
) -> Result<(), Denied> {
    if !key.scopes.contains(&scope) {
        return Err(Denied::Forbidden(
            "this API key lacks the scope this call needs",
        ));
    }
    if key.project_id != project {
        return Err(Denied::NotFound(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
