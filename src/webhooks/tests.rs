// Test-only: every unwrap below runs against a scratch database built by the test itself.

use diesel::prelude::{ExpressionMethods, QueryDsl};
use serde_json::json;

use super::*;
use crate::db::models::{DeliveryRow, NewWebhook};
use crate::db::queries::webhooks::deliveries::{self, Attempt, Outcome};
use crate::db::{DbConnection, write_transaction};
use crate::domain::DEFAULT_PROJECT;

/// A migrated scratch database (SQLite, or PostgreSQL under `PARLOR_TEST_DATABASE_URL`) with
/// one endpoint of the default project subscribed to `message.created` and `user.created`.
struct Fixture {
    conn: DbConnection,
    webhook: i64,
    _db: crate::db::scratch::ScratchDatabase,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::scratch::ScratchDatabase::new(dir.path(), "parlor.db").unwrap();
    let mut conn = db.connect().unwrap();
    crate::db::run_migrations(&mut conn).unwrap();
    let row = crate::db::queries::webhooks::insert(
        &mut conn,
        &NewWebhook {
            project_id: DEFAULT_PROJECT,
            kind: KIND_HTTP.into(),
            url: Some("http://127.0.0.1:9/hook".into()),
            secret: "whsec_0123456789abcdef".into(),
            chat_id: None,
            events: format!("{MESSAGE_CREATED} {USER_CREATED}"),
            created_at: crate::db::now(),
        },
    )
    .unwrap();
    Fixture {
        conn,
        webhook: row.id,
        _db: db,
        _dir: dir,
    }
}

fn outbox(conn: &mut DbConnection) -> Vec<DeliveryRow> {
    use diesel::RunQueryDsl as _;
    use diesel::SelectableHelper as _;
    on_conn!(conn, c => {
        webhook_deliveries::table
            .order(webhook_deliveries::id.asc())
            .select(DeliveryRow::as_select())
            .load(c)
    })
    .unwrap()
}

#[test]
fn an_event_whose_transaction_rolls_back_leaves_no_delivery() {
    let mut f = fixture();
    let rolled_back: Result<(), DbError> = write_transaction(&mut f.conn, |conn| {
        enqueue(conn, DEFAULT_PROJECT, MESSAGE_CREATED, json!({"n": 1}))?;
        assert_eq!(outbox(conn).len(), 1, "written inside the transaction");
        Err(DbError::Invalid("the event's own write failed".into()))
    });
    assert!(rolled_back.is_err());
    assert!(outbox(&mut f.conn).is_empty(), "rolled back with the event");

    write_transaction(&mut f.conn, |conn| {
        enqueue(conn, DEFAULT_PROJECT, MESSAGE_CREATED, json!({"n": 2}))
    })
    .unwrap();
    let rows = outbox(&mut f.conn);
    assert_eq!(rows.len(), 1, "committed with the event");
    assert_eq!(rows[0].webhook_id, f.webhook);
    assert_eq!(rows[0].status, PENDING);
    let body: serde_json::Value = serde_json::from_str(&rows[0].payload).unwrap();
    assert_eq!(body["type"], MESSAGE_CREATED);
    assert_eq!(body["id"], rows[0].event_id.as_str());
    assert_eq!(body["project_id"], 1);
    assert_eq!(body["data"], json!({"n": 2}));
}

#[test]
fn only_subscribed_enabled_endpoints_of_the_project_get_a_delivery() {
    let mut f = fixture();
    enqueue(&mut f.conn, DEFAULT_PROJECT, CONVERSATION_CLOSED, json!({})).unwrap();
    enqueue(
        &mut f.conn,
        crate::domain::ProjectId(2),
        MESSAGE_CREATED,
        json!({}),
    )
    .unwrap();
    assert!(outbox(&mut f.conn).is_empty());
    enqueue(&mut f.conn, DEFAULT_PROJECT, USER_CREATED, json!({})).unwrap();
    assert_eq!(outbox(&mut f.conn).len(), 1);
}

#[test]
fn only_the_head_of_an_endpoints_queue_is_claimed_and_failures_disable_it() {
    let mut f = fixture();
    for n in 0..3 {
        enqueue(
            &mut f.conn,
            DEFAULT_PROJECT,
            MESSAGE_CREATED,
            json!({ "n": n }),
        )
        .unwrap();
    }
    let ids: Vec<i64> = outbox(&mut f.conn).iter().map(|r| r.id).collect();
    let now = crate::db::now();
    let lease = now + chrono::TimeDelta::seconds(60);
    let claimed = deliveries::claim(&mut f.conn, now, lease, 10).unwrap();
    assert_eq!(claimed.len(), 1, "one at a time per endpoint");
    assert_eq!(claimed[0].delivery.id, ids[0], "the oldest first");
    assert!(
        deliveries::claim(&mut f.conn, now, lease, 10)
            .unwrap()
            .is_empty(),
        "leased: not claimed again"
    );
    let failure = |id| Attempt {
        delivery_id: id,
        at: crate::db::now(),
        outcome: Outcome::Failed {
            status_code: Some(500),
            error: "the endpoint answered HTTP 500".into(),
        },
        retry_at: crate::db::now(),
        max_age: chrono::TimeDelta::hours(24),
        disable_after: 2,
    };
    deliveries::record(&mut f.conn, &failure(ids[0])).unwrap();
    let later = crate::db::now() + chrono::TimeDelta::seconds(1);
    let again = deliveries::claim(&mut f.conn, later, lease, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].delivery.id, ids[0],
        "a failed head is retried before the rest"
    );
    assert_eq!(again[0].delivery.attempts, 1);
    deliveries::record(&mut f.conn, &failure(ids[0])).unwrap();
    assert!(
        deliveries::claim(&mut f.conn, later, lease, 10)
            .unwrap()
            .is_empty(),
        "disabled after 2 failures in a row"
    );
}

#[test]
fn pruning_removes_finished_deliveries_of_old_events_only() {
    let mut f = fixture();
    for n in 0..3 {
        enqueue(
            &mut f.conn,
            DEFAULT_PROJECT,
            MESSAGE_CREATED,
            json!({ "n": n }),
        )
        .unwrap();
    }
    let ids: Vec<i64> = outbox(&mut f.conn).iter().map(|r| r.id).collect();
    let delivered = Attempt {
        delivery_id: ids[0],
        at: crate::db::now(),
        outcome: Outcome::Delivered {
            status_code: Some(200),
        },
        retry_at: crate::db::now(),
        max_age: chrono::TimeDelta::hours(24),
        disable_after: 0,
    };
    deliveries::record(&mut f.conn, &delivered).unwrap();
    let past = crate::db::now() - chrono::TimeDelta::hours(1);
    assert_eq!(
        deliveries::prune(&mut f.conn, past, 10).unwrap(),
        0,
        "too recent"
    );
    let future = crate::db::now() + chrono::TimeDelta::hours(1);
    assert_eq!(deliveries::prune(&mut f.conn, future, 10).unwrap(), 1);
    let left: Vec<i64> = outbox(&mut f.conn).iter().map(|r| r.id).collect();
    assert_eq!(left, ids[1..].to_vec(), "pending deliveries stay");
}
