//! Labels: the project's team keeps them (CRUD under `/api/v1/desk/labels`), puts them on
//! support conversations (`POST/DELETE /api/v1/conversations/{id}/labels/{label}`), and
//! filters the queue by them.

use serde_json::{Value, json};

use super::{agent, as_user, listed, open_support, view};
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::{ProjectId, Role};

/// The titles `user` lists with `query`.
async fn titles(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    listed(app, user, &format!("/api/v1/desk/labels{query}"), "title").await
}

/// Who may list, create, change and delete labels: a table of roles and projects.
#[actix_web::test]
async fn the_projects_team_manages_labels_and_nobody_else() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let ada = app.create_with_role("ada", Role::Admin).await;
    app.create_in(ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let new = json!({"title": " billing ", "description": "Money matters", "color": "#FF8800"});
    let (status, billing) = as_user(&app, &sam, "POST", "/api/v1/desk/labels", new).await;
    assert_eq!(status, 201, "{billing}");
    assert_eq!(billing["title"], "billing");
    assert_eq!(billing["color"], "#ff8800");
    let one = format!("/api/v1/desk/labels/{}", billing["id"]);
    let cases: [(&TestUser, &str, &str, Value, u16, &str); 14] = [
        (
            &customer,
            "GET",
            "/api/v1/desk/labels",
            Value::Null,
            403,
            "forbidden",
        ),
        (
            &customer,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "x"}),
            403,
            "forbidden",
        ),
        (
            &customer,
            "PATCH",
            &one,
            json!({"title": "x"}),
            403,
            "forbidden",
        ),
        (&customer, "DELETE", &one, Value::Null, 403, "forbidden"),
        (&eve, "PATCH", &one, json!({"title": "x"}), 404, "not_found"),
        (&eve, "DELETE", &one, Value::Null, 404, "not_found"),
        (
            &sam,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "billing"}),
            409,
            "conflict",
        ),
        (
            &sam,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "  "}),
            400,
            "validation_failed",
        ),
        (
            &sam,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "x", "color": "red"}),
            400,
            "validation_failed",
        ),
        (
            &sam,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "a".repeat(65)}),
            400,
            "validation_failed",
        ),
        (
            &eve,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "billing"}),
            201,
            "",
        ),
        (
            &ada,
            "PATCH",
            &one,
            json!({"color": null, "description": "Invoices"}),
            200,
            "",
        ),
        (
            &ada,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "vip"}),
            201,
            "",
        ),
        (
            &sam,
            "POST",
            "/api/v1/desk/labels",
            json!({"title": "bug"}),
            201,
            "",
        ),
    ];
    for (user, method, path, body, want, code) in cases {
        let (got, answer) = as_user(&app, user, method, path, body).await;
        assert_eq!(got, want, "{} {method} {path}: {answer}", user.username);
        if !code.is_empty() {
            assert_eq!(
                answer["error"]["code"], code,
                "{} {method} {path}",
                user.username
            );
        }
    }
    let (_, list) = as_user(&app, &sam, "GET", "/api/v1/desk/labels", Value::Null).await;
    assert_eq!(list[0]["color"], Value::Null, "the admin's change: {list}");
    assert_eq!(list[0]["description"], "Invoices");
    assert_eq!(titles(&app, &sam, "").await, ["billing", "vip", "bug"]);
    assert_eq!(titles(&app, &eve, "").await, ["billing"]);
    // Pages by id.
    assert_eq!(titles(&app, &sam, "?limit=2").await, ["billing", "vip"]);
    let after = list[1]["id"].as_i64().unwrap();
    assert_eq!(
        titles(&app, &sam, &format!("?limit=2&after={after}")).await,
        ["bug"]
    );
    // Renaming onto a taken title clashes.
    let (status, body) = as_user(&app, &sam, "PATCH", &one, json!({"title": "vip"})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conflict")),
        "{body}"
    );
    assert_eq!(
        as_user(&app, &sam, "DELETE", &one, Value::Null).await.0,
        204
    );
    assert_eq!(titles(&app, &sam, "").await, ["vip", "bug"]);
}

/// `method` on conversation `id`'s label `title` as `user`.
async fn label(app: &TestApp, user: &TestUser, method: &str, id: i64, title: &str) -> (u16, Value) {
    let path = format!("/api/v1/conversations/{id}/labels/{title}");
    as_user(app, user, method, &path, Value::Null).await
}

/// The ids in `user`'s queue with `query`.
async fn queue(app: &TestApp, user: &TestUser, query: &str) -> Vec<i64> {
    listed(app, user, &format!("/api/v1/desk/queue{query}"), "id").await
}

#[actix_web::test]
async fn the_team_labels_support_conversations_and_the_queue_filters_by_label() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let other = app.register("olga").await;
    let sam = agent(&app, "sam").await;
    app.create_in(ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let first = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let second = open_support(&app, &other).await["id"].as_i64().unwrap();
    let group = app.conversation(&customer, &[&other]).await;

    // Who may label: a table of roles, membership, kinds and projects.
    for (user, id, want, code) in [
        (&customer, first, 403, "forbidden"),
        (&other, first, 404, "not_found"),
        (&eve, first, 404, "not_found"),
        (&sam, group, 404, "not_found"),
    ] {
        let (got, body) = label(&app, user, "POST", id, "billing").await;
        assert_eq!(got, want, "{} on {id}: {body}", user.username);
        assert_eq!(body["error"]["code"], code, "{} on {id}", user.username);
    }
    // The first use makes the label; adding it again changes nothing.
    let (status, body) = label(&app, &sam, "POST", first, "billing").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["labels"], json!(["billing"]));
    assert_eq!(
        label(&app, &sam, "POST", first, "billing").await.1["labels"],
        json!(["billing"])
    );
    assert_eq!(
        label(&app, &sam, "POST", first, "urgent%20now").await.1["labels"],
        json!(["billing", "urgent now"])
    );
    assert_eq!(label(&app, &sam, "POST", second, "billing").await.0, 200);
    assert_eq!(titles(&app, &sam, "").await, ["billing", "urgent now"]);
    assert_eq!(
        view(&app, &sam, first).await["labels"],
        json!(["billing", "urgent now"])
    );

    // The queue's filter.
    let mut billing = queue(&app, &sam, "?label=billing").await;
    billing.sort_unstable();
    assert_eq!(billing, [first, second]);
    assert_eq!(queue(&app, &sam, "?label=urgent%20now").await, [first]);
    assert!(queue(&app, &sam, "?label=nothing").await.is_empty());

    // Taken off; a label it does not carry is 404.
    let (status, body) = label(&app, &sam, "DELETE", first, "billing").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["labels"], json!(["urgent now"]));
    assert_eq!(label(&app, &sam, "DELETE", first, "billing").await.0, 404);
    assert_eq!(queue(&app, &sam, "?label=billing").await, [second]);
    // Deleting a label takes it off every conversation.
    let (_, list) = as_user(&app, &sam, "GET", "/api/v1/desk/labels", Value::Null).await;
    let billing_id = list[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/desk/labels/{billing_id}");
    assert_eq!(
        as_user(&app, &sam, "DELETE", &path, Value::Null).await.0,
        204
    );
    assert_eq!(view(&app, &sam, second).await["labels"], json!([]));
    assert!(queue(&app, &sam, "?label=billing").await.is_empty());
}
