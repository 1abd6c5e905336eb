//! Internal notes: `"private": true` sends of agents and admins, seen by them only. Customers
//! never get them: not live, not in history, replays, unread counts, search or the last
//! message of their conversation list.

use std::time::Duration;

use serde_json::{Value, json};

use super::{agent, as_user, open_support};
use crate::helpers::{TestApp, TestUser, spawn_app};

/// The messages of people (not the system's notices of joins).
fn chat(messages: Vec<Value>) -> Vec<Value> {
    messages
        .into_iter()
        .filter(|m| m["kind"] != "system")
        .collect()
}

/// A support conversation of `customer` that `sam` joined to reply.
async fn joined(app: &TestApp, customer: &TestUser, sam: &TestUser) -> i64 {
    let id = open_support(app, customer).await["id"].as_i64().unwrap();
    let (code, body) = as_user(
        app,
        sam,
        "POST",
        &format!("/api/v1/conversations/{id}/join"),
        json!({}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    id
}

#[actix_web::test]
async fn a_note_reaches_the_team_live_and_never_the_joined_customer() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let tom = agent(&app, "tom").await;
    let id = joined(&app, &customer, &sam).await;
    as_user(
        &app,
        &tom,
        "POST",
        &format!("/api/v1/conversations/{id}/join"),
        json!({}),
    )
    .await;
    let mut customer_ws = app.ws(&customer).await;
    customer_ws.join(id).await;
    let mut tom_ws = app.ws(&tom).await;
    tom_ws.join(id).await;
    let mut sam_ws = app.ws(&sam).await;
    sam_ws.join(id).await;

    let ack = sam_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "VIP customer, be kind", "private": true}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["data"]["message"]["private"], true);
    let note = tom_ws.recv_type("note:new").await;
    assert_eq!(note["data"]["message"]["content"], "VIP customer, be kind");
    assert_eq!(note["data"]["message"]["private"], true);
    customer_ws
        .assert_no("note:new", Duration::from_millis(300))
        .await;

    // The customer's socket is alive and hears the public reply, and only it.
    app.send_rest(&sam, id, "Hello Cara!").await;
    let next = customer_ws.recv().await;
    assert_eq!(next["type"], "message:new", "{next}");
    assert_eq!(next["data"]["message"]["content"], "Hello Cara!");
    assert_eq!(next["data"]["message"]["private"], false);
}

#[actix_web::test]
async fn notes_stay_out_of_the_customers_history_replay_unread_search_and_list() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = joined(&app, &customer, &sam).await;
    app.send_rest(&customer, id, "My parcel is late").await;
    app.send_rest(&sam, id, "Checking the parcel now").await;
    let (code, note) = as_user(
        &app,
        &sam,
        "POST",
        &format!("/api/v1/conversations/{id}/messages"),
        json!({"content": "parcel lost by courier, refund", "private": true}),
    )
    .await;
    assert_eq!(code, 201, "{note}");
    assert_eq!(note["private"], true);

    // History (but the notice of sam's joining).
    let theirs = chat(app.history(&customer, id, "").await);
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|m| m["private"] == false));
    let ours = chat(app.history(&sam, id, "").await);
    assert_eq!(ours.len(), 3);
    assert_eq!(ours[2]["private"], true);

    // Unread: the notice of sam's joining and his answer, not the note.
    let (_, unread) = as_user(&app, &customer, "GET", "/api/v1/unread", Value::Null).await;
    assert_eq!(unread["conversations"][id.to_string()], 2, "{unread}");

    // The list's last message is the newest the customer may see.
    let (_, list) = as_user(&app, &customer, "GET", "/api/v1/conversations", Value::Null).await;
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(mine["last_message"]["content"], "Checking the parcel now");
    assert_eq!(mine["unread_count"], 2);
    let (_, theirs) = as_user(
        &app,
        &sam,
        "GET",
        &format!("/api/v1/conversations/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(theirs["last_message"]["private"], true);

    // Search.
    let path = "/api/v1/search/messages?q=refund";
    let (code, found) = as_user(&app, &customer, "GET", path, Value::Null).await;
    assert_eq!(code, 200, "{found}");
    assert_eq!(
        found["results"].as_array().map(Vec::len),
        Some(0),
        "{found}"
    );
    let (_, found) = as_user(&app, &sam, "GET", path, Value::Null).await;
    assert_eq!(
        found["results"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );

    // The team's replay has it (the customer's: the next test).
    let mut sam_ws = app.ws(&sam).await;
    sam_ws
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": 0}),
        )
        .await;
    let note = sam_ws.recv_type("note:new").await;
    assert_eq!(
        note["data"]["message"]["content"],
        "parcel lost by courier, refund"
    );
}

#[actix_web::test]
async fn a_customers_replay_skips_the_note_between_two_messages() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = joined(&app, &customer, &sam).await;
    app.send_rest(&customer, id, "one").await;
    as_user(
        &app,
        &sam,
        "POST",
        &format!("/api/v1/conversations/{id}/messages"),
        json!({"content": "secret", "private": true}),
    )
    .await;
    app.send_rest(&sam, id, "two").await;
    let mut ws = app.ws(&customer).await;
    let reference = ws
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": 0}),
        )
        .await;
    let mut contents = Vec::new();
    loop {
        let frame = ws.recv().await;
        if frame["ref"] == reference.as_str() {
            assert_eq!(frame["type"], "ack");
            break;
        }
        assert_eq!(frame["type"], "message:new", "{frame}");
        if frame["data"]["message"]["kind"] != "system" {
            contents.push(
                frame["data"]["message"]["content"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    assert_eq!(contents, ["one", "two"]);
}

/// Who may write a note: a table of roles and conversations.
#[actix_web::test]
async fn only_the_team_writes_notes_and_only_in_support_conversations() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let other = app.register("olga").await;
    let sam = agent(&app, "sam").await;
    let tom = agent(&app, "tom").await;
    let id = joined(&app, &customer, &sam).await;
    let group = app.conversation(&sam, &[&other]).await;
    let cases = [
        (&customer, id, 403),
        (&tom, id, 403), // sees it, takes no part yet
        (&sam, group, 403),
        (&sam, id, 201),
    ];
    for (user, conversation, status) in cases {
        let (got, body) = as_user(
            &app,
            user,
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"content": "note", "private": true}),
        )
        .await;
        assert_eq!(got, status, "{} in {conversation}: {body}", user.username);
    }
    assert!(chat(app.history(&customer, id, "").await).is_empty());
}
