//! The server API's lookups: the project's system user, a conversation checked against the
//! key, participants by external id, and the server view of conversations.

use crate::actors::db_writer::EnsureSystemUser;
use crate::api::{ParticipantRef, ServerConversationView};
use crate::db::models::ConversationRow;
use crate::db::queries::{conversations, server};
use crate::domain::{ConversationId, ProjectId, Role, Scope, UserId};
use crate::error::AppError;
use crate::http::api_keys::ApiCaller;
use crate::http::state::AppState;
use crate::policy::Actor;

/// The project's system user, acting with an admin's power.
pub(in crate::http) async fn system_actor(
    state: &AppState,
    project: ProjectId,
) -> Result<Actor, AppError> {
    let user_id = state
        .writer
        .send(EnsureSystemUser {
            project_id: project,
        })
        .await??;
    Ok(Actor {
        user_id,
        project_id: project,
        role: Role::Admin,
    })
}

/// Checks the key for `scope` on conversation `id`: its project (404 for another project's
/// or an unknown conversation).
pub(in crate::http) async fn conversation_of(
    state: &AppState,
    caller: &ApiCaller,
    scope: Scope,
    id: ConversationId,
) -> Result<ConversationRow, AppError> {
    let row = {
        let mut conn = state.db.read().await?;
        conversations::find(&mut conn, id).await?
    };
    let project = row.as_ref().map_or(ProjectId(0), |r| r.project_id);
    caller.check(scope, project, "conversation")?;
    row.ok_or_else(|| AppError::not_found("conversation"))
}

/// The users of the caller's project with these external ids, in order.
///
/// # Errors
/// 400 `validation_failed` naming `participants` when one is unknown or deactivated.
pub(super) async fn resolve(
    state: &AppState,
    caller: &ApiCaller,
    external_ids: &[String],
) -> Result<Vec<UserId>, AppError> {
    let max = state.settings.limits.max_participants;
    if external_ids.len() > max {
        return Err(AppError::Validation(format!(
            "participants: at most {max} participants"
        )));
    }
    let found = {
        let mut conn = state.db.read().await?;
        server::users_by_external(&mut conn, caller.project_id, external_ids).await?
    };
    external_ids
        .iter()
        .map(|external| {
            found.get(external).copied().ok_or_else(|| {
                AppError::Validation(format!(
                    "participants: no active user with external id {external:?}"
                ))
            })
        })
        .collect()
}

/// The server view of each of `rows`.
pub(super) async fn views(
    state: &AppState,
    rows: Vec<ConversationRow>,
) -> Result<Vec<ServerConversationView>, AppError> {
    let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
    let mut participants = {
        let mut conn = state.db.read().await?;
        server::participants_of(&mut conn, &ids).await?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let members = participants.remove(&row.id).unwrap_or_default();
            let ids = members.iter().map(|(id, _)| *id).collect();
            ServerConversationView {
                conversation: row.view(ids),
                participants: members
                    .into_iter()
                    .map(|(id, external_id)| ParticipantRef { id, external_id })
                    .collect(),
            }
        })
        .collect())
}

/// The server view of `row`.
pub(super) async fn view(
    state: &AppState,
    row: ConversationRow,
) -> Result<ServerConversationView, AppError> {
    views(state, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation view vanished")))
}
