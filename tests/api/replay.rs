//! Resuming: replays are bounded and paged, and `since_version` catches edits and deletions of
//! messages the client already had.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient, spawn_app, spawn_app_with};

/// Joins with `data` and collects every frame up to and including the join's reply.
async fn join_and_collect(ws: &mut WsClient, data: Value) -> (Vec<Value>, Value) {
    let reference = ws.send("conversation:join", data).await;
    let mut frames = Vec::new();
    loop {
        let frame = ws.recv().await;
        if frame["ref"] == reference.as_str() {
            return (frames, frame);
        }
        frames.push(frame);
    }
}

async fn send_n(app: &TestApp, user: &TestUser, id: i64, n: usize) {
    for i in 0..n {
        assert_eq!(
            app.send_rest(user, id, &format!("m{i}")).await.status(),
            201
        );
    }
}

#[actix_web::test]
async fn a_replay_past_max_replay_sends_the_newest_and_says_it_was_truncated() {
    let app = spawn_app_with(|s| s.realtime.max_replay = 5).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    send_n(&app, &ann, id, 12).await;
    let mut ws = app.ws(&bob).await;
    let (frames, ack) =
        join_and_collect(&mut ws, json!({"conversation_id": id, "since_seq": 0})).await;
    let seqs: Vec<i64> = frames
        .iter()
        .map(|f| f["data"]["message"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (8..=12).collect::<Vec<_>>());
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["data"]["truncated"], true);
    assert_eq!(ack["data"]["first_seq"], 8);
    assert_eq!(ack["data"]["last_seq"], 12);
    // The rest is paged over REST, and a short gap is replayed whole.
    let rest = app.history(&bob, id, "?after_seq=0&before_seq=8").await;
    assert_eq!(rest.len(), 7);
    let (frames, ack) =
        join_and_collect(&mut ws, json!({"conversation_id": id, "since_seq": 9})).await;
    assert_eq!(frames.len(), 3);
    assert_eq!(ack["data"]["truncated"], false);
    assert!(ack["data"].get("first_seq").is_none(), "{ack}");
}

#[actix_web::test]
async fn a_long_replay_streams_page_after_page_without_a_gap() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    send_n(&app, &ann, id, 450).await;
    let mut ws = app.ws(&bob).await;
    let (frames, ack) =
        join_and_collect(&mut ws, json!({"conversation_id": id, "since_seq": 0})).await;
    let seqs: Vec<i64> = frames
        .iter()
        .map(|f| f["data"]["message"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=450).collect::<Vec<_>>());
    assert_eq!(ack["data"]["truncated"], false);
}

#[actix_web::test]
async fn since_version_replays_new_messages_edits_and_deletions_in_version_order() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let message: Value = app.send_rest(&ann, id, text).await.json().await.unwrap();
        ids.push(message["id"].as_i64().unwrap());
    }
    // Bob is up to date, then goes away.
    let mut bob_ws = app.ws(&bob).await;
    let (_, ack) = join_and_collect(&mut bob_ws, json!({"conversation_id": id})).await;
    let seen = ack["data"]["version"].as_i64().unwrap();
    assert_eq!(seen, 3);
    bob_ws.close().await;

    // Meanwhile: an edit of "two", a new message, the deletion of "one".
    let edit = app
        .client
        .patch(app.url(&format!("/api/v1/messages/{}", ids[1])))
        .bearer_auth(&ann.access_token)
        .json(&json!({"content": "two, edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 200);
    assert_eq!(edit.json::<Value>().await.unwrap()["version"], 4);
    app.send_rest(&ann, id, "four").await;
    let deleted = app
        .delete(&format!("/api/v1/messages/{}", ids[0]), &ann.access_token)
        .await;
    assert_eq!(deleted.json::<Value>().await.unwrap()["version"], 6);

    let mut bob_ws = app.ws(&bob).await;
    let (frames, ack) = join_and_collect(
        &mut bob_ws,
        json!({"conversation_id": id, "since_version": seen}),
    )
    .await;
    let summary: Vec<(String, i64)> = frames
        .iter()
        .map(|f| {
            let kind = f["type"].as_str().unwrap().to_string();
            let version = f["data"]["message"]["version"]
                .as_i64()
                .or(f["data"]["version"].as_i64())
                .unwrap();
            (kind, version)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("message:updated".to_string(), 4),
            ("message:new".to_string(), 5),
            ("message:deleted".to_string(), 6),
        ]
    );
    assert_eq!(frames[0]["data"]["message"]["content"], "two, edited");
    assert_eq!(frames[1]["data"]["message"]["content"], "four");
    assert_eq!(frames[2]["data"]["message_id"], ids[0]);
    assert_eq!(ack["data"]["version"], 6);
    assert_eq!(ack["data"]["last_seq"], 4);
    // Up to date: nothing to replay.
    let (frames, _) = join_and_collect(
        &mut bob_ws,
        json!({"conversation_id": id, "since_version": 6}),
    )
    .await;
    assert!(frames.is_empty(), "{frames:?}");
    // since_seq keeps its meaning; both at once is refused.
    let both = bob_ws
        .call(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": 0, "since_version": 0}),
        )
        .await;
    assert_eq!(both["data"]["code"], "validation_failed");
}

#[actix_web::test]
async fn every_message_view_carries_its_version() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    send_n(&app, &ann, id, 2).await;
    let history = app.history(&ann, id, "").await;
    let versions: Vec<i64> = history
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    let conversation: Value = app
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&ann.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conversation["version"], 2);
}
