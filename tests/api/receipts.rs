//! Receipts and unread counts.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::spawn_app;
#[actix_web::test]
async fn receipts_move_forward_only_and_reach_the_other_sessions() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    for i in 0..5 {
        app.send_rest(&ann, id, &format!("m{i}")).await;
    }
    let mut ann_ws = app.ws(&ann).await;
    ann_ws.join(id).await;
    let mut bob_ws = app.ws(&bob).await;

    let ack = bob_ws
        .call(
            "message:delivered",
            json!({"conversation_id": id, "seq": 5}),
        )
        .await;
    assert_eq!(ack["data"]["last_delivered_seq"], 5);
    assert_eq!(ack["data"]["last_read_seq"], 0);
    let event = ann_ws.recv_type("message:delivered").await;
    assert_eq!(
        event["data"],
        json!({"conversation_id": id, "user_id": bob.id, "seq": 5})
    );

    let ack = bob_ws
        .call("message:read", json!({"conversation_id": id, "seq": 3}))
        .await;
    assert_eq!(ack["data"]["last_read_seq"], 3);
    assert_eq!(ann_ws.recv_type("message:read").await["data"]["seq"], 3);
    // Backward: nothing moves, nothing is broadcast.
    let ack = bob_ws
        .call("message:read", json!({"conversation_id": id, "seq": 1}))
        .await;
    assert_eq!(ack["data"]["last_read_seq"], 3);
    ann_ws
        .assert_no("message:read", Duration::from_millis(200))
        .await;
    // Beyond the end: clamped to the last seq.
    let response = app
        .post(
            &format!("/api/v1/conversations/{id}/read"),
            Some(&bob.access_token),
            &json!({"seq": 99}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let marks: Value = response.json().await.unwrap();
    assert_eq!(marks["last_read_seq"], 5);
    assert_eq!(marks["last_delivered_seq"], 5);
    assert_eq!(ann_ws.recv_type("message:read").await["data"]["seq"], 5);

    let eve = app.register("eve").await;
    let refused = app
        .post(
            &format!("/api/v1/conversations/{id}/read"),
            Some(&eve.access_token),
            &json!({"seq": 1}),
        )
        .await;
    assert_eq!(refused.status(), 404);
}
#[actix_web::test]
async fn unread_counts_come_from_the_read_watermark() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let first = app.conversation(&ann, &[&bob]).await;
    let second = app.conversation(&bob, &[&ann]).await;
    for i in 0..4 {
        app.send_rest(&ann, first, &format!("a{i}")).await;
    }
    app.send_rest(&bob, first, "bob's own").await;
    app.send_rest(&ann, second, "other").await;

    let unread: Value = app
        .get("/api/v1/unread", Some(&bob.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["total"], 5);
    assert_eq!(unread["conversations"][first.to_string()], 4);
    assert_eq!(unread["conversations"][second.to_string()], 1);

    app.post(
        &format!("/api/v1/conversations/{first}/read"),
        Some(&bob.access_token),
        &json!({"seq": 2}),
    )
    .await;
    let list: Vec<Value> = app
        .get("/api/v1/conversations", Some(&bob.access_token))
        .await
        .json()
        .await
        .unwrap();
    let entry = list.iter().find(|c| c["id"] == first).unwrap();
    assert_eq!(entry["unread_count"], 2);
    assert_eq!(entry["last_read_seq"], 2);
    assert_eq!(entry["last_message"]["content"], "bob's own");
    assert_eq!(entry["last_message"]["seq"], 5);
    // The single view carries the same figures.
    let one: Value = app
        .get(
            &format!("/api/v1/conversations/{first}"),
            Some(&bob.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["unread_count"], 2);
    assert_eq!(one["last_read_seq"], 2);
    assert_eq!(one["last_message"]["seq"], 5);

    // A deleted message is no longer unread.
    let history = app.history(&ann, first, "").await;
    let third = history[2]["id"].as_i64().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/messages/{third}"), &ann.access_token)
            .await
            .status(),
        200
    );
    let unread: Value = app
        .get("/api/v1/unread", Some(&bob.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["conversations"][first.to_string()], 1);
    assert_eq!(unread["total"], 2);
    // The sender has nothing unread from their own messages.
    let ann_unread: Value = app
        .get("/api/v1/unread", Some(&ann.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ann_unread["conversations"][first.to_string()], 1);
}
