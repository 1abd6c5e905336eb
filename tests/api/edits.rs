//! Edits and deletions: through the conversation's room, like sends.

use parlor::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[actix_web::test]
async fn senders_edit_and_delete_and_others_see_it() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let mut ann_ws = app.ws(&ann).await;
    let sent = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "helo"}),
        )
        .await;
    let message_id = sent["data"]["message"]["id"].as_i64().unwrap();
    app.send_rest(&ann, id, "second").await;

    let edited = ann_ws
        .call(
            "message:edit",
            json!({"message_id": message_id, "content": "hello"}),
        )
        .await;
    assert_eq!(edited["type"], "ack");
    assert_eq!(edited["data"]["message"]["content"], "hello");
    let update = bob_ws.recv_type("message:updated").await;
    assert_eq!(update["data"]["message"]["content"], "hello");
    assert!(update["data"]["message"]["edited_at"].is_string());

    let not_mine = bob_ws
        .call(
            "message:edit",
            json!({"message_id": message_id, "content": "hacked"}),
        )
        .await;
    assert_eq!(not_mine["data"]["code"], "forbidden");
    let rest_not_mine = app
        .client
        .patch(app.url(&format!("/api/v1/messages/{message_id}")))
        .bearer_auth(&bob.access_token)
        .json(&json!({"content": "hacked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rest_not_mine.status(), 403);
    let bob_delete = app
        .delete(&format!("/api/v1/messages/{message_id}"), &bob.access_token)
        .await;
    assert_eq!(bob_delete.status(), 403);

    let deleted = ann_ws
        .call("message:delete", json!({"message_id": message_id}))
        .await;
    assert_eq!(deleted["data"]["message"]["content"], "");
    let event = bob_ws.recv_type("message:deleted").await;
    assert_eq!(
        event["data"],
        json!({"conversation_id": id, "message_id": message_id, "seq": 1, "version": 4})
    );

    let edit_deleted = app
        .client
        .patch(app.url(&format!("/api/v1/messages/{message_id}")))
        .bearer_auth(&ann.access_token)
        .json(&json!({"content": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit_deleted.status(), 409);
    assert_eq!(error_code(edit_deleted).await, "message_deleted");

    // The tombstone keeps its place: seq stays gapless.
    let history = app.history(&bob, id, "").await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["seq"], 1);
    assert_eq!(history[0]["content"], "");
    assert!(history[0]["deleted_at"].is_string());
    assert_eq!(history[1]["seq"], 2);

    let eve = app.register("eve").await;
    let hidden = app
        .delete(&format!("/api/v1/messages/{message_id}"), &eve.access_token)
        .await;
    assert_eq!(hidden.status(), 404);
}
#[actix_web::test]
async fn an_agent_may_delete_a_customers_message() {
    let app = spawn_app().await;
    let customer = app.register("carol").await;
    let agent = app.create_with_role("agent1", Role::Agent).await;
    let id = app.conversation(&customer, &[&agent]).await;
    let message: Value = app
        .send_rest(&customer, id, "spam")
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .delete(
            &format!("/api/v1/messages/{}", message["id"]),
            &agent.access_token,
        )
        .await;
    assert_eq!(response.status(), 200);
    let tombstone: Value = response.json().await.unwrap();
    assert!(tombstone["deleted_at"].is_string());
}

#[actix_web::test]
async fn edits_and_deletes_share_the_send_rate_limit() {
    let app = spawn_app_with(|s| {
        s.limits.messages_per_window = 2;
        s.limits.message_window_s = 3600;
    })
    .await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;
    let first = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "a"}),
        )
        .await;
    let message_id = first["data"]["message"]["id"].as_i64().unwrap();
    let edit = ws
        .call(
            "message:edit",
            json!({"message_id": message_id, "content": "b"}),
        )
        .await;
    assert_eq!(edit["type"], "ack", "{edit}");
    // Two of two spent: the next edit, over WebSocket or REST, and a delete are refused.
    let refused = ws
        .call(
            "message:edit",
            json!({"message_id": message_id, "content": "c"}),
        )
        .await;
    assert_eq!(refused["data"]["code"], "rate_limited", "{refused}");
    let rest = app
        .delete(&format!("/api/v1/messages/{message_id}"), &ann.access_token)
        .await;
    assert_eq!(rest.status(), 429);
    let history = app.history(&ann, id, "").await;
    assert_eq!(history[0]["content"], "b");
}

#[actix_web::test]
async fn an_edit_in_another_conversation_or_of_no_message_is_not_found() {
    let app = spawn_app().await;
    let (ann, eve) = (app.register("ann").await, app.register("eve").await);
    let id = app.conversation(&ann, &[]).await;
    let message: Value = app.send_rest(&ann, id, "mine").await.json().await.unwrap();
    let mut eve_ws = app.ws(&eve).await;
    for data in [
        json!({"message_id": message["id"], "content": "x"}),
        json!({"message_id": 999_999, "content": "x"}),
    ] {
        let reply = eve_ws.call("message:edit", data).await;
        assert_eq!(reply["data"]["code"], "not_found", "{reply}");
    }
    let reply = eve_ws
        .call("message:delete", json!({"message_id": message["id"]}))
        .await;
    assert_eq!(reply["data"]["code"], "not_found", "{reply}");
}
