//! Mentions, reactions and pins on two nodes: a mention reaches the user's sessions wherever
//! they are, and reactions and pins cross nodes through the room like other changes.

use serde_json::json;

use super::{Nodes, next_of, redis_url};

#[actix_web::test]
async fn mentions_reactions_and_pins_cross_nodes() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let bob = b.register("bob").await;
    let id = a.conversation(&ann, &[&bob]).await;
    let mut ann_ws = a.ws(&ann).await;
    ann_ws.join(id).await;
    let mut bob_ws = b.ws(&bob).await;
    bob_ws.join(id).await;
    // A session of Bob's on node B that joined nothing still hears of the mention.
    let mut bob_idle = b.ws(&bob).await;

    let sent = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "@bob look"}),
        )
        .await;
    let message_id = sent["data"]["message"]["id"].as_i64().unwrap();
    assert_eq!(
        sent["data"]["message"]["mentions"],
        json!([bob.id]),
        "{sent}"
    );
    let mention = next_of(&mut bob_idle, "mention").await;
    assert_eq!(
        mention,
        json!({"conversation_id": id, "message_id": message_id, "seq": 1, "sender_id": ann.id})
    );
    assert_eq!(
        next_of(&mut bob_ws, "message:new").await["message"]["id"],
        message_id
    );

    let reacted = bob_ws
        .call(
            "reaction:add",
            json!({"message_id": message_id, "emoji": "👀"}),
        )
        .await;
    assert_eq!(reacted["type"], "ack", "{reacted}");
    let added = next_of(&mut ann_ws, "reaction:added").await;
    assert_eq!(
        added,
        json!({"conversation_id": id, "message_id": message_id, "emoji": "👀",
               "user_id": bob.id, "count": 1, "version": 2})
    );

    let (status, body) = a
        .call(
            "POST",
            &format!("/api/v1/messages/{message_id}/pin"),
            Some(("authorization", &format!("Bearer {}", ann.access_token))),
            &serde_json::Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let pinned = next_of(&mut bob_ws, "message:pinned").await;
    assert_eq!(
        (pinned["pinned_by"].as_i64(), pinned["version"].as_i64()),
        (Some(ann.id), Some(3))
    );
    // Node B's history shows it all.
    let history = b.history(&bob, id, "").await;
    assert_eq!(history[0]["pinned"], true);
    assert_eq!(
        history[0]["reactions"],
        json!([{"emoji": "👀", "count": 1, "me": true}])
    );
}
