//! Reads of the server API: conversations by page with their participants' external ids, and
//! users by external id in bulk.

use std::collections::HashMap;

use diesel::prelude::{ExpressionMethods, QueryDsl, SelectableHelper};

use crate::db::models::ConversationRow;
use crate::db::schema::{conversations, participants, users};
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::{ConversationId, ConversationStatus, ProjectId, UserId};

/// A participant as the server API shows it.
pub type Participant = (UserId, Option<String>);

/// Which conversations a page holds.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    /// The project.
    pub project: ProjectId,
    /// Only conversations with an id above this.
    pub after: i64,
    /// At most this many.
    pub limit: i64,
    /// Only conversations with this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations this user takes part in.
    pub participant: Option<UserId>,
    /// Only conversations with this kind (`direct`, `group`).
    pub kind: Option<&'a str>,
}

/// A page of the project's conversations, ascending by id.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    filter: Filter<'_>,
) -> Result<Vec<ConversationRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let status = filter.status.map(ConversationStatus::as_str);
    // Boxed per backend: the macro's body is built once for each.
    Ok(on_read!(conn, c => {
        let mut query = conversations::table
            .filter(conversations::project_id.eq(filter.project))
            .filter(conversations::id.gt(filter.after))
            .order(conversations::id.asc())
            .limit(filter.limit)
            .select(ConversationRow::as_select())
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(conversations::status.eq(status));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(conversations::kind.eq(kind));
        }
        if let Some(user) = filter.participant {
            let theirs = participants::table
                .filter(participants::user_id.eq(user))
                .select(participants::conversation_id);
            query = query.filter(conversations::id.eq_any(theirs));
        }
        query.load(c).await
    })?)
}

/// The participants of each of `ids`, ascending by user id, with their external ids.
///
/// # Errors
/// A query failure.
pub async fn participants_of(
    conn: &mut ReadConn,
    ids: &[ConversationId],
) -> Result<HashMap<ConversationId, Vec<Participant>>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let rows: Vec<(ConversationId, UserId, Option<String>)> = on_read!(conn, c => {
        participants::table
            .inner_join(users::table)
            .filter(participants::conversation_id.eq_any(ids))
            .order((participants::conversation_id.asc(), participants::user_id.asc()))
            .select((participants::conversation_id, participants::user_id, users::external_id))
            .load(c)
            .await
    })?;
    let mut by_conversation: HashMap<ConversationId, Vec<Participant>> = HashMap::new();
    for (conversation, user, external) in rows {
        by_conversation
            .entry(conversation)
            .or_default()
            .push((user, external));
    }
    Ok(by_conversation)
}

/// The active users of `project` with these external ids: external id → user id. Unknown and
/// deactivated ones are absent.
///
/// # Errors
/// A query failure.
pub async fn users_by_external(
    conn: &mut ReadConn,
    project: ProjectId,
    external_ids: &[String],
) -> Result<HashMap<String, UserId>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let rows: Vec<(Option<String>, UserId)> = on_read!(conn, c => {
        users::table
            .filter(users::project_id.eq(project))
            .filter(users::external_id.eq_any(external_ids))
            .filter(users::disabled.eq(false))
            .select((users::external_id, users::id))
            .load(c)
            .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(external, id)| Some((external?, id)))
        .collect())
}
