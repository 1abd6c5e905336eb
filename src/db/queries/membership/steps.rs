//! The steps of a participant change ([`super::change`]), each inside its transaction.

use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods, QueryDsl,
};

use super::Changed;
use crate::db::models::NewParticipant;
use crate::db::schema::{conversation_bans, invites, participants, users};
use crate::db::{DbConnection, DbError, now, on_conn};
use crate::domain::{ConversationId, MemberRole, ProjectId, UserId};

/// Fails unless every one of `users` is an active user of `project`.
pub(super) fn check_active(
    conn: &mut DbConnection,
    project: ProjectId,
    add: &[UserId],
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let mut wanted = add.to_vec();
    wanted.sort();
    wanted.dedup();
    let active: i64 = on_conn!(conn, c => {
        users::table
            .filter(users::id.eq_any(&wanted))
            .filter(users::project_id.eq(project))
            .filter(users::disabled.eq(false))
            .count()
            .get_result(c)
    })?;
    if usize::try_from(active).unwrap_or(0) != wanted.len() {
        return Err(DbError::Invalid(
            "participants: one or more of these users cannot be added".into(),
        ));
    }
    Ok(())
}

/// Checks the invite `code` of conversation `id` and, when `consume`, counts one use.
pub(super) fn use_invite(
    conn: &mut DbConnection,
    id: ConversationId,
    code: &str,
    consume: bool,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let at = now();
    if !consume {
        return crate::db::queries::invites::valid(conn, id, code, at)
            .then_some(())
            .ok_or(DbError::InviteInvalid);
    }
    // One statement checks and counts, so two last accepts cannot both pass.
    let used = on_conn!(conn, c => {
        diesel::update(
            invites::table
                .filter(invites::code.eq(code))
                .filter(invites::conversation_id.eq(id))
                .filter(invites::revoked_at.is_null())
                .filter(invites::expires_at.is_null().or(invites::expires_at.gt(at)))
                .filter(invites::max_uses.is_null().or(invites::uses.nullable().lt(invites::max_uses))),
        )
        .set(invites::uses.eq(invites::uses + 1))
        .execute(c)
    })?;
    if used == 0 {
        return Err(DbError::InviteInvalid);
    }
    Ok(())
}

pub(super) fn insert(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    added: &[(UserId, MemberRole)],
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    if added.is_empty() {
        return Ok(());
    }
    let at = now();
    let rows: Vec<NewParticipant> = added
        .iter()
        .map(|&(user_id, role)| NewParticipant {
            project_id: project,
            conversation_id: id,
            user_id,
            joined_at: at,
            role: role.as_str().to_string(),
        })
        .collect();
    // SQLite binds at most 32,766 values per statement: insert a channel's followers in chunks.
    for chunk in rows.chunks(4096) {
        on_conn!(conn, c => diesel::insert_into(participants::table).values(chunk).execute(c))?;
    }
    Ok(())
}

pub(super) fn delete(
    conn: &mut DbConnection,
    id: ConversationId,
    removed: &[UserId],
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    if removed.is_empty() {
        return Ok(());
    }
    on_conn!(conn, c => {
        diesel::delete(
            participants::table
                .filter(participants::conversation_id.eq(id))
                .filter(participants::user_id.eq_any(removed)),
        )
        .execute(c)
    })?;
    Ok(())
}

pub(super) fn set_role(
    conn: &mut DbConnection,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::update(
            participants::table
                .filter(participants::conversation_id.eq(id))
                .filter(participants::user_id.eq(user)),
        )
        .set(participants::role.eq(role.as_str()))
        .execute(c)
    })?;
    Ok(())
}

/// Bans each of `banned` (users of `project`; others are skipped) from conversation `id`.
pub(super) fn ban_users(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    banned: &[UserId],
    by: UserId,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let known: Vec<UserId> = on_conn!(conn, c => {
        users::table
            .filter(users::id.eq_any(banned))
            .filter(users::project_id.eq(project))
            .select(users::id)
            .load(c)
    })?;
    let at = now();
    for user in known {
        let row = (
            conversation_bans::conversation_id.eq(id),
            conversation_bans::user_id.eq(user),
            conversation_bans::project_id.eq(project),
            conversation_bans::banned_by.eq(Some(by)),
            conversation_bans::created_at.eq(at),
        );
        on_conn!(conn, c => {
            diesel::insert_into(conversation_bans::table)
                .values(row)
                .on_conflict((conversation_bans::conversation_id, conversation_bans::user_id))
                .do_nothing()
                .execute(c)
        })?;
    }
    Ok(())
}

/// Queues the `participant.added` / `participant.removed` / `participant.updated` webhook
/// deliveries of `changed`, in its transaction.
pub(super) fn announce(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    changed: &Changed,
) -> Result<(), DbError> {
    use crate::webhooks::{PARTICIPANT_ADDED, PARTICIPANT_REMOVED, PARTICIPANT_UPDATED, enqueue};
    for (user_id, role) in &changed.added {
        let data = serde_json::json!({"conversation_id": id, "user_id": user_id, "role": role});
        enqueue(conn, project, PARTICIPANT_ADDED, data)?;
    }
    for user_id in &changed.removed {
        let data = serde_json::json!({"conversation_id": id, "user_id": user_id});
        enqueue(conn, project, PARTICIPANT_REMOVED, data)?;
    }
    for (user_id, role) in &changed.updated {
        let data = serde_json::json!({"conversation_id": id, "user_id": user_id, "role": role});
        enqueue(conn, project, PARTICIPANT_UPDATED, data)?;
    }
    Ok(())
}
