//! The server API's conversations and messages (issue 12): created with external ids,
//! participants added and removed live, closed, listed with filters and pages; messages posted
//! as a user or as the system reach joined sessions at once, exactly once; scopes and projects
//! hold.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::server_users::{ALL, key};
use crate::ws_client::WsClient;

async fn call(app: &TestApp, method: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    app.call(method, path, Some(("x-api-key", key)), body).await
}

/// Upserts `external_id`; answers its user id.
async fn upsert(app: &TestApp, key: &str, external_id: &str) -> i64 {
    let path = format!("/api/v1/server/users/{external_id}");
    let body = json!({"display_name": external_id});
    let (status, user) = call(app, "PUT", &path, key, &body).await;
    assert!(status == 201 || status == 200, "{user}");
    user["id"].as_i64().unwrap()
}

/// A WebSocket of `external_id`, opened with a token minted for them.
async fn ws_of(app: &TestApp, key: &str, external_id: &str) -> WsClient {
    let path = format!("/api/v1/server/users/{external_id}/tokens");
    let (status, minted) = call(app, "POST", &path, key, &json!({})).await;
    assert_eq!(status, 201, "{minted}");
    app.ws_with_token(minted["access_token"].as_str().unwrap())
        .await
}

/// Creates a conversation of `participants`; answers its view.
async fn create(app: &TestApp, key: &str, participants: &[&str]) -> Value {
    let body = json!({"participants": participants});
    let (status, view) = call(app, "POST", "/api/v1/server/conversations", key, &body).await;
    assert_eq!(status, 201, "{view}");
    view
}

/// Sends `typing:start` to `conversation` and returns its reply, asserting that no
/// `message:new` arrived before it: the room answers after everything it broadcast earlier.
async fn nothing_new_before_reply(ws: &mut WsClient, conversation: i64) -> Value {
    let reference = ws
        .send("typing:start", json!({"conversation_id": conversation}))
        .await;
    loop {
        let frame = ws.recv().await;
        assert_ne!(frame["type"], "message:new", "{frame}");
        if frame["ref"] == reference.as_str() {
            return frame;
        }
    }
}

#[actix_web::test]
async fn the_backend_posts_as_a_user_or_as_the_system_and_sessions_see_it_live() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    let ann = upsert(&app, &key, "ann").await;
    let bob = upsert(&app, &key, "bob").await;
    upsert(&app, &key, "carol").await;
    let view = create(&app, &key, &["ann", "bob"]).await;
    let id = view["id"].as_i64().unwrap();
    assert_eq!(view["participant_ids"], json!([ann, bob]));
    assert_eq!(
        view["participants"],
        json!([{"id": ann, "external_id": "ann"}, {"id": bob, "external_id": "bob"}])
    );
    let system = view["created_by"].as_i64().unwrap();
    assert!(system != ann && system != bob, "the system user created it");
    let mut ann_ws = ws_of(&app, &key, "ann").await;
    ann_ws.join(id).await;

    let path = format!("/api/v1/server/conversations/{id}/messages");
    let body = json!({"as_system": true, "content": "Welcome!", "client_msg_id": "w-1"});
    let (status, posted) = call(&app, "POST", &path, &key, &body).await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(
        (&posted["kind"], &posted["seq"], &posted["sender_id"]),
        (&json!("system"), &json!(1), &json!(system))
    );
    let live = ann_ws.recv_type("message:new").await;
    assert_eq!(live["data"]["message"]["id"], posted["id"]);
    assert_eq!(live["data"]["message"]["kind"], "system");
    // A retry answers the original and stores nothing.
    let (status, again) = call(&app, "POST", &path, &key, &body).await;
    assert_eq!((status, &again["id"]), (201, &posted["id"]));

    let body = json!({"as_external_id": "bob", "content": "hi ann", "client_msg_id": "b-1"});
    let (status, from_bob) = call(&app, "POST", &path, &key, &body).await;
    assert_eq!(status, 201, "{from_bob}");
    assert_eq!(
        (&from_bob["kind"], &from_bob["seq"], &from_bob["sender_id"]),
        (&json!("text"), &json!(2), &json!(bob))
    );
    let live = ann_ws.recv_type("message:new").await;
    assert_eq!(
        live["data"]["message"]["seq"], 2,
        "no duplicate of seq 1 came first"
    );
    let (status, history) = call(&app, "GET", &path, &key, &Value::Null).await;
    assert_eq!(status, 200);
    let seqs: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2]);

    for (body, code, status) in [
        (json!({"content": "who?"}), "validation_failed", 400),
        (
            json!({"as_system": true, "as_external_id": "bob", "content": "x"}),
            "validation_failed",
            400,
        ),
        (
            json!({"as_external_id": "nobody", "content": "x"}),
            "validation_failed",
            400,
        ),
        (
            json!({"as_system": true, "content": "x", "attachment_id": 1}),
            "validation_failed",
            400,
        ),
        (
            json!({"as_system": true, "content": ""}),
            "validation_failed",
            400,
        ),
        (
            json!({"as_external_id": "carol", "content": "not a participant"}),
            "forbidden",
            403,
        ),
    ] {
        let (got, answer) = call(&app, "POST", &path, &key, &body).await;
        assert_eq!(
            (got, &answer["error"]["code"]),
            (status, &json!(code)),
            "{body}"
        );
    }
    let (_, history) = call(&app, "GET", &path, &key, &Value::Null).await;
    assert_eq!(
        history.as_array().unwrap().len(),
        2,
        "nothing refused was stored"
    );
}

#[actix_web::test]
async fn participants_are_added_and_removed_live() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    upsert(&app, &key, "ann").await;
    let bob = upsert(&app, &key, "bob").await;
    let carol = upsert(&app, &key, "carol").await;
    let id = create(&app, &key, &["ann", "bob"]).await["id"]
        .as_i64()
        .unwrap();
    let mut ann_ws = ws_of(&app, &key, "ann").await;
    let mut bob_ws = ws_of(&app, &key, "bob").await;
    let mut carol_ws = ws_of(&app, &key, "carol").await;
    ann_ws.join(id).await;
    bob_ws.join(id).await;
    let refused = carol_ws
        .call("conversation:join", json!({"conversation_id": id}))
        .await;
    assert_eq!(refused["type"], "error", "not a participant yet: {refused}");

    let participants = format!("/api/v1/server/conversations/{id}/participants");
    let (status, view) = call(
        &app,
        "POST",
        &participants,
        &key,
        &json!({"participants": ["carol"]}),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert!(
        view["participant_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(carol))
    );
    let added = ann_ws.recv_type("participant:added").await;
    assert_eq!(
        (
            added["data"]["conversation_id"].as_i64(),
            added["data"]["user_id"].as_i64()
        ),
        (Some(id), Some(carol))
    );
    // The live room knows carol now.
    carol_ws.join(id).await;
    // Adding again changes nothing.
    let (status, _) = call(
        &app,
        "POST",
        &participants,
        &key,
        &json!({"participants": ["carol"]}),
    )
    .await;
    assert_eq!(status, 200);

    let (status, view) = call(
        &app,
        "DELETE",
        &format!("{participants}/bob"),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert!(
        !view["participant_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(bob))
    );
    for ws in [&mut ann_ws, &mut carol_ws, &mut bob_ws] {
        let removed = ws.recv_type("participant:removed").await;
        assert_eq!(removed["data"]["user_id"].as_i64(), Some(bob));
    }
    let messages = format!("/api/v1/server/conversations/{id}/messages");
    let body = json!({"as_system": true, "content": "bob left"});
    assert_eq!(call(&app, "POST", &messages, &key, &body).await.0, 201);
    // The change is in the history first, as said by the system user.
    assert_eq!(
        ann_ws.recv_type("message:new").await["data"]["message"]["content"],
        "System removed bob"
    );
    assert_eq!(
        ann_ws.recv_type("message:new").await["data"]["message"]["content"],
        "bob left"
    );
    // Bob's session was detached: nothing new reaches it, and the room refuses it.
    let reply = nothing_new_before_reply(&mut bob_ws, id).await;
    assert_eq!(reply["type"], "error", "{reply}");
    let send = bob_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "still here?"}),
        )
        .await;
    assert_eq!(send["type"], "error", "{send}");
    // Idempotent; unknown users are 404, deactivated ones cannot be added.
    let (status, _) = call(
        &app,
        "DELETE",
        &format!("{participants}/bob"),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        "DELETE",
        &format!("{participants}/nobody"),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        "DELETE",
        "/api/v1/server/users/bob",
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &app,
        "POST",
        &participants,
        &key,
        &json!({"participants": ["bob"]}),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("validation_failed"))
    );
}

#[actix_web::test]
async fn conversations_are_closed_and_listed_by_page_and_filter() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    for user in ["ann", "bob", "carol"] {
        upsert(&app, &key, user).await;
    }
    let first = create(&app, &key, &["ann", "bob"]).await["id"]
        .as_i64()
        .unwrap();
    let second = create(&app, &key, &["bob", "carol"]).await["id"]
        .as_i64()
        .unwrap();
    let third = create(&app, &key, &["ann", "carol"]).await["id"]
        .as_i64()
        .unwrap();
    let mut ann_ws = ws_of(&app, &key, "ann").await;
    ann_ws.join(third).await;
    // A pair has one direct conversation: asking again answers it.
    let body = json!({"participants": ["bob", "ann"]});
    let (status, again) = call(&app, "POST", "/api/v1/server/conversations", &key, &body).await;
    assert_eq!(
        (status, &again["id"], &again["kind"]),
        (200, &json!(first), &json!("direct"))
    );
    let body = json!({"participants": ["ann", "bob"], "kind": "channel", "visibility": "public"});
    let (status, channel) = call(&app, "POST", "/api/v1/server/conversations", &key, &body).await;
    assert_eq!(
        (status, &channel["kind"], &channel["visibility"]),
        (201, &json!("channel"), &json!("public"))
    );
    let (_, channels) = call(
        &app,
        "GET",
        "/api/v1/server/conversations?kind=channel",
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(channels.as_array().map(Vec::len), Some(1));
    let fourth = channel["id"].as_i64().unwrap();

    let close = format!("/api/v1/server/conversations/{third}/close");
    let (status, closed) = call(&app, "POST", &close, &key, &Value::Null).await;
    assert_eq!(
        (status, &closed["status"]),
        (200, &json!("closed")),
        "{closed}"
    );
    assert_eq!(
        ann_ws.recv_type("conversation:closed").await["data"]["conversation_id"],
        third
    );
    let (status, again) = call(&app, "POST", &close, &key, &Value::Null).await;
    assert_eq!((status, &again["closed_at"]), (200, &closed["closed_at"]));
    let messages = format!("/api/v1/server/conversations/{third}/messages");
    let (status, body) = call(
        &app,
        "POST",
        &messages,
        &key,
        &json!({"as_system": true, "content": "x"}),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conversation_closed"))
    );

    let ids = |page: &Value| -> Vec<i64> {
        page.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let list = |query: &str| format!("/api/v1/server/conversations{query}");
    let (status, all) = call(&app, "GET", &list(""), &key, &Value::Null).await;
    assert_eq!(
        (status, ids(&all)),
        (200, vec![first, second, third, fourth])
    );
    let (_, page) = call(&app, "GET", &list("?limit=2"), &key, &Value::Null).await;
    assert_eq!(ids(&page), [first, second]);
    let (_, page) = call(
        &app,
        "GET",
        &list(&format!("?limit=2&after_id={second}")),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(ids(&page), [third, fourth]);
    let (_, page) = call(&app, "GET", &list("?status=closed"), &key, &Value::Null).await;
    assert_eq!(ids(&page), [third]);
    let (_, page) = call(
        &app,
        "GET",
        &list("?status=open&participant=ann"),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(ids(&page), [first, fourth]);
    let (_, page) = call(
        &app,
        "GET",
        &list("?participant=nobody"),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!(ids(&page), Vec::<i64>::new());
    for bad in ["?limit=0", "?status=maybe", "?colour=red"] {
        let (status, body) = call(&app, "GET", &list(bad), &key, &Value::Null).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, one) = call(
        &app,
        "GET",
        &format!("/api/v1/server/conversations/{second}"),
        &key,
        &Value::Null,
    )
    .await;
    assert_eq!((status, &one["id"]), (200, &json!(second)));
}

#[actix_web::test]
async fn keys_act_within_their_scopes_and_their_project() {
    let app = spawn_app().await;
    let key_1 = key(&app, 1, ALL);
    upsert(&app, &key_1, "ann").await;
    upsert(&app, &key_1, "bob").await;
    let id = create(&app, &key_1, &["ann", "bob"]).await["id"]
        .as_i64()
        .unwrap();
    let base = format!("/api/v1/server/conversations/{id}");
    let writes = [
        (
            "POST",
            "/api/v1/server/conversations".to_string(),
            json!({"participants": ["ann"]}),
        ),
        (
            "POST",
            format!("{base}/participants"),
            json!({"participants": ["ann"]}),
        ),
        ("DELETE", format!("{base}/participants/bob"), Value::Null),
        ("POST", format!("{base}/close"), Value::Null),
        (
            "POST",
            format!("{base}/messages"),
            json!({"as_system": true, "content": "x"}),
        ),
    ];
    let read_only = key(&app, 1, "read");
    for (method, path, body) in &writes {
        let (status, answer) = call(&app, method, path, &read_only, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    let project_2 = crate::projects::cli(&app, &["project", "create", "--name", "other"])["id"]
        .as_i64()
        .unwrap();
    let key_2 = key(&app, project_2, ALL);
    upsert(&app, &key_2, "ann").await;
    for (method, path, body) in writes.iter().skip(1) {
        let (status, answer) = call(&app, method, path, &key_2, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    for path in [base.clone(), format!("{base}/messages")] {
        let (status, _) = call(&app, "GET", &path, &key_2, &Value::Null).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, list) = call(
        &app,
        "GET",
        "/api/v1/server/conversations",
        &key_2,
        &Value::Null,
    )
    .await;
    assert_eq!((status, list), (200, json!([])));
    // Project 2's ann is not project 1's: a conversation of project 2 cannot name project 1's bob.
    let body = json!({"participants": ["ann", "bob"]});
    let (status, _) = call(&app, "POST", "/api/v1/server/conversations", &key_2, &body).await;
    assert_eq!(status, 400);
    // Nothing changed in project 1.
    let (_, one) = call(&app, "GET", &base, &key_1, &Value::Null).await;
    assert_eq!(
        (
            &one["status"],
            one["participant_ids"].as_array().map(Vec::len)
        ),
        (&json!("open"), Some(2))
    );
}
