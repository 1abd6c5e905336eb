use parlor::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

/// Creates a conversation as `token` with `body`: the status and the view.
async fn create(app: &crate::helpers::TestApp, token: &str, body: Value) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    app.call(
        "POST",
        "/api/v1/conversations",
        Some(("authorization", &auth)),
        &body,
    )
    .await
}

#[actix_web::test]
async fn conversations_get_their_kind_by_default_or_as_asked_and_include_the_creator() {
    let app = spawn_app().await;
    let (ann, bob, cid) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cid").await,
    );
    let agent = app.create_with_role("agent", Role::Agent).await;
    // One other person and no title: direct, one per pair.
    let (status, direct) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [bob.id]}),
    )
    .await;
    assert_eq!(status, 201, "{direct}");
    assert_eq!(direct["kind"], "direct");
    assert_eq!(direct["status"], "open");
    assert_eq!(direct["created_by"], ann.id);
    assert_eq!(direct["participant_ids"], json!([ann.id, bob.id]));
    assert_eq!(direct["closed_at"], Value::Null);
    assert_eq!(direct["closed_by"], Value::Null);
    assert_eq!(direct["visibility"], "private");
    assert_eq!(direct["member_count"], 2);
    assert_eq!(direct["member_role"], "member");
    assert!(direct["created_at"].as_str().unwrap().ends_with('Z'));
    for (token, others) in [(&ann.access_token, bob.id), (&bob.access_token, ann.id)] {
        let (status, again) = create(&app, token, json!({"participant_ids": [others]})).await;
        assert_eq!(
            (status, &again["id"]),
            (200, &direct["id"]),
            "the pair's conversation"
        );
    }
    let (status, _) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [bob.id, cid.id], "kind": "direct"}),
    )
    .await;
    assert_eq!(status, 400, "direct is two people");

    // A title, or more people: a group, owned by its creator.
    let (status, group) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [bob.id], "title": "Hello", "description": "about hello"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        (
            &group["kind"],
            &group["title"],
            &group["description"],
            &group["member_role"]
        ),
        (
            &json!("group"),
            &json!("Hello"),
            &json!("about hello"),
            &json!("owner")
        )
    );
    let (_, group) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [bob.id, cid.id, ann.id], "visibility": "public"}),
    )
    .await;
    assert_eq!(group["kind"], "group");
    assert_eq!(group["visibility"], "public");
    assert_eq!(group["participant_ids"], json!([ann.id, bob.id, cid.id]));
    assert_eq!(group["member_count"], 3);

    // A customer with only agents, or alone: support, not unique per pair.
    let (_, support) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [agent.id]}),
    )
    .await;
    assert_eq!(support["kind"], "support");
    let (status, second) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [agent.id]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_ne!(second["id"], support["id"]);
    let (_, alone) = create(&app, &ann.access_token, json!({"participant_ids": []})).await;
    assert_eq!(alone["kind"], "support");
    // ... unless the client asks for another kind.
    let (_, direct_with_agent) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [agent.id], "kind": "direct"}),
    )
    .await;
    assert_eq!(direct_with_agent["kind"], "direct");

    // Channels: the creator owns it, the others follow.
    let (status, channel) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [bob.id], "kind": "channel", "title": "News"}),
    )
    .await;
    assert_eq!(
        (status, &channel["kind"], &channel["member_role"]),
        (201, &json!("channel"), &json!("owner"))
    );
    let auth = format!("Bearer {}", bob.access_token);
    let path = format!("/api/v1/conversations/{}", channel["id"]);
    let (_, seen_by_bob) = app
        .call("GET", &path, Some(("authorization", &auth)), &Value::Null)
        .await;
    assert_eq!(seen_by_bob["member_role"], "follower");

    for bad in [
        json!({"participant_ids": [bob.id], "kind": "direct", "visibility": "public"}),
        json!({"participant_ids": [agent.id], "visibility": "public"}),
        json!({"participant_ids": [bob.id], "kind": "room"}),
        json!({"participant_ids": [bob.id], "visibility": "secret"}),
    ] {
        let (status, body) = create(&app, &ann.access_token, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[actix_web::test]
async fn an_unknown_participant_is_a_validation_error() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let response = app
        .post(
            "/api/v1/conversations",
            Some(&ann.access_token),
            &json!({"participant_ids": [999]}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("participant_ids")
    );
    let bad_shape = app
        .post(
            "/api/v1/conversations",
            Some(&ann.access_token),
            &json!({"participant_ids": "x"}),
        )
        .await;
    assert_eq!(bad_shape.status(), 400);
}

#[actix_web::test]
async fn the_list_shows_my_conversations_newest_activity_first_and_admins_see_all() {
    let app = spawn_app().await;
    let (ann, bob, cid) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cid").await,
    );
    let first = app.conversation(&ann, &[&bob]).await;
    let second = app.conversation(&ann, &[&cid]).await;
    let others = app.conversation(&bob, &[&cid]).await;
    // Activity in the first one moves it to the top.
    assert_eq!(app.send_rest(&ann, first, "bump").await.status(), 201);

    let list: Vec<Value> = app
        .get("/api/v1/conversations", Some(&ann.access_token))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = list.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [first, second]);

    let admin = app.create_with_role("root", Role::Admin).await;
    let all: Vec<Value> = app
        .get("/api/v1/conversations", Some(&admin.access_token))
        .await
        .json()
        .await
        .unwrap();
    let mut all: Vec<i64> = all.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    all.sort();
    assert_eq!(all, [first, second, others]);
}

#[actix_web::test]
async fn a_conversation_i_am_not_in_is_404_not_403() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    let mine = app
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(mine.status(), 200);
    let theirs = app
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&eve.access_token),
        )
        .await;
    assert_eq!(theirs.status(), 404);
    assert_eq!(error_code(theirs).await, "not_found");
    let missing = app
        .get("/api/v1/conversations/424242", Some(&eve.access_token))
        .await;
    assert_eq!(missing.status(), 404);
    let not_a_number = app
        .get("/api/v1/conversations/abc", Some(&eve.access_token))
        .await;
    assert_eq!(not_a_number.status(), 404);
    let history = app
        .get(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&eve.access_token),
        )
        .await;
    assert_eq!(history.status(), 404);
}

#[actix_web::test]
async fn a_customer_cannot_close_a_conversation() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let response = app
        .post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&ann.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(response).await, "forbidden");
    let delete = app
        .delete(&format!("/api/v1/conversations/{id}"), &ann.access_token)
        .await;
    assert_eq!(delete.status(), 403);
}

#[actix_web::test]
async fn an_agent_closes_a_conversation_once_and_later_sends_are_refused() {
    let app = spawn_app().await;
    let customer = app.register("carol").await;
    let agent = app.create_with_role("agent1", Role::Agent).await;
    let id = app.conversation(&customer, &[&agent]).await;
    assert_eq!(
        app.send_rest(&customer, id, "my order is late")
            .await
            .status(),
        201
    );

    let response = app
        .post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&agent.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let closed: Value = response.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_by"], agent.id);
    assert!(closed["closed_at"].is_string());

    // Closing again (through the DELETE alias) returns it unchanged.
    let again = app
        .delete(&format!("/api/v1/conversations/{id}"), &agent.access_token)
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["closed_at"], closed["closed_at"]);
    assert_eq!(again["closed_by"], closed["closed_by"]);

    let send = app.send_rest(&customer, id, "hello?").await;
    assert_eq!(send.status(), 409);
    assert_eq!(error_code(send).await, "conversation_closed");
    assert_eq!(app.history(&customer, id, "").await.len(), 1);
}

#[actix_web::test]
async fn an_admin_closes_any_conversation_of_the_project() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let admin = app.create_with_role("root", Role::Admin).await;
    let id = app.conversation(&ann, &[&bob]).await;
    let response = app
        .delete(&format!("/api/v1/conversations/{id}"), &admin.access_token)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "closed");
}

#[actix_web::test]
async fn in_a_channel_the_owner_posts_and_followers_read_without_posting_or_typing() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let (_, channel) = create(
        &app,
        &ann.access_token,
        json!({"participant_ids": [bob.id], "kind": "channel", "title": "News"}),
    )
    .await;
    let id = channel["id"].as_i64().unwrap();
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let sent = app.send_rest(&ann, id, "Release 2.0 is out").await;
    assert_eq!(sent.status(), 201);
    let news = bob_ws.recv_type("message:new").await;
    assert_eq!(news["data"]["message"]["content"], "Release 2.0 is out");
    let refused = app.send_rest(&bob, id, "me too").await;
    assert_eq!(refused.status(), 403);
    for (kind, data) in [
        (
            "message:send",
            json!({"conversation_id": id, "content": "me too"}),
        ),
        ("typing:start", json!({"conversation_id": id})),
    ] {
        let reply = bob_ws.call(kind, data).await;
        assert_eq!(
            (&reply["type"], &reply["data"]["code"]),
            (&json!("error"), &json!("forbidden")),
            "{kind}: {reply}"
        );
    }
    // Followers still read and mark what they read.
    let read = bob_ws
        .call("message:read", json!({"conversation_id": id, "seq": 1}))
        .await;
    assert_eq!(read["type"], "ack", "{read}");
    assert_eq!(
        app.history(&bob, id, "").await.len(),
        1,
        "nothing of bob's was stored"
    );
}
