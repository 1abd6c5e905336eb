//! REST and upgrade rate limits (governor, in memory):
//! - every `/api/v1` request counts against `limits.api_requests_per_minute`, keyed by the
//!   caller's user id when it carries a valid access token, else by client IP;
//! - `register`, `login`, `refresh` and widget sessions also count against `limits.auth_attempts_per_ip_per_minute`
//!   per client IP, and each login against `limits.login_attempts_per_account_per_minute` for the
//!   account it names (credential stuffing and brute force: OWASP Authentication Cheat Sheet);
//! - verification resends and password reset requests also against
//!   `limits.account_emails_per_address_per_hour` for the address they name (account email:
//!   verify-email, resend-verification, the password reset and address change confirmations
//!   count per IP like sign-ins);
//! - WebSocket upgrades against `limits.ws_upgrades_per_ip_per_minute` per client IP;
//! - conversation creation against `limits.conversations_per_hour` per user; uploads against
//!   `uploads.uploads_per_minute` per user; user directory searches against
//!   `limits.user_searches_per_minute` per user; invite accepts, `limits.invite_accepts_per_minute`
//!   per user; message searches, `limits.message_searches_per_minute` per user.
//!
//! Past a limit the answer is 429 `rate_limited` with `Retry-After`. The client IP is the TCP
//! peer, or the forwarded address from a trusted proxy, IPv6 counted per /64
//! ([`client_ip`](super::client_ip)).
//!
//! In cluster mode the API limit and both sign-in limits are counted in Redis instead
//! ([`crate::cluster::rate`]), so a caller has one budget whichever nodes it reaches; while
//! Redis does not answer, each node falls back to its own limiter. The others stay per node.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::extractors::bearer_token;
use crate::config::{LimitSettings, UploadSettings};
use crate::domain::UserId;
use crate::error::AppError;
use crate::http::state::AppState;

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// An authenticated user.
    User(UserId),
    /// An anonymous client, by IP bucket.
    Ip(IpAddr),
}

/// The account a login attempt names: an existing user by id, or the login text of none. Two
/// kinds of key, so no login text can spend a user's budget (a username `user:7` once did).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LoginKey {
    /// An existing account, however it was named (email or username).
    Account(UserId),
    /// A login naming no account, lowercased.
    Unknown(String),
}

/// The limiters.
pub struct ApiLimits {
    /// The cluster-wide counters, in cluster mode.
    cluster: Option<crate::cluster::Cluster>,
    /// The cluster-wide quotas: API requests, sign-in attempts per IP, per account.
    quotas: [crate::cluster::rate::Quota; 3],
    api: DefaultKeyedRateLimiter<Caller>,
    /// Per-user API limiters of projects with their own `api_requests_per_minute`, by quota.
    project_api: std::sync::Mutex<
        std::collections::HashMap<u32, std::sync::Arc<DefaultKeyedRateLimiter<Caller>>>,
    >,
    auth_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_account: DefaultKeyedRateLimiter<LoginKey>,
    uploads: DefaultKeyedRateLimiter<UserId>,
    ws_upgrades: DefaultKeyedRateLimiter<IpAddr>,
    conversations: DefaultKeyedRateLimiter<UserId>,
    user_searches: DefaultKeyedRateLimiter<UserId>,
    invite_accepts: DefaultKeyedRateLimiter<UserId>,
    message_searches: DefaultKeyedRateLimiter<UserId>,
    /// Mails asked for per address (lowercased), account or not.
    account_mail: DefaultKeyedRateLimiter<String>,
}

/// Most distinct per-project API quotas with a limiter of their own.
pub const MAX_PROJECT_QUOTAS: usize = 1_000;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

/// `rate_limited` for a refusal of the limit `kind` (counted in
/// `parlor_rate_limited_total{kind}`).
fn refused(
    kind: &'static str,
    result: Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>,
) -> Result<(), AppError> {
    result.map_err(|not_until| AppError::rate_limited_until::<DefaultClock>(kind, &not_until))
}

impl ApiLimits {
    /// Limiters with the configured quotas; `cluster` counts the API and sign-in limits for
    /// every node.
    pub fn new(
        limits: &LimitSettings,
        uploads: &UploadSettings,
        cluster: Option<crate::cluster::Cluster>,
    ) -> Self {
        use crate::cluster::rate::Quota as ClusterQuota;
        let minute = std::time::Duration::from_secs(60);
        Self {
            cluster,
            quotas: [
                ClusterQuota::per(limits.api_requests_per_minute, minute),
                ClusterQuota::per(limits.auth_attempts_per_ip_per_minute, minute),
                ClusterQuota::per(limits.login_attempts_per_account_per_minute, minute),
            ],
            api: RateLimiter::keyed(per_minute(limits.api_requests_per_minute)),
            project_api: std::sync::Mutex::default(),
            auth_ip: RateLimiter::keyed(per_minute(limits.auth_attempts_per_ip_per_minute)),
            login_account: RateLimiter::keyed(per_minute(
                limits.login_attempts_per_account_per_minute,
            )),
            uploads: RateLimiter::keyed(per_minute(uploads.uploads_per_minute)),
            ws_upgrades: RateLimiter::keyed(per_minute(limits.ws_upgrades_per_ip_per_minute)),
            conversations: RateLimiter::keyed(per_hour(limits.conversations_per_hour)),
            user_searches: RateLimiter::keyed(per_minute(limits.user_searches_per_minute)),
            invite_accepts: RateLimiter::keyed(per_minute(limits.invite_accepts_per_minute)),
            message_searches: RateLimiter::keyed(per_minute(limits.message_searches_per_minute)),
            account_mail: RateLimiter::keyed(per_hour(limits.account_emails_per_address_per_hour)),
        }
    }

    /// Counts one request against `key` with the cluster-wide quota `quota` (0: API, 1: auth
    /// per IP, 2: login per account); `None` when this node decides (single node, or Redis not
    /// answering).
    async fn in_cluster(&self, key: String, quota: usize) -> Option<Result<(), AppError>> {
        let quota = *self.quotas.get(quota)?;
        self.in_cluster_with(key, quota).await
    }

    /// Counts one request against `key` with the cluster-wide `quota`; `None` when this node
    /// decides.
    async fn in_cluster_with(
        &self,
        key: String,
        quota: crate::cluster::rate::Quota,
    ) -> Option<Result<(), AppError>> {
        let cluster = self.cluster.as_ref().filter(|c| c.redis_up())?;
        let kind = match key.split(':').next() {
            Some("login") => "login",
            Some("auth") => "auth",
            _ => "api",
        };
        match cluster.rate(key, quota).await {
            Ok(Ok(())) => Some(Ok(())),
            Ok(Err(retry_after)) => Some(Err(AppError::rate_limited(kind, retry_after))),
            Err(err) => {
                tracing::warn!(error = %err, "cluster rate limit unavailable; counting locally");
                None
            }
        }
    }

    /// Counts one login attempt for the account it names.
    ///
    /// # Errors
    /// `rate_limited` past `limits.login_attempts_per_account_per_minute`.
    pub async fn login_attempt(&self, account: &LoginKey) -> Result<(), AppError> {
        let key = match account {
            LoginKey::Account(id) => format!("login:a:{id}"),
            LoginKey::Unknown(login) => format!("login:u:{login}"),
        };
        if let Some(verdict) = self.in_cluster(key, 2).await {
            return verdict;
        }
        refused("login", self.login_account.check_key(account))
    }

    /// Counts one `/api/v1` request of `caller`, against `per_minute` when the caller's project
    /// sets its own limit.
    ///
    /// # Errors
    /// `rate_limited` past `limits.api_requests_per_minute` (or the project's).
    pub async fn api_request(
        &self,
        caller: &Caller,
        per_minute: Option<u32>,
    ) -> Result<(), AppError> {
        let key = match caller {
            Caller::User(id) => format!("api:u:{id}"),
            Caller::Ip(ip) => format!("api:ip:{ip}"),
        };
        let verdict = match per_minute {
            None => self.in_cluster(key, 0).await,
            Some(n) => {
                let quota = crate::cluster::rate::Quota::per(n, std::time::Duration::from_secs(60));
                self.in_cluster_with(key, quota).await
            }
        };
        if let Some(verdict) = verdict {
            return verdict;
        }
        match per_minute.and_then(|n| self.project_limiter(n)) {
            Some(limiter) => refused("api", limiter.check_key(caller)),
            None => refused("api", self.api.check_key(caller)),
        }
    }

    /// The API limiter of projects allowing `n` requests per minute; `None` once
    /// [`MAX_PROJECT_QUOTAS`] distinct quotas exist (the server's limit applies then).
    fn project_limiter(&self, n: u32) -> Option<std::sync::Arc<DefaultKeyedRateLimiter<Caller>>> {
        let mut limiters = self.project_api.lock().ok()?;
        if let Some(limiter) = limiters.get(&n) {
            return Some(limiter.clone());
        }
        if limiters.len() >= MAX_PROJECT_QUOTAS {
            return None;
        }
        let limiter = std::sync::Arc::new(RateLimiter::keyed(per_minute(n)));
        limiters.insert(n, limiter.clone());
        Some(limiter)
    }

    /// Counts one register, login or refresh request from the IP bucket `ip`.
    ///
    /// # Errors
    /// `rate_limited` past `limits.auth_attempts_per_ip_per_minute`.
    pub async fn auth_attempt(&self, ip: IpAddr) -> Result<(), AppError> {
        if let Some(verdict) = self.in_cluster(format!("auth:ip:{ip}"), 1).await {
            return verdict;
        }
        refused("auth", self.auth_ip.check_key(&ip))
    }

    /// Counts one upload by `user`.
    ///
    /// # Errors
    /// `rate_limited` past `uploads.uploads_per_minute`.
    pub fn upload(&self, user: UserId) -> Result<(), AppError> {
        refused("upload", self.uploads.check_key(&user))
    }

    /// Counts one WebSocket upgrade from the client IP bucket `ip`.
    ///
    /// # Errors
    /// `rate_limited` past `limits.ws_upgrades_per_ip_per_minute`.
    pub fn ws_upgrade(&self, ip: IpAddr) -> Result<(), AppError> {
        refused("ws_upgrade", self.ws_upgrades.check_key(&ip))
    }

    /// Counts one conversation created by `user`.
    ///
    /// # Errors
    /// `rate_limited` past `limits.conversations_per_hour`.
    pub fn conversation(&self, user: UserId) -> Result<(), AppError> {
        refused("conversation", self.conversations.check_key(&user))
    }

    /// Counts one user directory search by `user`.
    ///
    /// # Errors
    /// `rate_limited` past `limits.user_searches_per_minute`.
    pub fn user_search(&self, user: UserId) -> Result<(), AppError> {
        refused("user_search", self.user_searches.check_key(&user))
    }

    /// Counts one invite accept by `user`, valid or not.
    ///
    /// # Errors
    /// `rate_limited` past `limits.invite_accepts_per_minute`.
    pub fn invite_accept(&self, user: UserId) -> Result<(), AppError> {
        refused("invite_accept", self.invite_accepts.check_key(&user))
    }

    /// Counts one message search by `user`.
    ///
    /// # Errors
    /// `rate_limited` past `limits.message_searches_per_minute`.
    pub fn message_search(&self, user: UserId) -> Result<(), AppError> {
        refused("message_search", self.message_searches.check_key(&user))
    }

    /// Counts one verification resend or password reset request for `address` (normalized).
    ///
    /// # Errors
    /// `rate_limited` past `limits.account_emails_per_address_per_hour`.
    pub fn account_email(&self, address: &str) -> Result<(), AppError> {
        refused(
            "account_email",
            self.account_mail.check_key(&address.to_string()),
        )
    }

    /// Forgets callers whose limits have fully recovered (keeps memory bounded).
    pub fn forget_idle(&self) {
        self.api.retain_recent();
        if let Ok(limiters) = self.project_api.lock() {
            for limiter in limiters.values() {
                limiter.retain_recent();
            }
        }
        self.auth_ip.retain_recent();
        self.login_account.retain_recent();
        self.uploads.retain_recent();
        self.ws_upgrades.retain_recent();
        self.conversations.retain_recent();
        self.user_searches.retain_recent();
        self.invite_accepts.retain_recent();
        self.message_searches.retain_recent();
        self.account_mail.retain_recent();
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
        let ip = state.proxies.bucket_of(req.request());
        let user = bearer_token(req.request(), true).and_then(|t| state.jwt.verify(&t).ok());
        let caller = user.map_or(Caller::Ip(ip), |user| Caller::User(user.id));
        let quota = user.and_then(|u| state.projects.get(u.project_id).api_requests_per_minute);
        state.limits.api_request(&caller, quota).await?;
        let path = req.path();
        if [
            "/api/v1/auth/login",
            "/api/v1/auth/register",
            "/api/v1/auth/refresh",
            "/api/v1/widget/session",
            "/api/v1/auth/verify-email",
            "/api/v1/auth/resend-verification",
            "/api/v1/auth/password-reset",
            "/api/v1/auth/password-reset/confirm",
            "/api/v1/auth/change-email/confirm",
        ]
        .contains(&path)
        {
            state.limits.auth_attempt(ip).await?;
        }
    }
    next.call(req).await
}
