//! Delivery: signatures, retries with one event id, order, the outbox's transactionality,
//! every event type, automatic disabling, the delivery log and redelivery.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::*;

#[actix_web::test]
async fn deliveries_are_signed_retried_with_one_id_in_order_and_only_for_committed_events() {
    let app = app_with(|_| {}).await;
    let mut receiver = Receiver::start(2).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let made = create(
        &app,
        &admin,
        json!({"url": format!("{}/hook", receiver.url), "events": ["message.created"]}),
    )
    .await;
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{made}");
    assert_eq!(made["type"], "http");
    assert_eq!(made["enabled"], true);
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let conversation = app.conversation(&ann, &[&bob]).await;

    // A send whose transaction rolls back (the insert fails in the database) queues nothing.
    app.refuse_inserts(true);
    let lost = app.send_rest(&ann, conversation, "lost").await;
    assert!(!lost.status().is_success(), "{}", lost.status());
    app.refuse_inserts(false);
    for content in ["one", "two", "three"] {
        assert_eq!(
            app.send_rest(&ann, conversation, content).await.status(),
            201
        );
    }

    let mut hits = Vec::new();
    for _ in 0..5 {
        hits.push(receiver.next().await);
    }
    let seen: Vec<(String, u16)> = hits
        .iter()
        .map(|h| {
            (
                h.json()["data"]["content"].as_str().unwrap().to_string(),
                h.answered,
            )
        })
        .collect();
    let want: Vec<(String, u16)> = [
        ("one", 500),
        ("one", 500),
        ("one", 200),
        ("two", 200),
        ("three", 200),
    ]
    .iter()
    .map(|(c, s)| ((*c).to_string(), *s))
    .collect();
    assert_eq!(
        seen, want,
        "attempts in order, the first retried until accepted"
    );
    let mut accepted: HashMap<String, usize> = HashMap::new();
    for hit in &hits {
        let body = hit.json();
        verify(hit, &secret);
        assert_eq!(hit.path, "/hook");
        assert_eq!(hit.headers["content-type"], "application/json");
        assert_eq!(body["type"], "message.created");
        assert_eq!(body["project_id"], 1);
        assert_eq!(hit.headers["parlor-event-id"], body["id"].as_str().unwrap());
        assert_eq!(body["data"]["conversation_id"], conversation);
        assert_eq!(body["data"]["sender_id"], ann.id);
        if hit.answered == 200 {
            *accepted
                .entry(body["id"].as_str().unwrap().into())
                .or_default() += 1;
        }
    }
    assert!(
        hits[..3]
            .iter()
            .all(|h| h.json()["id"] == hits[0].json()["id"]),
        "every retry carries the same event id"
    );
    assert_eq!(accepted.len(), 3, "three events: {accepted:?}");
    assert!(
        accepted.values().all(|n| *n == 1),
        "each accepted once: {accepted:?}"
    );

    let path = format!("/api/v1/projects/1/webhooks/{}/deliveries", made["id"]);
    // The last outcome is recorded just after the receiver answered.
    let log = log_until(&app, &admin, &made["id"], |log| {
        log.len() >= 3 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(
        log.len(),
        3,
        "no delivery for the rolled-back send: {log:?}"
    );
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["event_id"], hits[0].json()["id"]);
    for entry in &log {
        assert_eq!(entry["status"], "delivered", "{entry}");
        assert_eq!(entry["type"], "message.created");
        assert_eq!(entry["last_status_code"], 200);
        assert!(entry["delivered_at"].is_string());
    }
    let (status, page) = as_user(
        &app,
        &admin,
        "GET",
        &format!("{path}?limit=1&after_id={}", log[0]["id"]),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["id"], log[1]["id"]);
}

#[actix_web::test]
async fn every_event_type_reaches_an_endpoint_that_subscribes_to_it() {
    let app = app_with(|_| {}).await;
    let mut receiver = Receiver::start(0).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let events = [
        "user.created",
        "conversation.created",
        "message.created",
        "message.updated",
        "message.deleted",
        "conversation.closed",
    ];
    create(&app, &admin, json!({"url": receiver.url, "events": events})).await;

    let ann = app.register("ann").await;
    let conversation = app.conversation(&ann, &[&admin]).await;
    let sent = app.send_rest(&ann, conversation, "hello").await;
    let message: Value = sent.json().await.unwrap();
    let path = format!("/api/v1/messages/{}", message["id"]);
    let (status, _) = as_user(&app, &ann, "PATCH", &path, &json!({"content": "edited"})).await;
    assert_eq!(status, 200);
    let (status, _) = as_user(&app, &ann, "DELETE", &path, &Value::Null).await;
    assert_eq!(status, 200);
    let close = format!("/api/v1/conversations/{conversation}/close");
    let (status, _) = as_user(&app, &admin, "POST", &close, &Value::Null).await;
    assert_eq!(status, 200);
    let (status, _) = as_user(&app, &admin, "POST", &close, &Value::Null).await;
    assert_eq!(status, 200, "closing again");
    let (status, key) = as_user(
        &app,
        &admin,
        "POST",
        "/api/v1/projects/1/api-keys",
        &json!({"name": "backend"}),
    )
    .await;
    assert_eq!(status, 201);
    let key = key["key"].as_str().unwrap();
    for want in [201, 200] {
        let (status, _) = app
            .call(
                "PUT",
                "/api/v1/server/users/crm-1",
                Some(("x-api-key", key)),
                &json!({"display_name": "C"}),
            )
            .await;
        assert_eq!(status, want, "upsert");
    }
    app.register("last").await;

    let mut got = Vec::new();
    for _ in 0..8 {
        got.push(receiver.next().await.json());
    }
    let types: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "user.created",
            "conversation.created",
            "message.created",
            "message.updated",
            "message.deleted",
            "conversation.closed",
            "user.created",
            "user.created",
        ],
        "one event per change, none for the second close or the repeated upsert"
    );
    assert_eq!(got[0]["data"]["id"], ann.id);
    assert_eq!(got[1]["data"]["id"], conversation);
    assert_eq!(got[3]["data"]["content"], "edited");
    assert_eq!(got[4]["data"]["content"], "");
    assert!(got[4]["data"]["deleted_at"].is_string());
    assert_eq!(got[5]["data"]["closed_by"], admin.id);
    assert_eq!(got[6]["data"]["external_id"], "crm-1");
    assert_eq!(got[7]["data"]["username"], "last");
}

#[actix_web::test]
async fn failing_endpoints_are_disabled_with_the_reason_and_come_back_when_enabled() {
    let app = app_with(|s| s.webhooks.disable_after_failures = 3).await;
    let mut receiver = Receiver::start(usize::MAX).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let made = create(
        &app,
        &admin,
        json!({"url": receiver.url, "events": ["user.created"]}),
    )
    .await;
    let id = made["id"].clone();
    app.register("first").await;
    for _ in 0..3 {
        assert_eq!(receiver.next().await.answered, 500);
    }
    let view = webhook_until(&app, &admin, &id, |v| v["enabled"] == false).await;
    let reason = view["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("3 consecutive failed"), "{reason}");
    assert!(reason.contains("HTTP 500"), "{reason}");
    app.register("while-disabled").await;
    let log = log_until(&app, &admin, &id, |log| {
        log.first().is_some_and(|d| d["attempts"] == 3)
    })
    .await;
    assert_eq!(
        log.len(),
        1,
        "nothing queued for a disabled endpoint: {log:?}"
    );
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status_code"], 500);
    assert_eq!(log[0]["last_error"], "the endpoint answered HTTP 500");

    receiver.failures.store(0, Ordering::SeqCst);
    let path = format!("/api/v1/projects/1/webhooks/{id}");
    let (status, view) = as_user(&app, &admin, "PATCH", &path, &json!({"enabled": true})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["enabled"].clone(), view["disabled_reason"].clone()),
        (json!(true), Value::Null)
    );
    let hit = receiver.next().await;
    assert_eq!(hit.answered, 200);
    assert_eq!(
        hit.json()["id"],
        log[0]["event_id"],
        "the pending delivery resumes"
    );
    assert_eq!(hit.json()["data"]["username"], "first");
    let log = log_until(&app, &admin, &id, |log| log[0]["status"] == "delivered").await;
    assert_eq!(log[0]["attempts"], 4);

    // Manual redelivery: the same event again.
    let redeliver = format!("{path}/deliveries/{}/redeliver", log[0]["id"]);
    let (status, queued) = as_user(&app, &admin, "POST", &redeliver, &Value::Null).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["status"], "pending");
    let hit = receiver.next().await;
    assert_eq!(hit.json()["id"], log[0]["event_id"]);
    let log = log_until(&app, &admin, &id, |log| log[0]["attempts"] == 5).await;
    assert_eq!(log[0]["status"], "delivered");
    let (status, _) = as_user(
        &app,
        &admin,
        "POST",
        &format!("{path}/deliveries/99999/redeliver"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let elsewhere = member(&app, 2, "other-admin", Role::Admin).await;
    let (status, _) = as_user(&app, &elsewhere, "POST", &redeliver, &Value::Null).await;
    assert_eq!(status, 404, "another project's admin");
}

#[actix_web::test]
async fn participant_changes_of_the_server_api_reach_subscribers() {
    let app = app_with(|_| {}).await;
    let mut receiver = Receiver::start(0).await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let events = ["participant.added", "participant.removed"];
    create(&app, &admin, json!({"url": receiver.url, "events": events})).await;
    let key = crate::server_users::key(&app, 1, crate::server_users::ALL);
    let call = |method: &'static str, path: String, body: Value| {
        let key = key.clone();
        let app = &app;
        async move {
            app.call(method, &path, Some(("x-api-key", &key)), &body)
                .await
        }
    };
    let mut ids = Vec::new();
    for user in ["ann", "bob"] {
        let (_, view) = call("PUT", format!("/api/v1/server/users/{user}"), json!({})).await;
        ids.push(view["id"].as_i64().unwrap());
    }
    let (status, conversation) = call(
        "POST",
        "/api/v1/server/conversations".into(),
        json!({"participants": ["ann"]}),
    )
    .await;
    assert_eq!(status, 201);
    let id = conversation["id"].as_i64().unwrap();
    let participants = format!("/api/v1/server/conversations/{id}/participants");
    let (status, _) = call(
        "POST",
        participants.clone(),
        json!({"participants": ["bob"]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        "POST",
        participants.clone(),
        json!({"participants": ["bob"]}),
    )
    .await;
    assert_eq!(status, 200, "adding again");
    let (status, _) = call("DELETE", format!("{participants}/bob"), Value::Null).await;
    assert_eq!(status, 200);
    let added = receiver.next().await.json();
    let removed = receiver.next().await.json();
    assert_eq!(
        (&added["type"], &added["data"]),
        (
            &json!("participant.added"),
            &json!({"conversation_id": id, "user_id": ids[1], "role": "member"})
        )
    );
    assert_eq!(
        (&removed["type"], &removed["data"]),
        (
            &json!("participant.removed"),
            &json!({"conversation_id": id, "user_id": ids[1]})
        ),
        "one event per change: none for adding bob again"
    );
}
