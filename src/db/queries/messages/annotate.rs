//! Reactions and pins ("annotations"), written through the group commit like edits: each that
//! changes something moves the conversation's version forward and stamps the message with it,
//! so they are delivered in order on every node and a client resuming with `since_version`
//! gets the message again in its current state. The access policy is asked again here, under
//! the transaction, with facts read in it (`RoomAction::React`, `RoomAction::Pin`).
//!
//! Bounds: at most [`MAX_DISTINCT_REACTIONS`] different emoji per message and
//! [`MAX_PINS`] pinned messages per conversation; past them the write is refused with
//! `limit_reached`. Adding what is there, or removing what is not, changes nothing.

use diesel::prelude::{ExpressionMethods, QueryDsl, SelectableHelper};

use super::change::{locked_facts, message_in};
use crate::api::Extras;
use crate::db::models::MessageRow;
use crate::db::queries::extras::{self, mentions};
use crate::db::schema::{conversations, messages, pins, reactions};
use crate::db::{DbConnection, DbError, now, on_conn};
use crate::domain::{ConversationId, MessageId, UserId};
use crate::policy::{self, Action, Actor, Denied, RoomAction};

/// Different emoji one message may carry.
pub const MAX_DISTINCT_REACTIONS: usize = 50;

/// Messages one conversation may have pinned at once.
pub const MAX_PINS: i64 = 100;

/// A reaction or pin to set or take back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Annotation {
    /// The actor's reaction with `emoji` (validated): added (`add`) or removed.
    React {
        /// The emoji or shortcode.
        emoji: String,
        /// Add, or remove.
        add: bool,
    },
    /// The message's pin: pinned (`add`) or unpinned.
    Pin {
        /// Pin, or unpin.
        add: bool,
    },
}

impl Annotation {
    /// The policy action it needs.
    pub fn action(&self) -> Action {
        match self {
            Self::React { .. } => Action::Room(RoomAction::React),
            Self::Pin { .. } => Action::Room(RoomAction::Pin),
        }
    }
}

/// A reaction or pin to write.
#[derive(Debug, Clone)]
pub struct AnnotationDraft {
    /// Who asks.
    pub actor: Actor,
    /// The conversation the message is in (a message elsewhere is `not_found`).
    pub conversation_id: ConversationId,
    /// Which message.
    pub message_id: MessageId,
    /// What to do.
    pub annotation: Annotation,
}

/// The outcome of an [`AnnotationDraft`].
#[derive(Debug, Clone)]
pub struct Annotated {
    /// The message after the change (its `version` moved when `changed`).
    pub row: MessageRow,
    /// False when nothing changed: no version moved, no event.
    pub changed: bool,
    /// For a reaction: how many users react with its emoji now.
    pub count: i64,
    /// Its replies, mentions, reactions and pin now (reactions' `me` for the actor).
    pub extras: Extras,
}

/// Applies `draft` inside the caller's transaction. The outer error is a query failure; the
/// inner one a refusal (`not_found`, `forbidden`, `message_deleted`, `conversation_closed`,
/// `limit_reached`) that leaves the others of the batch alone.
///
/// # Errors
/// A query failure.
pub(super) fn apply(
    conn: &mut DbConnection,
    draft: &AnnotationDraft,
) -> Result<Result<Annotated, DbError>, DbError> {
    use diesel::RunQueryDsl as _;
    let Some(facts) = locked_facts(conn, draft.conversation_id, &draft.actor)? else {
        return Ok(Err(DbError::NotFound));
    };
    let Some(row) = message_in(conn, draft.conversation_id, draft.message_id)? else {
        return Ok(Err(DbError::NotFound));
    };
    match policy::check(&draft.actor, draft.annotation.action(), &facts) {
        Ok(()) => {}
        Err(Denied::NotFound(_)) => return Ok(Err(DbError::NotFound)),
        Err(denied) => return Ok(Err(denied.into())),
    }
    if row.deleted_at.is_some() {
        return Ok(Err(Denied::MessageDeleted.into()));
    }
    let changed = match &draft.annotation {
        Annotation::React { emoji, add: true } => match react(conn, draft, &row, emoji)? {
            Ok(changed) => changed,
            Err(refused) => return Ok(Err(refused)),
        },
        Annotation::React { emoji, add: false } => {
            let gone = on_conn!(conn, c => {
                diesel::delete(
                    reactions::table
                        .filter(reactions::message_id.eq(row.id))
                        .filter(reactions::user_id.eq(draft.actor.user_id))
                        .filter(reactions::emoji.eq(emoji)),
                )
                .execute(c)
            })?;
            gone > 0
        }
        Annotation::Pin { add: true } => match pin(conn, draft, &row)? {
            Ok(changed) => changed,
            Err(refused) => return Ok(Err(refused)),
        },
        Annotation::Pin { add: false } => {
            let gone = on_conn!(conn, c => {
                diesel::delete(pins::table.filter(pins::message_id.eq(row.id))).execute(c)
            })?;
            gone > 0
        }
    };
    let row = if changed {
        let version: i64 = on_conn!(conn, c => {
            diesel::update(conversations::table.find(draft.conversation_id))
                .set(conversations::version.eq(conversations::version + 1))
                .returning(conversations::version)
                .get_result(c)
        })?;
        on_conn!(conn, c => {
            diesel::update(messages::table.find(row.id))
                .set(messages::version.eq(version))
                .returning(MessageRow::as_returning())
                .get_result(c)
        })?
    } else {
        row
    };
    let count = match &draft.annotation {
        Annotation::React { emoji, .. } => on_conn!(conn, c => {
            reactions::table
                .filter(reactions::message_id.eq(row.id))
                .filter(reactions::emoji.eq(emoji))
                .count()
                .get_result(c)
        })?,
        Annotation::Pin { .. } => 0,
    };
    let extras =
        extras::load_blocking(conn, std::slice::from_ref(&row), Some(draft.actor.user_id))?
            .remove(&row.id)
            .unwrap_or_default();
    Ok(Ok(Annotated {
        row,
        changed,
        count,
        extras,
    }))
}

/// Adds the actor's reaction `emoji` to `row`, unless it is there; `limit_reached` for a new
/// emoji on a message that has [`MAX_DISTINCT_REACTIONS`] already.
fn react(
    conn: &mut DbConnection,
    draft: &AnnotationDraft,
    row: &MessageRow,
    emoji: &str,
) -> Result<Result<bool, DbError>, DbError> {
    use diesel::RunQueryDsl as _;
    let users: Vec<UserId> = on_conn!(conn, c => {
        reactions::table
            .filter(reactions::message_id.eq(row.id))
            .filter(reactions::emoji.eq(emoji))
            .select(reactions::user_id)
            .load(c)
    })?;
    if users.contains(&draft.actor.user_id) {
        return Ok(Ok(false));
    }
    if users.is_empty() {
        let emojis: Vec<String> = on_conn!(conn, c => {
            reactions::table
                .filter(reactions::message_id.eq(row.id))
                .select(reactions::emoji)
                .distinct()
                .load(c)
        })?;
        if emojis.len() >= MAX_DISTINCT_REACTIONS {
            return Ok(Err(DbError::LimitReached(format!(
                "emoji: a message carries at most {MAX_DISTINCT_REACTIONS} different reactions"
            ))));
        }
    }
    on_conn!(conn, c => {
        diesel::insert_into(reactions::table)
            .values((
                reactions::project_id.eq(row.project_id),
                reactions::conversation_id.eq(row.conversation_id),
                reactions::message_id.eq(row.id),
                reactions::user_id.eq(draft.actor.user_id),
                reactions::emoji.eq(emoji),
                reactions::created_at.eq(now()),
            ))
            .execute(c)
    })?;
    Ok(Ok(true))
}

/// Pins `row`, unless it is pinned; `limit_reached` when its conversation has [`MAX_PINS`]
/// pinned already.
fn pin(
    conn: &mut DbConnection,
    draft: &AnnotationDraft,
    row: &MessageRow,
) -> Result<Result<bool, DbError>, DbError> {
    use diesel::RunQueryDsl as _;
    let pinned: i64 = on_conn!(conn, c => {
        pins::table
            .filter(pins::message_id.eq(row.id))
            .count()
            .get_result(c)
    })?;
    if pinned > 0 {
        return Ok(Ok(false));
    }
    let count: i64 = on_conn!(conn, c => {
        pins::table
            .filter(pins::conversation_id.eq(row.conversation_id))
            .count()
            .get_result(c)
    })?;
    if count >= MAX_PINS {
        return Ok(Err(DbError::LimitReached(format!(
            "a conversation has at most {MAX_PINS} pinned messages; unpin one first"
        ))));
    }
    on_conn!(conn, c => {
        diesel::insert_into(pins::table)
            .values((
                pins::project_id.eq(row.project_id),
                pins::conversation_id.eq(row.conversation_id),
                pins::message_id.eq(row.id),
                pins::pinned_by.eq(draft.actor.user_id),
                pins::pinned_at.eq(now()),
            ))
            .execute(c)
    })?;
    Ok(Ok(true))
}

/// Takes everything away from a message being deleted: its mentions, reactions and pin.
///
/// # Errors
/// A query failure.
pub(super) fn forget(conn: &mut DbConnection, message: MessageId) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    mentions::clear(conn, message)?;
    on_conn!(conn, c => {
        diesel::delete(reactions::table.filter(reactions::message_id.eq(message))).execute(c)
    })?;
    on_conn!(conn, c => {
        diesel::delete(pins::table.filter(pins::message_id.eq(message))).execute(c)
    })?;
    Ok(())
}
