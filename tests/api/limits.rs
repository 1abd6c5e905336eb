use serde_json::json;

use crate::helpers::{error_code, spawn_app_with};

#[actix_web::test]
async fn each_user_has_a_rest_request_budget_per_minute() {
    let app = spawn_app_with(|s| s.limits.api_requests_per_minute = 5).await;
    // Registration is anonymous: it counts against the IP, not the new users.
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    for _ in 0..5 {
        assert_eq!(
            app.get("/api/v1/auth/me", Some(&ann.access_token))
                .await
                .status(),
            200
        );
    }
    let limited = app.get("/api/v1/auth/me", Some(&ann.access_token)).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(error_code(limited).await, "rate_limited");
    // Another user is not affected.
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&bob.access_token))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn anonymous_requests_are_limited_per_ip() {
    let app = spawn_app_with(|s| s.limits.api_requests_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/auth/me", None).await.status(), 401);
    }
    assert_eq!(app.get("/api/v1/auth/me", None).await.status(), 429);
}

#[actix_web::test]
async fn login_attempts_are_limited_per_account_and_auth_calls_per_ip() {
    let app = spawn_app_with(|s| {
        s.limits.login_attempts_per_account_per_minute = 3;
        s.limits.auth_attempts_per_ip_per_minute = 6;
    })
    .await;
    let ann = app.register("ann").await;
    for _ in 0..3 {
        let wrong = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ann", "password": "guess-guess"}),
            )
            .await;
        assert_eq!(wrong.status(), 401);
    }
    // The account is throttled, even for the right password and whether it is named by
    // username or by email.
    let right = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "ANN@example.com", "password": ann.password}),
        )
        .await;
    assert_eq!(right.status(), 429);
    let right = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ANN", "password": ann.password}),
        )
        .await;
    assert_eq!(right.status(), 429);
    // Six auth calls from this IP so far (register + 5 logins): the next is refused whatever it is.
    let register = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "x@example.com", "username": "xavier", "password": "longenough"}),
        )
        .await;
    assert_eq!(register.status(), 429);
}
