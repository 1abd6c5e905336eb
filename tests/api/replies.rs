//! Replies: `reply_to` on a send names a message of the same conversation, and the reply
//! carries a preview of it.

use serde_json::{Value, json};

use crate::extras_support::{call, say, send};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_reply_shows_a_preview_of_its_target_everywhere_and_the_deletion_of_it() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let long = format!("{}{}", "é".repeat(90), "x".repeat(60));
    let target = say(&app, &ann, id, &long).await;
    assert_eq!(target["reply_to"], Value::Null);
    let mut ann_ws = app.ws(&ann).await;
    ann_ws.join(id).await;
    let mut bob_ws = app.ws(&bob).await;

    let reply = bob_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "yes", "reply_to": target["id"]}),
        )
        .await;
    assert_eq!(reply["type"], "ack", "{reply}");
    let preview: String = long.chars().take(100).collect();
    let expected = json!({"id": target["id"], "seq": 1, "sender_id": ann.id,
                          "preview": preview, "deleted": false});
    assert_eq!(reply["data"]["message"]["reply_to"], expected);
    let live = ann_ws.recv_type("message:new").await;
    assert_eq!(live["data"]["message"]["reply_to"], expected);

    // Over REST, too; and history shows both replies with their preview.
    let (status, second) = send(
        &app,
        &ann,
        id,
        json!({"content": "good", "reply_to": reply["data"]["message"]["id"]}),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["reply_to"]["preview"], "yes");
    assert_eq!(second["reply_to"]["sender_id"], bob.id);
    let history = app.history(&bob, id, "").await;
    assert_eq!(history[1]["reply_to"], expected);
    assert_eq!(history[2]["reply_to"]["seq"], 2);

    // The target is deleted: the reply says so, without its text.
    let (status, _) = call(
        &app,
        &ann,
        "DELETE",
        &format!("/api/v1/messages/{}", target["id"]),
    )
    .await;
    assert_eq!(status, 200);
    let history = app.history(&bob, id, "").await;
    assert_eq!(
        history[1]["reply_to"],
        json!({"id": target["id"], "seq": 1, "sender_id": ann.id, "preview": null, "deleted": true})
    );
}

#[actix_web::test]
async fn a_reply_to_a_message_of_another_conversation_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let ours = app.conversation(&ann, &[&bob]).await;
    let theirs = app.conversation(&eve, &[]).await;
    let secret = say(&app, &eve, theirs, "elsewhere").await;
    let mine = app.conversation(&ann, &[]).await;
    let other_of_ann = say(&app, &ann, mine, "mine elsewhere").await;

    // Another conversation's message, whether the sender sees it or not, and an id that does
    // not exist: the same answer.
    for target in [&secret["id"], &other_of_ann["id"], &json!(999_999)] {
        let (status, body) = send(
            &app,
            &ann,
            ours,
            json!({"content": "hi", "reply_to": target}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(
            body["error"]["message"],
            "reply_to: no such message in this conversation"
        );
    }
    let mut ws = app.ws(&ann).await;
    let refused = ws
        .call(
            "message:send",
            json!({"conversation_id": ours, "content": "hi", "reply_to": secret["id"]}),
        )
        .await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["data"]["code"], "validation_failed");
    assert!(app.history(&ann, ours, "").await.is_empty());
    // Nothing stored, no seq used: the next send is seq 1.
    assert_eq!(say(&app, &ann, ours, "first").await["seq"], 1);
}
