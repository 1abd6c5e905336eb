//! The replies and mentions of a group commit's new messages ([`super::insert`]): a reply must
//! name a message of its own conversation (else the send is refused, `validation_failed`, the
//! same answer whether the target is elsewhere or nowhere, so ids reveal nothing), and
//! mentions are resolved and stored in the same transaction. A retried `client_msg_id` gets
//! the extras of the original message as they are now.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, QueryDsl};

use super::insert::{Inserted, MessageDraft, Outcomes};
use crate::api::{Extras, ReplyPreview};
use crate::db::models::MessageRow;
use crate::db::queries::extras::{self, mentions};
use crate::db::schema::messages;
use crate::db::{DbConnection, DbError, on_conn};
use crate::domain::{ConversationId, MessageId, UserId};

/// A replied-to message: its conversation, and its preview.
pub(super) type Targets = HashMap<MessageId, (ConversationId, ReplyPreview)>;

type TargetRow = (
    MessageId,
    ConversationId,
    i64,
    UserId,
    String,
    Option<NaiveDateTime>,
);

/// The messages the batch's drafts reply to, by id (internal notes are none); 500 per
/// statement.
///
/// # Errors
/// A query failure.
pub(super) fn reply_targets(
    conn: &mut DbConnection,
    drafts: &[(usize, &MessageDraft)],
) -> Result<Targets, DbError> {
    use diesel::RunQueryDsl as _;
    let mut wanted: Vec<MessageId> = drafts.iter().filter_map(|(_, d)| d.reply_to).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut targets = HashMap::new();
    for chunk in wanted.chunks(500) {
        let rows: Vec<TargetRow> = on_conn!(conn, c => {
            // Internal notes are no reply targets: a reply's preview would show one to
            // customers.
            messages::table
                .filter(messages::id.eq_any(chunk))
                .filter(messages::private.eq(false))
                .select((
                    messages::id,
                    messages::conversation_id,
                    messages::seq,
                    messages::sender_id,
                    messages::content,
                    messages::deleted_at,
                ))
                .load(c)
        })?;
        for (id, conversation, seq, sender, text, deleted) in rows {
            let preview = ReplyPreview::new(id, seq, sender, &text, deleted.is_some());
            targets.insert(id, (conversation, preview));
        }
    }
    Ok(targets)
}

/// Splits `drafts` into those whose `reply_to` (if any) is a message of their conversation, and
/// the outcomes of the others (refused).
pub(super) fn check_replies<'a>(
    drafts: &[(usize, &'a MessageDraft)],
    targets: &Targets,
) -> (Vec<(usize, &'a MessageDraft)>, Outcomes) {
    let mut kept = Vec::with_capacity(drafts.len());
    let mut refused = Vec::new();
    for &(index, draft) in drafts {
        let fine = draft.reply_to.is_none_or(|target| {
            targets
                .get(&target)
                .is_some_and(|(conversation, _)| *conversation == draft.conversation_id)
        });
        if fine {
            kept.push((index, draft));
        } else {
            let problem = "reply_to: no such message in this conversation".to_string();
            refused.push((index, Err(DbError::Invalid(problem))));
        }
    }
    (kept, refused)
}

/// Resolves and stores the mentions of the batch's new `rows` (each with the draft it was
/// made from; system messages mention no one) and answers, for each row, its extras (its reply's preview and the users it
/// names) and everyone it mentions.
///
/// # Errors
/// A query failure.
pub(super) fn new_extras(
    conn: &mut DbConnection,
    rows: &[(&MessageRow, &MessageDraft)],
    targets: &Targets,
) -> Result<HashMap<MessageId, (Extras, Vec<UserId>)>, DbError> {
    // A system message (the project's backend, or a membership notice) mentions no one.
    let mentioning: Vec<mentions::Mentioning<'_>> = rows
        .iter()
        .filter(|(_, draft)| !draft.system)
        .map(|(row, draft)| mentions::Mentioning {
            message_id: row.id,
            project_id: row.project_id,
            conversation_id: row.conversation_id,
            seq: row.seq,
            sender_id: row.sender_id,
            content: &row.content,
            online: draft.online.as_deref(),
        })
        .collect();
    let mut mentioned = mentions::store(conn, &mentioning)?;
    let mut out = HashMap::new();
    for (row, _) in rows {
        let resolved = mentioned.remove(&row.id).unwrap_or_default();
        let extras = Extras {
            reply_to: row
                .reply_to_id
                .and_then(|t| targets.get(&t))
                .map(|(_, preview)| preview.clone()),
            mentions: resolved.named,
            ..Extras::default()
        };
        if extras != Extras::default() || !resolved.all.is_empty() {
            out.insert(row.id, (extras, resolved.all));
        }
    }
    Ok(out)
}

impl Inserted {
    /// The outcome of a retried `client_msg_id`: the stored `row`, extras filled in later.
    pub(super) fn retry(row: MessageRow) -> Self {
        Self {
            row,
            duplicate: true,
            extras: Extras::default(),
            mentioned: Vec::new(),
        }
    }
}

/// Fills the extras of the outcomes that are retries of messages stored before this batch
/// (reactions' `me` for their sender).
///
/// # Errors
/// A query failure.
pub(super) fn stored_extras(
    conn: &mut DbConnection,
    outcomes: &mut Outcomes,
) -> Result<(), DbError> {
    for (_, outcome) in outcomes.iter_mut() {
        if let Ok(Inserted {
            row,
            duplicate: true,
            extras: found,
            ..
        }) = outcome
        {
            let sender = row.sender_id;
            *found = extras::load_blocking(conn, std::slice::from_ref(row), Some(sender))?
                .remove(&row.id)
                .unwrap_or_default();
        }
    }
    Ok(())
}
