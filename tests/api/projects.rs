//! Projects (tenants): the instance-admin API, the CLI, per-project self-registration, sign-in
//! per project, isolation, and deletion with all the project's data (issue 12).

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::parlor;
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::Role;

/// Runs `parlor ARGS` on the app's database; returns its JSON output.
pub(crate) fn cli(app: &TestApp, args: &[&str]) -> Value {
    let output = parlor(app).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "parlor {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// An instance admin made with the CLI (in project 1, as a customer: the flag is what counts).
pub(crate) async fn instance_admin(app: &TestApp) -> TestUser {
    let user = cli(
        app,
        &[
            "user",
            "create",
            "--email",
            "root@example.com",
            "--username",
            "root",
            "--password",
            "root-password",
            "--instance-admin",
        ],
    );
    assert_eq!(user["instance_admin"], true);
    assert_eq!(user["project_id"], 1);
    app.login("root", "root-password").await
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    app.call(
        method,
        path,
        auth.as_deref().map(|v| ("authorization", v)),
        body,
    )
    .await
}

#[actix_web::test]
async fn only_instance_admins_manage_projects() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let agent = app.create_with_role("agent", Role::Agent).await;
    let customer = app.register("cust").await;
    let (status, project) = send(
        &app,
        "POST",
        "/api/v1/admin/projects",
        Some(&root.access_token),
        &json!({"name": "acme"}),
    )
    .await;
    assert_eq!(status, 201, "{project}");
    let path = format!("/api/v1/admin/projects/{}", project["id"]);
    #[rustfmt::skip]
    let calls: [(&str, &str, Value); 5] = [
        ("POST", "/api/v1/admin/projects", json!({"name": "other"})),
        ("GET", "/api/v1/admin/projects", Value::Null),
        ("GET", &path, Value::Null),
        ("PATCH", &path, json!({"self_registration": true})),
        ("DELETE", &path, json!({"confirm": "acme"})),
    ];
    for (method, path, body) in &calls {
        for (who, token, want) in [
            ("project admin", Some(&admin.access_token), 403),
            ("agent", Some(&agent.access_token), 403),
            ("customer", Some(&customer.access_token), 403),
            ("anonymous", None, 401),
        ] {
            let (status, body) = send(&app, method, path, token.map(String::as_str), body).await;
            assert_eq!(status, want, "{who} {method} {path}: {body}");
        }
    }
    // A disabled instance admin stops at once.
    let (status, _) = send(
        &app,
        "PATCH",
        &format!("/api/v1/users/{}", root.id),
        Some(&admin.access_token),
        &json!({"disabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &app,
        "GET",
        "/api/v1/admin/projects",
        Some(&root.access_token),
        &Value::Null,
    )
    .await;
    assert!(status == 401 || status == 403, "{status}");
}

#[actix_web::test]
async fn projects_are_created_listed_by_page_renamed_and_names_are_unique() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let token = Some(root.access_token.as_str());
    let from_cli = cli(&app, &["project", "create", "--name", "from-cli"]);
    assert_eq!(from_cli["self_registration"], false);
    for name in ["a", "b", "c"] {
        let (status, _) = send(
            &app,
            "POST",
            "/api/v1/admin/projects",
            token,
            &json!({"name": name}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/admin/projects",
        token,
        &json!({"name": "a"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("name_taken"))
    );
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/admin/projects",
        token,
        &json!({"name": "  "}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );
    // Pages by ascending id: default, from-cli, a, b, c.
    let (_, first) = send(
        &app,
        "GET",
        "/api/v1/admin/projects?limit=2",
        token,
        &Value::Null,
    )
    .await;
    let names: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "from-cli"]);
    assert_eq!(
        first[0]["self_registration"], true,
        "project 1 keeps self-registration"
    );
    let after = first[1]["id"].as_i64().unwrap();
    let (_, rest) = send(
        &app,
        "GET",
        &format!("/api/v1/admin/projects?after_id={after}&limit=10"),
        token,
        &Value::Null,
    )
    .await;
    let names: Vec<&str> = rest
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let id = rest[0]["id"].as_i64().unwrap();
    let (status, renamed) = send(
        &app,
        "PATCH",
        &format!("/api/v1/admin/projects/{id}"),
        token,
        &json!({"name": "alpha"}),
    )
    .await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("alpha")));
    let (status, body) = send(
        &app,
        "PATCH",
        &format!("/api/v1/admin/projects/{id}"),
        token,
        &json!({"name": "b"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("name_taken"))
    );
    let (status, _) = send(
        &app,
        "GET",
        "/api/v1/admin/projects/999999",
        token,
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404);
}

/// Registers `name` in `project`: the status and body.
async fn register_in(app: &TestApp, project: i64, name: &str) -> (u16, Value) {
    send(
        app,
        "POST",
        "/api/v1/auth/register",
        None,
        &json!({"email": format!("{name}@example.com"), "username": name,
                "password": format!("password-{name}"), "project_id": project}),
    )
    .await
}

#[actix_web::test]
async fn self_registration_is_per_project_and_accounts_are_per_project() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let token = Some(root.access_token.as_str());
    let (_, project) = send(
        &app,
        "POST",
        "/api/v1/admin/projects",
        token,
        &json!({"name": "acme"}),
    )
    .await;
    let id = project["id"].as_i64().unwrap();
    let (status, body) = register_in(&app, id, "ann").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("registration_closed"))
    );
    let (status, _) = register_in(&app, 999_999, "ann").await;
    assert_eq!(status, 404);
    send(
        &app,
        "PATCH",
        &format!("/api/v1/admin/projects/{id}"),
        token,
        &json!({"self_registration": true}),
    )
    .await;
    let (status, body) = register_in(&app, id, "ann").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["project_id"], id);
    // The same email and username are free in project 1: accounts are per project.
    let home = app.register("ann").await;
    assert_ne!(home.id, body["user"]["id"].as_i64().unwrap());
    // Sign-in names the project; without it, project 1.
    let (status, acme) = send(
        &app,
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": "ann", "password": "password-ann", "project_id": id}),
    )
    .await;
    assert_eq!(
        (status, acme["user"]["project_id"].as_i64()),
        (200, Some(id))
    );
    let (status, one) = send(
        &app,
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": "ann", "password": "password-ann"}),
    )
    .await;
    assert_eq!((status, one["user"]["id"].as_i64()), (200, Some(home.id)));
}

#[actix_web::test]
async fn nothing_crosses_projects() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let (_, project) = send(
        &app,
        "POST",
        "/api/v1/admin/projects",
        Some(&root.access_token),
        &json!({"name": "acme", "self_registration": true}),
    )
    .await;
    let id = project["id"].as_i64().unwrap();
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let conversation = app.conversation(&ann, &[&bob]).await;
    app.send_rest(&ann, conversation, "hello").await;
    let (_, body) = register_in(&app, id, "eve").await;
    let eve = body["access_token"].as_str().unwrap().to_string();
    let eve_token = Some(eve.as_str());
    for (method, path, body) in [
        (
            "GET",
            format!("/api/v1/conversations/{conversation}"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/v1/conversations/{conversation}/messages"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/conversations/{conversation}/messages"),
            json!({"content": "x"}),
        ),
        (
            "POST",
            format!("/api/v1/conversations/{conversation}/read"),
            json!({"seq": 1}),
        ),
    ] {
        let (status, reply) = send(&app, method, &path, eve_token, &body).await;
        assert_eq!(status, 404, "{method} {path}: {reply}");
    }
    let (status, list) = send(
        &app,
        "GET",
        "/api/v1/conversations",
        eve_token,
        &Value::Null,
    )
    .await;
    assert_eq!((status, list), (200, json!([])));
    // Users of another project cannot be added to a conversation.
    let (status, reply) = send(
        &app,
        "POST",
        "/api/v1/conversations",
        eve_token,
        &json!({"participant_ids": [ann.id]}),
    )
    .await;
    assert!(status == 404 || status == 400, "{status} {reply}");
    // Nor reached over WebSocket.
    let mut ws = app.ws_with_token(&eve).await;
    let joined = ws
        .call(
            "conversation:join",
            json!({"conversation_id": conversation}),
        )
        .await;
    assert_eq!(joined["data"]["code"], "not_found", "{joined}");
    let sent = ws
        .call(
            "message:send",
            json!({"conversation_id": conversation, "content": "x"}),
        )
        .await;
    assert_eq!(sent["data"]["code"], "not_found", "{sent}");
    assert_eq!(app.history(&ann, conversation, "").await.len(), 1);
}

#[actix_web::test]
async fn deleting_a_project_needs_its_name_and_removes_its_data_and_sessions() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let token = Some(root.access_token.as_str());
    let (_, project) = send(
        &app,
        "POST",
        "/api/v1/admin/projects",
        token,
        &json!({"name": "acme", "self_registration": true}),
    )
    .await;
    let id = project["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/projects/{id}");
    let (_, eve) = register_in(&app, id, "eve").await;
    let (_, fay) = register_in(&app, id, "fay").await;
    let eve_token = eve["access_token"].as_str().unwrap().to_string();
    let (status, created) = send(
        &app,
        "POST",
        "/api/v1/conversations",
        Some(&eve_token),
        &json!({"participant_ids": [fay["user"]["id"]]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let mut ws = app.ws_with_token(&eve_token).await;
    // Project 1's data stays.
    let ann = app.register("ann").await;
    let home = app.conversation(&ann, &[]).await;
    app.send_rest(&ann, home, "mine").await;

    let (status, body) = send(&app, "DELETE", &path, token, &json!({"confirm": "acm"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );
    let (status, _) = send(
        &app,
        "DELETE",
        "/api/v1/admin/projects/1",
        token,
        &json!({"confirm": "default"}),
    )
    .await;
    assert_eq!(status, 400, "the default project stays");
    let (status, _) = send(&app, "DELETE", &path, token, &json!({"confirm": "acme"})).await;
    assert_eq!(status, 204);

    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4003));
    // Her data is gone (her unexpired access token finds nothing; issue 12's per-request
    // revocation check will refuse it outright).
    let conversation_path = format!("/api/v1/conversations/{}", created["id"]);
    let (status, _) = send(
        &app,
        "GET",
        &conversation_path,
        Some(&eve_token),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, list) = send(
        &app,
        "GET",
        "/api/v1/conversations",
        Some(&eve_token),
        &Value::Null,
    )
    .await;
    assert_eq!((status, list), (200, json!([])));
    let (status, _) = send(&app, "GET", &path, token, &Value::Null).await;
    assert_eq!(status, 404);
    let (status, _) = send(
        &app,
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": "eve", "password": "password-eve", "project_id": id}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(app.history(&ann, home, "").await.len(), 1);
}
