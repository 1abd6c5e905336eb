//! The support desk's reports (`GET /api/v1/desk/metrics`): reporting events, one per first
//! response and per resolution of a support conversation (as Chatwoot's `reporting_events`),
//! and their averages per agent and period, with the period's ratings.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{avg, count_star, sum};
use diesel::prelude::{ExpressionMethods, QueryDsl};
use serde::Serialize;

use crate::db::models::ConversationRow;
use crate::db::schema::{conversations, csat_responses, desk_events};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read};
use crate::domain::{ConversationKind, ProjectId, UserId};

/// A reporting event's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskEvent {
    /// The team's first public reply.
    FirstResponse,
    /// A resolution (each one, when a conversation is resolved again).
    Resolution,
}

impl DeskEvent {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::Resolution => "resolution",
        }
    }
}

/// Records `event` of `conversation` at `at`: its duration since the conversation was created,
/// credited to its assignee then (inside the caller's write transaction).
///
/// # Errors
/// A query failure.
pub(super) fn record(
    conn: &mut DbConnection,
    conversation: &ConversationRow,
    event: DeskEvent,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let millis = (at - conversation.created_at).num_milliseconds().max(0);
    #[allow(clippy::cast_precision_loss)] // a duration in ms: far below 2^52
    let seconds = millis as f64 / 1000.0;
    on_conn!(conn, c => {
        diesel::insert_into(desk_events::table)
            .values((
                desk_events::project_id.eq(conversation.project_id),
                desk_events::conversation_id.eq(conversation.id),
                desk_events::agent_id.eq(conversation.assignee_id),
                desk_events::name.eq(event.as_str()),
                desk_events::value_s.eq(seconds),
                desk_events::created_at.eq(at),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// Which figures: a project's, over `[from, to)`, of one agent or of the whole team.
#[derive(Debug, Clone, Copy)]
pub struct MetricsFilter {
    /// Tenant.
    pub project_id: ProjectId,
    /// Start of the period (UTC, inclusive).
    pub from: NaiveDateTime,
    /// End of the period (UTC, exclusive).
    pub to: NaiveDateTime,
    /// Only what was assigned to this agent (`None`: everyone's).
    pub agent_id: Option<UserId>,
}

/// A duration's figures over a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Durations {
    /// How many were recorded.
    pub count: i64,
    /// Their mean, in seconds (null when none).
    pub avg_s: Option<f64>,
}

/// The ratings of a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CsatFigures {
    /// How many ratings.
    pub count: i64,
    /// Their mean, 1 to 5 (null when none).
    pub avg_rating: Option<f64>,
    /// How many were 4 or 5 (satisfied, as CSAT scores count them).
    pub satisfied: i64,
}

/// `GET /api/v1/desk/metrics`'s answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeskMetrics {
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    /// The agent the figures are of (null: the whole team).
    pub agent_id: Option<UserId>,
    /// Support conversations created in the period (assigned to the agent now, with
    /// `agent_id`).
    pub conversations: i64,
    /// First responses in the period: time from creation to the team's first public reply.
    pub first_response: Durations,
    /// Resolutions in the period: time from creation to the resolution.
    pub resolution: Durations,
    /// Ratings given in the period (of the agent's conversations, with `agent_id`).
    pub csat: CsatFigures,
}

/// The figures `filter` asks for.
///
/// # Errors
/// A query failure.
pub async fn metrics(conn: &mut ReadConn, filter: &MetricsFilter) -> Result<DeskMetrics, DbError> {
    Ok(DeskMetrics {
        from: filter.from.and_utc(),
        to: filter.to.and_utc(),
        agent_id: filter.agent_id,
        conversations: opened(conn, filter).await?,
        first_response: durations(conn, filter, DeskEvent::FirstResponse).await?,
        resolution: durations(conn, filter, DeskEvent::Resolution).await?,
        csat: ratings(conn, filter).await?,
    })
}

async fn opened(conn: &mut ReadConn, filter: &MetricsFilter) -> Result<i64, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        let mut query = conversations::table
            .filter(conversations::project_id.eq(filter.project_id))
            .filter(conversations::kind.eq(ConversationKind::Support.as_str()))
            .filter(conversations::created_at.ge(filter.from))
            .filter(conversations::created_at.lt(filter.to))
            .into_boxed();
        if let Some(agent) = filter.agent_id {
            query = query.filter(conversations::assignee_id.eq(agent));
        }
        query.count().get_result(c).await
    })?)
}

async fn durations(
    conn: &mut ReadConn,
    filter: &MetricsFilter,
    event: DeskEvent,
) -> Result<Durations, DbError> {
    use diesel_async::RunQueryDsl as _;
    let (count, avg_s): (i64, Option<f64>) = on_read!(conn, c => {
        let mut query = desk_events::table
            .filter(desk_events::project_id.eq(filter.project_id))
            .filter(desk_events::name.eq(event.as_str()))
            .filter(desk_events::created_at.ge(filter.from))
            .filter(desk_events::created_at.lt(filter.to))
            .select((count_star(), avg(desk_events::value_s)))
            .into_boxed();
        if let Some(agent) = filter.agent_id {
            query = query.filter(desk_events::agent_id.eq(agent));
        }
        query.first(c).await
    })?;
    Ok(Durations { count, avg_s })
}

async fn ratings(conn: &mut ReadConn, filter: &MetricsFilter) -> Result<CsatFigures, DbError> {
    use diesel_async::RunQueryDsl as _;
    let ((count, total), satisfied): ((i64, Option<i64>), i64) = on_read!(conn, c => {
        let period = || {
            let mut query = csat_responses::table
                .filter(csat_responses::project_id.eq(filter.project_id))
                .filter(csat_responses::created_at.ge(filter.from))
                .filter(csat_responses::created_at.lt(filter.to))
                .into_boxed();
            if let Some(agent) = filter.agent_id {
                query = query.filter(csat_responses::assignee_id.eq(agent));
            }
            query
        };
        let all = period()
            .select((count_star(), sum(csat_responses::rating)))
            .first(c)
            .await?;
        let happy = period()
            .filter(csat_responses::rating.ge(4))
            .count()
            .get_result(c)
            .await?;
        Ok::<_, diesel::result::Error>((all, happy))
    })?;
    #[allow(clippy::cast_precision_loss)] // sums of ratings: far below 2^52
    let avg_rating = total.filter(|_| count > 0).map(|t| t as f64 / count as f64);
    Ok(CsatFigures {
        count,
        avg_rating,
        satisfied,
    })
}
