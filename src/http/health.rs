//! `GET /health`: liveness plus a database round trip.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel_async::RunQueryDsl as _;
use serde::Serialize;

use crate::startup::AppState;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_s: u64,
    database: &'static str,
}

/// 200 `{"status":"ok","version","uptime_s","database":"ok"}`, or 503 with
/// `status: "degraded"` and `database: "unreachable"` when `SELECT 1` does not answer within
/// two seconds.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let probe = async {
        let mut conn = state.db.read().await.ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.ok()
    };
    let database_ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(_))
    );
    let body = Health {
        status: if database_ok { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started_at.elapsed().as_secs(),
        database: if database_ok { "ok" } else { "unreachable" },
    };
    if database_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
