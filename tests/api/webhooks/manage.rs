//! Managing endpoints: who may, and what is accepted.

use serde_json::{Value, json};

use super::*;

#[actix_web::test]
async fn project_admins_and_instance_admins_manage_webhooks_nobody_else() {
    let app = app_with(|_| {}).await;
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
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["user.created"]});
    let made = create(&app, &admin, body.clone()).await;
    let hook = format!("/api/v1/projects/1/webhooks/{}", made["id"]);
    let deliveries = format!("{hook}/deliveries");
    let calls = [
        (
            "POST",
            "/api/v1/projects/1/webhooks".to_string(),
            body.clone(),
            201,
        ),
        (
            "GET",
            "/api/v1/projects/1/webhooks".to_string(),
            Value::Null,
            200,
        ),
        ("GET", hook.clone(), Value::Null, 200),
        (
            "PATCH",
            hook.clone(),
            json!({"events": ["message.created"]}),
            200,
        ),
        ("GET", deliveries.clone(), Value::Null, 200),
    ];
    for (method, path, body, ok) in &calls {
        for (who, user, want) in [
            ("customer", &customer, 403),
            ("agent", &agent, 403),
            ("another project's admin", &elsewhere, 404),
            ("the project's admin", &admin, *ok),
            ("an instance admin of another project", &root, *ok),
        ] {
            let (status, reply) = as_user(&app, user, method, path, body).await;
            assert_eq!(status, want, "{who}: {method} {path}: {reply}");
            if status >= 400 {
                assert!(reply["error"]["code"].is_string(), "{reply}");
            }
        }
        let (status, _) = app.call(method, path, None, body).await;
        assert_eq!(status, 401, "anonymous: {method} {path}");
    }
    let (status, list) = as_user(
        &app,
        &admin,
        "GET",
        "/api/v1/projects/1/webhooks?limit=2",
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2, "paginated: {list}");
    assert!(
        !list.to_string().contains("whsec_"),
        "no secret in lists: {list}"
    );
    let (status, _) = as_user(
        &app,
        &root,
        "GET",
        "/api/v1/projects/999/webhooks",
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404, "an unknown project");
    for (who, user, want) in [
        ("customer", &customer, 403),
        ("elsewhere", &elsewhere, 404),
        ("admin", &admin, 204),
    ] {
        let (status, _) = as_user(&app, user, "DELETE", &hook, &Value::Null).await;
        assert_eq!(status, want, "{who} deletes");
    }
    let (status, _) = as_user(&app, &admin, "GET", &hook, &Value::Null).await;
    assert_eq!(status, 404, "deleted");
}

#[actix_web::test]
async fn endpoints_are_validated_and_internal_targets_refused_by_default() {
    let app = spawn_app().await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    for (body, field) in [
        (
            json!({"url": "https://example.com/h", "events": ["message.sent"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/h", "events": []}),
            "events",
        ),
        (
            json!({"url": "ftp://example.com/h", "events": ["user.created"]}),
            "url",
        ),
        (json!({"events": ["user.created"]}), "url"),
        (
            json!({"url": "http://127.0.0.1:8080/h", "events": ["user.created"]}),
            "url",
        ),
        (
            json!({"url": "http://10.0.0.1/h", "events": ["user.created"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/h", "events": ["user.created"], "secret": "short"}),
            "secret",
        ),
        (
            json!({"type": "sms", "url": "https://example.com/h", "events": ["user.created"]}),
            "type",
        ),
        (json!({"type": "telegram", "chat_id": 1}), "bot_token"),
        (
            json!({"type": "telegram", "bot_token": "1:abc", "chat_id": 1, "url": "https://e.com"}),
            "url",
        ),
    ] {
        let (status, reply) =
            as_user(&app, &admin, "POST", "/api/v1/projects/1/webhooks", &body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["error"]["code"], "validation_failed", "{reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let chosen = "a-chosen-secret-of-enough-length";
    let made = create(
        &app,
        &admin,
        json!({"url": "http://93.184.216.34/h", "events": ["participant.added"], "secret": chosen}),
    )
    .await;
    assert_eq!(made["secret"], chosen);
    let (status, reply) = as_user(
        &app,
        &admin,
        "PATCH",
        &format!("/api/v1/projects/1/webhooks/{}", made["id"]),
        &json!({"url": "http://localhost/h"}),
    )
    .await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (400, Some("validation_failed")),
        "{reply}"
    );
}

/// Rows of `table` belonging to `project`.
fn rows_of(app: &TestApp, table: &str, project: i64) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE project_id = {project}");
    let counted: Count =
        parlor::on_conn!(&mut app.db(), c => diesel::sql_query(&sql).get_result(c)).unwrap();
    counted.n
}

#[actix_web::test]
async fn deleting_a_project_deletes_its_webhooks_and_their_deliveries() {
    let app = app_with(|_| {}).await;
    let owner = member(&app, 2, "p2-admin", Role::Admin).await;
    let root = member(&app, 1, "root", Role::Customer).await;
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
    let body = json!({"url": "http://127.0.0.1:9/h", "events": ["user.created"]});
    let (status, made) = as_user(&app, &owner, "POST", "/api/v1/projects/2/webhooks", &body).await;
    assert_eq!(status, 201, "{made}");
    app.create_in(ProjectId(2), "someone", Role::Customer);
    assert_eq!(rows_of(&app, "webhooks", 2), 1);
    assert_eq!(rows_of(&app, "webhook_deliveries", 2), 1);
    let (status, reply) = as_user(
        &app,
        &root,
        "DELETE",
        "/api/v1/admin/projects/2",
        &json!({"confirm": "p2"}),
    )
    .await;
    assert_eq!(status, 204, "{reply}");
    assert_eq!(rows_of(&app, "webhooks", 2), 0);
    assert_eq!(rows_of(&app, "webhook_deliveries", 2), 0);
}
