//! The support desk's webhook events (issue 15): `conversation.status`,
//! `conversation.assigned`, `note.created` (never `message.created` for a note), and
//! `conversation.closed` with a resolution, `csat.created`.

use serde_json::{Value, json};

use super::{Receiver, app_with, as_user, create};
use parlor::domain::Role;

#[actix_web::test]
async fn desk_changes_reach_the_endpoints_that_subscribe_to_them() {
    let app = app_with(|_| {}).await;
    let mut receiver = Receiver::start(0).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let events = [
        "message.created",
        "note.created",
        "conversation.status",
        "conversation.assigned",
        "conversation.closed",
        "csat.created",
    ];
    create(&app, &admin, json!({"url": receiver.url, "events": events})).await;
    let sam = app.create_with_role("sam", Role::Agent).await;
    let cara = app.register("cara").await;
    let (status, opened) = as_user(
        &app,
        &cara,
        "POST",
        "/api/v1/conversations",
        &json!({"participant_ids": [], "kind": "support"}),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_i64().unwrap();
    let base = format!("/api/v1/conversations/{id}");
    let (status, _) = as_user(
        &app,
        &sam,
        "POST",
        &format!("{base}/assign"),
        &json!({"assignee_id": sam.id}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = as_user(
        &app,
        &sam,
        "POST",
        &format!("{base}/messages"),
        &json!({"content": "check the order", "private": true}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = as_user(
        &app,
        &sam,
        "POST",
        &format!("{base}/status"),
        &json!({"status": "resolved"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = as_user(
        &app,
        &cara,
        "POST",
        &format!("{base}/csat"),
        &json!({"rating": 4, "comment": "fine"}),
    )
    .await;
    assert_eq!(status, 201);

    let mut got: Vec<Value> = Vec::new();
    for _ in 0..5 {
        got.push(receiver.next().await.json());
    }
    let types: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "conversation.assigned",
            "note.created",
            "conversation.status",
            "conversation.closed",
            "csat.created",
        ],
        "one event per change, and a note is no message.created: {got:?}"
    );
    assert_eq!(got[0]["data"]["assignee_id"], sam.id);
    assert_eq!(got[1]["data"]["private"], true);
    assert_eq!(got[1]["data"]["content"], "check the order");
    assert_eq!(got[2]["data"]["status"], "resolved");
    assert_eq!(got[2]["data"]["changed_by"], sam.id);
    assert_eq!(got[4]["data"]["rating"], 4);
    assert_eq!(got[4]["data"]["assignee_id"], sam.id);
}
