//! Creating a conversation: its kind, its participants' starting roles, and the one direct
//! conversation of a pair.

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

use crate::api::ConversationView;
use crate::db::models::{ConversationRow, NewConversation, NewParticipant};
use crate::db::schema::{conversations, participants};
use crate::db::{DbConnection, DbError, now, on_conn, write_transaction};
use crate::domain::{ConversationKind, MemberRole, ProjectId, UserId, Visibility};

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
