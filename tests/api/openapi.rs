//! The OpenAPI document and its docs UI as a client meets them, and the bugs Schemathesis found
//! through it (scripts/schemathesis.sh).

use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[actix_web::test]
async fn the_openapi_document_is_served_as_json() {
    let app = spawn_app().await;
    let response = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/conversations/{id}/messages"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/server/conversations"]["post"]["security"].is_array());
}

#[actix_web::test]
async fn the_docs_page_loads_nothing_from_other_hosts() {
    let app = spawn_app().await;
    for path in ["/api-docs", "/api-docs/"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
            "{csp}"
        );
        let page = response.text().await.unwrap();
        assert!(!page.contains("http"), "{page}");
        let mut referenced = 0;
        for link in page.split('"').filter(|s| s.starts_with("/api-docs/")) {
            referenced += 1;
            assert_eq!(app.get(link, None).await.status(), 200, "{link}");
        }
        assert_eq!(referenced, 3, "{page}");
    }
    assert_eq!(app.get("/api-docs/nothing.js", None).await.status(), 404);
}

#[actix_web::test]
async fn a_json_array_is_not_taken_for_an_object_body() {
    // Found by Schemathesis: serde reads a struct from an array, so `[null, null]` cleared a
    // room's title and description.
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let created = app
        .post(
            "/api/v1/conversations",
            Some(&ann.access_token),
            &json!({"participant_ids": [], "kind": "group", "title": "Books", "description": "Reading club"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/api/v1/conversations/{id}"),
            Some(("authorization", &format!("Bearer {}", ann.access_token))),
            &json!([null, null]),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let room: Value = app
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&ann.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(room["title"], "Books");
    assert_eq!(room["description"], "Reading club");
    let register = app
        .post_raw(
            "/api/v1/auth/register",
            "application/json",
            r#"["bob@example.com", "bob", "password-bob"]"#,
        )
        .await;
    assert_eq!(register.status(), 400);
    assert_eq!(error_code(register).await, "validation_failed");
}

#[actix_web::test]
async fn a_method_not_allowed_lists_the_allowed_ones() {
    // Found by Schemathesis: RFC 9110 §15.5.6 wants `Allow` on every 405.
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let cases = [
        ("PUT", "/api/v1/conversations", "GET, POST"),
        ("TRACE", "/api/v1/conversations/1", "GET, DELETE, PATCH"),
        ("POST", "/api/v1/unread", "GET"),
        ("DELETE", "/health", "GET"),
        ("POST", "/", "GET"),
        ("PUT", "/api-docs/openapi.json", "GET"),
    ];
    for (method, path, allowed) in cases {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&ann.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allowed, "{method} {path}");
        assert_eq!(error_code(response).await, "method_not_allowed");
    }
}

#[actix_web::test]
async fn a_nul_character_is_bad_input_not_a_server_error() {
    // Found by Schemathesis on PostgreSQL, whose text cannot hold U+0000: a NUL in a login, a
    // lookup by external id or a message (REST or WebSocket) failed its query and answered 500
    // `internal`. Now the same answer on every backend.
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bearer = format!("Bearer {}", ann.access_token);
    let auth = Some(("authorization", bearer.as_str()));
    let conversation = app.conversation(&ann, &[]).await;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "an\u{0}n", "password": "password-ann"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("username:"),
        "{body}"
    );
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let (status, body) = app
        .call("POST", &path, auth, &json!({"content": "a\u{0}b"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    let (status, body) = app
        .call("GET", "/api/v1/users?query=a%00", auth, &Value::Null)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    let key = crate::server_users::key(&app, 1, "read,users:write");
    let (status, body) = app
        .call(
            "GET",
            "/api/v1/server/users/crm%0042",
            Some(("x-api-key", &key)),
            &Value::Null,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let mut ws = app.ws(&ann).await;
    let reply = ws
        .call(
            "message:send",
            json!({"conversation_id": conversation, "content": "a\u{0}b"}),
        )
        .await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["data"]["code"], "validation_failed", "{reply}");
    // Nothing was stored, and the conversation still takes messages.
    let reply = ws
        .call(
            "message:send",
            json!({"conversation_id": conversation, "content": "fine"}),
        )
        .await;
    assert_eq!(reply["type"], "ack", "{reply}");
    assert_eq!(reply["data"]["message"]["seq"], 1, "{reply}");
}
