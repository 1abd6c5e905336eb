//! `GET /health` (the state of the database and, in cluster mode, Redis), `GET /health/live`
//! (whether the process serves: for a supervisor's restart decision) and `GET /health/ready`
//! (whether a load balancer should send this node traffic).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel::{OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl as _;
use serde::Serialize;

use crate::http::state::AppState;

/// The body of `GET /health` and `GET /health/ready`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok", "version": "0.1.0", "uptime_s": 42, "database": "ok"}))]
pub struct Health {
    /// `ok`, or `degraded` when the database (or, in cluster mode, Redis) does not answer.
    status: &'static str,
    /// The server's version.
    version: &'static str,
    /// Seconds since the server started.
    uptime_s: u64,
    /// `ok` or `unreachable`.
    database: &'static str,
    /// `ok` or `down` in cluster mode; absent on a single node.
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<&'static str>,
}

/// Whether the database answers within two seconds. The probe reads a real table (`projects`),
/// so a missing, corrupt or locked database is noticed; a bare `SELECT 1` would succeed without
/// touching it.
async fn database_ok(state: &AppState) -> bool {
    let probe = async {
        let mut conn = state.db.read().await.ok()?;
        let query = crate::db::schema::projects::table.select(crate::db::schema::projects::id);
        crate::db::on_read!(&mut conn, c => query.first::<i64>(c).await)
            .optional()
            .ok()
            .flatten()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(_))
    )
}

async fn check(state: &AppState) -> (bool, Health) {
    let database_ok = database_ok(state).await;
    let redis_ok = state
        .cluster
        .as_ref()
        .map(crate::cluster::Cluster::redis_up);
    let all_ok = database_ok && redis_ok != Some(false);
    let body = Health {
        status: if all_ok { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.stats.uptime_s(),
        database: if database_ok { "ok" } else { "unreachable" },
        redis: redis_ok.map(|ok| if ok { "ok" } else { "down" }),
    };
    (database_ok, body)
}

/// Liveness and the state of dependencies
///
/// 200 `{"status":"ok","version","uptime_s","database":"ok"[,"redis":"ok"]}`; 503 with
/// `status: "degraded"` and `database: "unreachable"` when the database does not answer within
/// two seconds. With Redis down (cluster mode) the node still serves its own sessions and
/// stores every message: 200, `status: "degraded"`, `redis: "down"`.
#[utoipa::path(
    get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Serving (`status` may be `degraded` with Redis down)", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let (database_ok, body) = check(&state).await;
    if database_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Readiness for a load balancer
///
/// 200 when this node should get traffic: the database answers and, in cluster mode, Redis
/// does (without it, the node's sessions miss the other nodes' events until it is back). 503
/// otherwise, with the same body as `/health`.
#[utoipa::path(
    get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Send this node traffic", body = Health),
        (status = 503, description = "Do not: the database or Redis does not answer", body = Health),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (_, body) = check(&state).await;
    if body.status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The body of `GET /health/live`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok", "version": "0.1.0", "uptime_s": 42}))]
pub struct Live {
    /// Always `ok`.
    status: &'static str,
    /// The server's version.
    version: &'static str,
    /// Seconds since the server started.
    uptime_s: u64,
}

/// Liveness
///
/// 200 `{"status":"ok","version","uptime_s"}` while the process answers HTTP, whatever its
/// dependencies: a supervisor (systemd, Kubernetes' liveness probe) restarts the process only
/// when this fails. It touches neither the database nor Redis, whose outages a restart would
/// not cure; `/health/ready` reports those.
#[utoipa::path(
    get, path = "/health/live", tag = "health",
    responses((status = 200, description = "The process serves", body = Live))
)]
pub async fn live(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Live {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.stats.uptime_s(),
    })
}
