//! Conversations and their participants.

use std::collections::BTreeMap;

use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};

use crate::api::{ConversationView, DownloadLinks, MessageView};
use crate::db::models::{ConversationRow, MessageRow};
use crate::db::queries::participants as receipts;
use crate::db::schema::{conversations, messages, participants};
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MemberRole, ProjectId, UserId,
};

pub use super::rooms::{NewRoom, create};

/// Closes an open conversation; a closed one is returned unchanged.
///
/// # Errors
/// [`DbError::NotFound`] for an unknown id, or a query failure.
pub fn close(
    conn: &mut DbConnection,
    id: ConversationId,
    by: UserId,
) -> Result<ConversationRow, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let at = now();
        let closed = on_conn!(conn, c => {
            diesel::update(
                conversations::table
                    .filter(conversations::id.eq(id))
                    .filter(conversations::status.eq(ConversationStatus::Open.as_str())),
            )
            .set((
                conversations::status.eq(ConversationStatus::Closed.as_str()),
                conversations::closed_at.eq(at),
                conversations::closed_by.eq(by),
            ))
            .execute(c)
        })?;
        let row = on_conn!(conn, c => {
            conversations::table
                .find(id)
                .select(ConversationRow::as_select())
                .first(c)
        })
        .optional()?
        .ok_or(DbError::NotFound)?;
        if closed > 0 {
            let data = serde_json::json!({
                "id": row.id,
                "closed_by": row.closed_by,
                "closed_at": row.closed_at.map(|t| t.and_utc()),
            });
            crate::webhooks::enqueue(
                conn,
                row.project_id,
                crate::webhooks::CONVERSATION_CLOSED,
                data,
            )?;
        }
        Ok(row)
    })
}

/// One conversation row (any project; callers check visibility).
///
/// # Errors
/// A query failure; unknown is `Ok(None)`.
pub async fn find(
    conn: &mut ReadConn,
    id: ConversationId,
) -> Result<Option<ConversationRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        conversations::table
            .find(id)
            .select(ConversationRow::as_select())
            .first(c)
            .await
    })
    .optional()?)
}

/// The stored version of each of `ids` that exists.
///
/// # Errors
/// A query failure.
pub async fn versions(
    conn: &mut ReadConn,
    ids: &[ConversationId],
) -> Result<Vec<(ConversationId, i64)>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let query = conversations::table
        .filter(conversations::id.eq_any(ids))
        .select((conversations::id, conversations::version));
    Ok(on_read!(conn, c => query.load(c).await)?)
}

/// The participants of one conversation, ascending.
///
/// # Errors
/// A query failure.
pub async fn participant_ids(
    conn: &mut ReadConn,
    id: ConversationId,
) -> Result<Vec<UserId>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        participants::table
            .filter(participants::conversation_id.eq(id))
            .select(participants::user_id)
            .order(participants::user_id.asc())
            .load(c)
            .await
    })?)
}

/// One conversation with its participants, ascending: what a conversation view and the access
/// policy's facts are made of.
///
/// # Errors
/// A query failure; unknown is `Ok(None)`.
pub async fn with_participants(
    conn: &mut ReadConn,
    id: ConversationId,
) -> Result<Option<(ConversationRow, Vec<UserId>)>, DbError> {
    let Some(row) = find(conn, id).await? else {
        return Ok(None);
    };
    let members = participant_ids(conn, id).await?;
    Ok(Some((row, members)))
}

/// The conversations of the project within `reach` of `user`, filtered by `page`;
/// newest activity first, with the caller's receipts and each `last_message`.
///
/// # Errors
/// A query failure.
pub async fn list(
    conn: &mut ReadConn,
    project: ProjectId,
    user: UserId,
    reach: Reach,
    page: ListPage,
    links: &DownloadLinks,
) -> Result<(Vec<ConversationView>, Option<ListCursor>), DbError> {
    use diesel_async::RunQueryDsl as _;
    let order = (
        conversations::last_activity_at.desc(),
        conversations::id.desc(),
    );
    // Keyset: strictly after the cursor in (last_activity_at, id) descending order.
    // Without a cursor: before a time no row reaches (SQLite compares stored text, so a
    // four-digit year, not chrono's MAX).
    let end = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .unwrap_or_default()
        .and_time(chrono::NaiveTime::MIN);
    let (at, id) = page.before.map_or((end, ConversationId(i64::MAX)), |c| {
        (c.last_activity_at, c.id)
    });
    let older = conversations::last_activity_at
        .lt(at)
        .or(conversations::last_activity_at
            .eq(at)
            .and(conversations::id.lt(id)));
    let mine = participants::table
        .filter(participants::user_id.eq(user))
        .select(participants::conversation_id);
    let status = page.status.map(ConversationStatus::as_str);
    let kind = page.kind.map(ConversationKind::as_str);
    let rows: Vec<ConversationRow> = on_read!(conn, c => {
        let mut query = conversations::table
            .filter(conversations::project_id.eq(project))
            .filter(older)
            .select(ConversationRow::as_select())
            .order(order)
            .limit(page.limit)
            .into_boxed();
        match reach {
            Reach::All => {}
            Reach::MineAndSupport => {
                query = query.filter(
                    conversations::id
                        .eq_any(mine)
                        .or(conversations::kind.eq(ConversationKind::Support.as_str())),
                );
            }
            Reach::Mine => query = query.filter(conversations::id.eq_any(mine)),
        }
        if let Some(status) = status {
            query = query.filter(conversations::status.eq(status));
        }
        if let Some(kind) = kind {
            query = query.filter(conversations::kind.eq(kind));
        }
        query.load(c).await
    })?;
    let next = (i64::try_from(rows.len()).unwrap_or(0) == page.limit)
        .then(|| rows.last())
        .flatten()
        .map(|row| ListCursor {
            last_activity_at: row.last_activity_at,
            id: row.id,
        });
    let ids: Vec<ConversationId> = rows.iter().map(|row| row.id).collect();
    let mut members = participants_of_many(conn, &ids).await?;
    let views = rows
        .iter()
        .map(|row| row.view(members.remove(&row.id).unwrap_or_default()))
        .collect();
    let mut views = with_receipts(conn, (user, reach != Reach::Mine), links, views).await?;
    // Stored activity times are a second coarse: order the page by the exact ones.
    views.sort_by_key(|view| std::cmp::Reverse((view.last_activity_at, view.id)));
    Ok((views, next))
}

/// The participants of each of `ids`, ascending.
///
/// # Errors
/// A query failure.
pub async fn participants_of_many(
    conn: &mut ReadConn,
    ids: &[ConversationId],
) -> Result<BTreeMap<ConversationId, Vec<UserId>>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let query = participants::table
        .select((participants::conversation_id, participants::user_id))
        .filter(participants::conversation_id.eq_any(ids))
        .order((participants::conversation_id, participants::user_id));
    let pairs: Vec<(ConversationId, UserId)> = on_read!(conn, c => query.load(c).await)?;
    let mut members: BTreeMap<ConversationId, Vec<UserId>> = BTreeMap::new();
    for (conversation, user) in pairs {
        members.entry(conversation).or_default().push(user);
    }
    Ok(members)
}

/// Where a page of [`list`] starts: after the previous page's last conversation, in
/// (stored `last_activity_at`, id) order, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    /// The stored activity time of the previous page's last conversation.
    pub last_activity_at: chrono::NaiveDateTime,
    /// Its id.
    pub id: ConversationId,
}

impl ListCursor {
    /// The opaque wire form: `<activity in µs since the epoch>.<id>`.
    pub fn encode(self) -> String {
        format!(
            "{}.{}",
            self.last_activity_at.and_utc().timestamp_micros(),
            self.id
        )
    }

    /// Parses [`ListCursor::encode`]'s form; `None` for anything else.
    pub fn decode(raw: &str) -> Option<Self> {
        let (micros, id) = raw.split_once('.')?;
        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        Some(Self {
            last_activity_at: at,
            id: ConversationId(id.parse().ok()?),
        })
    }
}

/// Which conversations of the project [`list`] holds for its user (`policy` decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every one (admins).
    All,
    /// Those the user takes part in, and every support conversation (agents).
    MineAndSupport,
    /// Those the user takes part in.
    Mine,
}

/// One page of [`list`]: at most `limit`, after `before` when given.
#[derive(Debug, Clone, Copy)]
pub struct ListPage {
    /// Page size.
    pub limit: i64,
    /// The previous page's cursor.
    pub before: Option<ListCursor>,
    /// Only conversations with this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations of this kind.
    pub kind: Option<ConversationKind>,
}

/// Fills `last_read_seq`, `unread_count`, `unread_mentions` (for `user`), `last_message`
/// (links signed by `links`, reactions' `me` for `user`; the newest that is not an internal
/// note unless `staff`) and `labels` into `views`.
///
/// # Errors
/// A query failure.
pub async fn with_receipts(
    conn: &mut ReadConn,
    (user, staff): (UserId, bool),
    links: &DownloadLinks,
    mut views: Vec<ConversationView>,
) -> Result<Vec<ConversationView>, DbError> {
    use diesel_async::RunQueryDsl as _;
    // One conversation (a single view): count only its unread messages.
    let only = match views.as_slice() {
        [view] => Some(view.id),
        _ => None,
    };
    let unread: BTreeMap<ConversationId, (i64, i64, MemberRole)> =
        receipts::unread(conn, (user, staff), only)
            .await?
            .into_iter()
            .map(|u| (u.conversation_id, (u.last_read_seq, u.unread, u.role)))
            .collect();
    let mentions = super::extras::unread_mentions(conn, user, only).await?;
    // Last messages by (conversation_id, seq) through the unique index, 500 conversations at a
    // time (SQLite caps bound variables).
    let mut last: BTreeMap<ConversationId, MessageView> = BTreeMap::new();
    for chunk in views.chunks(500) {
        let ids: Vec<ConversationId> = chunk.iter().map(|v| v.id).collect();
        let rows: Vec<MessageRow> = on_read!(conn, c => {
            messages::table
                .inner_join(
                    conversations::table.on(conversations::id
                        .eq(messages::conversation_id)
                        .and(conversations::last_seq.eq(messages::seq))),
                )
                .filter(conversations::id.eq_any(&ids))
                .select(MessageRow::as_select())
                .load(c)
                .await
        })?;
        let rows = super::desk::public_last(conn, rows, staff).await?;
        let views = super::extras::views_for(conn, rows, Some(user), links).await?;
        last.extend(views.into_iter().map(|view| (view.conversation_id, view)));
    }
    let mut labels = super::desk::labels_of(conn, &views).await?;
    for view in &mut views {
        if let Some((read, count, role)) = unread.get(&view.id) {
            view.last_read_seq = Some(*read);
            view.unread_count = Some(*count);
            view.unread_mentions = Some(mentions.get(&view.id).copied().unwrap_or(0));
            view.member_role = Some(*role);
        }
        view.last_message = last.remove(&view.id);
        view.labels = labels.remove(&view.id).unwrap_or_default();
        // The stored time moves at most once a second (`ACTIVITY_RESOLUTION`); the newest
        // message has the exact one.
        if let Some(message) = &view.last_message {
            view.last_activity_at = view.last_activity_at.max(message.created_at);
        }
    }
    Ok(views)
}
