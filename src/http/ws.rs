//! `GET /api/v1/ws`: the WebSocket upgrade.
//!
//! Authentication happens at the handshake (`Authorization: Bearer` or `?token=`): a missing or
//! invalid token is HTTP 401 and no upgrade. A browser `Origin` not allowed by
//! `server.allowed_origins` is 403 (cross-site WebSocket hijacking, OWASP WebSocket Security
//! Cheat Sheet); requests without `Origin` (non-browser clients) are allowed.

use actix_web::http::header::{HOST, ORIGIN};
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_actors::ws::WsResponseBuilder;

use crate::actors::session::SessionActor;
use crate::auth::extractors::authenticate;
use crate::db::queries::users;
use crate::error::AppError;
use crate::startup::AppState;

/// Upgrades to a WebSocket session.
pub async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let auth = authenticate(&req, true)?;
    if let Some(origin) = req.headers().get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = req.headers().get(HOST).and_then(|h| h.to_str().ok());
        if !origin_allowed(origin, host, &state.settings.server.allowed_origins) {
            return Err(AppError::Forbidden(format!(
                "origin {origin:?} is not allowed"
            )));
        }
    }
    let user = {
        let mut conn = state.db.read().await?;
        users::find(&mut conn, auth.id)
            .await?
            .ok_or_else(|| AppError::Unauthorized("user no longer exists".into()))?
    };
    let session = SessionActor::new(auth, user.view(), state.clone());
    WsResponseBuilder::new(session, &req, stream)
        .frame_size(state.settings.realtime.max_frame_bytes)
        .start()
        .map_err(|e| AppError::BadRequest(format!("WebSocket handshake failed: {e}")))
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
