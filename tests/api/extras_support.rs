//! Helpers of the tests of replies, mentions, reactions and pins.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// Gives `user` the member `role` in `conversation` straight in the database (the role
/// endpoint is not there yet). Call it before anything starts the conversation's room, which
/// reads the roles once.
pub fn set_role(app: &TestApp, conversation: i64, user: &TestUser, role: &str) {
    app.db()
        .batch_execute(&format!(
            "UPDATE participants SET role = '{role}' \
             WHERE conversation_id = {conversation} AND user_id = {}",
            user.id
        ))
        .expect("role set");
}

/// `text` percent-encoded for a path segment (every byte but ASCII letters and digits).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends `body` as `user` over REST; answers the status and the JSON body.
pub async fn send(app: &TestApp, user: &TestUser, conversation: i64, body: Value) -> (u16, Value) {
    app.call(
        "POST",
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(("authorization", &format!("Bearer {}", user.access_token))),
        &body,
    )
    .await
}

/// Sends `content` as `user` over REST, asserting the 201; answers the message.
pub async fn say(app: &TestApp, user: &TestUser, conversation: i64, content: &str) -> Value {
    let (status, message) = send(app, user, conversation, json!({"content": content})).await;
    assert_eq!(status, 201, "{message}");
    message
}

/// `method path` as `user` with no body; answers the status and the JSON body.
pub async fn call(app: &TestApp, user: &TestUser, method: &str, path: &str) -> (u16, Value) {
    app.call(
        method,
        path,
        Some(("authorization", &format!("Bearer {}", user.access_token))),
        &Value::Null,
    )
    .await
}

/// The next frame of `ws` other than `user:status` (presence comes whenever contacts connect).
pub async fn next_frame(ws: &mut crate::helpers::WsClient) -> Value {
    loop {
        let frame = ws.recv().await;
        if frame["type"] != "user:status" {
            return frame;
        }
    }
}
