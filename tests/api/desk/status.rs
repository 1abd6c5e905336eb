//! A support conversation's status: open, pending, snoozed, resolved; closing resolves; a
//! customer's message opens it again (or is refused, per `desk.resolved_reply`).

use std::time::Duration;

use serde_json::json;

use super::{agent, as_user, open_support, set_status, view};
use crate::helpers::{error_code, spawn_app, spawn_app_with};
use parlor::domain::Role;

#[actix_web::test]
async fn statuses_move_and_are_announced_to_joined_sessions() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let mut watcher = app.ws(&customer).await;
    watcher.join(id).await;

    let (code, body) = set_status(&app, &sam, id, json!({"status": "pending"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "pending");
    let event = watcher.recv_type("conversation:status").await;
    assert_eq!(event["data"]["status"], "pending");
    assert_eq!(event["data"]["changed_by"], sam.id);

    let until = (chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc3339();
    let (code, body) = set_status(
        &app,
        &sam,
        id,
        json!({"status": "snoozed", "snoozed_until": until}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "snoozed");
    assert!(body["snoozed_until"].is_string());
    let event = watcher.recv_type("conversation:status").await;
    assert_eq!(event["data"]["status"], "snoozed");
    assert!(event["data"]["snoozed_until"].is_string());

    let (code, body) = set_status(&app, &sam, id, json!({"status": "resolved"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "resolved");
    assert!(body["resolved_at"].is_string());
    assert_eq!(body["closed_by"], sam.id);
    assert_eq!(body["snoozed_until"], serde_json::Value::Null);
    let event = watcher.recv_type("conversation:status").await;
    assert_eq!(event["data"]["status"], "resolved");
    // Clients of the close keep working.
    let closed = watcher.recv_type("conversation:closed").await;
    assert_eq!(closed["data"]["closed_by"], sam.id);

    let (code, body) = set_status(&app, &sam, id, json!({"status": "open"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "open");
    assert_eq!(body["closed_at"], serde_json::Value::Null);
    assert_eq!(
        watcher.recv_type("conversation:status").await["data"]["status"],
        "open"
    );
}

#[actix_web::test]
async fn bad_status_changes_are_refused_with_clear_errors() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let past = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    for body in [
        json!({"status": "closed"}),
        json!({"status": "snoozed"}),
        json!({"status": "snoozed", "snoozed_until": past}),
        json!({"status": "pending", "snoozed_until": past}),
        json!({"status": "asleep"}),
        json!({}),
    ] {
        let (code, answer) = set_status(&app, &sam, id, body.clone()).await;
        assert_eq!(code, 400, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "validation_failed", "{body}");
    }
    assert_eq!(view(&app, &sam, id).await["status"], "open");
}

/// Who may change the status: a table of roles and conversations.
#[actix_web::test]
async fn the_policy_decides_who_changes_a_status() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let other = app.register("olga").await;
    let sam = agent(&app, "sam").await;
    let ada = app.create_with_role("ada", Role::Admin).await;
    let support = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let group = app.conversation(&customer, &[&other]).await;
    app.create_in(parlor::domain::ProjectId(2), "eve", Role::Agent);
    let eve = app.login_in(2, "eve").await;
    let cases = [
        (&customer, support, 403, "forbidden"),
        (&other, support, 404, "not_found"),
        (&sam, support, 200, ""),
        (&ada, support, 200, ""),
        (&eve, support, 404, "not_found"),
        (&sam, group, 404, "not_found"),
        (&ada, group, 403, "forbidden"),
    ];
    for (user, id, status, code) in cases {
        let (got, body) = set_status(&app, user, id, json!({"status": "pending"})).await;
        assert_eq!(got, status, "{} on {id}: {body}", user.username);
        if !code.is_empty() {
            assert_eq!(body["error"]["code"], code, "{} on {id}", user.username);
        }
    }
}

#[actix_web::test]
async fn closing_a_support_conversation_resolves_it_and_the_customer_reopens_it() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    as_user(
        &app,
        &sam,
        "POST",
        &format!("/api/v1/conversations/{id}/join"),
        json!({}),
    )
    .await;
    let mut agent_ws = app.ws(&sam).await;
    agent_ws.join(id).await;

    let response = app
        .post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&sam.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "resolved");
    agent_ws.recv_type("conversation:closed").await;

    // The team may still write; it stays resolved.
    assert_eq!(
        app.send_rest(&sam, id, "Anything else?").await.status(),
        201
    );
    assert_eq!(view(&app, &sam, id).await["status"], "resolved");

    // The customer's message opens it again, to the same people.
    assert_eq!(
        app.send_rest(&customer, id, "Yes, one more thing")
            .await
            .status(),
        201
    );
    let event = agent_ws.recv_type("conversation:status").await;
    assert_eq!(event["data"]["status"], "open");
    assert_eq!(event["data"]["changed_by"], customer.id);
    let after = view(&app, &sam, id).await;
    assert_eq!(after["status"], "open");
    assert!(after["waiting_since"].is_string());
}

#[actix_web::test]
async fn with_resolved_reply_new_the_customer_starts_a_new_conversation() {
    let app = spawn_app_with(|s| s.desk.resolved_reply = parlor::config::ResolvedReply::New).await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let (code, _) = set_status(&app, &sam, id, json!({"status": "resolved"})).await;
    assert_eq!(code, 200);
    let refused = app.send_rest(&customer, id, "Hello again").await;
    assert_eq!(refused.status(), 409);
    assert_eq!(error_code(refused).await, "conversation_closed");
    assert_eq!(view(&app, &sam, id).await["status"], "resolved");
    let fresh = open_support(&app, &customer).await;
    assert_ne!(fresh["id"], id);
    assert_eq!(fresh["status"], "open");
}

#[actix_web::test]
async fn a_pending_conversation_opens_when_the_customer_answers() {
    let app = spawn_app().await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    set_status(&app, &sam, id, json!({"status": "pending"})).await;
    let mut customer_ws = app.ws(&customer).await;
    customer_ws.join(id).await;
    customer_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "Here it is"}),
        )
        .await;
    let event = customer_ws.recv_type("conversation:status").await;
    assert_eq!(event["data"]["status"], "open");
    assert_eq!(view(&app, &sam, id).await["status"], "open");
}

#[actix_web::test]
async fn a_snooze_runs_out_and_the_conversation_opens_again() {
    let app = spawn_app_with(|s| s.desk.snooze_sweep_interval_s = 0.05).await;
    let customer = app.register("cara").await;
    let sam = agent(&app, "sam").await;
    let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
    let mut watcher = app.ws(&customer).await;
    watcher.join(id).await;
    let until = (chrono::Utc::now() + chrono::TimeDelta::milliseconds(300)).to_rfc3339();
    let (code, _) = set_status(
        &app,
        &sam,
        id,
        json!({"status": "snoozed", "snoozed_until": until}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        watcher.recv_type("conversation:status").await["data"]["status"],
        "snoozed"
    );
    let woken = watcher.recv_type("conversation:status").await;
    assert_eq!(woken["data"]["status"], "open");
    assert_eq!(woken["data"]["changed_by"], serde_json::Value::Null);
    let after = view(&app, &sam, id).await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["snoozed_until"], serde_json::Value::Null);
    // Nothing else wakes it twice.
    watcher
        .assert_no("conversation:status", Duration::from_millis(300))
        .await;
}
