//! The desk's reports: `GET /api/v1/desk/metrics`, first response and resolution times and
//! ratings per agent and period.

use serde_json::{Value, json};

use super::{agent, as_user, assign, open_support, set_status};
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::{ProjectId, Role};

/// `user`'s metrics with `query`: the status and body.
async fn metrics(app: &TestApp, user: &TestUser, query: &str) -> (u16, Value) {
    as_user(
        app,
        user,
        "GET",
        &format!("/api/v1/desk/metrics{query}"),
        Value::Null,
    )
    .await
}

/// Moves conversation `id`'s creation `seconds` into the past.
fn created_earlier(app: &TestApp, id: i64, seconds: i64) {
    let sql = if app.is_postgres() {
        format!(
            "UPDATE conversations SET created_at = created_at - interval '{seconds} seconds' WHERE id = {id}"
        )
    } else {
        format!(
            "UPDATE conversations SET created_at = strftime('%Y-%m-%d %H:%M:%f', created_at, '-{seconds} seconds') WHERE id = {id}"
        )
    };
    app.db().batch_execute(&sql).expect("backdate");
}

/// Who reads whose figures: a table of roles, agents and projects, and the period's checks.
#[actix_web::test]
async fn admins_read_everyones_figures_agents_their_own_customers_none() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let tom = agent(&app, "tom").await;
    let ada = app.create_with_role("ada", Role::Admin).await;
    let foreign = app.create_in(ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let cases = [
        (&customer, String::new(), 403, "forbidden", Value::Null),
        (
            &customer,
            format!("?agent_id={}", customer.id),
            403,
            "forbidden",
            Value::Null,
        ),
        (
            &sam,
            format!("?agent_id={}", tom.id),
            403,
            "forbidden",
            Value::Null,
        ),
        (&sam, String::new(), 200, "", json!(sam.id)),
        (
            &sam,
            format!("?agent_id={}", sam.id),
            200,
            "",
            json!(sam.id),
        ),
        (&ada, String::new(), 200, "", Value::Null),
        (
            &ada,
            format!("?agent_id={}", tom.id),
            200,
            "",
            json!(tom.id),
        ),
        (
            &ada,
            format!("?agent_id={}", customer.id),
            400,
            "validation_failed",
            Value::Null,
        ),
        (
            &ada,
            format!("?agent_id={}", foreign.id.0),
            400,
            "validation_failed",
            Value::Null,
        ),
        (
            &ada,
            "?agent_id=999999".into(),
            400,
            "validation_failed",
            Value::Null,
        ),
        (&eve, String::new(), 200, "", json!(eve.id)),
        (
            &ada,
            "?from=yesterday".into(),
            400,
            "validation_failed",
            Value::Null,
        ),
        (
            &ada,
            "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z".into(),
            400,
            "validation_failed",
            Value::Null,
        ),
        (
            &ada,
            "?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z".into(),
            400,
            "validation_failed",
            Value::Null,
        ),
        (
            &ada,
            "?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z".into(),
            200,
            "",
            Value::Null,
        ),
    ];
    for (user, query, want, code, agent_id) in cases {
        let (got, body) = metrics(&app, user, &query).await;
        assert_eq!(got, want, "{} {query}: {body}", user.username);
        if code.is_empty() {
            assert_eq!(body["agent_id"], agent_id, "{} {query}", user.username);
        } else {
            assert_eq!(body["error"]["code"], code, "{} {query}", user.username);
        }
    }
    let (_, body) = metrics(
        &app,
        &ada,
        "?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(body["from"], "2025-01-01T00:00:00Z");
    assert_eq!(body["to"], "2026-01-01T00:00:00Z");
}

/// `agent` answers the customer's conversation `id` (created a minute ago), resolves it, and
/// the customer rates it `rating`.
async fn serve(app: &TestApp, agent: &TestUser, customer: &TestUser, id: i64, rating: i64) {
    let (status, body) = assign(app, agent, id, json!(agent.id)).await;
    assert_eq!(status, 200, "{body}");
    created_earlier(app, id, 60);
    assert_eq!(
        app.send_rest(agent, id, "Happy to help").await.status(),
        201
    );
    assert_eq!(
        set_status(app, agent, id, json!({"status": "resolved"}))
            .await
            .0,
        200
    );
    let path = format!("/api/v1/conversations/{id}/csat");
    let (status, body) = as_user(app, customer, "POST", &path, json!({"rating": rating})).await;
    assert_eq!(status, 201, "{body}");
}

/// An average in seconds, checked to lie in `[low, high)`.
fn seconds(value: &Value, low: f64, high: f64) {
    let s = value.as_f64().unwrap_or(f64::NAN);
    assert!((low..high).contains(&s), "{s} not in [{low}, {high})");
}

#[actix_web::test]
async fn first_responses_resolutions_and_ratings_are_counted_per_agent_and_period() {
    let app = spawn_app().await;
    let cara = app.register("cara").await;
    let olga = app.register("olga").await;
    let sam = agent(&app, "sam").await;
    let tom = agent(&app, "tom").await;
    let ada = app.create_with_role("ada", Role::Admin).await;
    let first = open_support(&app, &cara).await["id"].as_i64().unwrap();
    let second = open_support(&app, &olga).await["id"].as_i64().unwrap();
    serve(&app, &sam, &cara, first, 5).await;
    serve(&app, &tom, &olga, second, 2).await;
    // Cara writes again; Sam resolves it a second time.
    assert_eq!(
        app.send_rest(&cara, first, "One more thing").await.status(),
        201
    );
    assert_eq!(
        set_status(&app, &sam, first, json!({"status": "resolved"}))
            .await
            .0,
        200
    );

    let (status, team) = metrics(&app, &ada, "").await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["conversations"], 2, "{team}");
    assert_eq!(team["first_response"]["count"], 2);
    seconds(&team["first_response"]["avg_s"], 60.0, 120.0);
    assert_eq!(team["resolution"]["count"], 3);
    seconds(&team["resolution"]["avg_s"], 60.0, 120.0);
    assert_eq!(
        team["csat"],
        json!({"count": 2, "avg_rating": 3.5, "satisfied": 1})
    );

    let (_, sams) = metrics(&app, &sam, "").await;
    assert_eq!(sams["agent_id"], sam.id);
    assert_eq!(sams["conversations"], 1);
    assert_eq!(sams["first_response"]["count"], 1);
    assert_eq!(sams["resolution"]["count"], 2);
    assert_eq!(
        sams["csat"],
        json!({"count": 1, "avg_rating": 5.0, "satisfied": 1})
    );
    let (_, toms) = metrics(&app, &ada, &format!("?agent_id={}", tom.id)).await;
    assert_eq!(toms["resolution"]["count"], 1);
    assert_eq!(
        toms["csat"],
        json!({"count": 1, "avg_rating": 2.0, "satisfied": 0})
    );

    // A period before any of it: nothing.
    let (_, before) = metrics(
        &app,
        &ada,
        "?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z",
    )
    .await;
    assert_eq!(before["conversations"], 0);
    assert_eq!(before["first_response"], json!({"count": 0, "avg_s": null}));
    assert_eq!(before["resolution"], json!({"count": 0, "avg_s": null}));
    assert_eq!(
        before["csat"],
        json!({"count": 0, "avg_rating": null, "satisfied": 0})
    );
}
