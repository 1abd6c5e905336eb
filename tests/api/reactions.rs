//! Reactions: one per user per emoji per message, idempotent, counted on the message with
//! whether the caller reacted, and announced to the joined sessions.

use serde_json::{Value, json};

use crate::extras_support::{call, encode, next_frame, say};
use crate::helpers::{TestApp, TestUser, spawn_app};

fn path(message: &Value, emoji: &str) -> String {
    format!(
        "/api/v1/messages/{}/reactions/{}",
        message["id"],
        encode(emoji)
    )
}

async fn react(app: &TestApp, user: &TestUser, message: &Value, emoji: &str) -> (u16, Value) {
    call(app, user, "POST", &path(message, emoji)).await
}

async fn unreact(app: &TestApp, user: &TestUser, message: &Value, emoji: &str) -> (u16, Value) {
    call(app, user, "DELETE", &path(message, emoji)).await
}

#[actix_web::test]
async fn reactions_are_counted_per_emoji_and_seen_live_by_both_sides() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let message = say(&app, &ann, id, "lunch?").await;
    assert_eq!(message["reactions"], json!([]));
    let mut ann_ws = app.ws(&ann).await;
    ann_ws.join(id).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;

    // Bob over REST, the emoji percent-encoded in the path.
    let (status, body) = react(&app, &bob, &message, "👍").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": true}])
    );
    let event = ann_ws.recv_type("reaction:added").await;
    assert_eq!(
        event["data"],
        json!({"conversation_id": id, "message_id": message["id"], "emoji": "👍",
               "user_id": bob.id, "count": 1, "version": 2})
    );
    assert_eq!(bob_ws.recv_type("reaction:added").await["data"]["count"], 1);

    // Ann over WebSocket: the event reaches everyone joined, her own session first, then the
    // ack carries the message.
    let reference = ann_ws
        .send(
            "reaction:add",
            json!({"message_id": message["id"], "emoji": "👍"}),
        )
        .await;
    let event = next_frame(&mut ann_ws).await;
    assert_eq!(event["type"], "reaction:added", "{event}");
    assert_eq!(event["data"]["count"], 2);
    let ack = ann_ws.reply(&reference).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(
        ack["data"]["message"]["reactions"],
        json!([{"emoji": "👍", "count": 2, "me": true}])
    );
    let event = bob_ws.recv_type("reaction:added").await;
    assert_eq!(
        (
            event["data"]["user_id"].as_i64(),
            event["data"]["count"].as_i64()
        ),
        (Some(ann.id), Some(2))
    );

    // A shortcode is another reaction; history lists them by first use, `me` per reader.
    let (status, _) = react(&app, &bob, &message, ":tada:").await;
    assert_eq!(status, 200);
    let seen = |user: &TestUser| {
        let (app, user) = (&app, user.clone());
        async move { app.history(&user, id, "").await[0]["reactions"].clone() }
    };
    assert_eq!(
        seen(&ann).await,
        json!([{"emoji": "👍", "count": 2, "me": true}, {"emoji": ":tada:", "count": 1, "me": false}])
    );
    assert_eq!(
        seen(&bob).await,
        json!([{"emoji": "👍", "count": 2, "me": true}, {"emoji": ":tada:", "count": 1, "me": true}])
    );
}

#[actix_web::test]
async fn reacting_twice_or_taking_back_a_missing_reaction_changes_nothing() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let message = say(&app, &ann, id, "vote").await;
    let mut ann_ws = app.ws(&ann).await;
    ann_ws.join(id).await;
    let mut bob_ws = app.ws(&bob).await;

    assert_eq!(react(&app, &bob, &message, "👍").await.0, 200);
    assert_eq!(
        ann_ws.recv_type("reaction:added").await["data"]["emoji"],
        "👍"
    );
    let (status, again) = react(&app, &bob, &message, "👍").await;
    assert_eq!(status, 200);
    assert_eq!(
        again["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": true}])
    );
    let ack = bob_ws
        .call(
            "reaction:add",
            json!({"message_id": message["id"], "emoji": "👍"}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let (status, _) = unreact(&app, &bob, &message, "👎").await;
    assert_eq!(status, 200);
    let ack = bob_ws
        .call(
            "reaction:remove",
            json!({"message_id": message["id"], "emoji": "👎"}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    // None of that was announced: the next event Ann gets is the removal, count 0.
    let (status, body) = unreact(&app, &bob, &message, "👍").await;
    assert_eq!(status, 200);
    assert_eq!(body["reactions"], json!([]));
    let next = next_frame(&mut ann_ws).await;
    assert_eq!(next["type"], "reaction:removed", "{next}");
    assert_eq!(
        (
            next["data"]["emoji"].as_str(),
            next["data"]["count"].as_i64()
        ),
        (Some("👍"), Some(0))
    );
}

#[actix_web::test]
async fn outsiders_bad_emoji_deleted_messages_and_closed_conversations_are_refused() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    let message = say(&app, &ann, id, "hello").await;

    // Not a participant: the message does not exist for eve, over REST and WebSocket.
    let (status, body) = react(&app, &eve, &message, "👍").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let mut eve_ws = app.ws(&eve).await;
    let refused = eve_ws
        .call(
            "reaction:add",
            json!({"message_id": message["id"], "emoji": "👍"}),
        )
        .await;
    assert_eq!(refused["data"]["code"], "not_found", "{refused}");
    let (status, _) = react(&app, &bob, &json!({"id": 999_999}), "👍").await;
    assert_eq!(status, 404);

    for bad in ["a b", "héllo", "\u{7}", &"x".repeat(33)] {
        let (status, body) = react(&app, &bob, &message, bad).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
    }
    let mut bob_ws = app.ws(&bob).await;
    let refused = bob_ws
        .call(
            "reaction:add",
            json!({"message_id": message["id"], "emoji": "two words"}),
        )
        .await;
    assert_eq!(refused["data"]["code"], "validation_failed", "{refused}");

    // A deleted message takes no reactions, and loses those it had.
    assert_eq!(react(&app, &bob, &message, "👍").await.0, 200);
    let (status, _) = call(
        &app,
        &ann,
        "DELETE",
        &format!("/api/v1/messages/{}", message["id"]),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = react(&app, &bob, &message, "👍").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("message_deleted"))
    );
    assert_eq!(app.history(&ann, id, "").await[0]["reactions"], json!([]));

    // A closed conversation takes no more reactions.
    let agent = app
        .create_with_role("agent", parlor::domain::Role::Agent)
        .await;
    let support = app.conversation(&bob, &[&agent]).await;
    let question = say(&app, &bob, support, "help").await;
    let (status, _) = call(
        &app,
        &agent,
        "POST",
        &format!("/api/v1/conversations/{support}/close"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = react(&app, &bob, &question, "👍").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conversation_closed"))
    );
}

#[actix_web::test]
async fn a_message_carries_at_most_fifty_different_reactions() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let message = say(&app, &ann, id, "react away").await;
    for i in 0..50 {
        let (status, body) = react(&app, &ann, &message, &format!("e{i}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = react(&app, &ann, &message, "e50").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("limit_reached")),
        "{body}"
    );
    // One of the fifty is still open to everyone else.
    let (status, body) = react(&app, &bob, &message, "e7").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reactions"].as_array().map(Vec::len), Some(50));
}

#[actix_web::test]
async fn a_client_resuming_with_since_version_gets_the_reacted_message_again() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let message = say(&app, &ann, id, "old news").await;
    let mut bob_ws = app.ws(&bob).await;
    let joined = bob_ws
        .call("conversation:join", json!({"conversation_id": id}))
        .await;
    let version = joined["data"]["version"].as_i64().unwrap();
    bob_ws.close().await;

    assert_eq!(react(&app, &ann, &message, "🎉").await.0, 200);
    let mut bob_ws = app.ws(&bob).await;
    let reference = bob_ws
        .send(
            "conversation:join",
            json!({"conversation_id": id, "since_version": version}),
        )
        .await;
    let replayed = next_frame(&mut bob_ws).await;
    assert_eq!(replayed["type"], "message:updated", "{replayed}");
    assert_eq!(
        replayed["data"]["message"]["reactions"],
        json!([{"emoji": "🎉", "count": 1, "me": false}])
    );
    let ack = bob_ws.reply(&reference).await;
    assert_eq!(ack["data"]["version"], version + 1, "{ack}");
}
