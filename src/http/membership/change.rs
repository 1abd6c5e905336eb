//! A membership change through the conversation's room, with its system message; and the
//! capacity and answer shapes the membership handlers share.

use super::super::announce::{Announcement, announce};
use crate::actors::room::ChangeParticipants;
use crate::actors::room_registry::send_to_room;
use crate::api::MemberRoleView;
use crate::auth::AuthUser;
use crate::db::queries::membership::{Capacity, Changed, MemberChange};
use crate::domain::{ConversationId, MemberRole, UserId};
use crate::error::AppError;
use crate::http::state::AppState;

/// The participant and follower limits from the configuration.
pub(in crate::http) fn capacity(state: &AppState) -> Capacity {
    Capacity {
        participants: state.settings.limits.max_participants,
        followers: state.settings.limits.max_followers,
    }
}

/// Applies `change` through the room (asking the policy as `auth` when `ask` is set) and
/// leaves its system message in the history.
pub(in crate::http) async fn apply(
    state: &AppState,
    auth: &AuthUser,
    id: ConversationId,
    change: MemberChange,
    ask: bool,
) -> Result<Changed, AppError> {
    let message = ChangeParticipants {
        project_id: auth.project_id,
        actor: ask.then(|| auth.actor()),
        change: change.clone(),
        capacity: capacity(state),
    };
    let changed = send_to_room(&state.rooms, id, message).await??;
    tracing::info!(
        conversation_id = %id,
        by = %auth.id,
        added = changed.added.len(),
        removed = changed.removed.len(),
        updated = changed.updated.len(),
        "participants changed"
    );
    let what = Announcement {
        by: auth.id,
        change: &change,
        changed: &changed,
    };
    announce(state, auth.project_id, id, what).await;
    Ok(changed)
}

/// `[{user_id, role}]`: the `added` and `updated` of the membership answers.
pub(in crate::http) fn roles(list: &[(UserId, MemberRole)]) -> Vec<MemberRoleView> {
    list.iter()
        .map(|&(user_id, role)| MemberRoleView { user_id, role })
        .collect()
}
