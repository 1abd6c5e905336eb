//! Membership changes seen live: joined sessions get `participant:added`, `:removed` and
//! `:updated`; a removed user's session, joined at that moment, gets the removal as its last
//! frame of the room and is refused afterwards; the history keeps system messages a resuming
//! client reads; the last owner leaving hands the group on.

use std::time::Duration;

use serde_json::{Value, json};

use super::{call, group, roles, set_role};
use crate::helpers::spawn_app;

const QUIET: Duration = Duration::from_millis(300);

#[actix_web::test]
async fn a_removed_member_is_detached_at_once_and_refused_afterwards() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let id = group(&app, &ann, &[&bob, &carol], false).await;
    let mut ann_ws = app.ws(&ann).await;
    let mut bob_ws = app.ws(&bob).await;
    ann_ws.join(id).await;
    bob_ws.join(id).await;

    let path = format!("/api/v1/conversations/{id}/participants/{}", bob.id);
    let (status, body) = call(&app, &ann, "DELETE", &path, Value::Null).await;
    assert_eq!(status, 204, "{body}");
    let seen = ann_ws.recv_type("participant:removed").await;
    assert_eq!(seen["data"]["user_id"], bob.id);
    let last = bob_ws.recv_type("participant:removed").await;
    assert_eq!(last["data"]["user_id"], bob.id);
    let removal_seq = last["data"]["seq"].as_i64().unwrap();

    // Ann posts after the removal: Bob's session, still open, gets none of it.
    let response = app.send_rest(&ann, id, "after bob left").await;
    assert_eq!(response.status(), 201);
    let after: Value = response.json().await.unwrap();
    assert!(after["seq"].as_i64().unwrap() > removal_seq);
    bob_ws.assert_no("message:new", QUIET).await;

    // Every command of his on the room is refused.
    for (kind, data) in [
        (
            "message:send",
            json!({"conversation_id": id, "content": "let me in"}),
        ),
        ("conversation:join", json!({"conversation_id": id})),
        ("typing:start", json!({"conversation_id": id})),
        ("message:read", json!({"conversation_id": id, "seq": 1})),
    ] {
        let reply = bob_ws.call(kind, data).await;
        assert_eq!(reply["type"], "error", "{kind}: {reply}");
        let code = reply["data"]["code"].as_str().unwrap();
        assert!(
            code == "forbidden" || code == "not_found",
            "{kind}: {reply}"
        );
    }
    let response = app.send_rest(&bob, id, "over rest").await;
    assert_eq!(response.status(), 404);
    // Nothing of his was stored.
    let history = app.history(&ann, id, "").await;
    assert!(
        history.iter().all(|m| m["sender_id"] != bob.id),
        "{history:?}"
    );
}

#[actix_web::test]
async fn additions_and_role_changes_reach_joined_sessions_and_the_history() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let id = group(&app, &ann, &[&bob], false).await;
    let mut bob_ws = app.ws(&bob).await;
    let since = bob_ws.join(id).await;

    let path = format!("/api/v1/conversations/{id}/participants");
    let (status, body) = call(&app, &ann, "POST", &path, json!({"user_ids": [carol.id]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["added"],
        json!([{"user_id": carol.id, "role": "member"}])
    );
    let added = bob_ws.recv_type("participant:added").await;
    assert_eq!(added["data"]["user_id"], carol.id);
    assert_eq!(added["data"]["role"], "member");
    // The newcomer can join and post at once: the room knows her.
    let mut carol_ws = app.ws(&carol).await;
    carol_ws.join(id).await;
    let reply = carol_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "hi all"}),
        )
        .await;
    assert_eq!(reply["type"], "ack", "{reply}");

    set_role(&app, &ann, id, &carol, "moderator").await;
    let updated = bob_ws.recv_type("participant:updated").await;
    assert_eq!(updated["data"]["user_id"], carol.id);
    assert_eq!(updated["data"]["role"], "moderator");

    // A client resuming from before learns both from the history's system messages.
    let history = app.history(&bob, id, &format!("?after_seq={since}")).await;
    let system: Vec<&str> = history
        .iter()
        .filter(|m| m["kind"] == "system")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        system,
        ["ann added carol", "ann made carol a moderator"],
        "{history:?}"
    );
    let mut resumed = app.ws(&bob).await;
    // The replay comes before the join's ack.
    resumed
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": since}),
        )
        .await;
    let first = loop {
        let frame = resumed.recv().await;
        if frame["type"] != "user:status" {
            break frame;
        }
    };
    assert_eq!(first["type"], "message:new", "{first}");
    assert_eq!(
        first["data"]["message"]["content"], "ann added carol",
        "{first}"
    );
}

#[actix_web::test]
async fn the_last_owner_leaving_hands_the_group_to_the_oldest_admin_else_the_oldest_member() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dan = app.register("dan").await;
    let id = group(&app, &ann, &[&bob, &carol, &dan], false).await;
    set_role(&app, &ann, id, &dan, "admin").await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;

    let (status, _) = call(
        &app,
        &ann,
        "POST",
        &format!("/api/v1/conversations/{id}/leave"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let removed = bob_ws.recv_type("participant:removed").await;
    assert_eq!(removed["data"]["user_id"], ann.id);
    let heir = bob_ws.recv_type("participant:updated").await;
    assert_eq!(
        heir["data"],
        json!({"conversation_id": id, "user_id": dan.id, "role": "owner", "seq": heir["data"]["seq"]})
    );
    // Gone: the group is no longer hers to see.
    let (status, _) = call(
        &app,
        &ann,
        "GET",
        &format!("/api/v1/conversations/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);

    // With no admin left, the member who joined first inherits.
    let (status, _) = call(
        &app,
        &dan,
        "POST",
        &format!("/api/v1/conversations/{id}/leave"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let now = roles(&app, &bob, id).await;
    assert_eq!(
        now,
        [
            (bob.id, "owner".to_string()),
            (carol.id, "member".to_string())
        ]
    );
}

#[actix_web::test]
async fn an_owner_transfers_the_ownership_and_becomes_an_admin() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = group(&app, &ann, &[&bob], false).await;
    set_role(&app, &ann, id, &bob, "owner").await;
    let now = roles(&app, &bob, id).await;
    assert_eq!(
        now,
        [(ann.id, "admin".to_string()), (bob.id, "owner".to_string())]
    );
    // Ann, an admin now, can no longer touch the owner.
    let path = format!("/api/v1/conversations/{id}/participants/{}", bob.id);
    let (status, _) = call(&app, &ann, "DELETE", &path, Value::Null).await;
    assert_eq!(status, 403);
}
