use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[actix_web::test]
async fn register_returns_the_user_and_a_token_pair_and_ignores_a_role_field() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "Ann@Example.com", "username": "ann", "password": "correct horse",
                    "display_name": "Ann", "role": "admin"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().len() > 20);
    assert!(body["refresh_token"].as_str().unwrap().len() > 20);
    let user = &body["user"];
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["username"], "ann");
    assert_eq!(user["display_name"], "Ann");
    assert_eq!(user["role"], "customer");
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(user.get("password_hash").is_none());
    assert!(!body.to_string().contains("$2b$"));
}

#[actix_web::test]
async fn register_rejects_each_invalid_field_naming_it() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "nope", "username": "ann", "password": "longenough"}),
            "email",
        ),
        (
            json!({"email": "a@b.io", "username": "an", "password": "longenough"}),
            "username",
        ),
        (
            json!({"email": "a@b.io", "username": &"a".repeat(33), "password": "longenough"}),
            "username",
        ),
        (
            json!({"email": "a@b.io", "username": "an n", "password": "longenough"}),
            "username",
        ),
        (
            json!({"email": "a@b.io", "username": "ann", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "ann", "password": "longenough"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/api/v1/auth/register", None, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "message should name {field}: {body}"
        );
    }
}

#[actix_web::test]
async fn a_taken_email_or_username_is_a_conflict() {
    let app = spawn_app().await;
    app.register("ann").await;
    let same_email = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "ANN@example.com", "username": "other", "password": "longenough"}),
        )
        .await;
    // One answer whichever is taken, so registration does not tell which accounts exist.
    assert_eq!(same_email.status(), 409);
    assert_eq!(error_code(same_email).await, "conflict");
    let same_username = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "x@example.com", "username": "ANN", "password": "longenough"}),
        )
        .await;
    assert_eq!(same_username.status(), 409);
    assert_eq!(error_code(same_username).await, "conflict");
}

#[actix_web::test]
async fn malformed_bodies_are_400_never_500() {
    let app = spawn_app().await;
    for (content_type, body) in [
        ("application/json", "{not json"),
        ("application/json", ""),
        ("application/json", "[]"),
        ("application/json", r#"{"email": 5}"#),
        (
            "text/plain",
            r#"{"email":"a@b.io","username":"ann","password":"longenough"}"#,
        ),
    ] {
        let response = app
            .post_raw("/api/v1/auth/register", content_type, body)
            .await;
        assert_eq!(response.status(), 400, "{content_type} {body}");
        let code = error_code(response).await;
        assert!(
            code == "bad_request" || code == "validation_failed",
            "{code}"
        );
    }
}

#[actix_web::test]
async fn login_works_with_email_or_username() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    for login in [
        json!({"email": ann.email, "password": ann.password}),
        json!({"username": "ANN", "password": ann.password}),
    ] {
        let response = app.post("/api/v1/auth/login", None, &login).await;
        assert_eq!(response.status(), 200, "{login}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["id"], ann.id);
        assert_eq!(body["token_type"], "Bearer");
    }
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": ann.email, "password": "wrong-password"}),
        )
        .await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "nobody@example.com", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let wrong: Value = wrong.json().await.unwrap();
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
    assert_eq!(wrong, unknown);
}

#[actix_web::test]
async fn refresh_rotates_the_pair_and_reuse_revokes_every_refresh_token() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let first = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let second_token = first["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_token, ann.refresh_token);
    let me = app
        .get(
            "/api/v1/auth/me",
            Some(first["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(me.status(), 200);

    // The old token was revoked by the rotation: presenting it again is reuse.
    let reuse = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(reuse.status(), 401);
    assert_eq!(error_code(reuse).await, "unauthorized");
    // ...which revoked the live one too.
    let after = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": second_token}),
        )
        .await;
    assert_eq!(after.status(), 401);
    let unknown = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": "made-up"}),
        )
        .await;
    assert_eq!(unknown.status(), 401);
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let response = app
        .post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(response.status(), 204);
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": ann.refresh_token}),
        )
        .await;
    assert_eq!(refresh.status(), 401);
}

#[actix_web::test]
async fn me_needs_a_valid_token_and_never_shows_the_hash() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let response = app.get("/api/v1/auth/me", Some(&ann.access_token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "disabled",
            "display_name",
            "email",
            "external_id",
            "id",
            "instance_admin",
            "project_id",
            "role",
            "username"
        ]
    );

    let missing = app.get("/api/v1/auth/me", None).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(error_code(missing).await, "unauthorized");
    let garbage = app.get("/api/v1/auth/me", Some("not.a.token")).await;
    assert_eq!(garbage.status(), 401);
    // A token signed with another key.
    let forged = ann.access_token.rsplit_once('.').unwrap().0.to_string() + ".c2lnbmF0dXJl";
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&forged)).await.status(),
        401
    );
}

#[actix_web::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app_with(|s| s.auth.access_token_ttl_s = 1).await;
    let ann = app.register("ann").await;
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&ann.access_token))
            .await
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&ann.access_token))
            .await
            .status(),
        401
    );
}
