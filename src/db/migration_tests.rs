//! Data migrations over data written by the schema before them (issue 13's rooms, issue 15's
//! desk), on the backend the suite runs on.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use super::scratch::ScratchDatabase;
use super::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::db::schema::{conversations, participants};

/// Applies the migrations before the first whose name contains `stop`.
fn migrate_before(conn: &mut DbConnection, stop: &str) {
    match conn {
        DbConnection::Sqlite(c) => loop {
            let pending = c.pending_migrations(SQLITE_MIGRATIONS).unwrap();
            let Some(next) = pending.first() else { break };
            if next.name().to_string().contains(stop) {
                break;
            }
            c.run_next_migration(SQLITE_MIGRATIONS).unwrap();
        },
        DbConnection::Postgres(c) => loop {
            let pending = c.pending_migrations(POSTGRES_MIGRATIONS).unwrap();
            let Some(next) = pending.first() else { break };
            if next.name().to_string().contains(stop) {
                break;
            }
            c.run_next_migration(POSTGRES_MIGRATIONS).unwrap();
        },
    }
}

const BEFORE_ROOMS: &str = "
INSERT INTO users (id, project_id, email, username, role, created_at) VALUES
  (101, 1, 'ann@x.test', 'ann', 'customer', '2026-01-01 00:00:00'),
  (102, 1, 'bob@x.test', 'bob', 'customer', '2026-01-01 00:00:00'),
  (103, 1, 'sam@x.test', 'sam', 'agent', '2026-01-01 00:00:00'),
  (104, 1, 'cid@x.test', 'cid', 'customer', '2026-01-01 00:00:00');
INSERT INTO conversations (id, project_id, kind, created_by, created_at, last_activity_at,
                           participant_count) VALUES
  (201, 1, 'direct', 101, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 2),
  (202, 1, 'direct', 101, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 2),
  (203, 1, 'direct', 102, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 2),
  (204, 1, 'group', 101, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 3),
  (205, 1, 'group', 101, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);
INSERT INTO participants (project_id, conversation_id, user_id, joined_at) VALUES
  (1, 201, 101, '2026-01-01 00:00:00'), (1, 201, 102, '2026-01-01 00:00:00'),
  (1, 202, 101, '2026-01-01 00:00:00'), (1, 202, 103, '2026-01-01 00:00:00'),
  (1, 203, 102, '2026-01-01 00:00:00'), (1, 203, 101, '2026-01-01 00:00:00'),
  (1, 204, 101, '2026-01-01 00:00:00'), (1, 204, 102, '2026-01-01 00:00:00'),
  (1, 204, 104, '2026-01-01 00:00:00'),
  (1, 205, 101, '2026-01-01 00:00:00');
";

#[test]
fn todays_conversations_become_direct_group_or_support_with_owners_and_one_pair_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = ScratchDatabase::new(dir.path(), "parlor.db").unwrap();
    let mut conn = db.connect().unwrap();
    migrate_before(&mut conn, "rooms");
    conn.batch_execute(BEFORE_ROOMS).unwrap();
    super::run_migrations(&mut conn).unwrap();

    let kinds: Vec<(i64, String, Option<String>)> = crate::on_conn!(&mut conn, c => {
        conversations::table
            .order(conversations::id)
            .select((conversations::id, conversations::kind, conversations::direct_key))
            .load(c)
    })
    .unwrap();
    assert_eq!(
        kinds,
        [
            (201, "direct".into(), Some("101:102".into())),
            (202, "support".into(), None),
            (203, "direct".into(), None),
            (204, "group".into(), None),
            (205, "support".into(), None),
        ],
        "a customer with only agents, or alone, is support; the pair's oldest keeps the key"
    );
    let roles: Vec<(i64, i64, String)> = crate::on_conn!(&mut conn, c => {
        participants::table
            .filter(participants::conversation_id.eq(204))
            .order(participants::user_id)
            .select((participants::conversation_id, participants::user_id, participants::role))
            .load(c)
    })
    .unwrap();
    assert_eq!(
        roles,
        [
            (204, 101, "owner".into()),
            (204, 102, "member".into()),
            (204, 104, "member".into())
        ]
    );
}

#[test]
fn messages_stored_before_search_are_found_and_deleted_ones_are_not() {
    use diesel::sql_types::{BigInt, Text};

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }

    let dir = tempfile::tempdir().unwrap();
    let db = ScratchDatabase::new(dir.path(), "parlor.db").unwrap();
    let mut conn = db.connect().unwrap();
    migrate_before(&mut conn, "search");
    conn.batch_execute(BEFORE_ROOMS).unwrap();
    conn.batch_execute(
        "INSERT INTO messages (id, project_id, conversation_id, seq, sender_id, kind, content,
                               created_at, deleted_at) VALUES
           (301, 1, 201, 1, 101, 'text', 'the old platypus', '2026-01-01 00:00:00', NULL),
           (302, 1, 201, 2, 102, 'text', 'platypus again', '2026-01-01 00:00:00', NULL),
           (303, 1, 201, 3, 102, 'text', 'platypus gone', '2026-01-01 00:00:00',
            '2026-01-02 00:00:00');",
    )
    .unwrap();
    super::run_migrations(&mut conn).unwrap();

    let sql = if conn.is_postgres() {
        "SELECT id FROM messages WHERE search @@ websearch_to_tsquery('simple', $1) ORDER BY id"
    } else {
        "SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid"
    };
    let found: Vec<Found> = crate::on_conn!(&mut conn, c => {
        diesel::sql_query(sql).bind::<Text, _>("platypus").load(c)
    })
    .unwrap();
    assert_eq!(found, [Found { id: 301 }, Found { id: 302 }]);
}

#[test]
fn closed_support_conversations_become_resolutions_that_the_desk_metrics_count() {
    use crate::db::schema::desk_events;

    let dir = tempfile::tempdir().unwrap();
    let db = ScratchDatabase::new(dir.path(), "parlor.db").unwrap();
    let mut conn = db.connect().unwrap();
    migrate_before(&mut conn, "desk");
    conn.batch_execute(
        "INSERT INTO users (id, project_id, email, username, role, created_at) VALUES
           (101, 1, 'ann@x.test', 'ann', 'customer', '2026-01-01 00:00:00'),
           (103, 1, 'sam@x.test', 'sam', 'agent', '2026-01-01 00:00:00');
         INSERT INTO conversations (id, project_id, kind, status, created_by, created_at,
                                    closed_at, closed_by, last_activity_at) VALUES
           (201, 1, 'support', 'closed', 101, '2026-01-01 00:00:00', '2026-01-01 01:00:00',
            103, '2026-01-01 01:00:00'),
           (202, 1, 'support', 'open', 101, '2026-01-01 00:00:00', NULL, NULL,
            '2026-01-01 00:00:00'),
           (203, 1, 'group', 'closed', 101, '2026-01-01 00:00:00', '2026-01-01 02:00:00',
            101, '2026-01-01 02:00:00');",
    )
    .unwrap();
    super::run_migrations(&mut conn).unwrap();

    let statuses: Vec<(i64, String, i64)> = crate::on_conn!(&mut conn, c => {
        conversations::table
            .order(conversations::id)
            .select((conversations::id, conversations::status, conversations::resolutions))
            .load(c)
    })
    .unwrap();
    assert_eq!(
        statuses,
        [
            (201, "resolved".into(), 1),
            (202, "open".into(), 0),
            (203, "closed".into(), 0)
        ]
    );
    let events: Vec<(i64, String, f64)> = crate::on_conn!(&mut conn, c => {
        desk_events::table
            .select((desk_events::conversation_id, desk_events::name, desk_events::value_s))
            .load(c)
    })
    .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].0, events[0].1.as_str()), (201, "resolution"));
    assert!((events[0].2 - 3600.0).abs() < 0.01, "{events:?}");
}
