use serde_json::Value;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn health_reports_ok_version_uptime_and_database() {
    let app = spawn_app().await;
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_s"].is_u64());
}

#[actix_web::test]
async fn health_is_503_when_the_database_is_broken() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health", None).await.status(), 200);
    // The database is broken under the running server.
    app.break_database();
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"], "unreachable");
}
