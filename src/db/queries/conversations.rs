//! Conversations and their participants.

use std::collections::BTreeMap;

use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl,
    SelectableHelper,
};

use crate::api::{ConversationView, DownloadLinks, MessageView};
use crate::db::models::{ConversationRow, MessageRow, NewConversation, NewParticipant};
use crate::db::queries::participants as receipts;
use crate::db::schema::{conversations, messages, participants};
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{
    ConversationId, ConversationKind, ConversationStatus, MemberRole, ProjectId, UserId, Visibility,
};

/// A conversation to create: who, what kind, what it shows.
#[derive(Debug, Clone)]
pub struct NewRoom {
    /// The project.
    pub project_id: ProjectId,
    /// The creator (a participant, or the project's system user for the server API).
    pub created_by: UserId,
    /// Every participant, deduplicated (the creator included when they take part).
    pub participant_ids: Vec<UserId>,
    /// The kind (checked by the caller: `direct` has exactly two participants).
    pub kind: ConversationKind,
    /// Optional title (validated).
    pub title: Option<String>,
    /// Optional description (validated).
    pub description: Option<String>,
    /// `public` or `private` (always private for direct and support).
    pub visibility: Visibility,
}

impl NewRoom {
    /// The role `user` starts with: the creator owns a group or channel; the others of a
    /// channel follow it; everyone else is a member.
    fn role_of(&self, user: UserId) -> MemberRole {
        match self.kind {
            ConversationKind::Group | ConversationKind::Channel if user == self.created_by => {
                MemberRole::Owner
            }
            ConversationKind::Channel => MemberRole::Follower,
            _ => MemberRole::Member,
        }
    }

    /// A direct conversation's pair: `"<lower id>:<higher id>"`.
    fn direct_key(&self) -> Option<String> {
        match (self.kind, self.participant_ids.as_slice()) {
            (ConversationKind::Direct, [a, b]) => Some(format!("{}:{}", a.min(b), a.max(b))),
            _ => None,
        }
    }
}

/// The direct conversation of `key` in `project`, with its participants.
fn find_direct(
    conn: &mut DbConnection,
    project: ProjectId,
    key: &str,
) -> Result<Option<ConversationView>, DbError> {
    use diesel::RunQueryDsl as _;
    let row: Option<ConversationRow> = on_conn!(conn, c => {
        conversations::table
            .filter(conversations::project_id.eq(project))
            .filter(conversations::direct_key.eq(key))
            .select(ConversationRow::as_select())
            .first(c)
    })
    .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let ids: Vec<UserId> = on_conn!(conn, c => {
        participants::table
            .filter(participants::conversation_id.eq(row.id))
            .order(participants::user_id.asc())
            .select(participants::user_id)
            .load(c)
    })?;
    Ok(Some(row.view(ids)))
}

/// Creates a conversation; a direct one whose pair has one already answers that one instead
/// (`false`: nothing was created).
///
/// # Errors
/// A query failure (an unknown user id fails the foreign key).
pub fn create(
    conn: &mut DbConnection,
    room: &NewRoom,
) -> Result<(ConversationView, bool), DbError> {
    use diesel::RunQueryDsl as _;
    let direct_key = room.direct_key();
    let created: Result<(ConversationView, bool), DbError> = write_transaction(conn, |conn| {
        if let Some(key) = &direct_key
            && let Some(existing) = find_direct(conn, room.project_id, key)?
        {
            return Ok((existing, false));
        }
        let at = now();
        let new = NewConversation {
            project_id: room.project_id,
            title: room.title.clone(),
            kind: room.kind.as_str().to_string(),
            created_by: room.created_by,
            created_at: at,
            last_activity_at: at,
            participant_count: i64::try_from(room.participant_ids.len()).unwrap_or(i64::MAX),
            description: room.description.clone(),
            visibility: room.visibility.as_str().to_string(),
            direct_key: direct_key.clone(),
        };
        let row: ConversationRow = on_conn!(conn, c => {
            diesel::insert_into(conversations::table)
                .values(&new)
                .returning(ConversationRow::as_returning())
                .get_result(c)
        })?;
        let members: Vec<NewParticipant> = room
            .participant_ids
            .iter()
            .map(|&user_id| NewParticipant {
                project_id: room.project_id,
                conversation_id: row.id,
                user_id,
                joined_at: at,
                role: room.role_of(user_id).as_str().to_string(),
            })
            .collect();
        on_conn!(conn, c => diesel::insert_into(participants::table).values(&members).execute(c))?;
        let mut ids = room.participant_ids.clone();
        ids.sort();
        let view = row.view(ids);
        let data = serde_json::to_value(&view).unwrap_or_default();
        crate::webhooks::enqueue(
            conn,
            room.project_id,
            crate::webhooks::CONVERSATION_CREATED,
            data,
        )?;
        Ok((view, true))
    });
    match (created, &direct_key) {
        // Another writer created the pair's conversation first: answer that one.
        (Err(err), Some(key)) if err.is_unique_violation() => {
            find_direct(conn, room.project_id, key)?
                .map(|view| (view, false))
                .ok_or(err)
        }
        (other, _) => other,
    }
}

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

/// The conversations `user` takes part in, or (when `all`) every conversation of the project;
/// newest activity first, with the caller's receipts and each `last_message`.
///
/// # Errors
/// A query failure.
pub async fn list(
    conn: &mut ReadConn,
    project: ProjectId,
    user: UserId,
    all: bool,
    links: &DownloadLinks,
) -> Result<Vec<ConversationView>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let order = (
        conversations::last_activity_at.desc(),
        conversations::id.desc(),
    );
    let rows: Vec<ConversationRow> = if all {
        on_read!(conn, c => {
            conversations::table
                .filter(conversations::project_id.eq(project))
                .select(ConversationRow::as_select())
                .order(order)
                .load(c)
                .await
        })?
    } else {
        on_read!(conn, c => {
            conversations::table
                .inner_join(participants::table)
                .filter(conversations::project_id.eq(project))
                .filter(participants::user_id.eq(user))
                .select(ConversationRow::as_select())
                .order(order)
                .load(c)
                .await
        })?
    };
    // Participants through a subquery, not an id list: SQLite caps bound variables.
    let pairs_query = participants::table
        .select((participants::conversation_id, participants::user_id))
        .order((participants::conversation_id, participants::user_id));
    let pairs: Vec<(ConversationId, UserId)> = if all {
        let query = pairs_query.filter(participants::project_id.eq(project));
        on_read!(conn, c => query.load(c).await)?
    } else {
        let mine = diesel::alias!(participants as mine);
        let query = pairs_query.filter(
            participants::conversation_id.eq_any(
                mine.filter(mine.field(participants::user_id).eq(user))
                    .select(mine.field(participants::conversation_id)),
            ),
        );
        on_read!(conn, c => query.load(c).await)?
    };
    let mut members: BTreeMap<ConversationId, Vec<UserId>> = BTreeMap::new();
    for (conversation, user) in pairs {
        members.entry(conversation).or_default().push(user);
    }
    let views = rows
        .iter()
        .map(|row| row.view(members.remove(&row.id).unwrap_or_default()))
        .collect();
    let mut views = with_receipts(conn, user, links, views).await?;
    // Stored activity times are a second coarse: order by the exact ones.
    views.sort_by_key(|view| std::cmp::Reverse((view.last_activity_at, view.id)));
    Ok(views)
}

/// Fills `last_read_seq`, `unread_count` (for `user`) and `last_message` (links signed by
/// `links`) into `views`.
///
/// # Errors
/// A query failure.
pub async fn with_receipts(
    conn: &mut ReadConn,
    user: UserId,
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
        receipts::unread(conn, user, only)
            .await?
            .into_iter()
            .map(|u| (u.conversation_id, (u.last_read_seq, u.unread, u.role)))
            .collect();
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
        last.extend(
            rows.into_iter()
                .map(|row| (row.conversation_id, row.into_view(links))),
        );
    }
    for view in &mut views {
        if let Some((read, count, role)) = unread.get(&view.id) {
            view.last_read_seq = Some(*read);
            view.unread_count = Some(*count);
            view.member_role = Some(*role);
        }
        view.last_message = last.remove(&view.id);
        // The stored time moves at most once a second (`ACTIVITY_RESOLUTION`); the newest
        // message has the exact one.
        if let Some(message) = &view.last_message {
            view.last_activity_at = view.last_activity_at.max(message.created_at);
        }
    }
    Ok(views)
}
