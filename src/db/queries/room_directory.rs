//! The room directory (`GET /api/v1/rooms`): a project's public groups and channels whose title
//! starts with a text, any case, by page.

use diesel::IntoSql;
use diesel::prelude::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, QueryDsl, SelectableHelper,
    TextExpressionMethods,
};
use diesel::sql_types::Bool;

use super::lower;
use super::users::directory::prefix_pattern;
use crate::db::models::ConversationRow;
use crate::db::schema::{conversations, participants};
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::{ConversationId, ConversationKind, ProjectId, UserId, Visibility};

/// The public groups and channels of `project` (only `kind` when given) whose title starts
/// with `prefix` (any case; all when empty), with an id above `after`, ascending, at most
/// `limit`.
///
/// # Errors
/// A query failure.
pub async fn search(
    conn: &mut ReadConn,
    project: ProjectId,
    prefix: &str,
    kind: Option<ConversationKind>,
    after: i64,
    limit: i64,
) -> Result<Vec<ConversationRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let pattern = prefix_pattern(prefix);
    let kinds: Vec<&str> = match kind {
        Some(kind) => vec![kind.as_str()],
        None => vec![
            ConversationKind::Group.as_str(),
            ConversationKind::Channel.as_str(),
        ],
    };
    let untitled_ok = prefix.is_empty();
    Ok(on_read!(conn, c => {
        conversations::table
            .filter(conversations::project_id.eq(project))
            .filter(conversations::visibility.eq(Visibility::Public.as_str()))
            .filter(conversations::kind.eq_any(&kinds))
            .filter(conversations::id.gt(after))
            .filter(
                lower(conversations::title)
                    .like(&pattern)
                    .escape('\\')
                    .or(conversations::title.is_null().and(untitled_ok.into_sql::<Bool>())),
            )
            .order(conversations::id.asc())
            .limit(limit)
            .select(ConversationRow::as_select())
            .load(c)
            .await
    })?)
}

/// Which of `ids` `user` takes part in.
///
/// # Errors
/// A query failure.
pub async fn joined(
    conn: &mut ReadConn,
    user: UserId,
    ids: &[ConversationId],
) -> Result<Vec<ConversationId>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        participants::table
            .filter(participants::user_id.eq(user))
            .filter(participants::conversation_id.eq_any(ids))
            .select(participants::conversation_id)
            .load(c)
            .await
    })?)
}
