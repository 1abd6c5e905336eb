//! Nothing reveals which accounts or ids exist, no client can pass for another, and nothing
//! crosses projects.

use parlor::domain::{ProjectId, Role};
use serde_json::{Value, json};

use crate::files::{path_of, upload};
use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[actix_web::test]
async fn unknown_participants_get_one_answer_that_names_no_id() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let mut messages = Vec::new();
    for ids in [json!([bob.id, 999_999]), json!([888_888])] {
        let response = app
            .post(
                "/api/v1/conversations",
                Some(&ann.access_token),
                &json!({"participant_ids": ids}),
            )
            .await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap().to_string();
        assert!(
            !message.contains("999999") && !message.contains("888888"),
            "{message}"
        );
        messages.push(message);
    }
    assert_eq!(messages[0], messages[1]);
}

#[actix_web::test]
async fn conversation_creation_is_limited_per_user_failures_included() {
    let app = spawn_app_with(|s| s.limits.conversations_per_hour = 2).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let create = |ids: Value| {
        let app = &app;
        let token = ann.access_token.clone();
        async move {
            app.post(
                "/api/v1/conversations",
                Some(&token),
                &json!({"participant_ids": ids}),
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(create(json!([999_999])).await, 400);
    assert_eq!(create(json!([bob.id])).await, 201);
    assert_eq!(create(json!([bob.id])).await, 429);
    // Bob has a budget of his own.
    let response = app
        .post(
            "/api/v1/conversations",
            Some(&bob.access_token),
            &json!({"participant_ids": [ann.id], "kind": "group"}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[actix_web::test]
async fn no_login_text_can_spend_another_accounts_login_budget() {
    let app = spawn_app_with(|s| s.limits.login_attempts_per_account_per_minute = 2).await;
    let bob = app.register("bob").await;
    for _ in 0..3 {
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": format!("user:{}", bob.id), "password": "guess guess"}),
        )
        .await;
    }
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "bob", "password": bob.password}),
        )
        .await;
    assert_eq!(login.status(), 200);
}

async fn login_from(app: &crate::helpers::TestApp, forwarded: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"username": "nobody", "password": "whatever1"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let trusting = spawn_app_with(|s| {
        s.limits.auth_attempts_per_ip_per_minute = 2;
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    assert_eq!(login_from(&trusting, "203.0.113.1").await, 401);
    assert_eq!(login_from(&trusting, "203.0.113.1").await, 401);
    assert_eq!(login_from(&trusting, "203.0.113.1").await, 429);
    // Another client behind the same proxy has a budget of its own.
    assert_eq!(login_from(&trusting, "203.0.113.2").await, 401);

    let untrusting = spawn_app_with(|s| s.limits.auth_attempts_per_ip_per_minute = 2).await;
    assert_eq!(login_from(&untrusting, "203.0.113.1").await, 401);
    assert_eq!(login_from(&untrusting, "203.0.113.2").await, 401);
    // The header is ignored: every request came from 127.0.0.1.
    assert_eq!(login_from(&untrusting, "203.0.113.3").await, 429);
}

#[actix_web::test]
async fn every_forwarded_header_line_counts_so_a_client_cannot_choose_its_address() {
    let app = spawn_app_with(|s| {
        s.limits.auth_attempts_per_ip_per_minute = 2;
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    // The client sends a line of its own; the proxy adds its own line with the real address.
    let login = |forged: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", forged)
                .header("x-forwarded-for", "203.0.113.7")
                .json(&json!({"username": "nobody", "password": "whatever1"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(login("1.1.1.1").await, 401);
    assert_eq!(login("2.2.2.2").await, 401);
    assert_eq!(login("3.3.3.3").await, 429);
}

#[actix_web::test]
async fn names_and_titles_with_hidden_characters_are_refused() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "m@example.com", "username": "mallory", "password": "longenough",
                    "display_name": "admin\u{202e}nimda"}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("display_name:"),
        "{body}"
    );
    let ann = app.register("ann").await;
    for title in ["Sup\u{200b}port", "\u{2066}Billing"] {
        let response = app
            .post(
                "/api/v1/conversations",
                Some(&ann.access_token),
                &json!({"participant_ids": [], "title": title}),
            )
            .await;
        assert_eq!(response.status(), 400, "{title:?}");
        assert_eq!(error_code(response).await, "validation_failed");
    }
}

#[actix_web::test]
async fn a_user_of_another_project_finds_nothing_of_this_one() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let message: Value = app.send_rest(&ann, id, "hello").await.json().await.unwrap();
    let file: Value = upload(&app, &ann, b"notes\n".to_vec(), "n.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    app.post(
        &format!("/api/v1/conversations/{id}/messages"),
        Some(&ann.access_token),
        &json!({"attachment_id": file["id"], "content": "file"}),
    )
    .await;
    // An admin of project 2, with a valid token of its own.
    let stranger = app.create_in(ProjectId(2), "far", Role::Admin);
    let token = app.token(stranger.id.0, 60);
    let message_path = format!("/api/v1/messages/{}", message["id"]);
    let rest = [
        app.get(&format!("/api/v1/conversations/{id}"), Some(&token))
            .await,
        app.get(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&token),
        )
        .await,
        app.send_rest_with(&token, id, "hi").await,
        app.post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&token),
            &json!({}),
        )
        .await,
        app.post(
            &format!("/api/v1/conversations/{id}/read"),
            Some(&token),
            &json!({"seq": 1}),
        )
        .await,
        app.delete(&message_path, &token).await,
        app.get(path_of(file["url"].as_str().unwrap()), Some(&token))
            .await,
    ];
    for response in rest {
        let url = response.url().to_string();
        assert_eq!(response.status(), 404, "{url}");
    }
    let list: Value = app
        .get("/api/v1/conversations", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let mut ws = app
        .ws_request(&format!("?token={token}"), &[])
        .await
        .unwrap();
    ws.recv().await;
    for (kind, data) in [
        ("conversation:join", json!({"conversation_id": id})),
        (
            "message:send",
            json!({"conversation_id": id, "content": "x"}),
        ),
        ("typing:start", json!({"conversation_id": id})),
        ("message:read", json!({"conversation_id": id, "seq": 1})),
        (
            "message:edit",
            json!({"message_id": message["id"], "content": "x"}),
        ),
        ("message:delete", json!({"message_id": message["id"]})),
    ] {
        let reply = ws.call(kind, data).await;
        assert_eq!(reply["data"]["code"], "not_found", "{kind}: {reply}");
    }
}
