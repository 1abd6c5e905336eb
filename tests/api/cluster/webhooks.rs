//! Webhooks on two nodes: the Telegram sink asks Redis whether a participant has a session on
//! any node.

use serde_json::{Value, json};

use super::{Nodes, next_of, redis_url};
use crate::webhooks::{Receiver, as_user, log_until};
use parlor::domain::Role;

#[actix_web::test]
async fn the_telegram_sink_sees_sessions_on_another_node() {
    let mut bot_api = Receiver::start(0).await;
    let mut nodes = Nodes::start(
        1,
        &redis_url(),
        &[
            ("PARLOR__WEBHOOKS__TELEGRAM_API_BASE", bot_api.url.clone()),
            ("PARLOR__WEBHOOKS__POLL_INTERVAL_MS", "10".into()),
            ("PARLOR__WEBHOOKS__INITIAL_BACKOFF_MS", "10".into()),
        ],
    )
    .await;
    // Only node A delivers, so the session on node B is known to it through Redis alone.
    nodes
        .env
        .push(("PARLOR__WEBHOOKS__ENABLED", "false".into()));
    nodes.add().await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let admin = a.create_with_role("admin", Role::Admin).await;
    let body = json!({"type": "telegram", "bot_token": "42:token", "chat_id": "@ops"});
    let (status, made) = as_user(a, &admin, "POST", "/api/v1/projects/1/webhooks", &body).await;
    assert_eq!(status, 201, "{made}");
    let ann = a.register("ann").await;
    let online = b.register("online").await;
    let offline = a.register("offline").await;
    let seen = a.conversation(&ann, &[&online]).await;
    let missed = a.conversation(&ann, &[&offline]).await;
    // `online` connects to node B; Ann, on node A, hears of it once Redis knows.
    let mut ann_ws = a.ws(&ann).await;
    let _online_ws = b.ws(&online).await;
    let status = next_of(&mut ann_ws, "user:status").await;
    assert_eq!(status["user_id"].as_i64(), Some(online.id));
    assert_eq!(a.send_rest(&ann, seen, "seen live").await.status(), 201);
    assert_eq!(a.send_rest(&ann, missed, "missed it").await.status(), 201);

    let hit = bot_api.next().await;
    assert_eq!(hit.path, "/bot42:token/sendMessage");
    let body = hit.json();
    assert_eq!(body["chat_id"], "@ops");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("missed it"),
        "only the missed message alerts: {text}"
    );
    let log = log_until(a, &admin, &made["id"], |log| {
        log.len() == 2 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    for delivery in &log {
        assert_eq!(delivery["attempts"], 1, "{delivery}");
    }
    assert_eq!(log[0]["last_status_code"], Value::Null);
}

#[actix_web::test]
async fn with_two_nodes_delivering_each_event_is_attempted_once_and_in_order() {
    let mut receiver = Receiver::start(0).await;
    let env = [
        (
            "PARLOR__WEBHOOKS__ALLOW_PRIVATE_TARGETS",
            "true".to_string(),
        ),
        ("PARLOR__WEBHOOKS__POLL_INTERVAL_MS", "5".into()),
    ];
    let nodes = Nodes::start(2, &redis_url(), &env).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let admin = a.create_with_role("admin", Role::Admin).await;
    let body = json!({"url": receiver.url, "events": ["message.created"]});
    let (status, made) = as_user(a, &admin, "POST", "/api/v1/projects/1/webhooks", &body).await;
    assert_eq!(status, 201, "{made}");
    let (ann, bob) = (a.register("ann").await, b.register("bob").await);
    let conversation = a.conversation(&ann, &[&bob]).await;
    let sent: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    for (i, content) in sent.iter().enumerate() {
        let node = if i % 2 == 0 { a } else { b };
        assert_eq!(
            node.send_rest(&ann, conversation, content).await.status(),
            201
        );
    }
    let mut got = Vec::new();
    for _ in 0..sent.len() {
        got.push(receiver.next().await.json()["data"]["content"].clone());
    }
    assert_eq!(got, sent, "each once, in the order stored");
    let log = log_until(a, &admin, &made["id"], |log| {
        log.len() == sent.len() && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(log.iter().all(|d| d["attempts"] == 1), "{log:?}");
}
