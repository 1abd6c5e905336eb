//! Priyo's flow (issue 15), end to end over REST and WebSocket: a customer opens a
//! conversation; it is auto-assigned to Priyo, the online agent; Priyo reads it, writes an
//! internal note, replies with a canned response and resolves it; the customer rates it,
//! writes again later, and it opens again, to Priyo.

use std::time::Duration;

use serde_json::{Value, json};

use super::{agent, as_user, set_availability, set_status, view};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_customer_is_served_noted_answered_resolved_rated_and_comes_back() {
    let app = spawn_app().await;
    let priyo = agent(&app, "priyo").await;
    let mut priyo_ws = app.ws(&priyo).await;
    set_availability(&app, &priyo, "online").await;
    let (code, canned) = as_user(
        &app,
        &priyo,
        "POST",
        "/api/v1/desk/canned",
        json!({"short_code": "thanks", "content": "Thanks for waiting! Your parcel is on its way."}),
    )
    .await;
    assert_eq!(code, 201, "{canned}");

    // The customer opens a conversation: it is queued and given to Priyo at once.
    let customer = app.register("cara").await;
    let mut customer_ws = app.ws(&customer).await;
    let (code, opened) = as_user(
        &app,
        &customer,
        "POST",
        "/api/v1/conversations",
        json!({"participant_ids": [], "kind": "support"}),
    )
    .await;
    assert_eq!(code, 201, "{opened}");
    let id = opened["id"].as_i64().unwrap();
    assert_eq!(opened["assignee_id"], priyo.id);
    let assigned = priyo_ws.recv_type("conversation:assigned").await;
    assert_eq!(assigned["data"]["conversation_id"], id);
    assert_eq!(assigned["data"]["assigned_by"], Value::Null);
    customer_ws.join(id).await;
    let sent = customer_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "Where is my parcel?"}),
        )
        .await;
    assert_eq!(sent["type"], "ack", "{sent}");
    let (_, mine) = as_user(
        &app,
        &priyo,
        "GET",
        "/api/v1/desk/queue?assignee=me",
        Value::Null,
    )
    .await;
    assert_eq!(mine[0]["id"], id, "{mine}");
    assert!(mine[0]["waiting_since"].is_string());

    // Priyo reads it.
    priyo_ws.join(id).await;
    let history = app.history(&priyo, id, "").await;
    assert!(
        history
            .iter()
            .any(|m| m["content"] == "Where is my parcel?")
    );
    let seq = history.last().unwrap()["seq"].as_i64().unwrap();
    let read = priyo_ws
        .call("message:read", json!({"conversation_id": id, "seq": seq}))
        .await;
    assert_eq!(read["type"], "ack", "{read}");

    // An internal note, then the canned answer: the customer gets the answer only.
    let note = priyo_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "Courier says tomorrow", "private": true}),
        )
        .await;
    assert_eq!(note["type"], "ack", "{note}");
    let reply = priyo_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "/thanks"}),
        )
        .await;
    assert_eq!(reply["type"], "ack", "{reply}");
    let answer = loop {
        let frame = customer_ws.recv().await;
        assert_ne!(
            frame["type"], "note:new",
            "a note reached the customer: {frame}"
        );
        if frame["type"] == "message:new" && frame["data"]["message"]["sender_id"] == priyo.id {
            break frame;
        }
    };
    assert_eq!(
        answer["data"]["message"]["content"],
        "Thanks for waiting! Your parcel is on its way."
    );
    assert!(view(&app, &priyo, id).await["first_response_at"].is_string());

    // Resolved; the customer sees it and rates it.
    let (code, resolved) = set_status(&app, &priyo, id, json!({"status": "resolved"})).await;
    assert_eq!(code, 200, "{resolved}");
    let status = customer_ws.recv_type("conversation:status").await;
    assert_eq!(status["data"]["status"], "resolved");
    let (code, rating) = as_user(
        &app,
        &customer,
        "POST",
        &format!("/api/v1/conversations/{id}/csat"),
        json!({"rating": 5, "comment": "Quick and kind"}),
    )
    .await;
    assert_eq!(code, 201, "{rating}");
    let csat = priyo_ws.recv_type("csat").await;
    assert_eq!(csat["data"]["rating"], 5);
    assert_eq!(csat["data"]["assignee_id"], priyo.id);

    // Later the customer writes again: it opens again, still Priyo's.
    let again = customer_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "It arrived, thanks! One more question"}),
        )
        .await;
    assert_eq!(again["type"], "ack", "{again}");
    let reopened = priyo_ws.recv_type("conversation:status").await;
    assert_eq!(reopened["data"]["status"], "open");
    assert_eq!(reopened["data"]["changed_by"], customer.id);
    let now = view(&app, &priyo, id).await;
    assert_eq!(now["status"], "open");
    assert_eq!(now["assignee_id"], priyo.id);
    // The customer never saw the note, live or since.
    let theirs = app.history(&customer, id, "").await;
    assert!(
        theirs
            .iter()
            .all(|m| m["content"] != "Courier says tomorrow")
    );
    customer_ws
        .assert_no("note:new", Duration::from_millis(100))
        .await;
}
