//! Customer satisfaction: the customer rates a resolved support conversation once per
//! resolution (`POST /api/v1/conversations/{id}/csat`); the team reads the ratings.

use serde_json::{Value, json};

use super::{agent, as_user, open_support, set_status};
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::{ProjectId, Role};

/// Rates conversation `id` as `user`: the status and body.
async fn rate(app: &TestApp, user: &TestUser, id: i64, body: Value) -> (u16, Value) {
    as_user(
        app,
        user,
        "POST",
        &format!("/api/v1/conversations/{id}/csat"),
        body,
    )
    .await
}

#[actix_web::test]
async fn the_customer_rates_each_resolution_once_and_only_the_customer() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let other = app.register("olga").await;
    let sam = agent(&app, "sam").await;
    app.create_in(ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let group = app.conversation(&customer, &[&other]).await;
    let (status, body) = super::assign(&app, &sam, id, json!(sam.id)).await;
    assert_eq!(status, 200, "{body}");
    let mut sam_ws = app.ws(&sam).await;
    sam_ws.join(id).await;

    // Not resolved yet: a clash.
    let (status, body) = rate(&app, &customer, id, json!({"rating": 4})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conflict")),
        "{body}"
    );
    assert_eq!(
        set_status(&app, &sam, id, json!({"status": "resolved"}))
            .await
            .0,
        200
    );

    // A table of callers and bodies.
    let five = json!({"rating": 5, "comment": "Quick and kind"});
    for (user, conversation, body, want, code) in [
        (&sam, id, five.clone(), 403, "forbidden"),
        (&other, id, five.clone(), 404, "not_found"),
        (&eve, id, five.clone(), 404, "not_found"),
        (&customer, group, five.clone(), 403, "forbidden"),
        (
            &customer,
            id,
            json!({"rating": 0}),
            400,
            "validation_failed",
        ),
        (
            &customer,
            id,
            json!({"rating": 6}),
            400,
            "validation_failed",
        ),
        (
            &customer,
            id,
            json!({"rating": 3, "comment": "x".repeat(1001)}),
            400,
            "validation_failed",
        ),
        (
            &customer,
            id,
            json!({"comment": "no rating"}),
            400,
            "validation_failed",
        ),
    ] {
        let (got, answer) = rate(&app, user, conversation, body).await;
        assert_eq!(got, want, "{} on {conversation}: {answer}", user.username);
        assert_eq!(
            answer["error"]["code"], code,
            "{} on {conversation}",
            user.username
        );
    }
    let (status, rating) = rate(&app, &customer, id, five.clone()).await;
    assert_eq!(status, 201, "{rating}");
    assert_eq!(rating["rating"], 5);
    assert_eq!(rating["comment"], "Quick and kind");
    assert_eq!(rating["assignee_id"], sam.id);
    assert_eq!(rating["user_id"], customer.id);
    let told = sam_ws.recv_type("csat").await;
    assert_eq!(told["data"]["rating"], 5);
    let (status, body) = rate(&app, &customer, id, json!({"rating": 1})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conflict")),
        "{body}"
    );

    // Writing again reopens it; its next resolution takes a rating of its own.
    assert_eq!(
        app.send_rest(&customer, id, "One more thing")
            .await
            .status(),
        201
    );
    let (status, body) = rate(&app, &customer, id, json!({"rating": 2})).await;
    assert_eq!(status, 409, "an open conversation: {body}");
    assert_eq!(
        set_status(&app, &sam, id, json!({"status": "resolved"}))
            .await
            .0,
        200
    );
    assert_eq!(rate(&app, &customer, id, json!({"rating": 2})).await.0, 201);

    // The ratings, newest first, for the team and the customer; nobody else.
    for user in [&sam, &customer] {
        let (status, list) = as_user(
            &app,
            user,
            "GET",
            &format!("/api/v1/conversations/{id}/csat"),
            Value::Null,
        )
        .await;
        assert_eq!(status, 200, "{list}");
        let ratings: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rating"].as_i64().unwrap())
            .collect();
        assert_eq!(ratings, [2, 5], "{}", user.username);
    }
    for user in [&other, &eve] {
        let (status, _) = as_user(
            &app,
            user,
            "GET",
            &format!("/api/v1/conversations/{id}/csat"),
            Value::Null,
        )
        .await;
        assert_eq!(status, 404, "{}", user.username);
    }
}
