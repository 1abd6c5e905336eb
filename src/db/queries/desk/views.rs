//! What the desk adds to conversation views: labels, and for customers the newest message that
//! is not an internal note.

use std::collections::BTreeMap;

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::api::ConversationView;
use crate::db::models::MessageRow;
use crate::db::schema::{conversation_labels, labels, messages};
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::ConversationId;

/// `rows` (each conversation's newest message), with an internal note replaced by the newest
/// message before it that is not one (or left out), unless `staff`.
///
/// # Errors
/// A query failure.
pub async fn public_last(
    conn: &mut ReadConn,
    rows: Vec<MessageRow>,
    staff: bool,
) -> Result<Vec<MessageRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    if staff || rows.iter().all(|row| !row.private) {
        return Ok(rows);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if !row.private {
            out.push(row);
            continue;
        }
        let earlier: Option<MessageRow> = on_read!(conn, c => {
            messages::table
                .filter(messages::conversation_id.eq(row.conversation_id))
                .filter(messages::seq.lt(row.seq))
                .filter(messages::private.eq(false))
                .order(messages::seq.desc())
                .select(MessageRow::as_select())
                .first(c)
                .await
        })
        .optional()?;
        out.extend(earlier);
    }
    Ok(out)
}

/// The label titles of each of `views`' conversations, ascending.
///
/// # Errors
/// A query failure.
pub async fn labels_of(
    conn: &mut ReadConn,
    views: &[ConversationView],
) -> Result<BTreeMap<ConversationId, Vec<String>>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let mut out: BTreeMap<ConversationId, Vec<String>> = BTreeMap::new();
    for chunk in views.chunks(500) {
        let ids: Vec<ConversationId> = chunk.iter().map(|v| v.id).collect();
        let pairs: Vec<(ConversationId, String)> = on_read!(conn, c => {
            conversation_labels::table
                .inner_join(labels::table)
                .filter(conversation_labels::conversation_id.eq_any(&ids))
                .order((conversation_labels::conversation_id, labels::title))
                .select((conversation_labels::conversation_id, labels::title))
                .load(c)
                .await
        })?;
        for (conversation, title) in pairs {
            out.entry(conversation).or_default().push(title);
        }
    }
    Ok(out)
}
