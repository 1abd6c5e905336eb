//! Canned responses: the project's team keeps them (CRUD under `/api/v1/desk/canned`), and a
//! team message in a support conversation has its `/short_code` tokens expanded when stored.

use serde_json::{Value, json};

use super::{agent, as_user, listed, open_support};
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::{ProjectId, Role};

/// Creates a canned response as `user`: the status and body.
async fn create(app: &TestApp, user: &TestUser, code: &str, content: &str) -> (u16, Value) {
    let body = json!({"short_code": code, "content": content});
    as_user(app, user, "POST", "/api/v1/desk/canned", body).await
}

/// The short codes `user` lists with `query`.
async fn codes(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    listed(
        app,
        user,
        &format!("/api/v1/desk/canned{query}"),
        "short_code",
    )
    .await
}

/// Who may list, create, change and delete: a table of roles and projects.
#[actix_web::test]
async fn the_projects_team_manages_canned_responses_and_nobody_else() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let ada = app.create_with_role("ada", Role::Admin).await;
    app.create_in(ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let (status, greet) = create(&app, &sam, "greet", "Hello! How can I help?").await;
    assert_eq!(status, 201, "{greet}");
    assert_eq!(greet["short_code"], "greet");
    assert_eq!(greet["created_by"], sam.id);
    let id = greet["id"].as_i64().unwrap();
    let one = format!("/api/v1/desk/canned/{id}");
    let patch = json!({"content": "Hi there!"});
    let cases: [(&TestUser, &str, &str, Value, u16, &str); 10] = [
        (
            &customer,
            "GET",
            "/api/v1/desk/canned",
            Value::Null,
            403,
            "forbidden",
        ),
        (
            &customer,
            "POST",
            "/api/v1/desk/canned",
            json!({"short_code": "x", "content": "y"}),
            403,
            "forbidden",
        ),
        (&customer, "PATCH", &one, patch.clone(), 403, "forbidden"),
        (&customer, "DELETE", &one, Value::Null, 403, "forbidden"),
        (&eve, "PATCH", &one, patch.clone(), 404, "not_found"),
        (&eve, "DELETE", &one, Value::Null, 404, "not_found"),
        (
            &sam,
            "PATCH",
            "/api/v1/desk/canned/999999",
            patch.clone(),
            404,
            "not_found",
        ),
        (&ada, "PATCH", &one, patch.clone(), 200, ""),
        (&sam, "GET", "/api/v1/desk/canned", Value::Null, 200, ""),
        (&eve, "GET", "/api/v1/desk/canned", Value::Null, 200, ""),
    ];
    for (user, method, path, body, want, code) in cases {
        let (got, answer) = as_user(&app, user, method, path, body).await;
        assert_eq!(got, want, "{} {method} {path}: {answer}", user.username);
        if !code.is_empty() {
            assert_eq!(
                answer["error"]["code"], code,
                "{} {method} {path}",
                user.username
            );
        }
    }
    assert_eq!(codes(&app, &sam, "").await, ["greet"]);
    assert!(
        codes(&app, &eve, "").await.is_empty(),
        "another project's canned responses"
    );
    let (_, list) = as_user(&app, &sam, "GET", "/api/v1/desk/canned", Value::Null).await;
    assert_eq!(list[0]["content"], "Hi there!", "the admin's change");
    // Eve's project may use the same short code; it is its own.
    assert_eq!(create(&app, &eve, "greet", "Hallo!").await.0, 201);
    let (status, deleted) = as_user(&app, &ada, "DELETE", &one, Value::Null).await;
    assert_eq!(status, 204, "{deleted}");
    assert_eq!(
        as_user(&app, &sam, "DELETE", &one, Value::Null).await.0,
        404
    );
    assert!(codes(&app, &sam, "").await.is_empty());
    assert_eq!(codes(&app, &eve, "").await, ["greet"]);
}

#[actix_web::test]
async fn short_codes_are_checked_unique_and_listed_in_pages() {
    let app = spawn_app().await;
    let sam = agent(&app, "sam").await;
    for (code, content, status, error) in [
        ("", "x", 400, "validation_failed"),
        ("has space", "x", 400, "validation_failed"),
        ("/slash", "x", 400, "validation_failed"),
        (&"a".repeat(33), "x", 400, "validation_failed"),
        ("ok", "   ", 400, "validation_failed"),
        ("Refund", "We refund within 5 days.", 201, ""),
        ("refund", "Again", 409, "conflict"),
        ("ship-2", "Shipping takes 2 days.", 201, ""),
        ("re_open", "Reopened.", 201, ""),
    ] {
        let (got, body) = create(&app, &sam, code, content).await;
        assert_eq!(got, status, "{code:?}: {body}");
        if !error.is_empty() {
            assert_eq!(body["error"]["code"], error, "{code:?}");
        }
    }
    assert_eq!(codes(&app, &sam, "").await, ["re_open", "refund", "ship-2"]);
    assert_eq!(codes(&app, &sam, "?q=RE").await, ["re_open", "refund"]);
    assert_eq!(codes(&app, &sam, "?limit=2").await, ["re_open", "refund"]);
    assert_eq!(codes(&app, &sam, "?limit=2&after=refund").await, ["ship-2"]);
    let (status, body) = as_user(
        &app,
        &sam,
        "GET",
        "/api/v1/desk/canned?limit=0",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("validation_failed"))
    );
    // Renaming onto a taken short code clashes; the stored one is untouched.
    let (_, list) = as_user(&app, &sam, "GET", "/api/v1/desk/canned?q=ship", Value::Null).await;
    let ship = list[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/desk/canned/{ship}");
    let (status, body) = as_user(&app, &sam, "PATCH", &path, json!({"short_code": "refund"})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conflict")),
        "{body}"
    );
    let (status, body) = as_user(&app, &sam, "PATCH", &path, json!({"short_code": "ship"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"], "Shipping takes 2 days.");
    assert_eq!(codes(&app, &sam, "").await, ["re_open", "refund", "ship"]);
}

/// The stored content of the last message of conversation `id`, read by `user`.
async fn last_content(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let history = app.history(user, id, "").await;
    history.last().unwrap()["content"].clone()
}

#[actix_web::test]
async fn the_teams_short_codes_expand_when_stored_and_the_customers_do_not() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    app.create_in(ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    assert_eq!(
        create(&app, &sam, "greet", "Hello! How can I help?")
            .await
            .0,
        201
    );
    assert_eq!(
        create(&app, &eve, "bye", "Goodbye from project 2").await.0,
        201
    );
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let join = format!("/api/v1/conversations/{id}/join");
    assert_eq!(as_user(&app, &sam, "POST", &join, json!({})).await.0, 200);

    // The customer's `/greet` stays as written.
    assert_eq!(app.send_rest(&customer, id, "/greet").await.status(), 201);
    assert_eq!(last_content(&app, &sam, id).await, "/greet");
    // The agent's expands, over REST and over WebSocket, in a note too; unknown codes and
    // another project's stay.
    let response = app
        .send_rest(&sam, id, "/greet I'm Sam. /bye /nothing")
        .await;
    assert_eq!(response.status(), 201);
    let answered: Value = response.json().await.unwrap();
    assert_eq!(
        answered["content"],
        "Hello! How can I help? I'm Sam. /bye /nothing"
    );
    assert_eq!(
        last_content(&app, &customer, id).await,
        "Hello! How can I help? I'm Sam. /bye /nothing"
    );
    let mut ws = app.ws(&sam).await;
    ws.join(id).await;
    let ack = ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "/greet", "private": true}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(last_content(&app, &sam, id).await, "Hello! How can I help?");

    // Outside support conversations nothing expands.
    let group = app.conversation(&sam, &[&customer]).await;
    assert_eq!(app.send_rest(&sam, group, "/greet").await.status(), 201);
    assert_eq!(last_content(&app, &sam, group).await, "/greet");
}
