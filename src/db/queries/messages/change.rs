//! Edits and deletions. Each moves the conversation's version forward and stamps the message
//! with it, so clients that resume with `since_version` learn of it. Whether the change is
//! allowed is asked of the access policy here, under the transaction, with facts read in it.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::api::Extras;
use crate::db::models::{ConversationRow, MessageRow};
use crate::db::queries::extras::{self, mentions};
use crate::db::schema::{conversations, messages, participants, uploads};
use crate::db::{DbConnection, DbError, now, on_conn};
use crate::domain::{ConversationId, MessageId, UserId};
use crate::policy::{self, Action, Actor, ConversationFacts, MessageFacts};

/// What to do to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Replace the content (validated text).
    Edit(String),
    /// Make it a tombstone: empty content, no attachment, `deleted_at` set.
    Delete,
}

/// An edit or deletion to write.
#[derive(Debug, Clone)]
pub struct ChangeDraft {
    /// Who asks.
    pub actor: Actor,
    /// The conversation the message is in (a message elsewhere is `not_found`).
    pub conversation_id: ConversationId,
    /// Which message.
    pub message_id: MessageId,
    /// What to do.
    pub change: Change,
    /// For `@here` in an edit: the users online when it was asked (`None`: nobody).
    pub online: Option<Vec<UserId>>,
}

/// The outcome of a [`ChangeDraft`].
#[derive(Debug, Clone)]
pub struct Changed {
    /// The message after the change.
    pub row: MessageRow,
    /// False when nothing changed (deleting a deleted message): no version moved, no event.
    pub changed: bool,
    /// Its replies, mentions, reactions and pin now (reactions' `me` for the actor).
    pub extras: Extras,
    /// The users an edit mentions that it did not mention before: they are told.
    pub mentioned: Vec<UserId>,
}

impl ChangeDraft {
    /// The policy action for this change of `message`.
    fn action(&self, message: &MessageRow) -> Action {
        let facts = MessageFacts {
            sender_id: message.sender_id,
            deleted: message.deleted_at.is_some(),
        };
        match self.change {
            Change::Edit(_) => Action::Edit(facts),
            Change::Delete => Action::Delete(facts),
        }
    }
}

/// The access policy's facts of `conversation` for `actor`, read under the transaction: the
/// conversation row first, locked on PostgreSQL (`FOR UPDATE`), so changes of one conversation
/// run one at a time on every node and what is read after it is the latest (SQLite has one
/// writer at a time already). `None` for a missing conversation.
///
/// # Errors
/// A query failure.
pub(super) fn locked_facts(
    conn: &mut DbConnection,
    conversation: ConversationId,
    actor: &Actor,
) -> Result<Option<ConversationFacts>, DbError> {
    use diesel::RunQueryDsl as _;
    let find_conversation = conversations::table.find(conversation);
    let row: Option<ConversationRow> = match conn {
        // `on_conn!` cannot be used here: `FOR UPDATE` exists on PostgreSQL only.
        DbConnection::Sqlite(c) => find_conversation
            .select(ConversationRow::as_select())
            .first(c)
            .optional()?,
        DbConnection::Postgres(c) => find_conversation
            .select(ConversationRow::as_select())
            .for_update()
            .first(&mut **c)
            .optional()?,
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let role: Option<String> = on_conn!(conn, c => {
        participants::table
            .filter(participants::conversation_id.eq(conversation))
            .filter(participants::user_id.eq(actor.user_id))
            .select(participants::role)
            .first(c)
    })
    .optional()?;
    let member_role = role.as_deref().map(crate::domain::MemberRole::from_stored);
    let mut facts = row.facts(member_role.is_some());
    facts.member_role = member_role;
    Ok(Some(facts))
}

/// Message `message` of `conversation`, read under the caller's transaction; `None` when that
/// conversation has no such message.
///
/// # Errors
/// A query failure.
pub(super) fn message_in(
    conn: &mut DbConnection,
    conversation: ConversationId,
    message: MessageId,
) -> Result<Option<MessageRow>, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        messages::table
            .find(message)
            .filter(messages::conversation_id.eq(conversation))
            .select(MessageRow::as_select())
            .first(c)
    })
    .optional()?)
}

/// Applies `draft` inside the caller's transaction. The outer error is a query failure (the
/// transaction must roll back); the inner one a refusal (`not_found`, `forbidden`,
/// `message_deleted`, `conversation_closed`) that leaves the others of the batch alone.
///
/// # Errors
/// A query failure.
pub(super) fn apply(
    conn: &mut DbConnection,
    draft: &ChangeDraft,
) -> Result<Result<Changed, DbError>, DbError> {
    use diesel::RunQueryDsl as _;
    let Some(facts) = locked_facts(conn, draft.conversation_id, &draft.actor)? else {
        return Ok(Err(DbError::NotFound));
    };
    let Some(row) = message_in(conn, draft.conversation_id, draft.message_id)? else {
        return Ok(Err(DbError::NotFound));
    };
    if let Err(denied) = policy::check(&draft.actor, draft.action(&row), &facts) {
        return Ok(Err(denied.into()));
    }
    if draft.change == Change::Delete && row.deleted_at.is_some() {
        return Ok(Ok(Changed {
            row,
            changed: false,
            extras: Extras::default(),
            mentioned: Vec::new(),
        }));
    }
    let version: i64 = on_conn!(conn, c => {
        diesel::update(conversations::table.find(draft.conversation_id))
            .set(conversations::version.eq(conversations::version + 1))
            .returning(conversations::version)
            .get_result(c)
    })?;
    let at = now();
    let row = match &draft.change {
        Change::Edit(content) => on_conn!(conn, c => {
            diesel::update(messages::table.find(row.id))
                .set((
                    messages::content.eq(content),
                    messages::edited_at.eq(at),
                    messages::version.eq(version),
                ))
                .returning(MessageRow::as_returning())
                .get_result(c)
        })?,
        Change::Delete => {
            let row = on_conn!(conn, c => {
                diesel::update(messages::table.find(row.id))
                    .set((
                        messages::content.eq(""),
                        messages::deleted_at.eq(at),
                        messages::attachment.eq(None::<String>),
                        messages::version.eq(version),
                    ))
                    .returning(MessageRow::as_returning())
                    .get_result(c)
            })?;
            // The file goes back to being its uploader's alone (and is swept with the other
            // unattached uploads, `uploads.unattached_ttl_h` after it was uploaded).
            on_conn!(conn, c => {
                diesel::update(uploads::table.filter(uploads::message_id.eq(row.id)))
                    .set(uploads::message_id.eq(None::<MessageId>))
                    .execute(c)
            })?;
            row
        }
    };
    let mentioned = match &draft.change {
        Change::Edit(_) => remention(conn, &row, draft.online.as_deref())?,
        Change::Delete => {
            // A tombstone mentions no one, has no reactions and is not pinned.
            super::annotate::forget(conn, row.id)?;
            Vec::new()
        }
    };
    let event = match draft.change {
        Change::Edit(_) => crate::webhooks::MESSAGE_UPDATED,
        Change::Delete => crate::webhooks::MESSAGE_DELETED,
    };
    crate::webhooks::enqueue_messages(conn, event, std::slice::from_ref(&row))?;
    let extras =
        extras::load_blocking(conn, std::slice::from_ref(&row), Some(draft.actor.user_id))?
            .remove(&row.id)
            .unwrap_or_default();
    Ok(Ok(Changed {
        row,
        changed: true,
        extras,
        mentioned,
    }))
}

/// Resolves the mentions of an edited message again; answers those it did not have before.
fn remention(
    conn: &mut DbConnection,
    row: &MessageRow,
    online: Option<&[UserId]>,
) -> Result<Vec<UserId>, DbError> {
    let before = mentions::of(conn, row.id)?;
    mentions::clear(conn, row.id)?;
    let now = mentions::store(
        conn,
        &[mentions::Mentioning {
            message_id: row.id,
            project_id: row.project_id,
            conversation_id: row.conversation_id,
            seq: row.seq,
            sender_id: row.sender_id,
            content: &row.content,
            online,
        }],
    )?
    .remove(&row.id)
    .unwrap_or_default();
    Ok(now
        .all
        .into_iter()
        .filter(|u| !before.contains(u))
        .collect())
}
