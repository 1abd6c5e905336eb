//! Edge cases: ordering, races, limits and error shapes.

use std::time::Duration;

use futures_util::SinkExt;
use parlor::domain::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{error_code, handshake_status, spawn_app, spawn_app_with};

#[actix_web::test]
async fn rapid_sends_from_one_session_are_stored_in_the_order_sent() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;
    // Fire 60 sends without waiting for any ack (the room is not yet started: the first frame
    // also exercises the lookup path).
    for i in 0..60 {
        ws.send(
            "message:send",
            json!({"conversation_id": id, "content": format!("m{i}")}),
        )
        .await;
    }
    let mut acked = 0;
    while acked < 60 {
        let frame = ws.recv().await;
        if frame["type"] == "ack" {
            acked += 1;
        }
    }
    let history = app.history(&ann, id, "?limit=100").await;
    let contents: Vec<String> = history
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..60).map(|i| format!("m{i}")).collect();
    assert_eq!(contents, expected);
}

#[actix_web::test]
async fn a_leave_sent_right_after_a_join_wins() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    let join = bob_ws
        .send("conversation:join", json!({"conversation_id": id}))
        .await;
    let leave = bob_ws
        .send("conversation:leave", json!({"conversation_id": id}))
        .await;
    assert_eq!(bob_ws.reply(&join).await["type"], "ack");
    assert_eq!(bob_ws.reply(&leave).await["type"], "ack");
    assert_eq!(app.send_rest(&ann, id, "after leave").await.status(), 201);
    bob_ws
        .assert_no("message:new", Duration::from_millis(300))
        .await;
}

#[actix_web::test]
async fn a_retried_client_msg_id_returns_the_original_and_broadcasts_nothing() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let mut ann_ws = app.ws(&ann).await;
    let first = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "once", "client_msg_id": "k1"}),
        )
        .await;
    let retry = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "once", "client_msg_id": "k1"}),
        )
        .await;
    assert_eq!(first["data"]["message"], retry["data"]["message"]);
    let rest_retry = app
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&ann.access_token),
            &json!({"content": "once", "client_msg_id": "k1"}),
        )
        .await;
    let rest_retry: Value = rest_retry.json().await.unwrap();
    assert_eq!(rest_retry["id"], first["data"]["message"]["id"]);
    bob_ws.recv_type("message:new").await;
    bob_ws
        .assert_no("message:new", Duration::from_millis(300))
        .await;
    assert_eq!(app.history(&ann, id, "").await.len(), 1);
}

#[actix_web::test]
async fn a_room_that_went_idle_restarts_with_its_state() {
    let app = spawn_app_with(|s| s.realtime.room_idle_s = 0.1).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    assert_eq!(app.send_rest(&ann, id, "one").await.status(), 201);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut bob_ws = app.ws(&bob).await;
    assert_eq!(bob_ws.join(id).await, 1);
    let second = app.send_rest(&ann, id, "two").await;
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["seq"], 2);
    assert_eq!(
        bob_ws.recv_type("message:new").await["data"]["message"]["seq"],
        2
    );
    // A joined session keeps the room alive past the idle time.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.send_rest(&ann, id, "three").await.status(), 201);
    assert_eq!(
        bob_ws.recv_type("message:new").await["data"]["message"]["seq"],
        3
    );
}

#[actix_web::test]
async fn a_conversation_created_after_someone_probed_its_id_works_at_once() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let first = app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    let probe = bob_ws
        .call("conversation:join", json!({"conversation_id": first + 1}))
        .await;
    assert_eq!(probe["data"]["code"], "not_found");
    let next = app.conversation(&ann, &[&bob]).await;
    assert_eq!(next, first + 1);
    assert_eq!(bob_ws.join(next).await, 0);
    assert_eq!(app.send_rest(&ann, next, "hello").await.status(), 201);
}

#[actix_web::test]
async fn websocket_and_rest_sends_share_one_rate_limit() {
    let app = spawn_app_with(|s| s.limits.messages_per_window = 3).await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;
    for _ in 0..3 {
        let ack = ws
            .call(
                "message:send",
                json!({"conversation_id": id, "content": "ws"}),
            )
            .await;
        assert_eq!(ack["type"], "ack");
    }
    let response = app.send_rest(&ann, id, "rest").await;
    assert_eq!(response.status(), 429);
}

#[actix_web::test]
async fn binary_frames_get_an_error_and_the_session_survives() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    ws.stream
        .send(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    let reply = ws.recv().await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["data"]["code"], "bad_request");
    let ok = ws
        .call("conversation:leave", json!({"conversation_id": 1}))
        .await;
    assert_eq!(ok["type"], "ack");
}

#[actix_web::test]
async fn an_oversized_json_body_is_413() {
    let app = spawn_app_with(|s| s.limits.json_body_max_bytes = 1024).await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let response = app.send_rest(&ann, id, &"x".repeat(2000)).await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_code(response).await, "payload_too_large");
    assert!(app.history(&ann, id, "").await.is_empty());
}

#[actix_web::test]
async fn validation_messages_name_the_field() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let message = |body: Value| body["error"]["message"].as_str().unwrap().to_string();

    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": 5, "username": "x", "password": "y"}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(message(response.json().await.unwrap()).starts_with("email"));
    let response = app
        .post(
            "/api/v1/conversations",
            Some(&ann.access_token),
            &json!({"participant_ids": [1, "two"]}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(message(response.json().await.unwrap()).starts_with("participant_ids"));
    let response = app
        .get(
            &format!("/api/v1/conversations/{id}/messages?limit=abc"),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(message(response.json().await.unwrap()).starts_with("limit"));
    let mut ws = app.ws(&ann).await;
    let reply = ws
        .call(
            "message:send",
            json!({"conversation_id": "one", "content": "x"}),
        )
        .await;
    assert!(
        reply["data"]["message"]
            .as_str()
            .unwrap()
            .starts_with("data.conversation_id")
    );
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_path_is_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .put(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(error_code(response).await, "method_not_allowed");
}

#[actix_web::test]
async fn an_agent_who_is_not_a_participant_cannot_see_or_close() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let agent = app.create_with_role("agent1", Role::Agent).await;
    let id = app.conversation(&ann, &[&bob]).await;
    let response = app
        .post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&agent.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 404);
}

#[actix_web::test]
async fn an_admin_who_is_not_a_participant_gets_forbidden_over_websocket() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let admin = app.create_with_role("root", Role::Admin).await;
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ws = app.ws(&admin).await;
    let join = ws
        .call("conversation:join", json!({"conversation_id": id}))
        .await;
    assert_eq!(join["data"]["code"], "forbidden");
    let send = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "x"}),
        )
        .await;
    assert_eq!(send["data"]["code"], "forbidden");
}

#[actix_web::test]
async fn logging_out_does_not_sign_out_other_devices() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let laptop = app.login("ann", &ann.password).await;
    let logout = app
        .post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    // A logged-out token is invalid, but presenting it is not treated as theft.
    let stale = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(stale.status(), 401);
    let other = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": laptop.refresh_token}),
        )
        .await;
    assert_eq!(other.status(), 200);
}

#[actix_web::test]
async fn a_new_session_learns_which_contacts_are_online() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    app.conversation(&ann, &[&bob]).await;
    let _ann_ws = app.ws(&ann).await;
    let mut bob_ws = app.ws(&bob).await;
    let status = bob_ws.recv_type("user:status").await;
    assert_eq!(
        status["data"],
        json!({"user_id": ann.id, "status": "online"})
    );
}

#[actix_web::test]
async fn with_only_self_allowed_other_origins_are_refused() {
    let app = spawn_app_with(|s| s.server.allowed_origins = vec!["self".into()]).await;
    let ann = app.register("ann").await;
    let query = format!("?token={}", ann.access_token);
    let own = format!("http://127.0.0.1:{}", app.port);
    assert!(app.ws_request(&query, &[("origin", &own)]).await.is_ok());
    let other = app
        .ws_request(&query, &[("origin", "http://localhost:5173")])
        .await
        .err()
        .unwrap();
    assert_eq!(handshake_status(&other), Some(403));
}

#[actix_web::test]
async fn cors_preflight_is_answered_for_allowed_origins_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/conversations"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[actix_web::test]
async fn typing_ends_when_the_typist_sends_a_message() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ann_ws = app.ws(&ann).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    ann_ws
        .call("typing:start", json!({"conversation_id": id}))
        .await;
    bob_ws.recv_type("typing:start").await;
    ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "done typing"}),
        )
        .await;
    let stop = bob_ws.recv_type("typing:stop").await;
    assert_eq!(stop["data"]["user_id"], ann.id);
}
