//! Messages: the sequenced writes (inserts in group commits, edits and deletions) and the
//! history reads.
//!
//! - [`insert`]: messages with the next seq and version of their conversation, many per
//!   transaction;
//! - [`change`]: edits and deletions, decided by the access policy under the transaction;
//! - [`annotate`]: reactions and pins, sequenced like edits;
//! - [`read`]: history pages, replays by seq or by version, lookups.
//!
//! Writes go through [`write_batch`], which the group-commit queue calls with whatever arrived
//! together: one transaction for all of it, outcomes in order.

pub mod annotate;
mod batch;
mod change;
mod enrich;
mod insert;
mod prepare;
mod read;
mod rows;

pub use annotate::{Annotated, Annotation, AnnotationDraft};
pub use change::{Change, ChangeDraft, Changed};
pub use insert::{Inserted, MessageDraft};
pub use read::{
    PageRequest, changed_since, find, find_by_client_msg_id, page, stored_then_changed,
    version_before_newest,
};

use crate::db::{DbConnection, DbError, write_transaction};

/// One write of a group commit.
#[derive(Debug, Clone)]
pub enum Write {
    /// Store a new message.
    Insert(MessageDraft),
    /// Edit or delete a stored one.
    Change(ChangeDraft),
    /// React to a stored one, or pin it (or take either back).
    Annotate(AnnotationDraft),
}

impl Write {
    /// The conversation written to.
    pub fn conversation_id(&self) -> crate::domain::ConversationId {
        match self {
            Self::Insert(draft) => draft.conversation_id,
            Self::Change(draft) => draft.conversation_id,
            Self::Annotate(draft) => draft.conversation_id,
        }
    }
}

/// The outcome of one [`Write`].
#[derive(Debug, Clone)]
pub enum Written {
    /// A stored (or, for a retried `client_msg_id`, found) message.
    Inserted(Inserted),
    /// An edited or deleted message.
    Changed(Changed),
    /// A message reacted to or pinned.
    Annotated(Annotated),
}

/// Writes a group commit in one transaction; the results are in the order of `writes`.
///
/// Writes are applied in the order they were queued, so versions follow that order too:
/// consecutive inserts go together, grouped per conversation (one seq and version reservation
/// and one multi-row `INSERT` each), and each change in between is applied after the inserts
/// before it and before those after it. A write refused for a reason known before anything is written (a closed conversation,
/// a policy refusal, a retried `client_msg_id`) does not disturb the others. Any other failure
/// rolls the whole transaction back and the writes are tried again one per transaction, so one
/// bad write can neither take the others down nor leave a gap in seq.
///
/// # Errors
/// A failure to begin or commit the transaction of a lone write.
pub fn write_batch(
    conn: &mut DbConnection,
    writes: &[Write],
) -> Result<Vec<Result<Written, DbError>>, DbError> {
    let together = write_transaction(conn, |conn| apply(conn, writes));
    match together {
        Ok(results) => Ok(results),
        Err(err) if writes.len() > 1 => {
            tracing::warn!(error = ?err, size = writes.len(), "batch failed; writing one by one");
            Ok(writes
                .iter()
                .map(|write| {
                    write_transaction(conn, |conn| apply(conn, std::slice::from_ref(write)))
                        .and_then(|mut results| {
                            results
                                .pop()
                                .unwrap_or(Err(DbError::Commit("no result".into())))
                        })
                })
                .collect())
        }
        Err(err) => Err(err),
    }
}

fn apply(
    conn: &mut DbConnection,
    writes: &[Write],
) -> Result<Vec<Result<Written, DbError>>, DbError> {
    let mut results: Vec<Option<Result<Written, DbError>>> = writes.iter().map(|_| None).collect();
    let mut run: Vec<(usize, &MessageDraft)> = Vec::new();
    for (index, write) in writes.iter().enumerate() {
        match write {
            Write::Insert(draft) => run.push((index, draft)),
            Write::Change(_) | Write::Annotate(_) => {
                for (at, result) in insert::insert_all(conn, &std::mem::take(&mut run))? {
                    results[at] = Some(result.map(Written::Inserted));
                }
                results[index] = Some(match write {
                    Write::Change(draft) => change::apply(conn, draft)?.map(Written::Changed),
                    Write::Annotate(draft) => annotate::apply(conn, draft)?.map(Written::Annotated),
                    Write::Insert(_) => Err(DbError::Commit("insert out of place".into())),
                });
            }
        }
    }
    for (at, result) in insert::insert_all(conn, &run)? {
        results[at] = Some(result.map(Written::Inserted));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(DbError::Commit("write lost in batch".into()))))
        .collect())
}

#[cfg(test)]
mod tests;
