//! `GET /health`: liveness plus a database round trip.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel::{OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl as _;
use serde::Serialize;

use crate::http::state::AppState;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_s: u64,
    database: &'static str,
}

/// 200 `{"status":"ok","version","uptime_s","database":"ok"}`, or 503 with
/// `status: "degraded"` and `database: "unreachable"` when the database does not answer within
/// two seconds. The probe reads a real table (`projects`), so a missing, corrupt or locked
/// database file is noticed; a bare `SELECT 1` would succeed without touching the file.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let probe = async {
        let mut conn = state.db.read().await.ok()?;
        let query = crate::db::schema::projects::table.select(crate::db::schema::projects::id);
        crate::db::on_read!(&mut conn, c => query.first::<i64>(c).await)
            .optional()
            .ok()
            .flatten()
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
