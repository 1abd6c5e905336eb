//! The Telegram sink against a local fake Bot API.

use serde_json::{Value, json};

use super::*;

#[actix_web::test]
async fn the_telegram_sink_alerts_only_for_participants_without_an_open_session() {
    let mut bot_api = Receiver::start(0).await;
    let base = bot_api.url.clone();
    let app = app_with(move |s| s.webhooks.telegram_api_base = base).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let made = create(
        &app,
        &admin,
        json!({"type": "telegram", "bot_token": "123456:SECRET-token_x", "chat_id": -1001}),
    )
    .await;
    assert_eq!(made["type"], "telegram");
    assert_eq!(made["url"], Value::Null);
    assert_eq!(made["bot_token"], "123456:****");
    assert_eq!(made["chat_id"], "-1001");
    assert_eq!(made["events"], json!(["message.created"]));
    assert!(made.get("secret").is_none(), "{made}");
    let (_, list) = as_user(
        &app,
        &admin,
        "GET",
        "/api/v1/projects/1/webhooks",
        &Value::Null,
    )
    .await;
    assert!(!list.to_string().contains("SECRET"), "{list}");

    let (ann, online, offline) = (
        app.register("ann").await,
        app.register("online").await,
        app.register("offline").await,
    );
    let seen = app.conversation(&ann, &[&online]).await;
    let missed = app.conversation(&ann, &[&offline]).await;
    let _socket = app.ws(&online).await;
    assert_eq!(app.send_rest(&ann, seen, "seen live").await.status(), 201);
    assert_eq!(app.send_rest(&ann, missed, "missed it").await.status(), 201);

    // Deliveries to one endpoint go in order: had the first produced a call, it would come first.
    let hit = bot_api.next().await;
    assert_eq!(hit.path, "/bot123456:SECRET-token_x/sendMessage");
    let body = hit.json();
    assert_eq!(body["chat_id"], -1001);
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("missed it"), "{text}");
    assert!(text.contains(&format!("conversation {missed}")), "{text}");
    assert!(text.contains(&offline.id.to_string()), "{text}");
    let log = log_until(&app, &admin, &made["id"], |log| {
        log.len() == 2 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(
        log[0]["last_status_code"],
        Value::Null,
        "nothing sent for the message seen live"
    );
    assert_eq!(log[1]["last_status_code"], 200);
}
