//! `GET /metrics`: Prometheus metrics ([`crate::monitor`]), and the middleware that counts
//! HTTP requests by route and status.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::Server;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use crate::actors::presence::CountOnline;
use crate::actors::room_registry::CountRooms;
use crate::auth::AuthUser;
use crate::auth::extractors::bearer_token;
use crate::config::Settings;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::state::AppState;
use crate::monitor;

/// Prometheus metrics
///
/// 200 `text/plain; version=0.0.4`: this node's metrics in Prometheus' text exposition format
/// (README, *Monitoring*, lists them). On the main address it needs
/// `Authorization: Bearer <metrics.token>` or an instance admin's access token; on
/// `metrics.listen` it needs nothing. 404 with `metrics.enabled = false`.
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The exposition text", content_type = "text/plain", body = String),
        (status = 401, description = "`unauthorized`: neither the scrape token nor a valid access token", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: an access token of someone who is not an instance admin", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: metrics are off", body = ErrorEnvelope),
    )
)]
pub async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Option<AuthUser>,
) -> Result<HttpResponse, AppError> {
    if state.metrics.is_none() {
        return Err(AppError::not_found("metrics"));
    }
    let token = state.settings.metrics.token();
    let presented = bearer_token(&req, false);
    let by_token = match (token, presented.as_deref()) {
        // Compared as digests: the time taken tells nothing about the token.
        (Some(token), Some(presented)) => {
            Sha256::digest(token.as_bytes()) == Sha256::digest(presented.as_bytes())
        }
        _ => false,
    };
    if !by_token {
        let Some(auth) = auth else {
            return Err(AppError::Unauthorized(
                "metrics need the scrape token (metrics.token) or an instance admin".into(),
            ));
        };
        super::admin::check_instance(&state, &auth).await?;
    }
    scrape(&state).await
}

/// `GET /metrics` on `metrics.listen`: the same text, without authentication.
///
/// # Errors
/// 503 while the node's actors are stopping.
pub async fn open_metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> Result<HttpResponse, AppError> {
    let Some(handle) = state.metrics.as_ref() else {
        return Err(AppError::not_found("metrics"));
    };
    let online = state.presence.send(CountOnline).await?;
    let rooms = state.rooms.send(CountRooms).await?;
    let gauges = monitor::Gauges {
        sessions: online.sessions,
        users: online.users,
        rooms,
        queued_bytes: online.queued_bytes,
        queued_bytes_max: online.queued_bytes_max,
        uptime_s: state.stats.uptime_s(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(monitor::render(handle, &gauges)))
}

/// Middleware: counts each answered request in `parlor_http_requests_total` and
/// `parlor_http_request_duration_seconds`, by method, route pattern (`/api/v1/conversations/{id}`,
/// never the raw path, so the label's values stay few) and status.
///
/// The future is boxed: as the outermost middleware's, it would otherwise sit inline in every
/// connection's HTTP/1 dispatcher for the connection's whole life, a WebSocket's included
/// (docs/BENCHMARKS.md, idle connections).
///
/// # Errors
/// The inner service's.
pub fn record<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> LocalBoxFuture<'static, Result<ServiceResponse<B>, actix_web::Error>> {
    Box::pin(measure(req, next))
}

async fn measure<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let response = next.call(req).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    monitor::http_request(
        method.as_str(),
        route,
        response.status().as_u16(),
        start.elapsed(),
    );
    Ok(response)
}

/// The server of `GET /metrics` on `metrics.listen` (one worker, that route only, no
/// authentication), when metrics are on and the address is set.
///
/// # Errors
/// The address cannot be bound.
pub fn listener(
    settings: &Settings,
    state: &web::Data<AppState>,
) -> anyhow::Result<Option<Server>> {
    let listen = &settings.metrics.listen;
    if !settings.metrics.enabled || listen.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot bind metrics.listen {listen}: {e}"))?;
    let address = listener.local_addr()?;
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(open_metrics))
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .run();
    tracing::info!(address = %address, "metrics on http://{address}/metrics");
    Ok(Some(server))
}
