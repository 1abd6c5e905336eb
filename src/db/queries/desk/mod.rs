//! The support desk's tables (issue 15; docs/PROTOCOL.md, *Support desk*): a support
//! conversation's status and assignee, what its messages change in it (the customer waiting,
//! the team's first response, a customer opening it again), agents' availability and the
//! auto-assignment that reads it, and the queue.

mod assign;
mod canned;
mod csat;
mod labels;
mod metrics;
mod queue;
mod views;

pub use assign::{AgentView, agents, assign, auto_assign, set_availability, went_offline};
pub use canned::{
    CannedChange, CannedRow, CannedView, EXPANDED_MAX_CHARS, expand, list_canned, write_canned,
};
pub use csat::{CsatRow, rate, ratings};
pub use labels::{LabelChange, LabelRow, LabelView, label_conversation, list_labels, write_label};
pub use metrics::{CsatFigures, DeskEvent, DeskMetrics, Durations, MetricsFilter, metrics};
pub use queue::{Assignee, QueueCursor, QueuePage, queue};
pub use views::{labels_of, public_last};

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::ConversationRow;
use crate::db::schema::conversations;
use crate::db::{DbConnection, DbError, now, on_conn, write_transaction};
use crate::domain::{ConversationId, ConversationKind, ConversationStatus, UserId};
use crate::webhooks;

/// A status change of a support conversation.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange {
    /// Which.
    pub conversation_id: ConversationId,
    /// To what: `open`, `pending`, `snoozed` or `resolved`.
    pub status: ConversationStatus,
    /// With `snoozed`: until when.
    pub snoozed_until: Option<NaiveDateTime>,
    /// Who changes it (`None`: the snooze sweep).
    pub by: Option<UserId>,
}

/// Sets a support conversation's status and answers its row and whether anything changed
/// (setting the status it has changes nothing, but a new snooze time). Resolving also sets
/// `closed_at`/`closed_by` (what `conversation:closed` reports), counts the resolution and
/// ends the wait; any other status clears them. Queues the `conversation.status` webhook event
/// (and `conversation.closed` for a resolution) in the same transaction.
///
/// # Errors
/// [`DbError::NotFound`] for an unknown id; [`DbError::Invalid`] for a conversation that is
/// not a support conversation or is `closed`; a query failure.
pub fn set_status(
    conn: &mut DbConnection,
    change: &StatusChange,
) -> Result<(ConversationRow, bool), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let before = find(conn, change.conversation_id)?;
        if before.kind != ConversationKind::Support.as_str()
            || before.status() == ConversationStatus::Closed
        {
            return Err(DbError::Invalid(
                "status: only an open support conversation has a desk status".into(),
            ));
        }
        let same = before.status() == change.status
            && (change.status != ConversationStatus::Snoozed
                || before.snoozed_until == change.snoozed_until);
        if same {
            return Ok((before, false));
        }
        let at = now();
        let target = conversations::table.filter(conversations::id.eq(change.conversation_id));
        let status = change.status.as_str();
        on_conn!(conn, c => {
            if change.status == ConversationStatus::Resolved {
                diesel::update(target)
                    .set((
                        conversations::status.eq(status),
                        conversations::snoozed_until.eq(None::<NaiveDateTime>),
                        conversations::waiting_since.eq(None::<NaiveDateTime>),
                        conversations::resolved_at.eq(at),
                        conversations::resolutions.eq(conversations::resolutions + 1),
                        conversations::closed_at.eq(at),
                        conversations::closed_by.eq(change.by),
                    ))
                    .execute(c)
            } else {
                diesel::update(target)
                    .set((
                        conversations::status.eq(status),
                        conversations::snoozed_until.eq(change.snoozed_until),
                        conversations::closed_at.eq(None::<NaiveDateTime>),
                        conversations::closed_by.eq(None::<UserId>),
                    ))
                    .execute(c)
            }
        })?;
        if change.status == ConversationStatus::Resolved {
            metrics::record(conn, &before, DeskEvent::Resolution, at)?;
        }
        let row = find(conn, change.conversation_id)?;
        let data = serde_json::json!({
            "id": row.id,
            "status": status,
            "snoozed_until": row.snoozed_until.map(|t| t.and_utc()),
            "changed_by": change.by,
        });
        webhooks::enqueue(conn, row.project_id, webhooks::CONVERSATION_STATUS, data)?;
        if change.status == ConversationStatus::Resolved {
            let data = serde_json::json!({
                "id": row.id,
                "closed_by": row.closed_by,
                "closed_at": row.closed_at.map(|t| t.and_utc()),
            });
            webhooks::enqueue(conn, row.project_id, webhooks::CONVERSATION_CLOSED, data)?;
        }
        Ok((row, true))
    })
}

/// The snoozed conversations whose time has come, opened again (at most 100 per call): their
/// ids and last seqs. Each node's sweep runs it; the conditional update makes it happen once.
///
/// # Errors
/// A query failure.
pub fn wake_snoozed(conn: &mut DbConnection) -> Result<Vec<ConversationRow>, DbError> {
    use diesel::RunQueryDsl as _;
    let at = now();
    let due: Vec<ConversationId> = on_conn!(conn, c => {
        conversations::table
            .filter(conversations::status.eq(ConversationStatus::Snoozed.as_str()))
            .filter(conversations::snoozed_until.le(at))
            .select(conversations::id)
            .limit(100)
            .load(c)
    })?;
    let mut woken = Vec::new();
    for id in due {
        let change = StatusChange {
            conversation_id: id,
            status: ConversationStatus::Open,
            snoozed_until: None,
            by: None,
        };
        // Changed by someone else meanwhile: not ours to announce.
        if let Ok((row, true)) = set_status(conn, &change) {
            woken.push(row);
        }
    }
    Ok(woken)
}

/// What a stored message changes in its support conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskTouch {
    /// A customer wrote: the wait starts (if it had not), and a `pending` or `snoozed`
    /// conversation opens again, a `resolved` one too when `reopen`.
    Customer {
        /// Whether a resolved conversation opens again (`desk.resolved_reply = "reopen"`).
        reopen: bool,
    },
    /// The team answered in public: the wait ends, and the first response is recorded.
    Team,
}

/// Applies `touch` for a message stored at `at` in `conversation` (inside the batch's
/// transaction).
///
/// # Errors
/// A query failure.
pub fn touch(
    conn: &mut DbConnection,
    conversation: ConversationId,
    touch: DeskTouch,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let target = conversations::table.filter(conversations::id.eq(conversation));
    match touch {
        DeskTouch::Customer { reopen } => {
            on_conn!(conn, c => {
                diesel::update(target.filter(conversations::waiting_since.is_null()))
                    .set(conversations::waiting_since.eq(at))
                    .execute(c)
            })?;
            let mut wake = vec![
                ConversationStatus::Pending.as_str(),
                ConversationStatus::Snoozed.as_str(),
            ];
            if reopen {
                wake.push(ConversationStatus::Resolved.as_str());
            }
            on_conn!(conn, c => {
                diesel::update(target.filter(conversations::status.eq_any(&wake)))
                    .set((
                        conversations::status.eq(ConversationStatus::Open.as_str()),
                        conversations::snoozed_until.eq(None::<NaiveDateTime>),
                        conversations::closed_at.eq(None::<NaiveDateTime>),
                        conversations::closed_by.eq(None::<UserId>),
                    ))
                    .execute(c)
            })?;
        }
        DeskTouch::Team => {
            let first = on_conn!(conn, c => {
                diesel::update(target.filter(conversations::first_response_at.is_null()))
                    .set(conversations::first_response_at.eq(at))
                    .execute(c)
            })?;
            if first > 0 {
                let row = find(conn, conversation)?;
                metrics::record(conn, &row, DeskEvent::FirstResponse, at)?;
            }
            on_conn!(conn, c => {
                diesel::update(target.filter(conversations::waiting_since.is_not_null()))
                    .set(conversations::waiting_since.eq(None::<NaiveDateTime>))
                    .execute(c)
            })?;
        }
    }
    Ok(())
}

/// One conversation row, inside a write.
pub(crate) fn find(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<ConversationRow, DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        conversations::table
            .find(id)
            .select(ConversationRow::as_select())
            .first(c)
    })
    .optional()?
    .ok_or(DbError::NotFound)
}
