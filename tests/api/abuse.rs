//! Limits on what one client can make the server do: commands per session and in flight,
//! typing broadcasts, receipts that move nothing, sessions per user, upgrades per IP.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{handshake_status, spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_session_past_its_command_budget_gets_rate_limited_then_closed_for_flooding() {
    let app = spawn_app_with(|s| {
        s.realtime.commands_per_second = 2;
        s.realtime.commands_burst = 3;
    })
    .await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    for _ in 0..3 {
        let ack = ws
            .call("conversation:leave", json!({"conversation_id": 1}))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let refused = ws
        .call("conversation:leave", json!({"conversation_id": 1}))
        .await;
    assert_eq!(refused["data"]["code"], "rate_limited", "{refused}");
    assert!(refused["data"]["retry_after_ms"].as_u64().unwrap() > 0);
    // Keeping on at full speed is a flood: the session is closed with 1008.
    for _ in 0..10 {
        if !ws
            .try_send("conversation:leave", json!({"conversation_id": 1}))
            .await
        {
            break;
        }
    }
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(1008));
}

#[actix_web::test]
async fn a_session_may_have_only_so_many_commands_in_flight() {
    let app = spawn_app_with(|s| {
        s.realtime.max_in_flight = 2;
        // Each lone send waits this long for company: sends stay in flight meanwhile.
        s.database.group_commit_max_wait_us = 300_000;
    })
    .await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;
    let mut refs = Vec::new();
    for i in 0..3 {
        let data = json!({"conversation_id": id, "content": format!("m{i}")});
        refs.push(ws.send("message:send", data).await);
    }
    let mut replies = std::collections::HashMap::new();
    while replies.len() < 3 {
        let frame = ws.recv().await;
        if let Some(reference) = frame["ref"].as_str() {
            replies.insert(reference.to_string(), frame);
        }
    }
    assert_eq!(replies[&refs[0]]["type"], "ack");
    assert_eq!(replies[&refs[1]]["type"], "ack");
    assert_eq!(replies[&refs[2]]["data"]["code"], "rate_limited");
    assert_eq!(app.history(&ann, id, "").await.len(), 2);
}

#[actix_web::test]
async fn a_users_typing_start_is_broadcast_at_most_once_per_interval() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let (mut ann_ws, mut bob_ws) = (app.ws(&ann).await, app.ws(&bob).await);
    bob_ws.join(id).await;
    let typing = json!({"conversation_id": id});
    ann_ws.call("typing:start", typing.clone()).await;
    bob_ws.recv_type("typing:start").await;
    ann_ws.call("typing:stop", typing.clone()).await;
    bob_ws.recv_type("typing:stop").await;
    // At once again: not told yet, within the interval (2 s by default)...
    ann_ws.call("typing:start", typing.clone()).await;
    bob_ws
        .assert_no("typing:start", Duration::from_millis(800))
        .await;
    // ...but once it is over, while ann still types.
    bob_ws.recv_type("typing:start").await;
}

#[actix_web::test]
async fn a_receipt_that_moves_no_watermark_costs_no_write() {
    let app = spawn_app_with(|s| s.database.busy_timeout_ms = 200).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    for i in 0..3 {
        app.send_rest(&ann, id, &format!("m{i}")).await;
    }
    let mut ws = app.ws(&bob).await;
    let marks = ws
        .call("message:read", json!({"conversation_id": id, "seq": 2}))
        .await;
    assert_eq!(marks["data"]["last_read_seq"], 2, "{marks}");
    // Another connection holds the database's write lock: any write now waits and fails.
    let mut lock = app.lock_for_writes();
    let behind = ws
        .call("message:read", json!({"conversation_id": id, "seq": 1}))
        .await;
    assert_eq!(behind["type"], "ack", "{behind}");
    assert_eq!(behind["data"]["last_read_seq"], 2);
    let delivered = ws
        .call(
            "message:delivered",
            json!({"conversation_id": id, "seq": 2}),
        )
        .await;
    assert_eq!(delivered["type"], "ack", "{delivered}");
    // The lock is real: a receipt that moves the watermark needs a write, and fails.
    let forward = ws
        .call("message:read", json!({"conversation_id": id, "seq": 3}))
        .await;
    assert_eq!(forward["type"], "error", "{forward}");
    lock.batch_execute("ROLLBACK;").unwrap();
    let retried = ws
        .call("message:read", json!({"conversation_id": id, "seq": 3}))
        .await;
    assert_eq!(retried["data"]["last_read_seq"], 3, "{retried}");
}

#[actix_web::test]
async fn a_user_has_at_most_max_sessions_per_user_open() {
    let app = spawn_app_with(|s| s.realtime.max_sessions_per_user = 2).await;
    let ann = app.register("ann").await;
    let first = app.ws(&ann).await;
    let _second = app.ws(&ann).await;
    let refused = app
        .ws_request(&format!("?token={}", ann.access_token), &[])
        .await
        .err()
        .unwrap();
    assert_eq!(handshake_status(&refused), Some(429));
    if let tokio_tungstenite::tungstenite::Error::Http(response) = &refused {
        let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "too_many_sessions");
    }
    // Others are not counted against ann.
    app.ws(&app.register("bob").await).await;
    // Once one closes, its place is free again.
    first.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = app
            .ws_request(&format!("?token={}", ann.access_token), &[])
            .await;
        match attempt {
            Ok(_) => break,
            Err(err) => assert_eq!(handshake_status(&err), Some(429)),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn websocket_upgrades_are_limited_per_client_ip() {
    let app = spawn_app_with(|s| s.limits.ws_upgrades_per_ip_per_minute = 3).await;
    let ann = app.register("ann").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(app.ws(&ann).await);
    }
    let fourth = app
        .ws_request(&format!("?token={}", ann.access_token), &[])
        .await
        .err();
    assert_eq!(fourth.as_ref().and_then(handshake_status), Some(429));
}

#[actix_web::test]
async fn a_ticket_opens_one_websocket_and_keeps_the_token_out_of_the_url() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let response = app
        .post("/api/v1/ws-ticket", Some(&ann.access_token), &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in_s"], 30);
    let ticket = body["ticket"].as_str().unwrap();
    assert!(ticket.len() >= 40);
    let mut ws = app
        .ws_request(&format!("?ticket={ticket}"), &[])
        .await
        .unwrap();
    let welcome = ws.recv().await;
    assert_eq!(welcome["data"]["user"]["id"], ann.id);
    // Single use; made-up ones and anonymous requests get nothing.
    let again = app
        .ws_request(&format!("?ticket={ticket}"), &[])
        .await
        .err();
    assert_eq!(again.as_ref().and_then(handshake_status), Some(401));
    let made_up = app.ws_request("?ticket=nope", &[]).await.err();
    assert_eq!(made_up.as_ref().and_then(handshake_status), Some(401));
    assert_eq!(
        app.post("/api/v1/ws-ticket", None, &json!({}))
            .await
            .status(),
        401
    );
    // ?token= keeps working as the fallback.
    app.ws(&ann).await;
}

#[actix_web::test]
async fn an_invalid_utf8_text_frame_closes_with_1007() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    let bad = Frame::message(vec![0x7b, 0xff, 0xfe, 0x7d], OpCode::Data(Data::Text), true);
    ws.stream.send(Message::Frame(bad)).await.unwrap();
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(1007));
}
