//! Changing a conversation's participants after its creation (server API): who was added and
//! who removed, in one transaction with the conversation's participant count and the
//! `participant.added` / `participant.removed` webhook deliveries.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::db::models::{ConversationRow, NewParticipant};
use crate::db::schema::{conversations, participants, users};
use crate::db::{DbConnection, DbError, now, on_conn, write_transaction};
use crate::domain::{ConversationId, ConversationKind, MemberRole, ProjectId, UserId};

/// What a participant change did.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The conversation after it (`last_seq` orders the change after the messages before it).
    pub row: ConversationRow,
    /// Users who were not participants and now are.
    pub added: Vec<UserId>,
    /// Users who were participants and no longer are.
    pub removed: Vec<UserId>,
}

/// Adds `add` to and removes `remove` from conversation `id` of `project`. Users already in
/// (or already out) are left as they are, so the call is idempotent.
///
/// # Errors
/// [`DbError::NotFound`] when the project has no such conversation; [`DbError::Invalid`] when
/// one of `add` is not an active user of the project; [`DbError::Invalid`] when the result
/// would exceed `max_participants`; a query failure.
pub fn change(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    add: &[UserId],
    remove: &[UserId],
    max_participants: usize,
) -> Result<Changed, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let found: Option<(ProjectId, String)> = on_conn!(conn, c => {
            conversations::table
                .find(id)
                .select((conversations::project_id, conversations::kind))
                .first(c)
        })
        .optional()?;
        let Some((_, kind)) = found.filter(|(p, _)| *p == project) else {
            return Err(DbError::NotFound);
        };
        // Channels gain followers; every other kind, members.
        let role = match ConversationKind::from_stored(&kind) {
            ConversationKind::Channel => MemberRole::Follower,
            _ => MemberRole::Member,
        };
        let active: i64 = on_conn!(conn, c => {
            users::table
                .filter(users::id.eq_any(add))
                .filter(users::project_id.eq(project))
                .filter(users::disabled.eq(false))
                .count()
                .get_result(c)
        })?;
        let mut wanted: Vec<UserId> = add.to_vec();
        wanted.sort();
        wanted.dedup();
        if usize::try_from(active).unwrap_or(0) != wanted.len() {
            return Err(DbError::Invalid(
                "participants: one or more of these users cannot be added".into(),
            ));
        }
        let current: Vec<UserId> = on_conn!(conn, c => {
            participants::table
                .filter(participants::conversation_id.eq(id))
                .select(participants::user_id)
                .load(c)
        })?;
        let added: Vec<UserId> = wanted
            .into_iter()
            .filter(|u| !current.contains(u) && !remove.contains(u))
            .collect();
        let removed: Vec<UserId> = current
            .iter()
            .copied()
            .filter(|u| remove.contains(u))
            .collect();
        let count = current.len() + added.len() - removed.len();
        if count > max_participants {
            return Err(DbError::Invalid(format!(
                "participants: at most {max_participants} participants"
            )));
        }
        let at = now();
        let rows: Vec<NewParticipant> = added
            .iter()
            .map(|&user_id| NewParticipant {
                project_id: project,
                conversation_id: id,
                user_id,
                joined_at: at,
                role: role.as_str().to_string(),
            })
            .collect();
        if !rows.is_empty() {
            on_conn!(conn, c => diesel::insert_into(participants::table).values(&rows).execute(c))?;
        }
        if !removed.is_empty() {
            on_conn!(conn, c => {
                diesel::delete(
                    participants::table
                        .filter(participants::conversation_id.eq(id))
                        .filter(participants::user_id.eq_any(&removed)),
                )
                .execute(c)
            })?;
        }
        for (users, event) in [
            (&added, crate::webhooks::PARTICIPANT_ADDED),
            (&removed, crate::webhooks::PARTICIPANT_REMOVED),
        ] {
            for user_id in users {
                let data = serde_json::json!({"conversation_id": id, "user_id": user_id});
                crate::webhooks::enqueue(conn, project, event, data)?;
            }
        }
        let row = on_conn!(conn, c => {
            diesel::update(conversations::table.find(id))
                .set(conversations::participant_count.eq(i64::try_from(count).unwrap_or(i64::MAX)))
                .returning(ConversationRow::as_returning())
                .get_result(c)
        })?;
        Ok(Changed {
            row,
            added,
            removed,
        })
    })
}
