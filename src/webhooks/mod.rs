//! Webhooks: a project's events, delivered to its endpoints (docs/SERVER_API.md, *Webhooks*).
//!
//! - [`enqueue`] writes an event into the transactional outbox (`webhook_deliveries`), one row
//!   per enabled endpoint of the project that subscribes to it, **inside the caller's
//!   transaction**: a committed event always has its deliveries, a rolled-back one never does.
//!   The stores of messages (group commit, edits, deletions), conversations (creation,
//!   closing) and users (registration, admin creation, the server API's upsert) call it.
//! - [`worker`] attempts due deliveries (signed POSTs, [`sign`]; or a Telegram message,
//!   [`telegram`]), in order per endpoint, with exponential backoff and jitter for up to
//!   `webhooks.max_age_h`, and disables endpoints that keep failing.
//! - [`target`] checks endpoint URLs (http(s), and no internal address unless
//!   `webhooks.allow_private_targets`).
//! - [`writes`] are the DbWriter messages the endpoints and the worker write through.

pub mod sign;
pub mod target;
pub mod telegram;
pub mod worker;
pub mod writes;

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, QueryDsl};
use serde_json::{Value, json};

use crate::db::models::{MessageRow, NewDelivery, UserRow};
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{DbConnection, DbError, on_conn};
use crate::domain::ProjectId;

/// A message was stored (`data`: the message).
pub const MESSAGE_CREATED: &str = "message.created";
/// A message was edited (`data`: the message after the edit).
pub const MESSAGE_UPDATED: &str = "message.updated";
/// A message was deleted (`data`: the tombstone).
pub const MESSAGE_DELETED: &str = "message.deleted";
/// A conversation was created (`data`: the conversation).
pub const CONVERSATION_CREATED: &str = "conversation.created";
/// A conversation was closed (`data`: `{id, closed_by, closed_at}`).
pub const CONVERSATION_CLOSED: &str = "conversation.closed";
/// A participant joined a conversation (`data`: `{conversation_id, user_id, role}`).
pub const PARTICIPANT_ADDED: &str = "participant.added";
/// A participant left or was removed (`data`: `{conversation_id, user_id}`).
pub const PARTICIPANT_REMOVED: &str = "participant.removed";
/// A participant's member role changed (`data`: `{conversation_id, user_id, role}`).
pub const PARTICIPANT_UPDATED: &str = "participant.updated";
/// A user was created (`data`: the user).
pub const USER_CREATED: &str = "user.created";
/// A support conversation's status changed (`data`: `{id, status, snoozed_until,
/// changed_by}`).
pub const CONVERSATION_STATUS: &str = "conversation.status";
/// A support conversation's assignee changed (`data`: `{id, assignee_id, assigned_by}`).
pub const CONVERSATION_ASSIGNED: &str = "conversation.assigned";
/// An internal note was written (`data`: the note, `private: true`).
pub const NOTE_CREATED: &str = "note.created";
/// A customer rated a resolved conversation (`data`: `{conversation_id, user_id, rating,
/// comment, assignee_id, created_at}`).
pub const CSAT_CREATED: &str = "csat.created";

/// Every event type, in the order the docs list them.
pub const EVENTS: [&str; 13] = [
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    MESSAGE_DELETED,
    CONVERSATION_CREATED,
    CONVERSATION_CLOSED,
    PARTICIPANT_ADDED,
    PARTICIPANT_REMOVED,
    PARTICIPANT_UPDATED,
    USER_CREATED,
    CONVERSATION_STATUS,
    CONVERSATION_ASSIGNED,
    NOTE_CREATED,
    CSAT_CREATED,
];

/// An endpoint that receives signed POSTs.
pub const KIND_HTTP: &str = "http";
/// An endpoint that sends Telegram messages.
pub const KIND_TELEGRAM: &str = "telegram";

/// Delivery states.
pub const PENDING: &str = "pending";
/// Accepted by the endpoint (a 2xx answer).
pub const DELIVERED: &str = "delivered";
/// Still failing `webhooks.max_age_h` after it was queued.
pub const FAILED: &str = "failed";

/// Most endpoints one project may have.
pub const MAX_PER_PROJECT: i64 = 20;

/// Writes `event_type` with `data` into the outbox of `project`: one pending delivery per
/// enabled endpoint that subscribes to it, in the caller's transaction (call it inside one).
/// One indexed query when the project has no endpoint.
///
/// # Errors
/// A query failure, which must roll the caller's transaction back.
pub fn enqueue(
    conn: &mut DbConnection,
    project: ProjectId,
    event_type: &str,
    data: Value,
) -> Result<(), DbError> {
    enqueue_all(conn, project, event_type, vec![data])
}

/// [`enqueue`] for several events of one type, in order (a group commit's messages).
///
/// # Errors
/// A query failure, which must roll the caller's transaction back.
pub fn enqueue_all(
    conn: &mut DbConnection,
    project: ProjectId,
    event_type: &str,
    events: Vec<Value>,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    if events.is_empty() {
        return Ok(());
    }
    let endpoints: Vec<(i64, String)> = on_conn!(conn, c => {
        webhooks::table
            .filter(webhooks::project_id.eq(project))
            .filter(webhooks::enabled.eq(true))
            .select((webhooks::id, webhooks::events))
            .load(c)
    })?;
    let subscribed: Vec<i64> = endpoints
        .into_iter()
        .filter(|(_, events)| events.split_whitespace().any(|e| e == event_type))
        .map(|(id, _)| id)
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let at = crate::db::now();
    let mut rows = Vec::with_capacity(events.len() * subscribed.len());
    for data in events {
        let (event_id, payload) = payload(project, event_type, at, data);
        for &webhook_id in &subscribed {
            rows.push(NewDelivery {
                project_id: project,
                webhook_id,
                event_id: event_id.clone(),
                event_type: event_type.to_string(),
                payload: payload.clone(),
                status: PENDING.into(),
                next_attempt_at: at,
                queued_at: at,
                created_at: at,
            });
        }
    }
    // SQLite caps bound variables per statement (9 columns a row).
    for chunk in rows.chunks(100) {
        on_conn!(conn, c => {
            diesel::insert_into(webhook_deliveries::table)
                .values(chunk)
                .execute(c)
        })?;
    }
    Ok(())
}

/// Writes `event_type` for each of `rows` (stored, edited or deleted messages, possibly of
/// several projects), in their order, into each project's outbox.
///
/// # Errors
/// A query failure, which must roll the caller's transaction back.
pub fn enqueue_messages(
    conn: &mut DbConnection,
    event_type: &str,
    rows: &[MessageRow],
) -> Result<(), DbError> {
    let mut by_project: Vec<(ProjectId, Vec<Value>)> = Vec::new();
    for row in rows {
        let data = message_data(row);
        match by_project.iter_mut().find(|(p, _)| *p == row.project_id) {
            Some((_, events)) => events.push(data),
            None => by_project.push((row.project_id, vec![data])),
        }
    }
    for (project, events) in by_project {
        enqueue_all(conn, project, event_type, events)?;
    }
    Ok(())
}

/// A new event's id and the JSON body every delivery of it carries:
/// `{id, type, created_at, project_id, data}`.
pub fn payload(
    project: ProjectId,
    event_type: &str,
    at: NaiveDateTime,
    data: Value,
) -> (String, String) {
    let id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let body = json!({
        "id": id,
        "type": event_type,
        "created_at": at.and_utc(),
        "project_id": project,
        "data": data,
    });
    (id, body.to_string())
}

/// A message as events carry it: `{id, conversation_id, seq, version, sender_id, kind,
/// content, client_msg_id, created_at, edited_at, deleted_at, attachment_id}`.
pub fn message_data(row: &MessageRow) -> Value {
    json!({
        "id": row.id,
        "conversation_id": row.conversation_id,
        "seq": row.seq,
        "version": row.version,
        "sender_id": row.sender_id,
        "kind": row.kind,
        "content": row.content,
        "client_msg_id": row.client_msg_id,
        "created_at": row.created_at.and_utc(),
        "edited_at": row.edited_at.map(|t| t.and_utc()),
        "deleted_at": row.deleted_at.map(|t| t.and_utc()),
        "attachment_id": row.attachment_id,
        "private": row.private,
    })
}

/// A user as `user.created` carries it: the user view (docs/PROTOCOL.md §4.1) with
/// `external_id` and `metadata`.
pub fn user_data(row: &UserRow) -> Value {
    serde_json::to_value(row.server_view()).unwrap_or(Value::Null)
}

/// Checks a list of event types: each known, at least one; answers them deduplicated, in the
/// order given.
///
/// # Errors
/// `events: ...` naming the first unknown type, or an empty list.
pub fn parse_events(events: &[String]) -> Result<Vec<String>, String> {
    if events.is_empty() {
        return Err("events: at least one event type is needed".into());
    }
    let mut out: Vec<String> = Vec::new();
    for event in events {
        if !EVENTS.contains(&event.as_str()) {
            return Err(format!(
                "events: unknown event type {event:?}; known: {}",
                EVENTS.join(", ")
            ));
        }
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
