//! User tokens of the server API (issue 12): minted for a user by the project's backend, used
//! like any access token, revoked one by one or all at once; revocation is immediate for REST,
//! WebSocket upgrades, tickets and open sessions (4003), and survives a restart.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_on};
use crate::server_users::{ALL, key};
use crate::ws_client::handshake_status;

async fn call(app: &TestApp, method: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    app.call(method, path, Some(("x-api-key", key)), body).await
}

/// Upserts `external_id` and answers its user id.
async fn upsert(app: &TestApp, key: &str, external_id: &str) -> i64 {
    let path = format!("/api/v1/server/users/{external_id}");
    let (status, user) = call(app, "PUT", &path, key, &json!({"display_name": "U"})).await;
    assert!(status == 201 || status == 200, "{user}");
    user["id"].as_i64().unwrap()
}

/// Mints a token for `external_id`: `(access_token, token_id)`.
async fn mint(app: &TestApp, key: &str, external_id: &str) -> (String, String) {
    let path = format!("/api/v1/server/users/{external_id}/tokens");
    let (status, body) = call(app, "POST", &path, key, &json!({"ttl_s": 600})).await;
    assert_eq!(status, 201, "{body}");
    (
        body["access_token"].as_str().unwrap().to_string(),
        body["token_id"].as_str().unwrap().to_string(),
    )
}

/// The status of an authenticated REST call made with `token`.
async fn rest_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/conversations", Some(token))
        .await
        .status()
        .as_u16()
}

/// Asserts `ws` is still open: a command gets its reply (a closed socket fails the test).
async fn assert_open(ws: &mut crate::ws_client::WsClient) {
    let reply = ws
        .call("typing:start", json!({"conversation_id": 999_999}))
        .await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["data"]["code"], "not_found", "{reply}");
}

#[actix_web::test]
async fn a_minted_token_acts_as_the_user_until_it_is_revoked() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    let id = upsert(&app, &key, "crm-1").await;
    let path = "/api/v1/server/users/crm-1/tokens";
    let (status, minted) = call(&app, "POST", path, &key, &json!({"ttl_s": 600})).await;
    assert_eq!(status, 201, "{minted}");
    assert_eq!(minted["expires_in_s"], 600);
    let token_id = minted["token_id"].as_str().unwrap();
    assert!(
        token_id.starts_with("ut_") && token_id.len() == 35,
        "{token_id}"
    );
    let token = minted["access_token"].as_str().unwrap();
    assert_eq!(rest_status(&app, token).await, 200);
    let mut ws = app.ws_with_token(token).await;
    let (other, _) = mint(&app, &key, "crm-1").await;
    let mut other_ws = app.ws_with_token(&other).await;
    // A ticket bought before the revocation must not open a session after it.
    let ticket = app.post("/api/v1/ws-ticket", Some(token), &json!({})).await;
    let ticket: Value = ticket.json().await.unwrap();
    let ticket = ticket["ticket"].as_str().unwrap().to_string();

    let revoke = format!("/api/v1/server/tokens/{token_id}");
    let (status, _) = call(&app, "DELETE", &revoke, &key, &Value::Null).await;
    assert_eq!(status, 204);
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4003));
    assert_eq!(rest_status(&app, token).await, 401);
    let refused = app.ws_request(&format!("?token={token}"), &[]).await;
    assert_eq!(refused.as_ref().err().and_then(handshake_status), Some(401));
    let refused = app.ws_request(&format!("?ticket={ticket}"), &[]).await;
    assert_eq!(refused.as_ref().err().and_then(handshake_status), Some(401));
    // The user's other token and its session go on.
    assert_open(&mut other_ws).await;
    assert_eq!(rest_status(&app, &other).await, 200);
    assert_eq!(
        other_ws.call("typing:start", json!({})).await["type"],
        "error"
    );
    // Idempotent; unknown and malformed ids are 404.
    let (status, _) = call(&app, "DELETE", &revoke, &key, &Value::Null).await;
    assert_eq!(status, 204);
    for bad in ["ut_00000000000000000000000000000000", "nope"] {
        let path = format!("/api/v1/server/tokens/{bad}");
        let (status, body) = call(&app, "DELETE", &path, &key, &Value::Null).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    }
    let _ = id;
}

#[actix_web::test]
async fn revoking_all_of_a_users_tokens_spares_their_own_sign_in() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    let id = upsert(&app, &key, "crm-2").await;
    let (first, _) = mint(&app, &key, "crm-2").await;
    let (second, _) = mint(&app, &key, "crm-2").await;
    let mut first_ws = app.ws_with_token(&first).await;
    let mut second_ws = app.ws_with_token(&second).await;
    // A token from the user's own sign-in (no token id) is not a user token.
    let signed_in = app.token(id, 600);
    let mut signed_in_ws = app.ws_with_token(&signed_in).await;
    let path = "/api/v1/server/users/crm-2/tokens";
    let (status, body) = call(&app, "DELETE", path, &key, &Value::Null).await;
    assert_eq!((status, body), (200, json!({"revoked": 2})));
    assert_eq!(
        first_ws.closed_with(Duration::from_secs(5)).await,
        Some(4003)
    );
    assert_eq!(
        second_ws.closed_with(Duration::from_secs(5)).await,
        Some(4003)
    );
    assert_eq!(rest_status(&app, &first).await, 401);
    assert_eq!(rest_status(&app, &second).await, 401);
    assert_open(&mut signed_in_ws).await;
    let (status, body) = call(&app, "DELETE", path, &key, &Value::Null).await;
    assert_eq!((status, body), (200, json!({"revoked": 0})));
    // New tokens work again.
    let (third, _) = mint(&app, &key, "crm-2").await;
    assert_eq!(rest_status(&app, &third).await, 200);
}

#[actix_web::test]
async fn deactivation_and_role_changes_revoke_the_users_tokens() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    upsert(&app, &key, "crm-3").await;
    let (token, _) = mint(&app, &key, "crm-3").await;
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/server/users/crm-3",
        &key,
        &json!({"role": "agent"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        rest_status(&app, &token).await,
        401,
        "the token names the old role"
    );
    let (token, _) = mint(&app, &key, "crm-3").await;
    assert_eq!(rest_status(&app, &token).await, 200);
    let path = "/api/v1/server/users/crm-3";
    let (status, _) = call(&app, "DELETE", path, &key, &Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(rest_status(&app, &token).await, 401);
    let (status, body) = call(&app, "POST", &format!("{path}/tokens"), &key, &json!({})).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
}

#[actix_web::test]
async fn bad_mints_are_refused_and_keys_stay_in_their_scopes_and_project() {
    let app = spawn_app().await;
    let key_1 = key(&app, 1, ALL);
    upsert(&app, &key_1, "crm-4").await;
    let path = "/api/v1/server/users/crm-4/tokens";
    for ttl in [json!(0), json!(2_592_001), json!(-5), json!("soon")] {
        let (status, body) = call(&app, "POST", path, &key_1, &json!({"ttl_s": ttl})).await;
        assert_eq!(status, 400, "ttl_s {ttl}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
    }
    // No body: the default lifetime.
    let (status, body) = call(&app, "POST", path, &key_1, &Value::Null).await;
    assert_eq!(
        (status, &body["expires_in_s"]),
        (201, &json!(86_400)),
        "{body}"
    );
    let (_, token_id) = mint(&app, &key_1, "crm-4").await;
    let unknown = "/api/v1/server/users/nobody/tokens";
    let (status, _) = call(&app, "POST", unknown, &key_1, &json!({})).await;
    assert_eq!(status, 404);

    let read_only = key(&app, 1, "read,users:write");
    let (status, body) = call(&app, "POST", path, &read_only, &json!({})).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let revoke = format!("/api/v1/server/tokens/{token_id}");
    let (status, _) = call(&app, "DELETE", &revoke, &read_only, &Value::Null).await;
    assert_eq!(status, 403);

    // Another project's key finds neither the user nor the token.
    let project_2 = crate::projects::cli(&app, &["project", "create", "--name", "other"])["id"]
        .as_i64()
        .unwrap();
    let key_2 = key(&app, project_2, ALL);
    for (method, path) in [
        ("POST", path.to_string()),
        ("DELETE", path.to_string()),
        ("DELETE", revoke.clone()),
    ] {
        let (status, body) = call(&app, method, &path, &key_2, &json!({})).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    let (status, _) = call(&app, "DELETE", &revoke, &key_1, &Value::Null).await;
    assert_eq!(status, 204, "the token is still there for its own project");
}

#[actix_web::test]
async fn revocations_survive_a_restart() {
    let app = spawn_app().await;
    let key = key(&app, 1, ALL);
    upsert(&app, &key, "crm-5").await;
    let (revoked, token_id) = mint(&app, &key, "crm-5").await;
    let (kept, _) = mint(&app, &key, "crm-5").await;
    let path = format!("/api/v1/server/tokens/{token_id}");
    assert_eq!(call(&app, "DELETE", &path, &key, &Value::Null).await.0, 204);
    app.stop().await;
    let restarted = spawn_on(app.settings.clone(), app.dir.clone()).await;
    assert_eq!(rest_status(&restarted, &revoked).await, 401);
    assert_eq!(rest_status(&restarted, &kept).await, 200);
}
