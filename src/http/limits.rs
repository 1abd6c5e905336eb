//! REST rate limits (governor, in memory):
//! - every `/api/v1` request counts against `limits.api_requests_per_minute`, keyed by the
//!   caller's user id when it carries a valid access token, else by peer IP;
//! - `register`, `login` and `refresh` also count against `limits.auth_attempts_per_ip_per_minute`
//!   per peer IP, and each login against `limits.login_attempts_per_account_per_minute` for the
//!   account it names (credential stuffing and brute force: OWASP Authentication Cheat Sheet).
//!
//! Past a limit the answer is 429 `rate_limited` with `Retry-After`. The peer IP is the socket
//! address: forwarded headers are not trusted.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::extractors::bearer_token;
use crate::config::LimitSettings;
use crate::domain::UserId;
use crate::error::AppError;
use crate::startup::AppState;

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// An authenticated user.
    User(UserId),
    /// An anonymous peer.
    Ip(IpAddr),
}

/// The REST limiters.
pub struct ApiLimits {
    api: DefaultKeyedRateLimiter<Caller>,
    auth_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_account: DefaultKeyedRateLimiter<String>,
    uploads: DefaultKeyedRateLimiter<UserId>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn refused(
    result: Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>,
) -> Result<(), AppError> {
    result.map_err(|not_until| AppError::RateLimited {
        retry_after: not_until.wait_time_from(DefaultClock::default().now()),
    })
}

impl ApiLimits {
    /// Limiters with the configured quotas.
    pub fn new(limits: &LimitSettings, uploads_per_minute: u32) -> Self {
        Self {
            api: RateLimiter::keyed(per_minute(limits.api_requests_per_minute)),
            auth_ip: RateLimiter::keyed(per_minute(limits.auth_attempts_per_ip_per_minute)),
            login_account: RateLimiter::keyed(per_minute(
                limits.login_attempts_per_account_per_minute,
            )),
            uploads: RateLimiter::keyed(per_minute(uploads_per_minute)),
        }
    }

    /// Counts one login attempt for `account` (the user id of an existing account, else the
    /// lowercased login).
    ///
    /// # Errors
    /// `rate_limited` past `limits.login_attempts_per_account_per_minute`.
    pub fn login_attempt(&self, account: &str) -> Result<(), AppError> {
        refused(self.login_account.check_key(&account.trim().to_lowercase()))
    }

    /// Counts one upload by `user`.
    ///
    /// # Errors
    /// `rate_limited` past `uploads.uploads_per_minute`.
    pub fn upload(&self, user: UserId) -> Result<(), AppError> {
        refused(self.uploads.check_key(&user))
    }

    /// Forgets callers whose limits have fully recovered (keeps memory bounded).
    pub fn forget_idle(&self) {
        self.api.retain_recent();
        self.auth_ip.retain_recent();
        self.login_account.retain_recent();
        self.uploads.retain_recent();
    }
}

/// The middleware applying the API and per-IP auth limits to `/api/v1`.
///
/// # Errors
/// `rate_limited` (429) past a limit; otherwise whatever the handler returns.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        let ip = req
            .peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |addr| addr.ip());
        let user = bearer_token(req.request(), true).and_then(|t| state.jwt.verify(&t).ok());
        let caller = user.map_or(Caller::Ip(ip), |user| Caller::User(user.id));
        refused(state.limits.api.check_key(&caller))?;
        let path = req.path();
        if [
            "/api/v1/auth/login",
            "/api/v1/auth/register",
            "/api/v1/auth/refresh",
        ]
        .contains(&path)
        {
            refused(state.limits.auth_ip.check_key(&ip))?;
        }
    }
    next.call(req).await
}
