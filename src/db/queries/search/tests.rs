// Test-only: every unwrap below runs against an in-memory database built by the test itself.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{fts5, with_ellipses};
use crate::domain::SearchText;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// An FTS5 table as the migration makes it (without the external content, which changes
/// nothing in how a query is parsed), with a few rows.
fn fts_table() -> SqliteConnection {
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.batch_execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(content, \
         tokenize = 'unicode61 remove_diacritics 2'); \
         INSERT INTO messages_fts (content) VALUES ('Hello Café world'), \
         ('foo-bar \"quoted\" NEAR(x y) col:umn'), ('or and not');",
    )
    .unwrap();
    conn
}

fn count(conn: &mut SqliteConnection, q: &str) -> Result<i64, diesel::result::Error> {
    let text = SearchText::parse(q).unwrap();
    if text.matches_nothing() {
        return Ok(0);
    }
    let rows: Vec<Count> =
        diesel::sql_query("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH ?")
            .bind::<Text, _>(fts5(&text))
            .load(conn)?;
    Ok(rows.first().map_or(0, |r| r.n))
}

#[test]
fn the_bundled_sqlite_has_fts5() {
    #[derive(QueryableByName)]
    struct Used {
        #[diesel(sql_type = BigInt)]
        used: i64,
    }
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    let rows: Vec<Used> =
        diesel::sql_query("SELECT sqlite_compileoption_used('ENABLE_FTS5') AS used")
            .load(&mut conn)
            .unwrap();
    assert_eq!(rows.first().map(|r| r.used), Some(1));
}

#[test]
fn texts_find_what_their_words_say() {
    let mut conn = fts_table();
    for (q, n) in [
        ("hello", 1),
        ("cafe", 1),
        ("CAFÉ world", 1),
        ("hello or quoted", 2),
        ("\"bar quoted\"", 1),
        ("\"quoted bar\"", 0),
        ("world -hello", 0),
        ("NEAR(x", 1),
        ("col:umn", 1),
        ("or", 0),
        ("\"or\" and not", 1),
        ("(", 0),
    ] {
        assert_eq!(count(&mut conn, q).unwrap(), n, "{q}");
    }
}

/// The quoting is safe whatever is typed: every text is a valid FTS5 query.
#[test]
fn no_text_is_an_fts5_syntax_error() {
    let conn = std::cell::RefCell::new(fts_table());
    let mut runner = TestRunner::new(Config::with_cases(3000));
    let strategy = prop_oneof!["\\PC{1,40}", "[\"*()^:+\\-\\\\ NEAROTDn]{1,40}"];
    runner
        .run(&strategy, |q| {
            if !q.trim().is_empty() {
                prop_assert!(count(&mut conn.borrow_mut(), &q).is_ok(), "{}", q);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn postgres_headlines_get_ellipses_where_they_cut() {
    let content = "one two \u{2}three\u{3} four five";
    assert_eq!(
        with_ellipses("two \u{2}three\u{3} four", "one two three four five"),
        "…two \u{2}three\u{3} four…"
    );
    assert_eq!(with_ellipses(content, "one two three four five"), content);
    assert_eq!(with_ellipses("", "x"), "");
}
