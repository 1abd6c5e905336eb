use std::time::Duration;

use parlor::domain::Role;
use serde_json::json;

use crate::helpers::{handshake_status, spawn_app, spawn_app_with};

#[actix_web::test]
async fn the_handshake_needs_a_valid_token_in_the_header_or_query() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let missing = app.ws_request("", &[]).await.err().unwrap();
    assert_eq!(handshake_status(&missing), Some(401));
    let bad = app.ws_request("?token=nope", &[]).await.err().unwrap();
    assert_eq!(handshake_status(&bad), Some(401));
    let bearer = format!("Bearer {}", ann.access_token);
    let mut by_header = app
        .ws_request("", &[("authorization", &bearer)])
        .await
        .unwrap();
    let welcome = by_header.recv().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["data"]["user"]["id"], ann.id);
    assert_eq!(welcome["data"]["user"]["username"], "ann");
    assert!(welcome["data"]["session_id"].as_str().unwrap().len() >= 32);
    let _by_query = app.ws(&ann).await;
}

#[actix_web::test]
async fn a_foreign_origin_is_refused_and_local_ones_are_allowed() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let query = format!("?token={}", ann.access_token);
    let evil = app
        .ws_request(&query, &[("origin", "https://evil.example.com")])
        .await
        .err()
        .unwrap();
    assert_eq!(handshake_status(&evil), Some(403));
    assert!(
        app.ws_request(&query, &[("origin", "http://localhost:5173")])
            .await
            .is_ok()
    );
    assert!(
        app.ws_request(&query, &[("origin", "http://127.0.0.1:3000")])
            .await
            .is_ok()
    );
    let own = format!("http://127.0.0.1:{}", app.port);
    assert!(app.ws_request(&query, &[("origin", &own)]).await.is_ok());
}

#[actix_web::test]
async fn two_users_chat_and_every_message_is_stored() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ann_ws = app.ws(&ann).await;
    let mut ann_phone = app.ws(&ann).await;
    let mut bob_ws = app.ws(&bob).await;
    assert_eq!(ann_ws.join(id).await, 0);
    assert_eq!(ann_phone.join(id).await, 0);
    assert_eq!(bob_ws.join(id).await, 0);

    let ack = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "hi bob", "client_msg_id": "a1"}),
        )
        .await;
    assert_eq!(ack["type"], "ack");
    let message = &ack["data"]["message"];
    assert_eq!(message["seq"], 1);
    assert_eq!(message["content"], "hi bob");
    assert_eq!(message["sender_id"], ann.id);
    assert_eq!(message["client_msg_id"], "a1");

    let received = bob_ws.recv_type("message:new").await;
    assert_eq!(received["data"]["message"], *message);
    // The sender's other device hears it too; the sending session gets only the ack.
    let echoed = ann_phone.recv_type("message:new").await;
    assert_eq!(echoed["data"]["message"]["id"], message["id"]);
    ann_ws
        .assert_no("message:new", Duration::from_millis(200))
        .await;

    let reply = bob_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "hi ann"}),
        )
        .await;
    assert_eq!(reply["data"]["message"]["seq"], 2);
    assert_eq!(
        ann_ws.recv_type("message:new").await["data"]["message"]["content"],
        "hi ann"
    );

    let history = app.history(&ann, id, "").await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["content"], "hi bob");
    assert_eq!(history[1]["content"], "hi ann");
    // A late joiner learns where the conversation is.
    let mut late = app.ws(&bob).await;
    assert_eq!(late.join(id).await, 2);
}

#[actix_web::test]
async fn sending_needs_participation_not_a_join_and_rest_sends_reach_sockets() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ann_ws = app.ws(&ann).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let ack = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "no join"}),
        )
        .await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(
        bob_ws.recv_type("message:new").await["data"]["message"]["content"],
        "no join"
    );
    assert_eq!(app.send_rest(&ann, id, "over rest").await.status(), 201);
    assert_eq!(
        bob_ws.recv_type("message:new").await["data"]["message"]["content"],
        "over rest"
    );
}

#[actix_web::test]
async fn joining_someone_elses_conversation_is_not_found_and_leave_stops_events() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    let mut eve_ws = app.ws(&eve).await;
    for target in [id, 777] {
        let reply = eve_ws
            .call("conversation:join", json!({"conversation_id": target}))
            .await;
        assert_eq!(reply["type"], "error");
        assert_eq!(reply["data"]["code"], "not_found");
    }
    let sent = eve_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "x"}),
        )
        .await;
    assert_eq!(sent["data"]["code"], "not_found");

    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let left = bob_ws
        .call("conversation:leave", json!({"conversation_id": id}))
        .await;
    assert_eq!(left["type"], "ack");
    assert_eq!(left["data"]["conversation_id"], id);
    assert_eq!(app.send_rest(&ann, id, "anyone?").await.status(), 201);
    bob_ws
        .assert_no("message:new", Duration::from_millis(300))
        .await;
}

#[actix_web::test]
async fn bad_frames_get_error_replies_and_the_connection_survives() {
    let app = spawn_app_with(|s| s.limits.message_max_chars = 20).await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;

    ws.send_raw("{this is not json").await;
    let reply = ws.recv().await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["data"]["code"], "bad_request");

    let reply = ws.call("no:such-event", json!({})).await;
    assert_eq!(reply["data"]["code"], "unknown_event");
    let reply = ws
        .call("message:send", json!({"conversation_id": "x"}))
        .await;
    assert_eq!(reply["data"]["code"], "validation_failed");
    let reply = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": ""}),
        )
        .await;
    assert_eq!(reply["data"]["code"], "validation_failed");
    let reply = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "x".repeat(21)}),
        )
        .await;
    assert_eq!(reply["data"]["code"], "validation_failed");
    assert!(
        reply["data"]["message"]
            .as_str()
            .unwrap()
            .contains("content")
    );

    let ok = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "still here"}),
        )
        .await;
    assert_eq!(ok["type"], "ack");
    assert_eq!(app.history(&ann, id, "").await.len(), 1);
}

#[actix_web::test]
async fn a_frame_over_the_size_limit_closes_with_1009() {
    let app = spawn_app_with(|s| s.realtime.max_frame_bytes = 1024).await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    let big = json!({"type": "message:send", "data": {"conversation_id": 1, "content": "x".repeat(2000)}});
    ws.send_raw(&big.to_string()).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(1009));
}

#[actix_web::test]
async fn the_server_pings_and_drops_a_silent_client() {
    let app = spawn_app_with(|s| {
        s.realtime.heartbeat_interval_s = 0.2;
        s.realtime.client_timeout_s = 0.8;
    })
    .await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    // Reading answers pings, so a reading client stays connected past the timeout...
    ws.assert_no("error", Duration::from_millis(1200)).await;
    let ok = ws
        .call("conversation:leave", json!({"conversation_id": 1}))
        .await;
    assert_eq!(ok["type"], "ack");
    // ...and a client that stops reading (so never pongs) is dropped.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(ws.closed_with(Duration::from_secs(3)).await.is_some());
}

#[actix_web::test]
async fn typing_indicators_reach_others_and_expire() {
    let app = spawn_app_with(|s| {
        s.realtime.typing_timeout_s = 0.5;
        s.realtime.typing_broadcast_interval_s = 0.0;
    })
    .await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ann_ws = app.ws(&ann).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    ann_ws.join(id).await;

    let ack = ann_ws
        .call("typing:start", json!({"conversation_id": id}))
        .await;
    assert_eq!(ack["type"], "ack");
    let start = bob_ws.recv_type("typing:start").await;
    assert_eq!(
        start["data"],
        json!({"conversation_id": id, "user_id": ann.id})
    );
    // Not refreshed: the server ends it.
    let stop = bob_ws.recv_type("typing:stop").await;
    assert_eq!(
        stop["data"],
        json!({"conversation_id": id, "user_id": ann.id})
    );

    // An explicit stop is forwarded at once.
    ann_ws
        .call("typing:start", json!({"conversation_id": id}))
        .await;
    bob_ws.recv_type("typing:start").await;
    ann_ws
        .call("typing:stop", json!({"conversation_id": id}))
        .await;
    bob_ws.recv_type("typing:stop").await;
    ann_ws
        .assert_no("typing:start", Duration::from_millis(100))
        .await;

    let mut eve_ws = app.ws(&app.register("eve").await).await;
    let refused = eve_ws
        .call("typing:start", json!({"conversation_id": id}))
        .await;
    assert_eq!(refused["data"]["code"], "not_found");
}

#[actix_web::test]
async fn the_send_rate_limit_refuses_extra_messages_and_stores_nothing() {
    let app = spawn_app_with(|s| {
        s.limits.messages_per_window = 5;
        s.limits.message_window_s = 10;
    })
    .await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;
    for i in 0..5 {
        let ack = ws
            .call(
                "message:send",
                json!({"conversation_id": id, "content": format!("m{i}")}),
            )
            .await;
        assert_eq!(ack["type"], "ack");
    }
    let limited = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "extra"}),
        )
        .await;
    assert_eq!(limited["type"], "error");
    assert_eq!(limited["data"]["code"], "rate_limited");
    assert!(limited["data"]["retry_after_ms"].as_u64().unwrap() > 0);
    assert_eq!(app.history(&ann, id, "").await.len(), 5);
}

#[actix_web::test]
async fn an_agent_closing_a_live_conversation_notifies_joined_sessions() {
    let app = spawn_app().await;
    let customer = app.register("carol").await;
    let agent = app.create_with_role("agent1", Role::Agent).await;
    let id = app.conversation(&customer, &[&agent]).await;
    let mut carol_ws = app.ws(&customer).await;
    carol_ws.join(id).await;
    carol_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "help"}),
        )
        .await;

    let response = app
        .post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&agent.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let event = carol_ws.recv_type("conversation:closed").await;
    assert_eq!(event["data"]["conversation_id"], id);
    assert_eq!(event["data"]["closed_by"], agent.id);

    let refused = carol_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "wait"}),
        )
        .await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["data"]["code"], "conversation_closed");
    assert_eq!(app.history(&customer, id, "").await.len(), 1);
}
