//! Delivery guarantees: exactly-once sends, gapless seq, resume with since_seq, receipts,
//! unread counts, edit and delete.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use parlor::domain::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, TestUser, error_code, spawn_app, spawn_app_with};

async fn all_history(app: &TestApp, user: &TestUser, id: i64) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |m: &Value| m["seq"].as_i64().unwrap());
        let page = app
            .history(user, id, &format!("?limit=200&after_seq={after}"))
            .await;
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

#[actix_web::test]
async fn seq_is_gapless_under_concurrent_websocket_and_rest_sends() {
    let app = std::rc::Rc::new(spawn_app().await);
    let users: Vec<TestUser> = futures_util::future::join_all((0..4).map(|i| {
        let app = app.clone();
        async move { app.register(&format!("user{i}")).await }
    }))
    .await;
    let others: Vec<&TestUser> = users[1..].iter().collect();
    let id = app.conversation(&users[0], &others).await;
    const PER_SENDER: usize = 40;

    let mut tasks = Vec::new();
    for (n, user) in users.iter().enumerate() {
        let (ws_app, user) = (app.clone(), user.clone());
        // Each user sends over a WebSocket (pipelined) and over REST at the same time.
        tasks.push(actix_web::rt::spawn(async move {
            let mut ws = ws_app.ws(&user).await;
            for i in 0..PER_SENDER {
                ws.send(
                    "message:send",
                    json!({"conversation_id": id, "content": format!("ws {n}/{i}"),
                                               "client_msg_id": format!("ws-{n}-{i}")}),
                )
                .await;
            }
            let mut seqs = Vec::new();
            while seqs.len() < PER_SENDER {
                let frame = ws.recv().await;
                if frame["type"] == "ack" {
                    seqs.push(frame["data"]["message"]["seq"].as_i64().unwrap());
                }
                assert_ne!(frame["type"], "error", "{frame}");
            }
            seqs
        }));
        let (rest_app, user) = (app.clone(), users[n].clone());
        tasks.push(actix_web::rt::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..PER_SENDER {
                let response = rest_app
                    .send_rest(&user, id, &format!("rest {n}/{i}"))
                    .await;
                assert_eq!(response.status(), 201);
                let message: Value = response.json().await.unwrap();
                seqs.push(message["seq"].as_i64().unwrap());
            }
            seqs
        }));
    }
    let mut acked: Vec<i64> = Vec::new();
    for task in tasks {
        let seqs = task.await.unwrap();
        // Each sender's messages got increasing seqs, in the order it sent them.
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        acked.extend(seqs);
    }
    acked.sort();
    let total = (users.len() * PER_SENDER * 2) as i64;
    assert_eq!(acked, (1..=total).collect::<Vec<_>>());
    let stored: Vec<i64> = all_history(&app, &users[0], id)
        .await
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(stored, (1..=total).collect::<Vec<_>>());
}

#[actix_web::test]
async fn a_client_that_reconnects_with_since_seq_gets_exactly_what_it_missed_in_order() {
    let app = std::rc::Rc::new(spawn_app().await);
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    for i in 0..3 {
        assert_eq!(
            app.send_rest(&ann, id, &format!("before {i}"))
                .await
                .status(),
            201
        );
    }
    let mut bob_ws = app.ws(&bob).await;
    let seen = bob_ws.join(id).await;
    assert_eq!(seen, 3);
    bob_ws.close().await;

    for i in 0..100 {
        assert_eq!(
            app.send_rest(&ann, id, &format!("missed {i}"))
                .await
                .status(),
            201
        );
    }
    // More arrive while bob rejoins: they must follow the replay with no gap and no duplicate.
    let (sender_app, sender) = (app.clone(), ann.clone());
    let during = actix_web::rt::spawn(async move {
        for i in 0..50 {
            assert_eq!(
                sender_app
                    .send_rest(&sender, id, &format!("during {i}"))
                    .await
                    .status(),
                201
            );
        }
    });
    let mut bob_ws = app.ws(&bob).await;
    let reference = bob_ws
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": seen}),
        )
        .await;
    let mut seqs = Vec::new();
    let mut acked_at = None;
    while seqs.len() < 150 {
        let frame = bob_ws.recv().await;
        match frame["type"].as_str().unwrap() {
            "message:new" => seqs.push(frame["data"]["message"]["seq"].as_i64().unwrap()),
            "ack" if frame["ref"] == reference.as_str() => {
                // Everything up to the ack's last_seq came before it.
                let last_seq = frame["data"]["last_seq"].as_i64().unwrap();
                assert_eq!(seqs.last().copied(), Some(last_seq));
                acked_at = Some(seqs.len());
            }
            _ => {}
        }
    }
    during.await.unwrap();
    assert!(acked_at.unwrap() >= 100);
    assert_eq!(seqs, (4..=153).collect::<Vec<_>>());
    let replayed = app.history(&bob, id, "?after_seq=3&limit=1").await;
    assert_eq!(replayed[0]["content"], "missed 0");
    bob_ws
        .assert_no("message:new", Duration::from_millis(200))
        .await;
}

#[actix_web::test]
async fn retries_after_a_close_or_under_the_rate_limit_still_return_the_original() {
    let app = spawn_app_with(|s| s.limits.messages_per_window = 2).await;
    let customer = app.register("carol").await;
    let agent = app.create_with_role("agent1", Role::Agent).await;
    let id = app.conversation(&customer, &[&agent]).await;
    let mut ws = app.ws(&customer).await;
    let first = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "a", "client_msg_id": "k1"}),
        )
        .await;
    ws.call(
        "message:send",
        json!({"conversation_id": id, "content": "b", "client_msg_id": "k2"}),
    )
    .await;
    // The limit is spent, yet the retry of k1 is answered with the stored message.
    let retry = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "a", "client_msg_id": "k1"}),
        )
        .await;
    assert_eq!(retry["type"], "ack");
    assert_eq!(
        retry["data"]["message"]["id"],
        first["data"]["message"]["id"]
    );
    let fresh = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "c", "client_msg_id": "k3"}),
        )
        .await;
    assert_eq!(fresh["data"]["code"], "rate_limited");

    app.post(
        &format!("/api/v1/conversations/{id}/close"),
        Some(&agent.access_token),
        &json!({}),
    )
    .await;
    let after_close = app
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&customer.access_token),
            &json!({"content": "b", "client_msg_id": "k2"}),
        )
        .await;
    assert_eq!(after_close.status(), 201);
    let after_close: Value = after_close.json().await.unwrap();
    assert_eq!(after_close["seq"], 2);
    assert_eq!(app.history(&customer, id, "").await.len(), 2);
}

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
async fn a_second_join_during_a_replay_is_refused_and_a_leave_still_answers_the_first() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    // A long history, written straight into the database before the room first loads, so the
    // replay takes far longer than the next frame needs to reach the room.
    const HISTORY: i64 = 20_000;
    let path = app
        .settings
        .database
        .url
        .trim_start_matches("sqlite://")
        .to_string();
    let mut db = diesel::SqliteConnection::establish(&path).unwrap();
    db.batch_execute(&format!(
        "PRAGMA busy_timeout = 5000;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {HISTORY})
         INSERT INTO messages (project_id, conversation_id, seq, sender_id, kind, content, created_at)
           SELECT 1, {id}, i, {ann}, 'text', 'm' || i, '2026-01-01 00:00:00' FROM n;
         UPDATE conversations SET last_seq = {HISTORY} WHERE id = {id};",
        ann = ann.id
    ))
    .unwrap();
    let mut bob_ws = app.ws(&bob).await;
    let first = bob_ws
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": 0}),
        )
        .await;
    let second = bob_ws
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": 0}),
        )
        .await;
    let leave = bob_ws
        .send("conversation:leave", json!({"conversation_id": id}))
        .await;
    let mut replies = BTreeMap::new();
    while replies.len() < 3 {
        let frame = bob_ws.recv().await;
        if let Some(reference) = frame["ref"].as_str().map(str::to_string) {
            assert!(
                replies.insert(reference.clone(), frame).is_none(),
                "two replies to {reference}"
            );
        }
    }
    assert_eq!(replies[&second]["type"], "error", "{}", replies[&second]);
    assert_eq!(replies[&second]["data"]["code"], "bad_request");
    assert_eq!(replies[&first]["type"], "ack");
    assert_eq!(replies[&first]["data"]["last_seq"], HISTORY);
    assert_eq!(replies[&leave]["type"], "ack");
}

#[actix_web::test]
async fn a_send_that_cannot_commit_gets_an_error_and_never_an_ack() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut ws = app.ws(&ann).await;
    let ok = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "stored"}),
        )
        .await;
    assert_eq!(ok["type"], "ack");
    // From now on every insert fails inside the database, as a full disk or I/O error would.
    let path = app
        .settings
        .database
        .url
        .trim_start_matches("sqlite://")
        .to_string();
    let mut db = diesel::SqliteConnection::establish(&path).unwrap();
    db.batch_execute(
        "PRAGMA busy_timeout = 5000; CREATE TRIGGER refuse BEFORE INSERT ON messages \
         BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;",
    )
    .unwrap();
    for _ in 0..3 {
        let failed = ws
            .call(
                "message:send",
                json!({"conversation_id": id, "content": "not stored"}),
            )
            .await;
        assert_eq!(failed["type"], "error", "{failed}");
        assert_eq!(failed["data"]["code"], "internal");
    }
    assert_eq!(app.send_rest(&ann, id, "not stored").await.status(), 500);
    ws.assert_no("ack", Duration::from_millis(200)).await;
    db.batch_execute("DROP TRIGGER refuse;").unwrap();
    // Nothing was stored and no seq was used up.
    let next = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "stored again"}),
        )
        .await;
    assert_eq!(next["data"]["message"]["seq"], 2);
    let history = app.history(&ann, id, "").await;
    let contents: Vec<&str> = history
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["stored", "stored again"]);
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_closed_as_a_slow_consumer_and_catches_up_with_since_seq() {
    let app = spawn_app_with(|s| s.realtime.max_queued_bytes = 64 * 1024).await;
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
