//! The room asks the access policy ([`crate::policy`]) with what it holds: the conversation's
//! project, status and kind, and each participant's role.

use super::RoomActor;
use crate::domain::{ProjectId, UserId};
use crate::error::AppError;
use crate::policy::{self, Action, Actor as PolicyActor, ConversationFacts};

impl RoomActor {
    /// What the policy is told about this conversation, as `user` sees it (`None`: nobody in
    /// particular, as for the backend's system messages): whether they take part, and their
    /// role.
    ///
    /// # Errors
    /// The room has not loaded its state.
    pub(super) fn facts(&self, user: Option<UserId>) -> Result<ConversationFacts, AppError> {
        let loaded = self.loaded()?;
        let marks = user.and_then(|user| loaded.participants.get(&user));
        Ok(ConversationFacts {
            project_id: loaded.project_id,
            status: loaded.status,
            participant: marks.is_some(),
            kind: loaded.kind,
            member_role: marks.map(|m| m.role),
            visibility: loaded.visibility,
        })
    }

    /// Asks the access policy whether the backend of `project` may post a system message here.
    pub(super) fn allow_system(&self, project: ProjectId) -> Result<(), AppError> {
        Ok(policy::check_system_post(project, &self.facts(None)?)?)
    }

    /// Asks the access policy whether `actor` may do `action` here.
    pub(super) fn allow(&self, actor: &PolicyActor, action: Action) -> Result<(), AppError> {
        Ok(policy::check(
            actor,
            action,
            &self.facts(Some(actor.user_id))?,
        )?)
    }
}
