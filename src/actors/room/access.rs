//! The room asks the access policy ([`crate::policy`]) with what it holds: the conversation's
//! project, status and kind, and each participant's role.

use super::RoomActor;
use crate::domain::ProjectId;
use crate::error::AppError;
use crate::policy::{self, Action, Actor as PolicyActor, ConversationFacts};

impl RoomActor {
    /// Asks the access policy whether the backend of `project` may post a system message here.
    pub(super) fn allow_system(&self, project: ProjectId) -> Result<(), AppError> {
        let loaded = self.loaded()?;
        let facts = ConversationFacts {
            project_id: loaded.project_id,
            status: loaded.status,
            participant: false,
            kind: loaded.kind,
            member_role: None,
            visibility: loaded.visibility,
        };
        Ok(policy::check_system_post(project, &facts)?)
    }

    /// Asks the access policy whether `actor` may do `action` here.
    pub(super) fn allow(&self, actor: &PolicyActor, action: Action) -> Result<(), AppError> {
        let loaded = self.loaded()?;
        let marks = loaded.participants.get(&actor.user_id);
        let facts = ConversationFacts {
            project_id: loaded.project_id,
            status: loaded.status,
            participant: marks.is_some(),
            kind: loaded.kind,
            member_role: marks.map(|m| m.role),
            visibility: loaded.visibility,
        };
        Ok(policy::check(actor, action, &facts)?)
    }
}
