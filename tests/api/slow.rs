//! Clients that read too slowly, or not at all.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::spawn_app_with;
#[actix_web::test]
async fn a_client_that_stops_reading_is_closed_as_a_slow_consumer_and_catches_up_with_since_seq() {
    let app = spawn_app_with(|s| {
        s.realtime.max_queued_bytes = 64 * 1024;
        // Bob's stall lasts as long as the sends below (over 30 s on a loaded machine); this
        // test is about the outbox's bound, so the kernel must not abort his connection first
        // (the stall timeout has its own test below).
        s.server.stall_timeout_s = 0;
    })
    .await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    // Bob stops reading while 1,500 messages of about 4 KB (6 MB) go out: more than the kernel's
    // socket buffers (at most 4 MiB of send buffer, `net.ipv4.tcp_wmem`, plus his receive window)
    // and his 64 KiB outbox hold together.
    let total = 1500;
    let body = "x".repeat(3900);
    for n in 0..total {
        let response = app.send_rest(&ann, id, &format!("{n} {body}")).await;
        assert_eq!(response.status(), 201, "send {n}");
    }
    // Reading again, he gets a prefix of the messages in order, then the 4008 close.
    let mut seen = 0i64;
    let code = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), bob_ws.stream.next())
            .await
            .expect("frames or a close arrive");
        match next {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(&text).expect("json");
                if frame["type"] == "message:new" {
                    let seq = frame["data"]["message"]["seq"].as_i64().expect("seq");
                    assert_eq!(seq, seen + 1, "in order, no gap");
                    seen = seq;
                }
            }
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    assert_eq!(code, Some(4008), "closed as a slow consumer");
    assert!(
        seen < total,
        "the outbox was bounded: {seen} of {total} queued"
    );
    // A new connection resumes from the last seq seen and gets exactly the rest.
    let mut again = app.ws(&bob).await;
    again
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": seen}),
        )
        .await;
    let mut replayed = Vec::new();
    let mut frame = again.recv().await;
    while frame["type"] == "message:new" {
        replayed.push(frame["data"]["message"]["seq"].as_i64().expect("seq"));
        frame = again.recv().await;
    }
    assert_eq!(frame["type"], "ack", "{frame}");
    let expected: Vec<i64> = (seen + 1..=total).collect();
    assert_eq!(replayed, expected);
}
#[actix_web::test]
async fn a_client_that_stops_reading_altogether_is_disconnected_after_the_stall_timeout() {
    // While Bob's socket is full the HTTP dispatcher stops polling his session, so neither the
    // 4008 close nor the heartbeat can run: only the kernel's TCP_USER_TIMEOUT ends it.
    let app = spawn_app_with(|s| {
        s.realtime.max_queued_bytes = 64 * 1024;
        s.server.stall_timeout_s = 1;
    })
    .await;
    let (ann, bob, cat) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cat").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    app.conversation(&cat, &[&bob]).await; // Cat sees Bob's presence and is not flooded.
    let mut cat_ws = app.ws(&cat).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let online = cat_ws.recv_type("user:status").await;
    assert_eq!(online["data"]["status"], "online", "{online}");
    // Bob never reads again; 6 MB go out (see the slow-consumer test for the sizes).
    let body = "x".repeat(3900);
    for n in 0..1500 {
        let response = app.send_rest(&ann, id, &format!("{n} {body}")).await;
        assert_eq!(response.status(), 201, "send {n}");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let offline = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = cat_ws
            .try_recv(left)
            .await
            .expect("Bob's stalled connection is closed and he goes offline");
        if frame["type"] == "user:status" && frame["data"]["status"] == "offline" {
            break frame;
        }
    };
    assert_eq!(offline["data"]["user_id"], bob.id);
    drop(bob_ws);
}
