// Test-only: every unwrap below runs against an in-memory database built by the test itself;
// a failure there is a failed test, never reachable from a client, the disk or the network.

use diesel::prelude::{ExpressionMethods, QueryDsl};
use proptest::prelude::*;

use super::*;
use crate::auth::Signup;
use crate::db::queries::{conversations as convs, users};
use crate::db::schema::{conversations, messages};
use crate::domain::{ConversationId, DEFAULT_PROJECT, MessageId, Role, UserId};
use crate::policy::Actor;

/// A scratch database (SQLite, or PostgreSQL under `PARLOR_TEST_DATABASE_URL`) with one user
/// and `conversations` conversations of theirs. Fields drop in order: the connection, then the
/// database (a PostgreSQL schema is dropped), then its folder.
struct Fixture {
    conn: DbConnection,
    user: UserId,
    ids: Vec<ConversationId>,
    _db: crate::db::scratch::ScratchDatabase,
    _dir: tempfile::TempDir,
}

/// Fewer cases on PostgreSQL, where each builds a schema of its own.
fn config() -> ProptestConfig {
    let postgres = std::env::var(crate::db::scratch::TEST_DATABASE_URL_VAR)
        .is_ok_and(|url| !url.trim().is_empty());
    ProptestConfig::with_cases(if postgres { 24 } else { 256 })
}

fn database(conversations: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::scratch::ScratchDatabase::new(dir.path(), "parlor.db").unwrap();
    let mut conn = db.connect().unwrap();
    crate::db::run_migrations(&mut conn).unwrap();
    let row = Signup {
        project_id: DEFAULT_PROJECT,
        email: "p@example.com",
        username: "prop",
        password: "password",
        display_name: None,
        role: Role::Customer,
    }
    .into_row(4)
    .unwrap();
    let user = users::insert(&mut conn, &row).unwrap();
    let ids = (0..conversations)
        .map(|_| {
            let room = convs::NewRoom {
                project_id: DEFAULT_PROJECT,
                created_by: user.id,
                participant_ids: vec![user.id],
                kind: crate::domain::ConversationKind::Group,
                title: None,
                description: None,
                visibility: crate::domain::Visibility::Private,
            };
            convs::create(&mut conn, &room).unwrap().0.id
        })
        .collect();
    Fixture {
        conn,
        user: user.id,
        ids,
        _db: db,
        _dir: dir,
    }
}

fn draft(conversation: ConversationId, sender: UserId, i: usize, key: Option<String>) -> Write {
    Write::Insert(MessageDraft {
        system: false,
        project_id: DEFAULT_PROJECT,
        conversation_id: conversation,
        sender_id: sender,
        content: format!("m{i}"),
        client_msg_id: key,
        attachment_id: None,
        reply_to: None,
        online: None,
        private: false,
        desk: None,
        canned: false,
    })
}

proptest! {
    #![proptest_config(config())]

    /// However sends are grouped into batches, interleaved across conversations, retried with
    /// the same client_msg_id or sent to a conversation closed midway, each conversation's
    /// stored seqs are exactly 1..=n, in send order.
    #[test]
    fn seq_stays_gapless_through_group_commit(
        sends in prop::collection::vec((0usize..3, prop::option::of(0u8..8), any::<bool>()), 1..120),
        close_at in prop::option::of(0usize..120),
    ) {
        let Fixture { mut conn, user, ids, _db, _dir } = database(3);
        let mut batch = Vec::new();
        let mut accepted: Vec<Vec<i64>> = vec![Vec::new(); 3];
        for (i, (conversation, key, end_batch)) in sends.iter().enumerate() {
            if close_at == Some(i) {
                convs::close(&mut conn, ids[0], user).unwrap();
            }
            batch.push(draft(ids[*conversation], user, i, key.map(|k| format!("k{k}"))));
            if *end_batch || i + 1 == sends.len() {
                for (write, result) in batch.iter().zip(write_batch(&mut conn, &batch).unwrap()) {
                    let Write::Insert(draft) = write else { unreachable!() };
                    let index = ids.iter().position(|c| *c == draft.conversation_id).unwrap();
                    match result {
                        Ok(Written::Inserted(inserted)) if !inserted.duplicate => {
                            accepted[index].push(inserted.row.seq);
                        }
                        Ok(_) | Err(DbError::ConversationClosed) => {}
                        Err(err) => panic!("{err:?}"),
                    }
                }
                batch.clear();
            }
        }
        use diesel::RunQueryDsl as _;
        for (index, id) in ids.iter().enumerate() {
            let query = messages::table
                .filter(messages::conversation_id.eq(id))
                .select(messages::seq)
                .order(messages::seq);
            let stored: Vec<i64> = crate::on_conn!(&mut conn, c => query.load(c)).unwrap();
            let expected: Vec<i64> = (1..=stored.len() as i64).collect();
            prop_assert_eq!(&stored, &expected);
            prop_assert_eq!(&accepted[index], &expected);
            let query = conversations::table.find(id).select(conversations::last_seq);
            let last: i64 = crate::on_conn!(&mut conn, c => query.first(c)).unwrap();
            prop_assert_eq!(last, stored.len() as i64);
        }
    }

    /// Every store, edit, deletion, reaction and pin moves the conversation's version by
    /// exactly one (those that change something) and
    /// stamps the message with it, in the order the writes were queued, however they are
    /// grouped into batches: versions are unique, and replaying everything above a version
    /// gives exactly the messages changed since.
    #[test]
    fn every_change_moves_the_version_once(
        ops in prop::collection::vec((0u8..5, 0usize..8, any::<bool>()), 1..60),
    ) {
        use diesel::RunQueryDsl as _;
        let Fixture { mut conn, user, ids, _db, _dir } = database(1);
        let actor = Actor { user_id: user, project_id: DEFAULT_PROJECT, role: Role::Customer };
        let mut stored: Vec<MessageId> = Vec::new();
        let mut expected_version = 0;
        let mut changed_at: Vec<(MessageId, i64)> = Vec::new();
        let mut batch = Vec::new();
        let last = ops.len() - 1;
        for (i, (op, target, end_batch)) in ops.into_iter().enumerate() {
            let write = match (op, stored.get(target % stored.len().max(1))) {
                (1, Some(id)) => Write::Change(ChangeDraft {
                    actor, conversation_id: ids[0], message_id: *id, change: Change::Edit(format!("e{i}")),
                    online: None,
                }),
                (2, Some(id)) => Write::Change(ChangeDraft {
                    actor, conversation_id: ids[0], message_id: *id, change: Change::Delete,
                    online: None,
                }),
                (3 | 4, Some(id)) => Write::Annotate(AnnotationDraft {
                    actor, conversation_id: ids[0], message_id: *id,
                    annotation: if op == 3 {
                        Annotation::React { emoji: "👍".into(), add: end_batch }
                    } else {
                        Annotation::Pin { add: end_batch }
                    },
                }),
                _ => draft(ids[0], user, i, None),
            };
            batch.push(write);
            if !end_batch && i != last {
                continue;
            }
            for result in write_batch(&mut conn, &std::mem::take(&mut batch)).unwrap() {
            match result {
                Ok(Written::Inserted(inserted)) => {
                    expected_version += 1;
                    prop_assert_eq!(inserted.row.version, expected_version);
                    prop_assert_eq!(inserted.row.created_version, expected_version);
                    stored.push(inserted.row.id);
                    changed_at.push((inserted.row.id, expected_version));
                }
                Ok(Written::Changed(changed)) if changed.changed => {
                    expected_version += 1;
                    prop_assert_eq!(changed.row.version, expected_version);
                    changed_at.push((changed.row.id, expected_version));
                }
                Ok(Written::Annotated(annotated)) if annotated.changed => {
                    expected_version += 1;
                    prop_assert_eq!(annotated.row.version, expected_version);
                    changed_at.push((annotated.row.id, expected_version));
                }
                // Deleting a deleted message, or editing one, reacting twice, unpinning what is
                // not pinned: nothing moves.
                Ok(Written::Changed(_) | Written::Annotated(_)) | Err(DbError::Denied(_)) => {}
                Err(err) => panic!("{err:?}"),
            }
            }
        }
        let query = conversations::table.find(ids[0]).select(conversations::version);
        let version: i64 = crate::on_conn!(&mut conn, c => query.first(c)).unwrap();
        prop_assert_eq!(version, expected_version);
        // Each message's version is the latest change that touched it.
        for id in &stored {
            let latest = changed_at.iter().rev().find(|(m, _)| m == id).map(|(_, v)| *v).unwrap();
            let query = messages::table.find(id).select(messages::version);
            let row_version: i64 = crate::on_conn!(&mut conn, c => query.first(c)).unwrap();
            prop_assert_eq!(row_version, latest);
        }
    }

    /// Watermarks only move forward, and reading implies delivery.
    #[test]
    fn watermarks_are_monotone(marks in prop::collection::vec((any::<bool>(), 0i64..50), 1..60)) {
        use crate::db::queries::participants::advance;
        use crate::domain::ReceiptKind;
        let Fixture { mut conn, user, ids, _db, _dir } = database(1);
        let (mut delivered, mut read) = (0, 0);
        for (is_read, seq) in marks {
            let kind = if is_read { ReceiptKind::Read } else { ReceiptKind::Delivered };
            let advanced = advance(&mut conn, ids[0], user, kind, seq).unwrap();
            delivered = delivered.max(seq);
            if is_read {
                prop_assert_eq!(advanced.moved, seq > read);
                read = read.max(seq);
            }
            prop_assert_eq!(advanced.watermarks.last_delivered_seq, delivered);
            prop_assert_eq!(advanced.watermarks.last_read_seq, read);
            prop_assert!(advanced.watermarks.last_read_seq <= advanced.watermarks.last_delivered_seq);
        }
    }
}
