//! API keys: who manages them, the secret shown once, use by `Authorization: Bearer` and
//! `X-API-Key`, scopes, last use, revocation on the next request, and isolation (issue 12).

use serde_json::{Value, json};

use crate::cli::parlor;
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::{ProjectId, Role};

/// Logs in a user made straight in `project` with `role`.
pub(crate) async fn member(app: &TestApp, project: i64, name: &str, role: Role) -> TestUser {
    let row = app.create_in(ProjectId(project), name, role);
    let (status, body) = app.call(
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": name, "password": format!("password-{name}"), "project_id": project}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    TestUser {
        id: row.id.0,
        username: name.into(),
        email: row.email.unwrap_or_default(),
        password: format!("password-{name}"),
        access_token: body["access_token"].as_str().unwrap().into(),
        refresh_token: body["refresh_token"].as_str().unwrap().into(),
    }
}

#[actix_web::test]
async fn project_admins_and_instance_admins_manage_keys_nobody_else() {
    let app = spawn_app().await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let agent = app.create_with_role("agent", Role::Agent).await;
    let customer = app.register("cust").await;
    let elsewhere = member(&app, 2, "other-admin", Role::Admin).await;
    let root = member(&app, 2, "root", Role::Customer).await;
    {
        use diesel::prelude::*;
        use parlor::db::schema::users;
        parlor::on_conn!(&mut app.db(), c => {
            diesel::update(users::table.find(root.id))
                .set(users::instance_admin.eq(true))
                .execute(c)
        })
        .unwrap();
    }
    let admin_auth = format!("Bearer {}", admin.access_token);
    let (_, made) = app
        .call(
            "POST",
            "/api/v1/projects/1/api-keys",
            Some(("authorization", &admin_auth)),
            &json!({"name": "backend"}),
        )
        .await;
    let key_path = format!("/api/v1/projects/1/api-keys/{}", made["id"]);
    for (method, path, body) in [
        ("POST", "/api/v1/projects/1/api-keys", json!({"name": "k"})),
        ("GET", "/api/v1/projects/1/api-keys", Value::Null),
        ("DELETE", key_path.as_str(), Value::Null),
    ] {
        for (who, token, want) in [
            ("agent", Some(&agent.access_token), 403),
            ("customer", Some(&customer.access_token), 403),
            (
                "another project's admin",
                Some(&elsewhere.access_token),
                404,
            ),
            ("anonymous", None, 401),
            (
                "the project's admin",
                Some(&admin.access_token),
                if method == "POST" {
                    201
                } else if method == "GET" {
                    200
                } else {
                    204
                },
            ),
            (
                "an instance admin of another project",
                Some(&root.access_token),
                if method == "POST" {
                    201
                } else if method == "GET" {
                    200
                } else {
                    204
                },
            ),
        ] {
            let auth = token.map(|t| format!("Bearer {t}"));
            let (status, reply) = app
                .call(
                    method,
                    path,
                    auth.as_deref().map(|v| ("authorization", v)),
                    &body,
                )
                .await;
            assert_eq!(status, want, "{who}: {method} {path}: {reply}");
        }
    }
    let auth = format!("Bearer {}", root.access_token);
    let (status, _) = app
        .call(
            "GET",
            "/api/v1/projects/999/api-keys",
            Some(("authorization", &auth)),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 404, "an unknown project");
}

#[actix_web::test]
async fn a_key_is_shown_once_used_by_either_header_within_its_scopes_and_revoked_at_once() {
    let app = spawn_app().await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let admin_auth = format!("Bearer {}", admin.access_token);
    let as_admin = Some(("authorization", admin_auth.as_str()));
    let ann = app.register("ann").await;
    let conversation = app.conversation(&ann, &[]).await;
    app.send_rest(&ann, conversation, "hello").await;

    let (status, made) = app
        .call(
            "POST",
            "/api/v1/projects/1/api-keys",
            as_admin,
            &json!({"name": "backend", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("pk_") && key.starts_with(made["prefix"].as_str().unwrap()));
    assert_eq!(made["scopes"], json!(["read"]));
    let (_, listed) = app
        .call("GET", "/api/v1/projects/1/api-keys", as_admin, &Value::Null)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0].get("key").is_none() && !listed.to_string().contains(&key),
        "never shown again"
    );
    assert_eq!(listed[0]["last_used_at"], Value::Null);

    let path = format!("/api/v1/server/conversations/{conversation}/messages");
    let bearer_key = format!("Bearer {key}");
    for auth in [
        ("authorization", bearer_key.as_str()),
        ("x-api-key", key.as_str()),
    ] {
        let (status, messages) = app.call("GET", &path, Some(auth), &Value::Null).await;
        assert_eq!(status, 200, "{auth:?}: {messages}");
        assert_eq!(messages[0]["content"], "hello");
    }
    let (_, listed) = app
        .call("GET", "/api/v1/projects/1/api-keys", as_admin, &Value::Null)
        .await;
    assert_ne!(
        listed[0]["last_used_at"],
        Value::Null,
        "the use is recorded"
    );

    // Outside its scopes: 403. A user's access token or a made-up key: 401.
    let (_, narrow) = app
        .call(
            "POST",
            "/api/v1/projects/1/api-keys",
            as_admin,
            &json!({"name": "writer", "scopes": ["messages:write"]}),
        )
        .await;
    let narrow_key = narrow["key"].as_str().unwrap();
    let (status, _) = app
        .call("GET", &path, Some(("x-api-key", narrow_key)), &Value::Null)
        .await;
    assert_eq!(status, 403);
    let user_auth = format!("Bearer {}", ann.access_token);
    let (status, _) = app
        .call(
            "GET",
            &path,
            Some(("authorization", &user_auth)),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .call(
            "GET",
            &path,
            Some(("x-api-key", "pk_made_up")),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 401);
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/projects/1/api-keys",
            as_admin,
            &json!({"name": "x", "scopes": ["everything"]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );

    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/projects/1/api-keys/{}", made["id"]),
            as_admin,
            &Value::Null,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .call(
            "GET",
            &path,
            Some(("x-api-key", key.as_str())),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 401, "revoked on the next request");
}

#[actix_web::test]
async fn a_key_sees_only_its_own_project_and_the_cli_makes_keys() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let conversation = app.conversation(&ann, &[]).await;
    app.send_rest(&ann, conversation, "project one").await;
    let other = member(&app, 2, "eve", Role::Admin).await;
    let other_auth = format!("Bearer {}", other.access_token);
    let (status, made) = app
        .call(
            "POST",
            "/api/v1/projects/2/api-keys",
            Some(("authorization", &other_auth)),
            &json!({"name": "theirs"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let theirs = made["key"].as_str().unwrap();
    let path = format!("/api/v1/server/conversations/{conversation}/messages");
    let (status, body) = app
        .call("GET", &path, Some(("x-api-key", theirs)), &Value::Null)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    let output = parlor(&app)
        .args([
            "project",
            "key",
            "create",
            "--project",
            "1",
            "--name",
            "ops",
            "--scopes",
            "read,users:write",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let made: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(made["scopes"], json!(["users:write", "read"]));
    let (status, messages) = app
        .call(
            "GET",
            &path,
            Some(("x-api-key", made["key"].as_str().unwrap())),
            &Value::Null,
        )
        .await;
    assert_eq!(
        (status, messages[0]["content"].as_str()),
        (200, Some("project one"))
    );
    let missing = parlor(&app)
        .args(["project", "key", "create", "--project", "77"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}
