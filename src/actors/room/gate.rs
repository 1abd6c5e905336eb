//! The room's gate: sends, edits and deletions the access policy allowed, waiting (in arrival
//! order) for their rate verdict before they are queued for commit (`post.rs`).

use super::post::Answer;
use super::{ChangeMessage, PostMessage};
use crate::error::AppError;

/// A send, edit or deletion the access policy allowed, before its rate is counted.
pub(super) enum GatedWrite {
    Post { msg: PostMessage, answer: Answer },
    Change { msg: ChangeMessage, answer: Answer },
}

impl GatedWrite {
    pub(super) fn user(&self) -> crate::domain::UserId {
        match self {
            Self::Post { msg, .. } => msg.actor.user_id,
            Self::Change { msg, .. } => msg.actor.user_id,
        }
    }
}

/// A write waiting in the room's gate for its rate verdict.
pub(super) struct Gated {
    pub(super) ticket: u64,
    pub(super) verdict: Option<Result<(), AppError>>,
    pub(super) write: GatedWrite,
}
