use parlor::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[actix_web::test]
async fn an_admin_creates_an_agent_who_can_log_in() {
    let app = spawn_app().await;
    let admin = app.create_with_role("root", Role::Admin).await;
    let response = app
        .post(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"email": "agent@example.com", "username": "agent1", "password": "agent-password",
                    "display_name": "Support", "role": "agent"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["role"], "agent");
    assert_eq!(body["username"], "agent1");
    assert!(body.get("password_hash").is_none());
    let agent = app.login("agent1", "agent-password").await;
    assert_eq!(agent.id, body["id"].as_i64().unwrap());
}

#[actix_web::test]
async fn only_admins_create_users() {
    let app = spawn_app().await;
    let customer = app.register("carol").await;
    let response = app
        .post(
            "/api/v1/users",
            Some(&customer.access_token),
            &json!({"email": "x@example.com", "username": "xavier", "password": "longenough", "role": "admin"}),
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(response).await, "forbidden");
    let anonymous = app
        .post(
            "/api/v1/users",
            None,
            &json!({"email": "x@example.com", "username": "xavier",
                                             "password": "longenough", "role": "admin"}),
        )
        .await;
    assert_eq!(anonymous.status(), 401);
}

#[actix_web::test]
async fn creating_a_user_with_a_bad_role_or_taken_name_fails_clearly() {
    let app = spawn_app().await;
    let admin = app.create_with_role("root", Role::Admin).await;
    let bad_role = app
        .post(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"email": "x@example.com", "username": "xavier", "password": "longenough", "role": "king"}),
        )
        .await;
    assert_eq!(bad_role.status(), 400);
    assert_eq!(error_code(bad_role).await, "validation_failed");
    let taken = app
        .post(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"email": "other@example.com", "username": "root", "password": "longenough", "role": "agent"}),
        )
        .await;
    assert_eq!(taken.status(), 409);
    assert_eq!(error_code(taken).await, "username_taken");
}
