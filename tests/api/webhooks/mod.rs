//! Webhooks (issue 12): signed deliveries through the transactional outbox, retried with the
//! same event id, in order; nothing for a rolled-back event; every event type; who manages
//! endpoints; automatic disabling and re-enabling; the delivery log and redelivery; the
//! Telegram sink. Deliveries go to real HTTP servers started by the test on 127.0.0.1; this
//! file has those servers and the shared helpers.

mod delivery;
mod desk;
mod manage;
mod telegram;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{TestApp, TestUser, spawn_app, spawn_app_with};
use parlor::domain::{ProjectId, Role};
/// One request a test server received.
#[derive(Debug)]
pub(crate) struct Hit {
    pub(crate) path: String,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
    /// The status it answered.
    pub(crate) answered: u16,
}

impl Hit {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A local HTTP server that answers 500 while `failures` is above zero (counting it down), 200
/// after, and reports every request.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) failures: Arc<AtomicUsize>,
    hits: mpsc::UnboundedReceiver<Hit>,
}

impl Receiver {
    pub(crate) async fn start(failures: usize) -> Self {
        let (tx, hits) = mpsc::unbounded_channel();
        let failures = Arc::new(AtomicUsize::new(failures));
        let left = failures.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (tx, left) = (tx.clone(), left.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (tx, left) = (tx.clone(), left.clone());
                async move {
                    let fail = left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    let answered = if fail { 500 } else { 200 };
                    let headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
                        .collect();
                    let _ = tx.send(Hit {
                        path: req.path().to_string(),
                        headers,
                        body: String::from_utf8(body.to_vec()).unwrap(),
                        answered,
                    });
                    if fail {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().json(json!({"ok": true}))
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            failures,
            hits,
        }
    }

    /// The next request, within 10 seconds.
    pub(crate) async fn next(&mut self) -> Hit {
        tokio::time::timeout(Duration::from_secs(10), self.hits.recv())
            .await
            .expect("a delivery arrives in time")
            .expect("the receiver runs")
    }
}

/// A server with fast retries that may deliver to 127.0.0.1.
pub(crate) async fn app_with(customize: impl FnOnce(&mut parlor::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.webhooks.allow_private_targets = true;
        s.webhooks.poll_interval_ms = 10;
        s.webhooks.initial_backoff_ms = 10;
        s.webhooks.max_backoff_s = 1;
        customize(s);
    })
    .await
}

pub(crate) async fn as_user(
    app: &TestApp,
    user: &TestUser,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let auth = format!("Bearer {}", user.access_token);
    app.call(method, path, Some(("authorization", &auth)), body)
        .await
}

/// Creates an endpoint of project 1 as `admin`; answers the creation reply.
pub(crate) async fn create(app: &TestApp, admin: &TestUser, body: Value) -> Value {
    let (status, made) = as_user(app, admin, "POST", "/api/v1/projects/1/webhooks", &body).await;
    assert_eq!(status, 201, "{made}");
    made
}

/// Checks `Parlor-Signature` against an HMAC-SHA256 computed here; answers the timestamp.
pub(crate) fn verify(hit: &Hit, secret: &str) -> i64 {
    let header = &hit.headers["parlor-signature"];
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature {header}"));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", hit.body).as_bytes());
    assert_eq!(hex::encode(mac.finalize().into_bytes()), v1, "signature");
    let t: i64 = t.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - t).abs() < 60,
        "fresh timestamp"
    );
    t
}

pub(crate) use crate::api_keys::member;

/// Polls endpoint `id` until `until` holds (the worker records outcomes after answers).
pub(crate) async fn webhook_until(
    app: &TestApp,
    admin: &TestUser,
    id: &Value,
    until: impl Fn(&Value) -> bool,
) -> Value {
    let path = format!("/api/v1/projects/1/webhooks/{id}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, view) = as_user(app, admin, "GET", &path, &Value::Null).await;
        assert_eq!(status, 200);
        if until(&view) {
            return view;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "endpoint never became as expected: {view}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls the delivery log of endpoint `id` until `until` holds.
pub(crate) async fn log_until(
    app: &TestApp,
    admin: &TestUser,
    id: &Value,
    until: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let path = format!("/api/v1/projects/1/webhooks/{id}/deliveries");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, log) = as_user(app, admin, "GET", &path, &Value::Null).await;
        assert_eq!(status, 200);
        let log = log.as_array().unwrap().clone();
        if until(&log) {
            return log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "log never became as expected: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
