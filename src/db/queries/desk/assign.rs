//! Assignment: an agent or admin assigns a support conversation (or unassigns it), or the
//! server gives a new one to the `online` agent with the fewest open conversations below
//! `desk.max_open_per_agent`, the one assigned longest ago on ties (round robin). Agents'
//! availability is stored per agent (`agent_states`), set by them and made `offline` by
//! presence when their last session ends.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl,
};
use serde::Serialize;

use super::find;
use crate::db::models::ConversationRow;
use crate::db::schema::{agent_states, conversations, users};
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{
    Availability, ConversationId, ConversationKind, ConversationStatus, ProjectId, Role, UserId,
};
use crate::webhooks;

/// The statuses that count as an agent's open load.
const OPEN_LOAD: [&str; 2] = ["open", "pending"];

/// Assigns support conversation `id` of `project` to `assignee` (`None`: unassigns it), `by`
/// an agent or admin (`None`: auto-assignment). Answers the row and whether it changed; queues
/// the `conversation.assigned` webhook event with a change.
///
/// # Errors
/// [`DbError::NotFound`] for an unknown conversation; [`DbError::Invalid`] for an assignee who
/// is not an enabled agent or admin of the project, or a conversation that is not a support
/// conversation; a query failure.
pub fn assign(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    assignee: Option<UserId>,
    by: Option<UserId>,
) -> Result<(ConversationRow, bool), DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let before = find(conn, id)?;
        if before.project_id != project {
            return Err(DbError::NotFound);
        }
        if before.kind != ConversationKind::Support.as_str() {
            return Err(DbError::Invalid(
                "assignee_id: only support conversations are assigned".into(),
            ));
        }
        if let Some(agent) = assignee {
            let staff: i64 = on_conn!(conn, c => {
                users::table
                    .filter(users::id.eq(agent))
                    .filter(users::project_id.eq(project))
                    .filter(users::disabled.eq(false))
                    .filter(users::role.eq_any([Role::Agent.as_str(), Role::Admin.as_str()]))
                    .count()
                    .get_result(c)
            })?;
            if staff == 0 {
                return Err(DbError::Invalid(
                    "assignee_id: not an agent or admin of this project".into(),
                ));
            }
        }
        if before.assignee_id == assignee {
            return Ok((before, false));
        }
        on_conn!(conn, c => {
            diesel::update(conversations::table.filter(conversations::id.eq(id)))
                .set(conversations::assignee_id.eq(assignee))
                .execute(c)
        })?;
        if let Some(agent) = assignee {
            mark_assigned(conn, project, agent, now())?;
        }
        let row = find(conn, id)?;
        let data = serde_json::json!({"id": id, "assignee_id": assignee, "assigned_by": by});
        webhooks::enqueue(conn, project, webhooks::CONVERSATION_ASSIGNED, data)?;
        Ok((row, true))
    })
}

/// Gives unassigned support conversation `id` to the `online` agent (or admin) of `project`
/// with the fewest open conversations assigned, below `max_open`; on ties, the one assigned
/// longest ago (never first), then the lowest id. `Ok(None)` when nobody qualifies (it waits
/// in the queue) or it has an assignee already.
///
/// # Errors
/// A query failure.
pub fn auto_assign(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    max_open: u32,
) -> Result<Option<ConversationRow>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let row = find(conn, id)?;
        if row.assignee_id.is_some() || row.status() == ConversationStatus::Resolved {
            return Ok(None);
        }
        let online: Vec<(UserId, Option<NaiveDateTime>)> = on_conn!(conn, c => {
            agent_states::table
                .inner_join(users::table.on(users::id.eq(agent_states::user_id)))
                .filter(agent_states::project_id.eq(project))
                .filter(agent_states::availability.eq(Availability::Online.as_str()))
                .filter(users::disabled.eq(false))
                .filter(users::role.eq_any([Role::Agent.as_str(), Role::Admin.as_str()]))
                .select((agent_states::user_id, agent_states::last_assigned_at))
                .load(c)
        })?;
        if online.is_empty() {
            return Ok(None);
        }
        let ids: Vec<UserId> = online.iter().map(|(u, _)| *u).collect();
        let loads = open_loads(conn, project, &ids)?;
        let best = online
            .iter()
            .map(|(user, last)| (loads.get(user).copied().unwrap_or(0), *last, *user))
            .filter(|(load, _, _)| *load < i64::from(max_open))
            .min();
        let Some((_, _, agent)) = best else {
            return Ok(None);
        };
        let (row, changed) = assign(conn, project, id, Some(agent), None)?;
        Ok(changed.then_some(row))
    })
}

/// The query counting the open (`open`, `pending`) support conversations of `$project`
/// assigned to each of `$agents`, as `(assignee_id, count)` rows: written once for the writer's
/// synchronous connection ([`open_loads`]) and the readers' asynchronous one ([`agents`]).
macro_rules! open_loads_query {
    ($project:expr, $agents:expr) => {
        conversations::table
            .filter(conversations::project_id.eq($project))
            .filter(conversations::kind.eq(ConversationKind::Support.as_str()))
            .filter(conversations::status.eq_any(OPEN_LOAD))
            .filter(conversations::assignee_id.eq_any($agents))
            .group_by(conversations::assignee_id)
            .select((conversations::assignee_id, diesel::dsl::count_star()))
    };
}

/// `open_loads_query!`'s rows by agent.
fn by_agent(rows: Vec<(Option<UserId>, i64)>) -> HashMap<UserId, i64> {
    rows.into_iter()
        .filter_map(|(user, n)| user.map(|u| (u, n)))
        .collect()
}

/// Open (`open`, `pending`) support conversations assigned to each of `agents`.
fn open_loads(
    conn: &mut DbConnection,
    project: ProjectId,
    agents: &[UserId],
) -> Result<HashMap<UserId, i64>, DbError> {
    use diesel::RunQueryDsl as _;
    let rows = on_conn!(conn, c => open_loads_query!(project, agents).load(c))?;
    Ok(by_agent(rows))
}

/// Records that `agent` was given a conversation at `at` (the round robin's order).
fn mark_assigned(
    conn: &mut DbConnection,
    project: ProjectId,
    agent: UserId,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let updated = on_conn!(conn, c => {
        diesel::update(agent_states::table.find(agent))
            .set(agent_states::last_assigned_at.eq(at))
            .execute(c)
    })?;
    if updated == 0 {
        on_conn!(conn, c => {
            diesel::insert_into(agent_states::table)
                .values((
                    agent_states::user_id.eq(agent),
                    agent_states::project_id.eq(project),
                    agent_states::availability.eq(Availability::Offline.as_str()),
                    agent_states::last_assigned_at.eq(at),
                    agent_states::updated_at.eq(at),
                ))
                .execute(c)
        })?;
    }
    Ok(())
}

/// Sets `agent`'s availability.
///
/// # Errors
/// A query failure.
pub fn set_availability(
    conn: &mut DbConnection,
    project: ProjectId,
    agent: UserId,
    availability: Availability,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let at = now();
    write_transaction(conn, |conn| {
        let updated = on_conn!(conn, c => {
            diesel::update(agent_states::table.find(agent))
                .set((
                    agent_states::availability.eq(availability.as_str()),
                    agent_states::updated_at.eq(at),
                ))
                .execute(c)
        })?;
        if updated == 0 {
            on_conn!(conn, c => {
                diesel::insert_into(agent_states::table)
                    .values((
                        agent_states::user_id.eq(agent),
                        agent_states::project_id.eq(project),
                        agent_states::availability.eq(availability.as_str()),
                        agent_states::updated_at.eq(at),
                    ))
                    .execute(c)
            })?;
        }
        Ok(())
    })
}

/// Presence: `user`'s last session ended, so an agent among them is `offline`.
///
/// # Errors
/// A query failure.
pub fn went_offline(
    conn: &mut DbConnection,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::update(
            agent_states::table
                .filter(agent_states::user_id.eq(user))
                .filter(agent_states::availability.ne(Availability::Offline.as_str())),
        )
        .set((
            agent_states::availability.eq(Availability::Offline.as_str()),
            agent_states::updated_at.eq(at),
        ))
        .execute(c)
    })?;
    Ok(())
}

/// An agent as the desk shows them to each other: `GET /api/v1/desk/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    /// The agent (or admin).
    pub user_id: UserId,
    /// Their username, or null.
    pub username: Option<String>,
    /// Their display name, or null.
    pub display_name: Option<String>,
    /// `agent` or `admin`.
    pub role: Role,
    /// `online`, `busy` or `offline`.
    pub availability: Availability,
    /// Open (`open`, `pending`) support conversations assigned to them.
    pub open_conversations: i64,
    /// RFC 3339 UTC: when their availability last changed, or null if never set.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The enabled agents and admins of `project` with ids above `after`, ascending, at most
/// `limit`, with their availability and load.
///
/// # Errors
/// A query failure.
pub async fn agents(
    conn: &mut ReadConn,
    project: ProjectId,
    after: i64,
    limit: i64,
) -> Result<Vec<AgentView>, DbError> {
    use diesel_async::RunQueryDsl as _;
    type Row = (
        UserId,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = on_read!(conn, c => {
        users::table
            .left_join(agent_states::table.on(agent_states::user_id.eq(users::id)))
            .filter(users::project_id.eq(project))
            .filter(users::disabled.eq(false))
            .filter(users::role.eq(Role::Agent.as_str()).or(users::role.eq(Role::Admin.as_str())))
            .filter(users::id.gt(UserId(after)))
            .order(users::id.asc())
            .limit(limit)
            .select((
                users::id,
                users::username,
                users::display_name,
                users::role,
                agent_states::availability.nullable(),
                agent_states::updated_at.nullable(),
            ))
            .load(c)
            .await
    })?;
    let ids: Vec<UserId> = rows.iter().map(|r| r.0).collect();
    let loads = by_agent(on_read!(conn, c => {
        open_loads_query!(project, &ids).load(c).await
    })?);
    Ok(rows
        .into_iter()
        .map(
            |(user_id, username, display_name, role, availability, at)| AgentView {
                user_id,
                username,
                display_name,
                role: role.parse().unwrap_or(Role::Agent),
                availability: availability
                    .as_deref()
                    .map_or(Availability::Offline, Availability::from_stored),
                open_conversations: loads.get(&user_id).copied().unwrap_or(0),
                updated_at: at.map(|t| t.and_utc()),
            },
        )
        .collect())
}
