//! Error policy.
//!
//! - `domain` returns [`Invalid`](crate::domain::Invalid) (a rule a client's value breaks) and
//!   the access policy returns [`Denied`](crate::policy::Denied); neither knows about HTTP.
//! - Database code returns [`DbError`] (diesel and pool failures, plus the few outcomes a write
//!   decides under its transaction: a taken email, a closed conversation).
//! - Everything a client can be told is an [`AppError`]: HTTP handlers return it (it implements
//!   `ResponseError`) and WebSocket sessions turn it into an `error` frame. Its body is always
//!   `{"error":{"code","message"}}` with a stable [`ErrorCode`] (docs/PROTOCOL.md lists them).
//! - Unknown failures become [`AppError::Internal`]: logged with their cause chain, answered as
//!   500 `internal` with no detail (no SQL, no stack trace).
//! - `main` and start-up use `anyhow`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use governor::clock::Clock;
use serde::{Deserialize, Serialize};

mod convert;

pub use crate::db::DbError;

/// The stable, snake_case code of every error a client can receive (REST `error.code`,
/// WebSocket `error` frame `data.code`). docs/PROTOCOL.md §1 has the table; with its HTTP
/// status:
///
/// - `validation_failed` (400): a field has a bad value; the message names the field.
/// - `bad_request` (400): the request or frame could not be parsed at all.
/// - `unknown_event` (WebSocket): a frame `type` the server does not know.
/// - `unauthorized` (401): missing, invalid, expired or revoked credentials.
/// - `invalid_credentials` (401): wrong password or unknown user (one answer for both).
/// - `invalid_code` (400): a wrong email verification code (or an unknown address).
/// - `code_expired` (400): the verification code expired or took 5 wrong tries; send a new one.
/// - `invalid_token` (400): an unknown or used reset or address change link token.
/// - `token_expired` (400): a reset or address change link past its lifetime.
/// - `forbidden` (403): authenticated but not allowed.
/// - `email_unverified` (403): the right password, but the address is not verified yet.
/// - `registration_closed` (403): self-registration is off for the project.
/// - `not_found` (404): absent or not visible to the caller.
/// - `method_not_allowed` (405): the path exists, the method does not.
/// - `conflict` (409): registration with an email or username already registered; a taken
///   canned short code or label title; a rating of an unresolved or already rated conversation.
/// - `email_taken`, `username_taken` (409): user creation with a taken email or username.
/// - `name_taken` (409): a project with that name exists.
/// - `conversation_closed` (409): the conversation is closed.
/// - `message_deleted` (409): the message was deleted.
/// - `limit_reached` (409): a per-message or per-conversation cap is full (reactions, pins).
/// - `invite_invalid` (410): an invite that expired, was used up or was revoked.
/// - `payload_too_large` (413): a body or file over its size limit.
/// - `quota_exceeded` (413): an upload past the user's storage quota.
/// - `unsupported_media_type` (415): an uploaded file of a refused type.
/// - `rate_limited` (429): a rate limit; with `retry_after_ms` and `Retry-After`.
/// - `too_many_sessions` (429): too many open WebSocket sessions.
/// - `unavailable` (503): a dependency cannot be reached right now.
/// - `internal` (500): unexpected failure; logged, never detailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a field has a bad value.
    ValidationFailed,
    /// 400: the request or frame could not be parsed at all.
    BadRequest,
    /// WebSocket: a frame `type` the server does not know.
    UnknownEvent,
    /// 401: missing, invalid or expired credentials.
    Unauthorized,
    /// 401: wrong password or unknown user (one answer for both).
    InvalidCredentials,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 403: the right password, but the account's address is not verified yet.
    EmailUnverified,
    /// 400: a wrong email verification code.
    InvalidCode,
    /// 400: the verification code expired or took its most wrong tries.
    CodeExpired,
    /// 400: an unknown or used reset or address change token.
    InvalidToken,
    /// 400: a reset or address change token past its lifetime.
    TokenExpired,
    /// 404: absent or not visible.
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: registration with an email or username already registered.
    Conflict,
    /// 409: an admin created a user with a taken email.
    EmailTaken,
    /// 409: an admin created a user with a taken username.
    UsernameTaken,
    /// 409: a project with that name exists.
    NameTaken,
    /// 403: self-registration is off for the project.
    RegistrationClosed,
    /// 409: the conversation is closed.
    ConversationClosed,
    /// 409: the message was deleted.
    MessageDeleted,
    /// 409: a per-message or per-conversation cap is full (reactions, pins).
    LimitReached,
    /// 410: an invite link that expired, was used up or was revoked.
    InviteInvalid,
    /// 413: a body or file over its size limit.
    PayloadTooLarge,
    /// 413: an upload past the user's storage quota.
    QuotaExceeded,
    /// 415: an uploaded file of a refused type.
    UnsupportedMediaType,
    /// 429: a rate limit; with `retry_after_ms`.
    RateLimited,
    /// 429: the user already has `realtime.max_sessions_per_user` WebSocket sessions.
    TooManySessions,
    /// 503: a dependency cannot be reached right now.
    Unavailable,
    /// 500: unexpected failure; logged, never detailed.
    Internal,
}

/// An error a client may see. [`AppError::code`] is the stable wire code.
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
    /// 403 `email_unverified`: the password is right but the address is not verified
    /// (`auth.require_email_verification`); told only to whoever knows the password.
    #[error("verify your email address first: enter the code mailed to you, or ask for a new one")]
    EmailUnverified,
    /// 400 `invalid_code`: a wrong verification code, or an address without a pending code
    /// (one answer for both, so the endpoint does not tell which addresses have accounts).
    #[error("invalid verification code")]
    InvalidCode,
    /// 400 `code_expired`: the code expired, or took `MAX_CODE_ATTEMPTS` wrong tries; a new
    /// one is needed (`POST /api/v1/auth/resend-verification`).
    #[error("this verification code has expired or taken too many wrong tries; ask for a new one")]
    CodeExpired,
    /// 400 `invalid_token`: an unknown, used or replaced reset or address change token.
    #[error("invalid or already used token")]
    InvalidToken,
    /// 400 `token_expired`: a reset or address change token past its lifetime.
    #[error("this link has expired; ask for a new one")]
    TokenExpired,
    /// 404 `not_found`: absent, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`: the path exists, the method does not.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409 `conflict`: self-registration with an email or username already registered. One
    /// answer for both, so registration does not tell which accounts exist (OWASP
    /// Authentication Cheat Sheet, *Account creation*).
    #[error("this email or username cannot be registered")]
    Conflict,
    /// 409 `conflict` with a message: the request clashes with what is stored (a taken short
    /// code or label title, a second rating of one resolution, a rating before resolution).
    #[error("{0}")]
    Clash(String),
    /// 409 `email_taken` (user creation by an admin or the CLI).
    #[error("this email is already registered")]
    EmailTaken,
    /// 409 `username_taken` (user creation by an admin or the CLI).
    #[error("this username is already taken")]
    UsernameTaken,
    /// 409 `name_taken`: a project with that name exists.
    #[error("a project with this name exists")]
    NameTaken,
    /// 403 `registration_closed`: the project does not allow self-registration (its admins
    /// create users, or its backend upserts them).
    #[error("this project does not allow self-registration")]
    RegistrationClosed,
    /// 409 `conversation_closed`.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// 409 `message_deleted`: a deleted message cannot be edited.
    #[error("the message was deleted")]
    MessageDeleted,
    /// 409 `limit_reached`: a cap is full (distinct reactions of a message, pins of a
    /// conversation); the message names it.
    #[error("{0}")]
    LimitReached(String),
    /// 410 `invite_invalid`: the invite expired, was used up or was revoked.
    #[error("this invite has expired, been used up or been revoked")]
    InviteInvalid,
    /// 413 `payload_too_large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 413 `quota_exceeded`: the upload would take the user past
    /// `uploads.quota_bytes_per_user`.
    #[error("{0}")]
    QuotaExceeded(String),
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
    /// 429 `too_many_sessions`: the user has `realtime.max_sessions_per_user` open WebSocket
    /// sessions already.
    #[error("{0}")]
    TooManySessions(String),
    /// 503 `unavailable`: a dependency (the database) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `internal`: the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// 429 `rate_limited` for a refusal by the limit `kind` (`send`, `frames`, `in_flight`,
    /// `api`, `login`, `auth`, ...), which it counts in `parlor_rate_limited_total{kind}`:
    /// every refusal is built here, so each is counted once.
    pub fn rate_limited(kind: &'static str, retry_after: Duration) -> Self {
        crate::monitor::rate_limited(kind);
        Self::RateLimited { retry_after }
    }

    /// [`Self::rate_limited`] for a refusal by a governor limiter running on clock `C`: retry
    /// once `not_until` has passed, measured from now on that clock.
    pub fn rate_limited_until<C: Clock + Default>(
        kind: &'static str,
        not_until: &governor::NotUntil<C::Instant>,
    ) -> Self {
        Self::rate_limited(kind, not_until.wait_time_from(C::default().now()))
    }

    /// The stable code sent to clients.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::UnknownEvent(_) => ErrorCode::UnknownEvent,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::EmailUnverified => ErrorCode::EmailUnverified,
            Self::InvalidCode => ErrorCode::InvalidCode,
            Self::CodeExpired => ErrorCode::CodeExpired,
            Self::InvalidToken => ErrorCode::InvalidToken,
            Self::TokenExpired => ErrorCode::TokenExpired,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Conflict | Self::Clash(_) => ErrorCode::Conflict,
            Self::EmailTaken => ErrorCode::EmailTaken,
            Self::UsernameTaken => ErrorCode::UsernameTaken,
            Self::NameTaken => ErrorCode::NameTaken,
            Self::RegistrationClosed => ErrorCode::RegistrationClosed,
            Self::ConversationClosed => ErrorCode::ConversationClosed,
            Self::MessageDeleted => ErrorCode::MessageDeleted,
            Self::LimitReached(_) => ErrorCode::LimitReached,
            Self::InviteInvalid => ErrorCode::InviteInvalid,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::TooManySessions(_) => ErrorCode::TooManySessions,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Shorthand for a 404 naming what was looked for.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// Turns a write's [`DbError`] into the client's error, a missing row answered as
    /// `<what> not found`: `.map_err(AppError::db_naming("project"))`.
    pub fn db_naming(what: &'static str) -> impl Fn(DbError) -> Self {
        move |err| match err {
            DbError::NotFound => Self::not_found(what),
            other => other.into(),
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"code": "not_found", "message": "conversation not found"}))]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: ErrorCode,
    /// Human-readable text; names the offending field for `validation_failed`.
    pub message: String,
    /// For `rate_limited`: milliseconds until a retry can succeed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry_after_ms: Option<u64>,
}

/// Every REST error body: `{"error":{"code","message","retry_after_ms"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "conversation not found"}}))]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub error: ErrorBody,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_)
            | Self::BadRequest(_)
            | Self::UnknownEvent(_)
            | Self::InvalidCode
            | Self::CodeExpired
            | Self::InvalidToken
            | Self::TokenExpired => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::RegistrationClosed | Self::EmailUnverified => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict
            | Self::Clash(_)
            | Self::EmailTaken
            | Self::UsernameTaken
            | Self::NameTaken
            | Self::ConversationClosed
            | Self::MessageDeleted
            | Self::LimitReached(_) => StatusCode::CONFLICT,
            Self::InviteInvalid => StatusCode::GONE,
            Self::PayloadTooLarge(_) | Self::QuotaExceeded(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } | Self::TooManySessions(_) => StatusCode::TOO_MANY_REQUESTS,
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
