//! Mentions: `@username`, `@all` and `@here`, resolved when a message is stored or edited,
//! told to every session of the mentioned users, and counted as unread.

use serde_json::{Value, json};

use crate::extras_support::{call, say, send, set_role};
use crate::helpers::{TestApp, TestUser, spawn_app};

async fn unread(app: &TestApp, user: &TestUser) -> Value {
    let (status, body) = call(app, user, "GET", "/api/v1/unread").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn view(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let (status, body) = call(app, user, "GET", &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[actix_web::test]
async fn a_mentioned_participant_is_told_on_every_session_and_counts_it_until_read() {
    let app = spawn_app().await;
    let (ann, bob, _cid) = (
        app.register("ann").await,
        app.register("Bob").await,
        app.register("cid").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    // Bob is connected on two sessions, neither joined to the conversation.
    let (mut bob_one, mut bob_two) = (app.ws(&bob).await, app.ws(&bob).await);
    let mut ann_ws = app.ws(&ann).await;

    // cid is no participant, ann is the sender, mail addresses mention nobody.
    let message = say(
        &app,
        &ann,
        id,
        "hi @bob, @cid and @ann: mail bob@example.com",
    )
    .await;
    assert_eq!(message["mentions"], json!([bob.id]));
    let expected = json!({"conversation_id": id, "message_id": message["id"], "seq": 1,
                          "sender_id": ann.id});
    assert_eq!(bob_one.recv_type("mention").await["data"], expected);
    assert_eq!(bob_two.recv_type("mention").await["data"], expected);
    // Ann named herself: nobody tells her. The next mention she hears of is Bob's.
    let answer = say(&app, &bob, id, "@ann ok").await;
    let event = ann_ws.recv_type("mention").await;
    assert_eq!(event["data"]["message_id"], answer["id"]);
    assert_eq!(
        app.history(&bob, id, "").await[0]["mentions"],
        json!([bob.id])
    );

    say(&app, &ann, id, "no mention here").await;
    let counts = unread(&app, &bob).await;
    assert_eq!(counts["unread_mentions"][id.to_string()], 1);
    assert_eq!(counts["total_mentions"], 1);
    assert_eq!(counts["conversations"][id.to_string()], 2);
    assert_eq!(view(&app, &bob, id).await["unread_mentions"], 1);
    assert_eq!(view(&app, &ann, id).await["unread_mentions"], 1);
    let (_, list) = call(&app, &bob, "GET", "/api/v1/conversations").await;
    assert_eq!(list[0]["unread_mentions"], 1);
    assert_eq!(list[0]["last_message"]["mentions"], json!([]));

    // Reading up to the mention clears it.
    let read = bob_one
        .call("message:read", json!({"conversation_id": id, "seq": 1}))
        .await;
    assert_eq!(read["type"], "ack", "{read}");
    assert_eq!(
        unread(&app, &bob).await["unread_mentions"][id.to_string()],
        0
    );
    assert_eq!(view(&app, &bob, id).await["unread_mentions"], 0);
}

#[actix_web::test]
async fn members_cannot_mention_everyone_in_a_group_but_moderators_can() {
    let app = spawn_app().await;
    let (ann, bob, mod_) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("mod").await,
    );
    let id = app.conversation(&ann, &[&bob, &mod_]).await;
    set_role(&app, id, &mod_, "moderator");
    let mut bob_ws = app.ws(&bob).await;

    for text in ["@all look", "hey @here"] {
        let (status, body) = send(&app, &bob, id, json!({"content": text})).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let refused = bob_ws
            .call(
                "message:send",
                json!({"conversation_id": id, "content": text}),
            )
            .await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["data"]["code"], "forbidden");
    }
    assert!(app.history(&ann, id, "").await.is_empty(), "nothing stored");
    // An edit that adds @all is refused the same way.
    let plain = say(&app, &bob, id, "plain").await;
    let edit = bob_ws
        .call(
            "message:edit",
            json!({"message_id": plain["id"], "content": "plain @all"}),
        )
        .await;
    assert_eq!(edit["data"]["code"], "forbidden", "{edit}");

    // The moderator (and the owner) may: everyone but the sender is mentioned, told and
    // counts it, without being listed one by one.
    let message = say(&app, &mod_, id, "@all meeting, @bob too").await;
    assert_eq!(message["group_mention"], "all");
    assert_eq!(message["mentions"], json!([bob.id]));
    let event = bob_ws.recv_type("mention").await;
    assert_eq!(event["data"]["message_id"], message["id"]);
    let message = say(&app, &ann, id, "@all again").await;
    assert_eq!(message["group_mention"], "all");
    assert_eq!(message["mentions"], json!([]));
    let event = bob_ws.recv_type("mention").await;
    assert_eq!(event["data"]["message_id"], message["id"]);
    let mentions_of = |body: Value| body["unread_mentions"][id.to_string()].clone();
    assert_eq!(mentions_of(unread(&app, &ann).await), 1);
    assert_eq!(mentions_of(unread(&app, &bob).await), 2);
    assert_eq!(mentions_of(unread(&app, &mod_).await), 1);
}

#[actix_web::test]
async fn here_mentions_the_participants_with_a_session_open() {
    let app = spawn_app().await;
    let (ann, bob, cid) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cid").await,
    );
    let id = app.conversation(&ann, &[&bob, &cid]).await;
    let mut bob_ws = app.ws(&bob).await;
    let message = say(&app, &ann, id, "@here anyone?").await;
    assert_eq!(message["group_mention"], "here");
    assert_eq!(message["mentions"], json!([]));
    let event = bob_ws.recv_type("mention").await;
    assert_eq!(event["data"]["message_id"], message["id"]);
    // Over WebSocket as well.
    let mut ann_ws = app.ws(&ann).await;
    let sent = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "@here again"}),
        )
        .await;
    assert_eq!(sent["data"]["message"]["group_mention"], "here", "{sent}");
    let event = bob_ws.recv_type("mention").await;
    assert_eq!(event["data"]["message_id"], sent["data"]["message"]["id"]);
    // Cid had no session open either time: not mentioned.
    let mentions_of = |body: Value| body["unread_mentions"][id.to_string()].clone();
    assert_eq!(mentions_of(unread(&app, &bob).await), 2);
    assert_eq!(mentions_of(unread(&app, &cid).await), 0);
}

#[actix_web::test]
async fn an_edit_resolves_mentions_again_and_tells_only_the_newly_mentioned() {
    let app = spawn_app().await;
    let (ann, bob, cid) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cid").await,
    );
    let id = app.conversation(&ann, &[&bob, &cid]).await;
    let (mut bob_ws, mut cid_ws) = (app.ws(&bob).await, app.ws(&cid).await);
    let first = say(&app, &ann, id, "hi @bob").await;
    assert_eq!(
        bob_ws.recv_type("mention").await["data"]["message_id"],
        first["id"]
    );

    let mut ann_ws = app.ws(&ann).await;
    let edited = ann_ws
        .call(
            "message:edit",
            json!({"message_id": first["id"], "content": "hi @bob and @cid"}),
        )
        .await;
    let mut both = vec![bob.id, cid.id];
    both.sort_unstable();
    assert_eq!(
        edited["data"]["message"]["mentions"],
        json!(both),
        "{edited}"
    );
    assert_eq!(
        cid_ws.recv_type("mention").await["data"]["message_id"],
        first["id"]
    );
    // Bob was mentioned already: his next mention frame is the one of the next message.
    let second = say(&app, &ann, id, "and @bob again").await;
    assert_eq!(
        bob_ws.recv_type("mention").await["data"]["message_id"],
        second["id"]
    );

    // Edited away, a mention no longer counts.
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/api/v1/messages/{}", first["id"]),
            Some(("authorization", &format!("Bearer {}", ann.access_token))),
            &json!({"content": "hi @cid"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mentions"], json!([cid.id]));
    assert_eq!(
        unread(&app, &bob).await["unread_mentions"][id.to_string()],
        1
    );
    // Deleted, neither.
    let (status, _) = call(
        &app,
        &ann,
        "DELETE",
        &format!("/api/v1/messages/{}", second["id"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        unread(&app, &bob).await["unread_mentions"][id.to_string()],
        0
    );
    assert_eq!(
        unread(&app, &cid).await["unread_mentions"][id.to_string()],
        1
    );
}

#[actix_web::test]
async fn a_system_message_mentions_no_one_whatever_its_text() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let key = crate::server_users::key(&app, 1, crate::server_users::ALL);
    let (status, posted) = app
        .call(
            "POST",
            &format!("/api/v1/server/conversations/{id}/messages"),
            Some(("x-api-key", &key)),
            &json!({"as_system": true, "content": "@all: @ann and @bob, please rate us"}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["mentions"], json!([]));
    assert_eq!(posted["group_mention"], Value::Null);
    let mentions_of = |body: Value| body["unread_mentions"][id.to_string()].clone();
    assert_eq!(mentions_of(unread(&app, &ann).await), 0);
    assert_eq!(mentions_of(unread(&app, &bob).await), 0);
}
