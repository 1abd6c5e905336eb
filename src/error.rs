//! Error policy.
//!
//! - Database code returns [`DbError`] (diesel and pool failures, plus the few outcomes a write
//!   decides under its transaction: a taken email, a closed conversation).
//! - Everything a client can be told is an [`AppError`]: HTTP handlers return it (it implements
//!   `ResponseError`) and WebSocket sessions turn it into an `error` frame. Its body is always
//!   `{"error":{"code","message"}}` with a stable snake_case `code` (docs/PROTOCOL.md lists them).
//! - Unknown failures become [`AppError::Internal`]: logged with their cause chain, answered as
//!   500 `internal` with no detail (no SQL, no stack trace).
//! - `main` and start-up use `anyhow`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Failures of the storage layer.
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
    /// The conversation is closed; nothing more can be posted to it.
    #[error("conversation closed")]
    ConversationClosed,
    /// The row does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// The caller may not change this row.
    #[error("forbidden")]
    Forbidden,
    /// The message was deleted; it cannot be edited.
    #[error("message deleted")]
    MessageDeleted,
    /// A write refused for a reason the client can fix (the message names the field).
    #[error("invalid: {0}")]
    Invalid(String),
    /// A whole group commit failed; every message in it gets this.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The writer actor could not be reached (shutting down).
    #[error("database writer unavailable")]
    WriterGone,
}

/// An error a client may see. `code()` is the stable wire code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `validation_failed`: a field has a bad value; the message names the field.
    #[error("{0}")]
    Validation(String),
    /// 400 `bad_request`: the request could not be parsed at all (malformed JSON, bad query).
    #[error("{0}")]
    BadRequest(String),
    /// `unknown_event` (WebSocket; 400 if it ever reached HTTP): a frame `type` the server does
    /// not know.
    #[error("{0}")]
    UnknownEvent(String),
    /// 401 `unauthorized`: missing, malformed, expired or revoked token.
    #[error("{0}")]
    Unauthorized(String),
    /// 401 `invalid_credentials`: wrong password or unknown user (one answer for both, per the
    /// OWASP Authentication Cheat Sheet).
    #[error("invalid email, username or password")]
    InvalidCredentials,
    /// 403 `forbidden`: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `not_found`: absent, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`: the path exists, the method does not.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409 `email_taken`.
    #[error("this email is already registered")]
    EmailTaken,
    /// 409 `username_taken`.
    #[error("this username is already taken")]
    UsernameTaken,
    /// 409 `conversation_closed`.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// 409 `message_deleted`: a deleted message cannot be edited.
    #[error("the message was deleted")]
    MessageDeleted,
    /// 413 `payload_too_large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415 `unsupported_media_type`: the uploaded content is not of an accepted type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429 `rate_limited`, with `Retry-After` (whole seconds, rounded up) over REST and
    /// `retry_after_ms` over WebSocket.
    #[error("too many requests; retry in {} ms", retry_after.as_millis())]
    RateLimited {
        /// How long until the next attempt can succeed.
        retry_after: Duration,
    },
    /// 503 `unavailable`: a dependency (the database) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `internal`: the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The stable snake_case code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest(_) => "bad_request",
            Self::UnknownEvent(_) => "unknown_event",
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::EmailTaken => "email_taken",
            Self::UsernameTaken => "username_taken",
            Self::ConversationClosed => "conversation_closed",
            Self::MessageDeleted => "message_deleted",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Shorthand for a 404 naming what was looked for.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// Wraps any failure as a 500, keeping the cause for the log.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// The body shape shared by REST and WebSocket: `{"code","message"}` plus, for rate limits,
    /// `retry_after_ms`.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            retry_after_ms: match self {
                Self::RateLimited { retry_after } => {
                    Some(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX))
                }
                _ => None,
            },
        }
    }

    /// Logs internal errors with their cause chain; other errors are the client's business.
    pub fn log(&self) {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
    }
}

/// `{"code","message","retry_after_ms"?}`: the inside of every error reply.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: &'static str,
    /// Human-readable text; names the offending field for `validation_failed`.
    pub message: String,
    /// For `rate_limited`: milliseconds until a retry can succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

#[derive(Serialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) | Self::UnknownEvent(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::EmailTaken
            | Self::UsernameTaken
            | Self::ConversationClosed
            | Self::MessageDeleted => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after } = self {
            // RFC 9110 §10.2.3: delay-seconds, a whole number; round up so a retry succeeds.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.insert_header((RETRY_AFTER, value));
            }
        }
        response.json(ErrorEnvelope { error: self.body() })
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::EmailTaken => Self::EmailTaken,
            DbError::UsernameTaken => Self::UsernameTaken,
            DbError::ConversationClosed => Self::ConversationClosed,
            DbError::MessageDeleted => Self::MessageDeleted,
            DbError::Invalid(message) => Self::Validation(message),
            DbError::Forbidden => Self::Forbidden(
                "only the sender (or an agent or admin, to delete) may do this".into(),
            ),
            DbError::NotFound | DbError::Query(diesel::result::Error::NotFound) => {
                Self::not_found("resource")
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
