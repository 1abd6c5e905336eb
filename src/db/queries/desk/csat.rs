//! Customer satisfaction: the customer rates a resolved support conversation, once per
//! resolution (`csat_responses.resolution` is the conversation's `resolutions` count then).

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, QueryDsl, Queryable, Selectable};

use super::find;
use crate::db::schema::csat_responses;
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{ConversationId, ConversationStatus, ProjectId, UserId};
use crate::protocol::CsatEvent;
use crate::webhooks;

/// A stored rating.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = csat_responses)]
pub struct CsatRow {
    /// Primary key.
    pub id: i64,
    /// Tenant.
    pub project_id: ProjectId,
    /// The rated conversation.
    pub conversation_id: ConversationId,
    /// Which resolution of it (its `resolutions` count when rated).
    pub resolution: i64,
    /// The customer who rated it.
    pub user_id: UserId,
    /// Its assignee when rated.
    pub assignee_id: Option<UserId>,
    /// 1 to 5.
    pub rating: i32,
    /// At most 1000 characters, or null.
    pub comment: Option<String>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

impl CsatRow {
    /// The `csat` frame's data, also the REST answer.
    pub fn event(&self) -> CsatEvent {
        CsatEvent {
            conversation_id: self.conversation_id,
            user_id: self.user_id,
            rating: self.rating,
            comment: self.comment.clone(),
            assignee_id: self.assignee_id,
            created_at: self.created_at.and_utc(),
        }
    }
}

/// Stores `user`'s rating of conversation `id` of `project` for its current resolution, and
/// queues the `csat.created` webhook event: the row and the conversation's last seq.
///
/// # Errors
/// [`DbError::NotFound`] for a conversation of another project; [`DbError::Conflict`] when it
/// is not resolved, or this resolution is rated already; a query failure.
pub fn rate(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    user: UserId,
    rating: i32,
    comment: Option<&str>,
) -> Result<(CsatRow, i64), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let conversation = find(conn, id)?;
        if conversation.project_id != project {
            return Err(DbError::NotFound);
        }
        if conversation.status() != ConversationStatus::Resolved {
            return Err(DbError::Conflict(
                "the conversation is not resolved: ratings are taken after its resolution".into(),
            ));
        }
        let resolution = conversation.resolutions;
        let this = csat_responses::table
            .filter(csat_responses::conversation_id.eq(id))
            .filter(csat_responses::resolution.eq(resolution));
        let rated: i64 = on_conn!(conn, c => this.count().get_result(c))?;
        if rated > 0 {
            return Err(DbError::Conflict(
                "this resolution of the conversation is rated already".into(),
            ));
        }
        on_conn!(conn, c => {
            diesel::insert_into(csat_responses::table)
                .values((
                    csat_responses::project_id.eq(project),
                    csat_responses::conversation_id.eq(id),
                    csat_responses::resolution.eq(resolution),
                    csat_responses::user_id.eq(user),
                    csat_responses::assignee_id.eq(conversation.assignee_id),
                    csat_responses::rating.eq(rating),
                    csat_responses::comment.eq(comment),
                    csat_responses::created_at.eq(now()),
                ))
                .execute(c)
        })?;
        let row: CsatRow = on_conn!(conn, c => {
            this.select(<CsatRow as diesel::SelectableHelper<_>>::as_select())
                .first(c)
        })?;
        let data = serde_json::to_value(row.event())
            .map_err(|e| DbError::Commit(format!("csat event: {e}")))?;
        webhooks::enqueue(conn, project, webhooks::CSAT_CREATED, data)?;
        Ok((row, conversation.last_seq))
    })
}

/// Conversation `id`'s ratings, newest first, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn ratings(
    conn: &mut ReadConn,
    id: ConversationId,
    limit: i64,
) -> Result<Vec<CsatRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        csat_responses::table
            .filter(csat_responses::conversation_id.eq(id))
            .order(csat_responses::id.desc())
            .limit(limit)
            .select(<CsatRow as diesel::SelectableHelper<_>>::as_select())
            .load(c)
            .await
    })?)
}
