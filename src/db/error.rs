//! [`DbError`]: what the storage layer can fail with.

use crate::policy::Denied;

/// Failures of the storage layer, and the outcomes a write decides under its transaction.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query failed.
    #[error("query failed")]
    Query(#[from] diesel::result::Error),
    /// No connection could be had from the write pool.
    #[error("write pool unavailable")]
    WritePool(#[from] diesel::r2d2::PoolError),
    /// No connection could be had from the read pool.
    #[error("read pool unavailable: {0}")]
    ReadPool(String),
    /// The email is already registered in this project.
    #[error("email taken")]
    EmailTaken,
    /// The username is already registered in this project (case-insensitive).
    #[error("username taken")]
    UsernameTaken,
    /// A project with this name exists.
    #[error("project name taken")]
    NameTaken,
    /// The conversation is closed; nothing more can be posted to it.
    #[error("conversation closed")]
    ConversationClosed,
    /// The invite expired, was used up or was revoked.
    #[error("invite invalid")]
    InviteInvalid,
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// The access policy refused the write, asked again under the transaction.
    #[error("refused: {0}")]
    Denied(#[from] Denied),
    /// A write refused for a reason the client can fix (the message names the field).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The write clashes with what is stored (a taken name, a second rating); the message
    /// says what. Answered as 409 `conflict`.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A cap is full (distinct reactions of a message, pins of a conversation); the message
    /// names it.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// An upload would take its uploader past `uploads.quota_bytes_per_user`.
    #[error("storage quota of {quota_bytes} bytes exceeded")]
    QuotaExceeded {
        /// The quota.
        quota_bytes: u64,
    },
    /// A file operation that belongs to the write failed (moving an upload into place).
    #[error("file operation failed: {0}")]
    File(#[from] std::io::Error),
    /// A whole group commit failed; every message in it gets this.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The writer actor could not be reached (shutting down).
    #[error("database writer unavailable")]
    WriterGone,
}

impl DbError {
    /// Whether this is a unique-index violation (recognised by diesel's error kind, on any
    /// backend).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}
