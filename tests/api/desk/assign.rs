//! Assignment: by hand, and automatic to the online agent with the fewest open conversations
//! (round robin on ties, below `desk.max_open_per_agent`); availability, which presence sets
//! `offline` when an agent's last session ends.

use std::time::Duration;

use serde_json::{Value, json};

use super::{agent, as_user, assign, open_support, set_availability, view};
use crate::helpers::{spawn_app, spawn_app_with};
use parlor::domain::Role;

#[actix_web::test]
async fn an_agent_assigns_and_the_assignee_hears_of_it_without_joining() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let tom = agent(&app, "tom").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let mut customer_ws = app.ws(&customer).await;
    customer_ws.join(id).await;
    let mut tom_ws = app.ws(&tom).await;

    let (code, body) = assign(&app, &sam, id, json!(tom.id)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["assignee_id"], tom.id);
    // The assignee takes part, so they reply at once.
    assert!(
        body["participant_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(tom.id))
    );
    let told = tom_ws.recv_type("conversation:assigned").await;
    assert_eq!(told["data"]["assignee_id"], tom.id);
    assert_eq!(told["data"]["assigned_by"], sam.id);
    let seen = customer_ws.recv_type("conversation:assigned").await;
    assert_eq!(seen["data"]["assignee_id"], tom.id);
    assert_eq!(
        app.send_rest(&tom, id, "Hello, I'm Tom").await.status(),
        201
    );

    let (code, body) = assign(&app, &tom, id, Value::Null).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["assignee_id"], Value::Null);
    let seen = customer_ws.recv_type("conversation:assigned").await;
    assert_eq!(seen["data"]["assignee_id"], Value::Null);
}

/// Who may assign, and to whom: a table of callers and assignees.
#[actix_web::test]
async fn the_policy_decides_who_assigns_and_who_can_be_assigned() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let other = app.register("olga").await;
    let sam = agent(&app, "sam").await;
    let ada = app.create_with_role("ada", Role::Admin).await;
    let foreign = app.create_in(parlor::domain::ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let group = app.conversation(&customer, &[&other]).await;
    let cases = [
        (&customer, id, json!(sam.id), 403, "forbidden"),
        (&other, id, json!(sam.id), 404, "not_found"),
        (&eve, id, json!(eve.id), 404, "not_found"),
        (&sam, id, json!(customer.id), 400, "validation_failed"),
        (&sam, id, json!(foreign.id.0), 400, "validation_failed"),
        (&sam, id, json!(999_999), 400, "validation_failed"),
        (&ada, group, json!(sam.id), 403, "forbidden"),
        (&sam, id, json!(sam.id), 200, ""),
        (&ada, id, json!(ada.id), 200, ""),
    ];
    for (user, conversation, assignee, status, code) in cases {
        let (got, body) = assign(&app, user, conversation, assignee.clone()).await;
        assert_eq!(got, status, "{} assigns {assignee}: {body}", user.username);
        if !code.is_empty() {
            assert_eq!(
                body["error"]["code"], code,
                "{} assigns {assignee}",
                user.username
            );
        }
    }
    assert_eq!(view(&app, &sam, id).await["assignee_id"], ada.id);
}

#[actix_web::test]
async fn new_conversations_go_to_the_least_busy_online_agent_in_turn() {
    let app = spawn_app().await;
    let amy = agent(&app, "amy").await;
    let bob = agent(&app, "bob").await;
    let cid = agent(&app, "cid").await;
    set_availability(&app, &amy, "online").await;
    set_availability(&app, &bob, "online").await;
    set_availability(&app, &cid, "busy").await;
    let mut assignees = Vec::new();
    for n in 0..4 {
        let customer = app.register(&format!("customer{n}")).await;
        let view = open_support(&app, &customer).await;
        assert!(
            view["participant_ids"]
                .as_array()
                .unwrap()
                .contains(&view["assignee_id"])
        );
        assignees.push(view["assignee_id"].as_i64().expect("assigned"));
    }
    // Fewest open first; on a tie, whoever was given one longest ago.
    assert_eq!(assignees, [amy.id, bob.id, amy.id, bob.id]);
    assert!(!assignees.contains(&cid.id), "a busy agent takes none");
}

#[actix_web::test]
async fn with_nobody_online_or_everyone_full_the_conversation_waits() {
    let app = spawn_app_with(|s| s.desk.max_open_per_agent = 1).await;
    let amy = agent(&app, "amy").await;
    let first = app.register("first").await;
    let waiting = open_support(&app, &first).await;
    assert_eq!(waiting["assignee_id"], Value::Null, "nobody online");
    set_availability(&app, &amy, "online").await;
    let second = app.register("second").await;
    assert_eq!(open_support(&app, &second).await["assignee_id"], amy.id);
    let third = app.register("third").await;
    let full = open_support(&app, &third).await;
    assert_eq!(
        full["assignee_id"],
        Value::Null,
        "amy is at desk.max_open_per_agent"
    );
    let (code, queue) = as_user(
        &app,
        &amy,
        "GET",
        "/api/v1/desk/queue?assignee=none",
        Value::Null,
    )
    .await;
    assert_eq!(code, 200);
    let ids: Vec<&Value> = queue.as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, [&waiting["id"], &full["id"]]);
}

#[actix_web::test]
async fn auto_assignment_can_be_switched_off() {
    let app = spawn_app_with(|s| s.desk.auto_assign = false).await;
    let amy = agent(&app, "amy").await;
    set_availability(&app, &amy, "online").await;
    let customer = app.register("cara").await;
    assert_eq!(
        open_support(&app, &customer).await["assignee_id"],
        Value::Null
    );
}

#[actix_web::test]
async fn an_agent_goes_offline_when_their_last_session_ends_and_keeps_assignments() {
    let app = spawn_app().await;
    let amy = agent(&app, "amy").await;
    let customer = app.register("cara").await;
    let first = app.ws(&amy).await;
    let second = app.ws(&amy).await;
    set_availability(&app, &amy, "online").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    assert_eq!(view(&app, &amy, id).await["assignee_id"], amy.id);
    first.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        availability_of(&app, &amy).await,
        "online",
        "one session is still open"
    );
    second.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while availability_of(&app, &amy).await != "offline" {
        assert!(tokio::time::Instant::now() < deadline, "still online");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(view(&app, &amy, id).await["assignee_id"], amy.id);
    // Offline agents take no new conversations.
    let later = app.register("later").await;
    assert_eq!(open_support(&app, &later).await["assignee_id"], Value::Null);
}

/// `agent`'s availability as the desk lists it.
async fn availability_of(app: &crate::helpers::TestApp, agent: &crate::helpers::TestUser) -> Value {
    let (_, list) = as_user(app, agent, "GET", "/api/v1/desk/agents", Value::Null).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == agent.id)
        .map(|a| a["availability"].clone())
        .unwrap()
}

#[actix_web::test]
async fn customers_have_no_availability_and_no_desk_lists() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    for (method, path, body) in [
        (
            "PUT",
            "/api/v1/desk/availability",
            json!({"status": "online"}),
        ),
        ("GET", "/api/v1/desk/agents", Value::Null),
        ("GET", "/api/v1/desk/queue", Value::Null),
    ] {
        let (code, answer) = as_user(&app, &customer, method, path, body).await;
        assert_eq!(code, 403, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "forbidden");
    }
    let sam = agent(&app, "sam").await;
    let (code, answer) = as_user(
        &app,
        &sam,
        "PUT",
        "/api/v1/desk/availability",
        json!({"status": "away"}),
    )
    .await;
    assert_eq!(code, 400, "{answer}");
}
