//! Delivery guarantees: exactly-once sends, gapless seq, resume with since_seq, failed commits.

use std::collections::BTreeMap;
use std::time::Duration;

use parlor::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app, spawn_app_with};
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
async fn a_second_join_during_a_replay_is_refused_and_a_leave_still_answers_the_first() {
    // A long history, written straight into the database before the room first loads, so the
    // replay (all of it: max_replay is lifted) takes far longer than the next frame needs to
    // reach the room.
    const HISTORY: i64 = 20_000;
    let app = spawn_app_with(|s| s.realtime.max_replay = HISTORY as u32).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    app.db()
        .batch_execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {HISTORY})
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
    app.refuse_inserts(true);
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
    app.refuse_inserts(false);
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
