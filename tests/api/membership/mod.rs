//! Membership (issue 13): member roles and their permissions over REST as a table, changes
//! seen live and detaching the removed, the history's system messages, leaving and the last
//! owner's successor, invites, bans and public rooms.

mod directory;
mod invites;
mod live;
mod permissions;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// `method path` as `user` with `body`: the status and the JSON body.
pub async fn call(
    app: &TestApp,
    user: &TestUser,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let bearer = format!("Bearer {}", user.access_token);
    app.call(method, path, Some(("authorization", &bearer)), &body)
        .await
}

/// A group of `owner` with `members`, `public` or private; its id.
pub async fn group(app: &TestApp, owner: &TestUser, members: &[&TestUser], public: bool) -> i64 {
    room(app, owner, members, "group", public).await
}

/// A conversation of `kind` created by `owner` with `members`; its id.
pub async fn room(
    app: &TestApp,
    owner: &TestUser,
    members: &[&TestUser],
    kind: &str,
    public: bool,
) -> i64 {
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let visibility = if public { "public" } else { "private" };
    let body =
        json!({"participant_ids": ids, "kind": kind, "title": "Room", "visibility": visibility});
    let (status, view) = call(app, owner, "POST", "/api/v1/conversations", body).await;
    assert_eq!(status, 201, "{view}");
    view["id"].as_i64().expect("id")
}

/// Gives `user` `role` in conversation `id`, as `by`; asserts it worked.
pub async fn set_role(app: &TestApp, by: &TestUser, id: i64, user: &TestUser, role: &str) {
    let path = format!("/api/v1/conversations/{id}/participants/{}", user.id);
    let (status, body) = call(app, by, "PATCH", &path, json!({"role": role})).await;
    assert_eq!(status, 200, "{body}");
}

/// The `(user_id, role)` of every participant of `id`, as `user` lists them.
pub async fn roles(app: &TestApp, user: &TestUser, id: i64) -> Vec<(i64, String)> {
    let path = format!("/api/v1/conversations/{id}/participants?limit=100");
    let (status, page) = call(app, user, "GET", &path, Value::Null).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["user_id"].as_i64().expect("id"),
                p["role"].as_str().expect("role").to_string(),
            )
        })
        .collect()
}
