//! `GET /api/v1/ws`: the WebSocket upgrade.
//!
//! Checks, in order, each failure a plain HTTP error and no upgrade:
//! 1. `limits.ws_upgrades_per_ip_per_minute` for the client IP (429);
//! 2. credentials: a single-use `?ticket=` from `POST /api/v1/ws-ticket`, else an access
//!    token in `Authorization: Bearer` or, as the fallback for clients that can do neither,
//!    `?token=` (401, also for a revoked user token);
//! 3. a browser `Origin` allowed by the project's `allowed_origins` setting, else by
//!    `server.allowed_origins` (403: cross-site WebSocket
//!    hijacking, OWASP WebSocket Security Cheat Sheet); requests without `Origin` (non-browser
//!    clients) are allowed;
//! 4. a valid upgrade request (400);
//! 5. a free place among the user's `realtime.max_sessions_per_user` sessions (429
//!    `too_many_sessions`);
//! 6. the user still exists (401), is not disabled (403), and the token is of their current
//!    generation, not from before a logout-all or an account change (401).
//!
//! The place is taken before the account is read: a sign-out everywhere that commits after the
//! read still finds the place and ends the session as soon as it starts, and one that commits
//! before is seen by the read.

use actix_web::http::header::{HOST, ORIGIN};
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_actors::ws;

use crate::actors::presence::{Admit, Disconnect};
use crate::actors::session::SessionActor;
use crate::auth::AuthUser;
use crate::auth::extractors::{authenticate, query_param};
use crate::domain::{ProjectId, SessionId};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::current_user;
use crate::http::state::AppState;

/// The credentials of an upgrade: a ticket if one is given, else a token.
fn credentials(req: &HttpRequest, state: &AppState) -> Result<AuthUser, AppError> {
    match query_param(req, "ticket") {
        Some(ticket) => {
            let auth = state.tickets.redeem(&ticket).ok_or_else(|| {
                AppError::Unauthorized("invalid, expired or already used ticket".into())
            })?;
            // The token that bought the ticket may have been revoked since.
            if auth
                .token_id
                .is_some_and(|id| state.jwt.revoked().is_revoked(id))
            {
                return Err(AppError::Unauthorized("this token was revoked".into()));
            }
            Ok(auth)
        }
        None => authenticate(req, true),
    }
}

/// Open a WebSocket session
///
/// Upgrades to a WebSocket session (RFC 6455): the frames are docs/PROTOCOL.md §5.
#[utoipa::path(
    get, path = "/api/v1/ws", tag = "realtime",
    security((), ("bearer" = [])),
    params(
        ("ticket" = Option<String>, Query, description = "A single-use ticket from `POST /api/v1/ws-ticket`"),
        ("token" = Option<String>, Query, description = "An access token, for clients that can set no header and get no ticket"),
    ),
    responses(
        (status = 101, description = "Switching protocols: the session starts with a `welcome` frame"),
        (status = 400, description = "`bad_request`: not a valid WebSocket upgrade", body = ErrorEnvelope),
        (status = 401, description = "`unauthorized`: no valid ticket or token, a revoked token, or a user that no longer exists", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: an `Origin` that is not allowed, or a disabled account", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited` (upgrades per IP, with `Retry-After`) or `too_many_sessions`", body = ErrorEnvelope),
    )
)]
pub async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    state.limits.ws_upgrade(state.proxies.bucket_of(&req))?;
    let auth = credentials(&req, &state)?;
    check_origin(&req, &state, auth.project_id)?;
    let mut response = ws::handshake(&req)
        .map_err(|e| AppError::BadRequest(format!("WebSocket handshake failed: {e}")))?;
    let session_id = SessionId::new();
    state
        .presence
        .send(Admit {
            user_id: auth.id,
            session_id,
        })
        .await??;
    let user = match current_user(&state, &auth).await {
        Ok(user) => user,
        Err(err) => {
            state.presence.do_send(Disconnect {
                user_id: auth.id,
                session_id,
            });
            return Err(err);
        }
    };
    // The session's frames go out through its outbox (actors/wire.rs), not a WebSocket context.
    let body = SessionActor::start(session_id, auth, user.view(), state.session.clone(), stream);
    Ok(response.streaming(body))
}

/// Refuses a browser `Origin` that `project` does not allow: its own `allowed_origins` when it
/// has them, else `server.allowed_origins`. Requests without an `Origin` (not from a browser)
/// pass. Used by the WebSocket upgrade and the widget's session.
///
/// # Errors
/// `forbidden` naming the origin.
pub fn check_origin(
    req: &HttpRequest,
    state: &AppState,
    project: ProjectId,
) -> Result<(), AppError> {
    let Some(origin) = req.headers().get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = req.headers().get(HOST).and_then(|h| h.to_str().ok());
    let settings = state.projects.get(project);
    let allowed = settings
        .allowed_origins
        .as_deref()
        .unwrap_or(&state.settings.server.allowed_origins);
    if origin_allowed(origin, host, allowed) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "origin {origin:?} is not allowed"
        )))
    }
}

/// Whether `origin` matches one of `allowed`: an exact origin, `scheme://host:*` (any port, or
/// none), or `self` (same host and port as the request's `Host`). Comparison ignores ASCII case.
pub fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.trim().to_ascii_lowercase();
        if pattern == "self" {
            return host.is_some_and(|host| {
                let host = host.to_ascii_lowercase();
                origin == format!("http://{host}") || origin == format!("https://{host}")
            });
        }
        if let Some(base) = pattern.strip_suffix(":*") {
            return origin == base
                || origin.strip_prefix(base).is_some_and(|rest| {
                    rest.strip_prefix(':').is_some_and(|port| {
                        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                    })
                });
        }
        origin == pattern
    })
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn origins_match_exactly_by_wildcard_port_or_self() {
        let allowed: Vec<String> = ["self", "http://localhost:*", "https://chat.example.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(origin_allowed("http://localhost:3000", None, &allowed));
        assert!(origin_allowed("http://localhost", None, &allowed));
        assert!(!origin_allowed("http://localhost.evil.com", None, &allowed));
        assert!(!origin_allowed("http://localhost:3000x", None, &allowed));
        assert!(origin_allowed("https://chat.example.com", None, &allowed));
        assert!(!origin_allowed("https://evil.example.com", None, &allowed));
        assert!(origin_allowed(
            "http://10.0.0.5:8080",
            Some("10.0.0.5:8080"),
            &allowed
        ));
        assert!(!origin_allowed(
            "http://10.0.0.5:9999",
            Some("10.0.0.5:8080"),
            &allowed
        ));
    }
}
