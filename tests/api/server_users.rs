//! The server API's users: upserted by `external_id` with an API key, read, deactivated; scopes
//! and isolation (issue 12).

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use parlor::domain::{ProjectId, Role};

async fn call(app: &TestApp, method: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    app.call(method, path, Some(("x-api-key", key)), body).await
}

/// A key of `project` with `scopes`, made with the CLI.
pub(crate) fn key(app: &TestApp, project: i64, scopes: &str) -> String {
    let output = crate::cli::parlor(app)
        .args([
            "project",
            "key",
            "create",
            "--project",
            &project.to_string(),
            "--scopes",
            scopes,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let made: Value = serde_json::from_slice(&output.stdout).unwrap();
    made["key"].as_str().unwrap().to_string()
}

pub(crate) const ALL: &str = "users:write,tokens:write,conversations:write,messages:write,read";

#[actix_web::test]
async fn users_are_upserted_by_external_id_idempotently() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    let path = "/api/v1/server/users/crm-42";
    let body = json!({"display_name": "Ann Lee", "metadata": {"plan": "pro", "seats": 3}});
    let (status, created) = call(&app, "PUT", path, &key, &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["external_id"], "crm-42");
    assert_eq!(created["display_name"], "Ann Lee");
    assert_eq!(created["role"], "customer");
    assert_eq!(created["email"], Value::Null);
    assert_eq!(created["username"], Value::Null);
    assert_eq!(created["project_id"], 1);
    assert_eq!(created["metadata"], json!({"plan": "pro", "seats": 3}));
    let (status, again) = call(&app, "PUT", path, &key, &body).await;
    assert_eq!(
        (status, &again),
        (200, &created),
        "the same call changes nothing"
    );
    // Absent fields keep their values.
    let (status, updated) = call(
        &app,
        "PUT",
        path,
        &key,
        &json!({"email": "Ann@Example.com", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            updated["id"].as_i64(),
            updated["email"].as_str(),
            updated["role"].as_str()
        ),
        (
            created["id"].as_i64(),
            Some("ann@example.com"),
            Some("agent")
        )
    );
    assert_eq!(updated["display_name"], "Ann Lee");
    assert_eq!(updated["metadata"], json!({"plan": "pro", "seats": 3}));
    let (status, read) = call(&app, "GET", path, &key, &Value::Null).await;
    assert_eq!((status, &read), (200, &updated));
    // Such a user never signs in with a password.
    let (status, _) = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ann@example.com", "password": ""}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn bad_upserts_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    app.register("taken").await;
    let big = "x".repeat(5000);
    for (path, body, code) in [
        (
            "/api/v1/server/users/u1",
            json!({"role": "admin"}),
            "validation_failed",
        ),
        (
            "/api/v1/server/users/u1",
            json!({"metadata": [1, 2]}),
            "validation_failed",
        ),
        (
            "/api/v1/server/users/u1",
            json!({"metadata": {"big": big}}),
            "validation_failed",
        ),
        (
            "/api/v1/server/users/u1",
            json!({"email": "not an email"}),
            "validation_failed",
        ),
        (
            "/api/v1/server/users/u1",
            json!({"unknown": 1}),
            "validation_failed",
        ),
        ("/api/v1/server/users/a%20b", json!({}), "validation_failed"),
        (
            "/api/v1/server/users/u1",
            json!({"email": "taken@example.com"}),
            "email_taken",
        ),
    ] {
        let (status, reply) = call(&app, "PUT", path, &key, &body).await;
        assert_eq!(
            reply["error"]["code"], code,
            "{path} {body}: {status} {reply}"
        );
        assert!(status == 400 || status == 409, "{status}");
    }
    let (status, _) = call(&app, "GET", "/api/v1/server/users/u1", &key, &Value::Null).await;
    assert_eq!(status, 404, "nothing stored");
}

#[actix_web::test]
async fn keys_act_within_their_scopes_and_their_project() {
    let app = spawn_app().await;
    let writer = key(&app, 1, ALL);
    let reader = key(&app, 1, "read");
    app.create_in(ProjectId(2), "someone", Role::Admin);
    let theirs = key(&app, 2, ALL);
    let path = "/api/v1/server/users/crm-1";
    assert_eq!(call(&app, "PUT", path, &writer, &json!({})).await.0, 201);
    for (method, key, want) in [
        ("GET", &reader, 200),
        ("PUT", &reader, 403),
        ("DELETE", &reader, 403),
        ("GET", &theirs, 404),
        ("DELETE", &theirs, 404),
    ] {
        let (status, reply) = call(&app, method, path, key, &json!({})).await;
        assert_eq!(status, want, "{method}: {reply}");
    }
    // The other project's PUT makes its own user: the same external id, another user.
    let (status, other) = call(&app, "PUT", path, &theirs, &json!({})).await;
    assert_eq!((status, other["project_id"].as_i64()), (201, Some(2)));
}

#[actix_web::test]
async fn a_role_change_or_deactivation_closes_the_users_sessions() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    let path = "/api/v1/server/users/crm-7";
    let (_, user) = call(&app, "PUT", path, &key, &json!({})).await;
    let id = user["id"].as_i64().unwrap();
    let mut ws = app.ws_with_token(&app.token(id, 600)).await;
    call(&app, "PUT", path, &key, &json!({"role": "agent"})).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4003));

    let row_token = app.token(id, 600);
    let mut ws = app.ws_with_token(&row_token).await;
    let (status, gone) = call(&app, "DELETE", path, &key, &Value::Null).await;
    assert_eq!((status, gone["disabled"].as_bool()), (200, Some(true)));
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4003));
    assert_eq!(
        call(&app, "DELETE", path, &key, &Value::Null).await.0,
        200,
        "idempotent"
    );
    assert_eq!(
        call(
            &app,
            "DELETE",
            "/api/v1/server/users/nobody",
            &key,
            &Value::Null
        )
        .await
        .0,
        404
    );
}
