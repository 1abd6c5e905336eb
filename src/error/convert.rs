//! What other layers' errors become for clients: a rule a value breaks, the access policy's
//! refusal, a database failure, an unreachable actor.

use super::{AppError, DbError};
use crate::domain::Invalid;
use crate::policy::Denied;

impl From<Invalid> for AppError {
    fn from(err: Invalid) -> Self {
        Self::Validation(err.0)
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::NotFound(what) => Self::not_found(what),
            Denied::Forbidden(why) => Self::Forbidden(why.into()),
            Denied::ConversationClosed => Self::ConversationClosed,
            Denied::MessageDeleted => Self::MessageDeleted,
        }
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::EmailTaken => Self::EmailTaken,
            DbError::UsernameTaken => Self::UsernameTaken,
            DbError::NameTaken => Self::NameTaken,
            DbError::ConversationClosed => Self::ConversationClosed,
            DbError::InviteInvalid => Self::InviteInvalid,
            DbError::Denied(denied) => denied.into(),
            DbError::Invalid(message) => Self::Validation(message),
            DbError::LimitReached(message) => Self::LimitReached(message),
            DbError::Conflict(message) => Self::Clash(message),
            DbError::QuotaExceeded { quota_bytes } => Self::QuotaExceeded(format!(
                "file: over your storage quota of {quota_bytes} bytes (uploads.quota_bytes_per_user)"
            )),
            DbError::NotFound | DbError::Query(diesel::result::Error::NotFound) => {
                Self::not_found("resource")
            }
            // PostgreSQL refuses U+0000 in text. Input is checked for it at the door (JSON
            // bodies, queries, paths, message text); this is the net for anything missed.
            DbError::Query(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("0x00") =>
            {
                Self::Validation("a value must not contain U+0000 (NUL)".into())
            }
            DbError::ReadPool(_) | DbError::WritePool(_) | DbError::WriterGone => {
                Self::Unavailable("the database is unavailable".into())
            }
            other => Self::internal(other),
        }
    }
}

impl From<actix::MailboxError> for AppError {
    /// An actor that could not be reached is shutting down or failed to start (its room could
    /// not load its state): the service is unavailable for now, not broken.
    fn from(err: actix::MailboxError) -> Self {
        tracing::warn!(error = %err, "actor unreachable");
        Self::Unavailable("the server is busy or shutting down; retry shortly".into())
    }
}
