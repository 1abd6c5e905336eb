//! Per-project settings (issue 12): who reads and changes them, the merge patch and its checks,
//! and that the send rate, the REST rate, the upload size and types, and the WebSocket origins
//! of a project follow them at once, without touching other projects.

use serde_json::{Value, json};

use crate::api_keys::member;
use crate::files::{png, upload};
use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::ws_client::handshake_status;
use parlor::domain::Role;

async fn patch(app: &TestApp, who: &TestUser, project: i64, body: Value) -> (u16, Value) {
    let auth = format!("Bearer {}", who.access_token);
    let path = format!("/api/v1/projects/{project}/settings");
    app.call("PATCH", &path, Some(("authorization", &auth)), &body)
        .await
}

#[actix_web::test]
async fn project_admins_and_instance_admins_change_settings_nobody_else() {
    let app = spawn_app().await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let agent = app.create_with_role("agent", Role::Agent).await;
    let customer = app.register("cust").await;
    let elsewhere = member(&app, 2, "other-admin", Role::Admin).await;
    let body = json!({"messages_per_window": 50});
    for (who, user, want) in [
        ("agent", &agent, 403),
        ("customer", &customer, 403),
        ("another project's admin", &elsewhere, 404),
        ("the project's admin", &admin, 200),
    ] {
        let (status, answer) = patch(&app, user, 1, body.clone()).await;
        assert_eq!(status, want, "{who}: {answer}");
        let auth = format!("Bearer {}", user.access_token);
        let (status, _) = app
            .call(
                "GET",
                "/api/v1/projects/1/settings",
                Some(("authorization", &auth)),
                &Value::Null,
            )
            .await;
        assert_eq!(status, if want == 200 { 200 } else { want }, "{who} reads");
    }
    let (status, _) = app
        .call("PATCH", "/api/v1/projects/1/settings", None, &body)
        .await;
    assert_eq!(status, 401);

    // A merge patch: fields set, kept, and cleared with null; bad ones named.
    let (_, now) = patch(
        &app,
        &admin,
        1,
        json!({"allowed_origins": ["https://shop.example"]}),
    )
    .await;
    assert_eq!(
        now,
        json!({"messages_per_window": 50, "allowed_origins": ["https://shop.example"]})
    );
    let (_, now) = patch(&app, &admin, 1, json!({"messages_per_window": null})).await;
    assert_eq!(now, json!({"allowed_origins": ["https://shop.example"]}));
    for bad in [
        json!({"messages_per_window": 0}),
        json!({"upload_max_bytes": 1_u64 << 40}),
        json!({"upload_allowed_types": ["application/x-msdownload"]}),
        json!({"allowed_origins": ["not an origin"]}),
        json!({"colour": "red"}),
        json!("everything"),
    ] {
        let (status, answer) = patch(&app, &admin, 1, bad.clone()).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (400, &json!("validation_failed")),
            "{bad}"
        );
    }
    let auth = format!("Bearer {}", admin.access_token);
    let (_, kept) = app
        .call(
            "GET",
            "/api/v1/projects/1/settings",
            Some(("authorization", &auth)),
            &Value::Null,
        )
        .await;
    assert_eq!(
        kept,
        json!({"allowed_origins": ["https://shop.example"]}),
        "nothing bad stored"
    );
}

#[actix_web::test]
async fn a_projects_send_and_rest_rates_apply_at_once_and_only_to_it() {
    let app = spawn_app().await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = app.conversation(&ann, &[&bob]).await;
    let (status, _) = patch(
        &app,
        &admin,
        1,
        json!({"messages_per_window": 2, "message_window_s": 3600}),
    )
    .await;
    assert_eq!(status, 200);
    for n in 0..2 {
        let sent = app.send_rest(&ann, id, &format!("m{n}")).await;
        assert_eq!(sent.status(), 201);
    }
    let third = app.send_rest(&ann, id, "m2").await;
    assert_eq!(
        third.status(),
        429,
        "the project's window, not the server's 5"
    );
    let (status, _) = patch(
        &app,
        &admin,
        1,
        json!({"messages_per_window": null, "message_window_s": null}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.send_rest(&ann, id, "m3").await.status(),
        201,
        "back to the server's"
    );

    // REST: three requests a minute for the project's users; another project's are untouched.
    let other = member(&app, 2, "other", Role::Customer).await;
    let (status, _) = patch(&app, &admin, 1, json!({"api_requests_per_minute": 3})).await;
    assert_eq!(status, 200);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.get("/api/v1/conversations", Some(&bob.access_token))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    for _ in 0..4 {
        let status = app
            .get("/api/v1/conversations", Some(&other.access_token))
            .await
            .status();
        assert_eq!(status, 200);
    }
}

#[actix_web::test]
async fn a_projects_upload_size_and_types_and_origins_apply() {
    let app = spawn_app().await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let ann = app.register("ann").await;
    let picture = png(64, 64);
    let (status, _) = patch(&app, &admin, 1, json!({"upload_max_bytes": 100})).await;
    assert_eq!(status, 200);
    let refused = upload(&app, &ann, picture.clone(), "a.png", &[]).await;
    assert_eq!(refused.status(), 413);
    let (status, _) = patch(
        &app,
        &admin,
        1,
        json!({"upload_max_bytes": null, "upload_allowed_types": ["application/pdf"]}),
    )
    .await;
    assert_eq!(status, 200);
    let refused = upload(&app, &ann, picture.clone(), "a.png", &[]).await;
    assert_eq!(refused.status(), 415);
    let (status, _) = patch(&app, &admin, 1, json!({"upload_allowed_types": null})).await;
    assert_eq!(status, 200);
    assert_eq!(
        upload(&app, &ann, picture, "a.png", &[]).await.status(),
        201
    );

    // Origins: the project's list replaces the server's.
    let query = format!("?token={}", ann.access_token);
    let (status, _) = patch(
        &app,
        &admin,
        1,
        json!({"allowed_origins": ["https://shop.example"]}),
    )
    .await;
    assert_eq!(status, 200);
    let ws = app
        .ws_request(&query, &[("origin", "https://shop.example")])
        .await;
    assert!(ws.is_ok(), "the project's origin is allowed");
    let ws = app
        .ws_request(&query, &[("origin", "http://localhost:3000")])
        .await;
    assert_eq!(
        ws.as_ref().err().and_then(handshake_status),
        Some(403),
        "the server's is not"
    );
    let other = member(&app, 2, "other", Role::Customer).await;
    let ws = app
        .ws_request(
            &format!("?token={}", other.access_token),
            &[("origin", "http://localhost:3000")],
        )
        .await;
    assert!(ws.is_ok(), "another project keeps the server's list");
}

#[actix_web::test]
async fn instance_admins_patch_settings_with_the_project() {
    let app = spawn_app().await;
    let root = app.create_with_role("root", Role::Customer).await;
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
    let auth = format!("Bearer {}", root.access_token);
    let (status, view) = app
        .call(
            "PATCH",
            "/api/v1/admin/projects/1",
            Some(("authorization", &auth)),
            &json!({"settings": {"api_requests_per_minute": 500}}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["settings"], json!({"api_requests_per_minute": 500}));
    let (status, view) = app
        .call(
            "GET",
            "/api/v1/admin/projects/1",
            Some(("authorization", &auth)),
            &Value::Null,
        )
        .await;
    assert_eq!(
        (status, &view["settings"]),
        (200, &json!({"api_requests_per_minute": 500}))
    );
    let (status, _) = patch(&app, &root, 1, json!({"api_requests_per_minute": null})).await;
    assert_eq!(status, 200, "instance admins use the project endpoint too");
}
