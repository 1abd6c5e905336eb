//! The support desk (issue 15): statuses, assignment and the queue, internal notes, over REST
//! and WebSocket, each against its own server.

mod assign;
mod canned;
mod csat;
mod flow;
mod labels;
mod metrics;
mod notes;
mod queue;
mod status;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};
use parlor::domain::Role;

/// `method path` with `body` as `user`: the status and the JSON body.
pub async fn as_user(
    app: &TestApp,
    user: &TestUser,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    app.call(
        method,
        path,
        Some(("authorization", &format!("Bearer {}", user.access_token))),
        &body,
    )
    .await
}

/// The `field` of each item of the list `user` reads at `path` (a `GET` answered 200 with a
/// JSON array), in order.
pub async fn listed<T: serde::de::DeserializeOwned>(
    app: &TestApp,
    user: &TestUser,
    path: &str,
    field: &str,
) -> Vec<T> {
    let (status, body) = as_user(app, user, "GET", path, Value::Null).await;
    assert_eq!(status, 200, "{path}: {body}");
    let items = body.as_array().unwrap_or_else(|| panic!("{path}: {body}"));
    items
        .iter()
        .map(|item| {
            serde_json::from_value(item[field].clone())
                .unwrap_or_else(|e| panic!("{path}: {field} of {item}: {e}"))
        })
        .collect()
}

/// A customer's new support conversation (with the support team only): its view.
pub async fn open_support(app: &TestApp, customer: &TestUser) -> Value {
    let (status, view) = as_user(
        app,
        customer,
        "POST",
        "/api/v1/conversations",
        json!({"participant_ids": [], "kind": "support"}),
    )
    .await;
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["kind"], "support");
    view
}

/// An agent, signed in.
pub async fn agent(app: &TestApp, name: &str) -> TestUser {
    app.create_with_role(name, Role::Agent).await
}

/// Sets `agent`'s availability, asserting the 200.
pub async fn set_availability(app: &TestApp, agent: &TestUser, status: &str) {
    let (code, body) = as_user(
        app,
        agent,
        "PUT",
        "/api/v1/desk/availability",
        json!({"status": status}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], status);
}

/// Sets conversation `id`'s status as `user`: the status code and body.
pub async fn set_status(app: &TestApp, user: &TestUser, id: i64, body: Value) -> (u16, Value) {
    as_user(
        app,
        user,
        "POST",
        &format!("/api/v1/conversations/{id}/status"),
        body,
    )
    .await
}

/// Assigns conversation `id` as `user`: the status code and body.
pub async fn assign(app: &TestApp, user: &TestUser, id: i64, assignee: Value) -> (u16, Value) {
    let body = json!({ "assignee_id": assignee });
    as_user(
        app,
        user,
        "POST",
        &format!("/api/v1/conversations/{id}/assign"),
        body,
    )
    .await
}

/// The conversation as `user` sees it.
pub async fn view(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let (status, body) = as_user(
        app,
        user,
        "GET",
        &format!("/api/v1/conversations/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}
