//! The support desk over REST (issue 15; docs/PROTOCOL.md, *Support desk*): a support
//! conversation's status and assignee, agents' availability, the queue. Every handler asks the
//! access policy ([`DeskAction`]); a conversation the caller may not see is 404.

pub(in crate::http) mod canned;
pub(in crate::http) mod csat;
pub(in crate::http) mod labels;
pub(in crate::http) mod lists;
pub(in crate::http) mod metrics;

pub use lists::{agents, availability, queue};

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::conversations::{authorized, with_receipts};
use crate::actors::desk::{AutoAssign, WriteAssignee, WriteStatus};
use crate::actors::room::{ChangeParticipants, DeskAnnounce};
use crate::actors::room_registry::send_to_room;
use crate::api::ConversationView;
use crate::auth::AuthUser;
use crate::db::models::ConversationRow;
use crate::db::queries::conversations;
use crate::db::queries::desk::StatusChange;
use crate::db::queries::membership::MemberChange;
use crate::domain::{ConversationId, ConversationStatus, ProjectId, UserId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::policy::{Action, DeskAction};

/// Body of `POST /api/v1/conversations/{id}/status`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "snoozed", "snoozed_until": "2026-11-29T09:00:00Z"}))]
pub struct StatusBody {
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: ConversationStatus,
    /// With `snoozed` (and only then): when it opens again, RFC 3339, in the future.
    #[serde(default)]
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// Body of `POST /api/v1/conversations/{id}/assign`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignee_id": 3}))]
pub struct AssignBody {
    /// An agent or admin of the project; null unassigns.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
}

/// Set a support conversation's status
///
/// `POST /api/v1/conversations/{id}/status` `{status, snoozed_until?}` → 200 the
/// conversation. Agents and admins; `resolved` is what closing does. Announced as
/// `conversation:status` (and `conversation:closed` for `resolved`).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/status", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The conversation with its new status", body = ConversationView),
        (status = 400, description = "`validation_failed`: `closed`, a snooze without a future `snoozed_until`, `snoozed_until` with another status, or not a support conversation", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers, or not a support conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn set_status(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<StatusBody>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (path.into_inner(), body.into_inner());
    let snoozed_until = match (body.status, body.snoozed_until) {
        (ConversationStatus::Closed, _) => {
            return Err(AppError::Validation(
                "status: open, pending, snoozed or resolved (closing a support conversation resolves it)".into(),
            ));
        }
        (ConversationStatus::Snoozed, Some(at)) if at > Utc::now() => Some(at.naive_utc()),
        (ConversationStatus::Snoozed, _) => {
            return Err(AppError::Validation(
                "snoozed_until: a time in the future is required to snooze".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::Validation(
                "snoozed_until: only with status snoozed".into(),
            ));
        }
        (_, None) => None,
    };
    authorized(&state, &auth, id, Action::Desk(DeskAction::SetStatus)).await?;
    let change = StatusChange {
        conversation_id: id,
        status: body.status,
        snoozed_until,
        by: Some(auth.id),
    };
    let (row, changed) = state.writer.send(WriteStatus(change)).await??;
    if changed {
        announce(
            &state,
            DeskAnnounce::Status {
                row: row.clone(),
                by: Some(auth.id),
            },
        )
        .await;
        tracing::info!(conversation_id = %id, by = %auth.id, status = body.status.as_str(), "status changed");
    }
    respond(&state, &auth, &row).await
}

/// Assign a support conversation
///
/// `POST /api/v1/conversations/{id}/assign` `{assignee_id}` (null unassigns) → 200 the
/// conversation. Agents and admins, to themselves or another agent or admin of the project,
/// who becomes a participant. Announced as `conversation:assigned` to the joined sessions
/// and to every session of the assignee.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/assign", tag = "desk",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The conversation with its new assignee", body = ConversationView),
        (status = 400, description = "`validation_failed`: the assignee is not an enabled agent or admin of the project", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: customers, or not a support conversation", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn assign(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<AssignBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (_, members) = authorized(&state, &auth, id, Action::Desk(DeskAction::Assign)).await?;
    let write = WriteAssignee {
        project_id: auth.project_id,
        conversation_id: id,
        assignee: body.assignee_id,
        by: auth.id,
    };
    let (row, changed) = state.writer.send(write).await??;
    if changed {
        assigned(&state, row.clone(), &members, Some(auth.id)).await?;
        tracing::info!(conversation_id = %id, by = %auth.id, assignee = ?row.assignee_id, "assigned");
    }
    respond(&state, &auth, &row).await
}

/// After a new support conversation of `project` was created: with `desk.auto_assign`, gives
/// it to an online agent ([`AutoAssign`]), who becomes a participant, and announces it.
/// Answers the conversation's row when it was assigned. A failure is logged, never the
/// caller's: the conversation waits in the queue.
pub(in crate::http) async fn auto_assign(
    state: &AppState,
    project: ProjectId,
    id: ConversationId,
    members: &[UserId],
) -> Option<ConversationRow> {
    let desk = &state.settings.desk;
    if !desk.auto_assign {
        return None;
    }
    let assign = AutoAssign {
        project_id: project,
        conversation_id: id,
        max_open: desk.max_open_per_agent,
    };
    match state.writer.send(assign).await {
        Ok(Ok(Some(row))) => match assigned(state, row.clone(), members, None).await {
            Ok(()) => Some(row),
            Err(err) => {
                tracing::warn!(conversation_id = %id, error = ?err, "auto-assignment not announced");
                Some(row)
            }
        },
        Ok(Ok(None)) => None,
        Ok(Err(err)) => {
            tracing::warn!(conversation_id = %id, error = ?err, "auto-assignment failed");
            None
        }
        Err(_) => None,
    }
}

/// Makes a new assignee a participant (so they reply at once), then announces the change.
async fn assigned(
    state: &AppState,
    row: ConversationRow,
    members: &[UserId],
    by: Option<UserId>,
) -> Result<(), AppError> {
    if let Some(agent) = row.assignee_id.filter(|a| !members.contains(a)) {
        let add = ChangeParticipants {
            project_id: row.project_id,
            actor: None,
            change: MemberChange::Add {
                users: vec![agent],
                invite: None,
            },
            capacity: super::membership::capacity(state),
        };
        send_to_room(&state.rooms, row.id, add).await??;
    }
    announce(state, DeskAnnounce::Assigned { row, by }).await;
    Ok(())
}

/// Has the conversation's room announce `what` (logged when it cannot: the change is stored).
async fn announce(state: &AppState, what: DeskAnnounce) {
    let id = match &what {
        DeskAnnounce::Status { row, .. } | DeskAnnounce::Assigned { row, .. } => row.id,
        DeskAnnounce::Csat { data, .. } => data.conversation_id,
    };
    if send_to_room(&state.rooms, id, what).await.is_err() {
        tracing::warn!(conversation_id = %id, "desk change not announced");
    }
}

/// 200 with `row`'s view for the caller.
async fn respond(
    state: &AppState,
    auth: &AuthUser,
    row: &ConversationRow,
) -> Result<HttpResponse, AppError> {
    let members = {
        let mut conn = state.db.read().await?;
        conversations::participant_ids(&mut conn, row.id).await?
    };
    let view: ConversationView = with_receipts(state, auth, row.view(members)).await?;
    Ok(HttpResponse::Ok().json(view))
}
