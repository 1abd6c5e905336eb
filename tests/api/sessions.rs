//! Sessions end with their credentials: at the access token's expiry unless renewed in band,
//! and at once when the user signs out everywhere, a stolen refresh token is detected, or an
//! admin changes or disables the account.

use std::time::Duration;

use parlor::domain::{ProjectId, Role};
use serde_json::{Value, json};

use crate::helpers::{error_code, handshake_status, spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_session_closes_with_4001_when_its_token_expires() {
    let app = spawn_app_with(|s| s.auth.access_token_ttl_s = 1).await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4001));
}

#[actix_web::test]
async fn a_session_renewed_in_band_outlives_its_first_token() {
    // Tokens live 2 s (`exp` is whole seconds: 1 to 2 s left at issue).
    let app = spawn_app_with(|s| s.auth.access_token_ttl_s = 2).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut ws = app.ws(&ann).await;
    let renewed = ws
        .call(
            "auth:refresh",
            json!({"access_token": app.token(ann.id, 60)}),
        )
        .await;
    assert_eq!(renewed["type"], "ack", "{renewed}");
    let expires: chrono::DateTime<chrono::Utc> = renewed["data"]["token_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expires > chrono::Utc::now() + chrono::TimeDelta::seconds(50));

    // Someone else's token, or no token at all, renews nothing (and changes nothing).
    let foreign = ws
        .call(
            "auth:refresh",
            json!({"access_token": app.token(bob.id, 60)}),
        )
        .await;
    assert_eq!(foreign["data"]["code"], "forbidden", "{foreign}");
    let garbage = ws
        .call("auth:refresh", json!({"access_token": "not.a.token"}))
        .await;
    assert_eq!(garbage["data"]["code"], "unauthorized", "{garbage}");

    // Past the first token's expiry, the session is still open and working.
    ws.assert_no("error", Duration::from_millis(2500)).await;
    assert_eq!(ws.join(id).await, 0);
}

#[actix_web::test]
async fn the_welcome_frame_says_when_the_token_expires() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut ws = app
        .ws_request(&format!("?token={}", ann.access_token), &[])
        .await
        .unwrap();
    let welcome = ws.recv().await;
    let expires: chrono::DateTime<chrono::Utc> = welcome["data"]["token_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ttl = app.settings.auth.access_token_ttl_s as i64;
    let left = (expires - chrono::Utc::now()).num_seconds();
    assert!((ttl - 5..=ttl).contains(&left), "{left} s left of {ttl}");
}

#[actix_web::test]
async fn logout_all_closes_every_session_and_no_old_token_opens_a_new_one() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let (mut phone, mut laptop) = (app.ws(&ann).await, app.ws(&ann).await);
    let response = app
        .post(
            "/api/v1/auth/logout-all",
            Some(&ann.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(phone.closed_with(Duration::from_secs(5)).await, Some(4001));
    assert_eq!(laptop.closed_with(Duration::from_secs(5)).await, Some(4001));
    // The refresh token is revoked, and the old access token opens no WebSocket.
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(refresh.status(), 401);
    let again = app
        .ws_request(&format!("?token={}", ann.access_token), &[])
        .await
        .err();
    assert_eq!(again.as_ref().and_then(handshake_status), Some(401));
    // Signing in again works.
    let fresh = app.login("ann", &ann.password).await;
    app.ws(&fresh).await;
    assert_eq!(
        app.post("/api/v1/auth/logout-all", None, &json!({}))
            .await
            .status(),
        401
    );
}

#[actix_web::test]
async fn a_reused_refresh_token_signs_its_user_out_everywhere() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut ws = app.ws(&ann).await;
    let rotate = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": token}),
            )
            .await
        }
    };
    assert_eq!(rotate(ann.refresh_token.clone()).await.status(), 200);
    // The same (now rotated) token again: somebody else had it.
    assert_eq!(rotate(ann.refresh_token.clone()).await.status(), 401);
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4001));
    let again = app
        .ws_request(&format!("?token={}", ann.access_token), &[])
        .await
        .err();
    assert_eq!(again.as_ref().and_then(handshake_status), Some(401));
}

#[actix_web::test]
async fn an_admin_changing_a_role_ends_the_users_sessions_with_4003() {
    let app = spawn_app().await;
    let admin = app.create_with_role("boss", Role::Admin).await;
    let bob = app.register("bob").await;
    let mut ws = app.ws(&bob).await;
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", bob.id)))
        .bearer_auth(&admin.access_token)
        .json(&json!({"role": "agent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["role"], "agent");
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4003));
    // The token issued with the old role opens nothing; a new login carries the new role.
    let old = app
        .ws_request(&format!("?token={}", bob.access_token), &[])
        .await
        .err();
    assert_eq!(old.as_ref().and_then(handshake_status), Some(401));
    let again = app.login("bob", &bob.password).await;
    let me: Value = app
        .get("/api/v1/auth/me", Some(&again.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "agent");
    app.ws(&again).await;
}

#[actix_web::test]
async fn a_disabled_user_is_closed_and_cannot_log_in_refresh_or_connect() {
    let app = spawn_app().await;
    let admin = app.create_with_role("boss", Role::Admin).await;
    let bob = app.register("bob").await;
    let mut ws = app.ws(&bob).await;
    let patch = |disabled: bool| {
        let app = &app;
        let (path, token) = (
            format!("/api/v1/users/{}", bob.id),
            admin.access_token.clone(),
        );
        async move {
            app.client
                .patch(app.url(&path))
                .bearer_auth(token)
                .json(&json!({"disabled": disabled}))
                .send()
                .await
                .unwrap()
        }
    };
    let disabled = patch(true).await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(disabled.json::<Value>().await.unwrap()["disabled"], true);
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4003));

    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "bob", "password": bob.password}),
        )
        .await;
    assert_eq!(login.status(), 403);
    // A wrong password still gets the answer that tells nothing.
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "bob", "password": "wrong password"}),
        )
        .await;
    assert_eq!(error_code(wrong).await, "invalid_credentials");
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": bob.refresh_token}),
        )
        .await;
    assert!(matches!(refresh.status().as_u16(), 401 | 403));
    let connect = app
        .ws_request(&format!("?token={}", bob.access_token), &[])
        .await
        .err();
    assert_eq!(connect.as_ref().and_then(handshake_status), Some(403));

    assert_eq!(patch(false).await.status(), 200);
    let back = app.login("bob", &bob.password).await;
    app.ws(&back).await;
}

#[actix_web::test]
async fn a_demoted_or_disabled_admin_manages_no_accounts_with_the_token_they_still_hold() {
    let app = spawn_app().await;
    let (ann, ben) = (
        app.create_with_role("ann", Role::Admin).await,
        app.create_with_role("ben", Role::Admin).await,
    );
    let cat = app.register("cat").await;
    let patch = |token: String, id: i64, body: Value| {
        let app = &app;
        async move {
            app.client
                .patch(app.url(&format!("/api/v1/users/{id}")))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Ann disables ben: his token still says admin, but he can neither undo it nor act.
    assert_eq!(
        patch(ann.access_token.clone(), ben.id, json!({"disabled": true})).await,
        200
    );
    assert_eq!(
        patch(ben.access_token.clone(), ben.id, json!({"disabled": false})).await,
        403
    );
    assert_eq!(
        patch(
            ben.access_token.clone(),
            ann.id,
            json!({"role": "customer"})
        )
        .await,
        403
    );
    // Re-enabled and demoted, his old token is of an older generation.
    assert_eq!(
        patch(
            ann.access_token.clone(),
            ben.id,
            json!({"disabled": false, "role": "agent"})
        )
        .await,
        200
    );
    assert_eq!(
        patch(ben.access_token.clone(), cat.id, json!({"role": "agent"})).await,
        401
    );
    let created = app
        .post(
            "/api/v1/users",
            Some(&ben.access_token),
            &json!({"email": "x@example.com", "username": "xavier", "password": "longenough", "role": "admin"}),
        )
        .await;
    assert_eq!(created.status(), 401);
}

#[actix_web::test]
async fn only_an_admin_of_the_users_project_may_change_an_account() {
    let app = spawn_app().await;
    let admin = app.create_with_role("boss", Role::Admin).await;
    let agent = app.create_with_role("sam", Role::Agent).await;
    let customer = app.register("cat").await;
    let bob = app.register("bob").await;
    let elsewhere = app.create_in(ProjectId(2), "far", Role::Customer);
    let patch = |token: String, id: i64| {
        let app = &app;
        async move {
            app.client
                .patch(app.url(&format!("/api/v1/users/{id}")))
                .bearer_auth(token)
                .json(&json!({"role": "agent"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // caller × target: same project, another project, no such user.
    let cases = [
        (&customer.access_token, bob.id, 403),
        (&agent.access_token, bob.id, 403),
        (&admin.access_token, elsewhere.id.0, 404),
        (&admin.access_token, 999_999, 404),
        (&admin.access_token, bob.id, 200),
    ];
    for (token, target, want) in cases {
        assert_eq!(patch(token.clone(), target).await, want, "target {target}");
    }
    let stranger = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", bob.id)))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
}
