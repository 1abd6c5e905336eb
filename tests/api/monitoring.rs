//! Operations (issue 16): Prometheus metrics at `GET /metrics` (who may scrape, what a send
//! moves, its own address), `GET /health/live`, and JSON log lines.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ServerProcess, TestApp, TestDir, spawn_app_with};
use crate::projects::instance_admin;

/// The value of the sample `name` (with its labels, exactly as exposed) in `text`, if any.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
}

/// `GET /metrics` with `token`: the status and the body.
async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let response = app.get("/metrics", token).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Who may scrape on the main address: a table of credentials.
#[actix_web::test]
async fn the_scrape_token_and_instance_admins_read_metrics_nobody_else() {
    let app = spawn_app_with(|s| {
        s.metrics.token = "scrape-secret".to_string().into();
    })
    .await;
    let root = instance_admin(&app).await;
    let ann = app.register("ann").await;
    let agent = app
        .create_with_role("sam", parlor::domain::Role::Admin)
        .await;
    let cases = [
        (None, 401),
        (Some("wrong-secret"), 401),
        (Some(ann.access_token.as_str()), 403),
        (Some(agent.access_token.as_str()), 403),
        (Some(root.access_token.as_str()), 200),
        (Some("scrape-secret"), 200),
    ];
    for (token, want) in cases {
        let (status, body) = scrape(&app, token).await;
        assert_eq!(status, want, "{token:?}: {body}");
        if want == 200 {
            assert!(body.contains("# TYPE parlor_sessions_open gauge"), "{body}");
        } else {
            let error: Value = serde_json::from_str(&body).unwrap();
            assert!(error["error"]["code"].is_string(), "{body}");
        }
    }
}

#[actix_web::test]
async fn a_send_moves_the_stored_delivered_and_request_counters() {
    let app = spawn_app_with(|s| {
        s.metrics.token = "scrape-secret".to_string().into();
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let conversation = app.conversation(&ann, &[&bob]).await;
    let mut ws = app.ws(&bob).await;
    ws.join(conversation).await;
    let (_, before) = scrape(&app, Some("scrape-secret")).await;
    let stored_before = sample(&before, "parlor_messages_stored_total").unwrap_or(0.0);
    let delivered_before = sample(&before, "parlor_deliveries_total").unwrap_or(0.0);
    assert_eq!(
        sample(&before, "parlor_sessions_open"),
        Some(1.0),
        "{before}"
    );

    assert_eq!(
        app.send_rest(&ann, conversation, "counted").await.status(),
        201
    );
    let event = ws.recv_type("message:new").await;
    assert_eq!(event["data"]["message"]["content"], "counted");

    let (_, after) = scrape(&app, Some("scrape-secret")).await;
    assert_eq!(
        sample(&after, "parlor_messages_stored_total"),
        Some(stored_before + 1.0),
        "{after}"
    );
    let delivered = sample(&after, "parlor_deliveries_total").unwrap_or(0.0);
    assert!(
        delivered > delivered_before,
        "{delivered_before} -> {delivered}"
    );
    assert!(sample(&after, "parlor_ws_bytes_out_total").unwrap_or(0.0) > 0.0);
    let route = "parlor_http_requests_total{method=\"POST\",route=\"/api/v1/conversations/{id}/messages\",status=\"201\"}";
    assert_eq!(sample(&after, route), Some(1.0), "{after}");
    assert!(
        sample(&after, "parlor_commit_batch_size_count").unwrap_or(0.0) >= 1.0,
        "{after}"
    );
    assert!(
        sample(&after, "parlor_http_connections_open").unwrap_or(0.0) >= 1.0,
        "{after}"
    );
    assert_eq!(sample(&after, "parlor_rooms_live"), Some(1.0), "{after}");
    assert!(
        after.contains("parlor_commit_seconds_bucket{le=\"0.005\"}"),
        "{after}"
    );
}

#[actix_web::test]
async fn refusals_are_counted_by_kind() {
    let app = spawn_app_with(|s| {
        s.metrics.token = "scrape-secret".to_string().into();
        s.limits.messages_per_window = 1;
        s.limits.message_window_s = 60;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let conversation = app.conversation(&ann, &[&bob]).await;
    let mut refused = 0;
    for i in 0..5 {
        if app
            .send_rest(&ann, conversation, &format!("m{i}"))
            .await
            .status()
            == 429
        {
            refused += 1;
        }
    }
    assert!(refused > 0, "the limit refused nothing");
    let (_, text) = scrape(&app, Some("scrape-secret")).await;
    assert_eq!(
        sample(&text, "parlor_rate_limited_total{kind=\"send\"}"),
        Some(f64::from(refused)),
        "{text}"
    );
}

#[actix_web::test]
async fn metrics_off_is_404_and_their_own_address_needs_no_token() {
    let off = spawn_app_with(|s| s.metrics.enabled = false).await;
    let root = instance_admin(&off).await;
    assert_eq!(scrape(&off, Some(&root.access_token)).await.0, 404);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|s| s.metrics.listen = format!("127.0.0.1:{port}")).await;
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/plain")),
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("parlor_uptime_seconds")
    );
    // Nothing else is served there; the main address still asks for credentials.
    let other = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    assert_eq!(scrape(&app, None).await.0, 401);
}

#[actix_web::test]
async fn liveness_answers_without_the_database() {
    let app = spawn_app_with(|_| {}).await;
    let response = app.get("/health/live", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    app.break_database();
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    assert_eq!(app.get("/health/ready", None).await.status(), 503);
}

#[actix_web::test]
async fn log_format_json_writes_one_json_object_per_line() {
    let dir = TestDir::new();
    let server = ServerProcess::start_with(dir.clone(), &[("PARLOR__LOG__FORMAT", "json".into())]);
    let port = server.app.port;
    let body =
        json!({"email": "xavier@example.com", "username": "xavier", "password": "long enough pw"});
    let answer = server.app.post("/api/v1/auth/register", None, &body).await;
    assert_eq!(answer.status(), 201);
    assert!(server.signal_and_wait("TERM").success());
    std::thread::sleep(Duration::from_millis(100));
    let log = std::fs::read_to_string(dir.path().join(format!("node-{port}.log"))).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() >= 2, "{log}");
    for line in lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            entry["level"].is_string() && entry["fields"].is_object(),
            "{line}"
        );
    }
    assert!(log.contains("server stopped"), "{log}");
}
