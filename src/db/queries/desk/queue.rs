//! The desk's queue: a project's support conversations by status, assignee and label, the
//! longest waiting first (`waiting_since`; conversations nobody waits on follow, oldest
//! first), by keyset.

use chrono::NaiveDateTime;
use diesel::prelude::{BoolExpressionMethods, ExpressionMethods, QueryDsl, SelectableHelper};

use crate::db::models::ConversationRow;
use crate::db::schema::{conversation_labels, conversations, labels};
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::{ConversationId, ConversationKind, ConversationStatus, ProjectId, UserId};

diesel::define_sql_function! {
    /// SQL `coalesce(timestamp, timestamp)`.
    #[sql_name = "coalesce"]
    fn coalesce_time(
        x: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
        y: diesel::sql_types::Timestamp
    ) -> diesel::sql_types::Timestamp;
}

/// Whose conversations: `me`, `none` (unassigned) or `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    /// Assigned to this agent.
    User(UserId),
    /// Unassigned.
    Nobody,
    /// Anyone's or nobody's.
    Any,
}

/// Where a page starts: after this (wait key, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    /// The previous page's last `coalesce(waiting_since, created_at + far future)` key.
    pub key: NaiveDateTime,
    /// Its id.
    pub id: ConversationId,
}

impl QueueCursor {
    /// `"<unix micros>.<id>"`, opaque to clients.
    pub fn encode(self) -> String {
        format!("{}.{}", self.key.and_utc().timestamp_micros(), self.id.0)
    }

    /// Parses [`QueueCursor::encode`]'s form.
    pub fn decode(raw: &str) -> Option<Self> {
        let (key, id) = raw.split_once('.')?;
        let key = chrono::DateTime::from_timestamp_micros(key.parse().ok()?)?.naive_utc();
        Some(Self {
            key,
            id: ConversationId(id.parse().ok()?),
        })
    }
}

/// A page of the queue.
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// Only this status (`None`: every status).
    pub status: Option<ConversationStatus>,
    /// Whose.
    pub assignee: Assignee,
    /// Only conversations with the label of this title.
    pub label: Option<String>,
    /// After this.
    pub after: Option<QueueCursor>,
    /// At most this many.
    pub limit: i64,
}

/// The sort key of a conversation nobody waits on: after every waiting one.
fn idle_key() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .unwrap_or_default()
        .and_time(chrono::NaiveTime::MIN)
}

/// The queue's rows for `page`, and where the next page starts when it may go on.
///
/// # Errors
/// A query failure.
pub async fn queue(
    conn: &mut ReadConn,
    project: ProjectId,
    page: &QueuePage,
) -> Result<(Vec<ConversationRow>, Option<QueueCursor>), DbError> {
    use diesel_async::RunQueryDsl as _;
    let key = coalesce_time(conversations::waiting_since, idle_key());
    let status = page.status.map(ConversationStatus::as_str);
    let labelled = page.label.clone().map(|title| {
        conversation_labels::table
            .inner_join(labels::table)
            .filter(labels::project_id.eq(project))
            .filter(labels::title.eq(title))
            .select(conversation_labels::conversation_id)
    });
    let rows: Vec<ConversationRow> = on_read!(conn, c => {
        let mut query = conversations::table
            .filter(conversations::project_id.eq(project))
            .filter(conversations::kind.eq(ConversationKind::Support.as_str()))
            .select(ConversationRow::as_select())
            .order((key.asc(), conversations::id.asc()))
            .limit(page.limit)
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(conversations::status.eq(status));
        }
        match page.assignee {
            Assignee::User(user) => {
                query = query.filter(conversations::assignee_id.eq(user));
            }
            Assignee::Nobody => query = query.filter(conversations::assignee_id.is_null()),
            Assignee::Any => {}
        }
        if let Some(labelled) = labelled {
            query = query.filter(conversations::id.eq_any(labelled));
        }
        if let Some(after) = page.after {
            let key = coalesce_time(conversations::waiting_since, idle_key());
            query = query.filter(
                key.gt(after.key)
                    .or(key.eq(after.key).and(conversations::id.gt(after.id))),
            );
        }
        query.load(c).await
    })?;
    let full = i64::try_from(rows.len()).ok() == Some(page.limit);
    let next = rows.last().filter(|_| full).map(|row| QueueCursor {
        key: row.waiting_since.unwrap_or_else(idle_key),
        id: row.id,
    });
    Ok((rows, next))
}
