//! Nothing crosses projects: every REST endpoint and WebSocket command, called with the
//! credentials of each role of another project, answers 404 or `not_found` and changes nothing
//! (issue 12).

use serde_json::{Value, json};

use crate::files::{png, upload};
use crate::helpers::{TestApp, spawn_app};
use parlor::domain::{ProjectId, Role};

/// Signs in a user made straight in project 2 with `role`; returns their access token.
async fn outsider(app: &TestApp, name: &str, role: Role) -> String {
    app.create_in(ProjectId(2), name, role);
    let response = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": name, "password": format!("password-{name}"), "project_id": 2}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn every_endpoint_and_command_is_not_found_from_another_project() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let c = app.conversation(&ann, &[&bob]).await;
    let uploaded: Value = upload(
        &app,
        &ann,
        png(8, 8),
        "cat.png",
        &[("conversation_id", c.to_string())],
    )
    .await
    .json()
    .await
    .unwrap();
    let u = uploaded["id"].as_i64().unwrap();
    let sent: Value = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            Some(&ann.access_token),
            &json!({"content": "private", "attachment_id": u}),
        )
        .await
        .json()
        .await
        .unwrap();
    let m = sent["id"].as_i64().expect("message id");

    let rest: Vec<(&str, String, Value)> = vec![
        ("GET", format!("/api/v1/conversations/{c}"), Value::Null),
        (
            "GET",
            format!("/api/v1/conversations/{c}/messages"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/conversations/{c}/messages"),
            json!({"content": "x"}),
        ),
        (
            "POST",
            format!("/api/v1/conversations/{c}/read"),
            json!({"seq": 1}),
        ),
        (
            "POST",
            format!("/api/v1/conversations/{c}/close"),
            json!({}),
        ),
        ("DELETE", format!("/api/v1/conversations/{c}"), Value::Null),
        (
            "PATCH",
            format!("/api/v1/messages/{m}"),
            json!({"content": "changed"}),
        ),
        ("DELETE", format!("/api/v1/messages/{m}"), Value::Null),
        ("GET", format!("/api/v1/uploads/{u}"), Value::Null),
        ("GET", format!("/api/v1/uploads/{u}/thumbnail"), Value::Null),
        (
            "PATCH",
            format!("/api/v1/users/{}", ann.id),
            json!({"role": "agent"}),
        ),
        ("GET", "/api/v1/projects/1/settings".into(), Value::Null),
        (
            "PATCH",
            "/api/v1/projects/1/settings".into(),
            json!({"messages_per_window": 1}),
        ),
        ("GET", "/api/v1/projects/1/api-keys".into(), Value::Null),
        (
            "POST",
            "/api/v1/projects/1/api-keys".into(),
            json!({"name": "x"}),
        ),
    ];
    let ws_commands = [
        ("conversation:join", json!({"conversation_id": c})),
        (
            "message:send",
            json!({"conversation_id": c, "content": "x"}),
        ),
        ("typing:start", json!({"conversation_id": c})),
        ("typing:stop", json!({"conversation_id": c})),
        ("message:read", json!({"conversation_id": c, "seq": 1})),
        ("message:delivered", json!({"conversation_id": c, "seq": 1})),
        (
            "message:edit",
            json!({"message_id": m, "content": "changed"}),
        ),
        ("message:delete", json!({"message_id": m})),
    ];
    for (name, role) in [
        ("eve", Role::Customer),
        ("gil", Role::Agent),
        ("hal", Role::Admin),
    ] {
        let token = outsider(&app, name, role).await;
        for (method, path, body) in &rest {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .bearer_auth(&token)
                .json(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let reply: Value = response.json().await.unwrap_or(Value::Null);
            assert_eq!(status, 404, "{role} {method} {path}: {reply}");
            assert_eq!(
                reply["error"]["code"], "not_found",
                "{role} {method} {path}"
            );
        }
        // Lists show nothing of project 1, and its users cannot be put in a conversation.
        let list: Value = app
            .get("/api/v1/conversations", Some(&token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list, json!([]), "{role}");
        let unread: Value = app
            .get("/api/v1/unread", Some(&token))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            !unread.to_string().contains(&format!("\"{c}\"")),
            "{role}: {unread}"
        );
        let created = app
            .post(
                "/api/v1/conversations",
                Some(&token),
                &json!({"participant_ids": [ann.id]}),
            )
            .await;
        assert_eq!(created.status(), 400, "{role}");
        // Nor can a file be bound to one of its conversations.
        let as_outsider = crate::helpers::TestUser {
            id: 0,
            username: name.into(),
            email: String::new(),
            password: String::new(),
            access_token: token.clone(),
            refresh_token: String::new(),
        };
        let bound = upload(
            &app,
            &as_outsider,
            png(4, 4),
            "x.png",
            &[("conversation_id", c.to_string())],
        )
        .await;
        assert_eq!(bound.status(), 404, "{role} upload into the conversation");
        let mut ws = app.ws_with_token(&token).await;
        for (kind, data) in &ws_commands {
            let reply = ws.call(kind, data.clone()).await;
            assert_eq!(reply["type"], "error", "{role} {kind}: {reply}");
            assert_eq!(reply["data"]["code"], "not_found", "{role} {kind}: {reply}");
        }
    }
    // Nothing changed.
    let history = app.history(&ann, c, "").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["content"], "private");
    assert_eq!(history[0]["deleted_at"], Value::Null);
    let conversation: Value = app
        .get(
            &format!("/api/v1/conversations/{c}"),
            Some(&ann.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conversation["status"], "open");
    let me: Value = app
        .get("/api/v1/auth/me", Some(&ann.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "customer");
}
