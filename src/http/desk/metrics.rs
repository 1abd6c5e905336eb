//! The desk's reports: `GET /api/v1/desk/metrics?from=&to=&agent_id=`, first response and
//! resolution times and ratings per agent and period.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::db::queries::desk::{self, DeskMetrics, MetricsFilter};
use crate::db::queries::users;
use crate::domain::UserId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::policy::metrics_scope;

/// The longest period one request covers, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// `GET /api/v1/desk/metrics` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// Start of the period, RFC 3339, inclusive (default: 7 days before `to`).
    pub from: Option<DateTime<Utc>>,
    /// End of the period, RFC 3339, exclusive (default: now).
    pub to: Option<DateTime<Utc>>,
    /// Only this agent's figures: what was assigned to them. Admins may name any agent of the
    /// project or none (the whole team); agents get their own.
    pub agent_id: Option<UserId>,
}

/// The desk's figures over a period
///
/// `GET /api/v1/desk/metrics?from=&to=&agent_id=` → 200 `{from, to, agent_id, conversations,
/// first_response: {count, avg_s}, resolution: {count, avg_s}, csat: {count, avg_rating,
/// satisfied}}`. Durations are seconds from a conversation's creation, counted when they
/// happen in `[from, to)` and credited to the conversation's assignee at that moment; ratings
/// likewise. Admins read any agent's figures or the team's; agents their own.
#[utoipa::path(
    get, path = "/api/v1/desk/metrics", tag = "desk",
    security(("bearer" = [])),
    params(MetricsQuery),
    responses(
        (status = 200, description = "The period's figures", body = DeskMetrics),
        (status = 400, description = "`validation_failed`: a bad time, `from` not before `to`, a period over 366 days, or `agent_id` not an agent or admin of the project", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers, or an agent asking for another agent's figures", body = ErrorEnvelope),
    )
)]
pub async fn metrics(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<MetricsQuery>,
) -> Result<HttpResponse, AppError> {
    let agent_id = metrics_scope(auth.role, auth.id, query.agent_id)?;
    let to = query.to.unwrap_or_else(Utc::now);
    let from = query.from.unwrap_or(to - Duration::days(7));
    if from >= to {
        return Err(AppError::Validation("from: must be before to".into()));
    }
    if to - from > Duration::days(MAX_PERIOD_DAYS) {
        return Err(AppError::Validation(format!(
            "from, to: at most {MAX_PERIOD_DAYS} days apart"
        )));
    }
    let mut conn = state.db.read().await?;
    if let Some(agent) = agent_id.filter(|&agent| agent != auth.id) {
        let staff = users::find(&mut conn, agent)
            .await?
            .is_some_and(|user| user.project_id == auth.project_id && user.role().is_staff());
        if !staff {
            return Err(AppError::Validation(
                "agent_id: not an agent or admin of this project".into(),
            ));
        }
    }
    let filter = MetricsFilter {
        project_id: auth.project_id,
        from: from.naive_utc(),
        to: to.naive_utc(),
        agent_id,
    };
    let figures = desk::metrics(&mut conn, &filter).await?;
    Ok(HttpResponse::Ok().json(figures))
}
