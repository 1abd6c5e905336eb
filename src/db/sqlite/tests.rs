//! The read pool survives queries whose futures were dropped (a client that went away); the
//! pragmas each connection gets; the write connections live as long as the server.

use std::sync::mpsc;

use diesel::IntoSql;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

use crate::config::DatabaseSettings;
use crate::db::{Database, ReadConn};

#[actix_rt::test]
async fn a_read_cancelled_mid_query_neither_panics_the_next_checkout_nor_blocks_it() {
    let dir = tempfile::tempdir().unwrap();
    let settings = DatabaseSettings {
        url: format!("sqlite://{}", dir.path().join("parlor.db").display()),
        read_pool_size: 1,
        ..DatabaseSettings::default()
    };
    let db = Database::open(&settings).unwrap();

    // A query that runs until the test lets it go, started and then abandoned.
    let (started_tx, started) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let mut conn = db.read().await.unwrap();
    let ReadConn::Sqlite(reader) = &mut conn else {
        panic!("a sqlite:// URL gives SQLite readers")
    };
    let query = reader.spawn_blocking(move |_| {
        started_tx.send(()).ok();
        released.recv().ok();
        Ok(())
    });
    let abandoned = actix_rt::spawn(query);
    started.recv().unwrap();
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());
    drop(conn);

    // The only pooled connection is still held by that query: the next read gets a new one
    // at once (before this fix the pool's breakage check panicked on it).
    let mut conn = db.read().await.unwrap();
    let one: i64 = crate::on_read!(&mut conn, c => {
        diesel::select(1_i64.into_sql::<BigInt>()).get_result(c).await
    })
    .unwrap();
    assert_eq!(one, 1);
    release.send(()).unwrap();
}

#[test]
fn each_connection_caches_the_configured_kib() -> Result<(), Box<dyn std::error::Error>> {
    use diesel::Connection;
    use diesel::sqlite::SqliteConnection;

    #[derive(diesel::QueryableByName)]
    struct CacheSize {
        #[diesel(sql_type = BigInt)]
        cache_size: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct CacheSpill {
        #[diesel(sql_type = BigInt)]
        cache_spill: i64,
    }

    let settings = DatabaseSettings {
        sqlite_cache_kib: 1024,
        sqlite_spill_kib: 8192,
        ..DatabaseSettings::default()
    };
    let mut conn = SqliteConnection::establish(":memory:")?;
    super::Pragmas::from_settings(&settings).apply(&mut conn)?;
    let got: CacheSize =
        diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA cache_size"), &mut conn)?;
    // Negative: KiB rather than pages.
    assert_eq!(got.cache_size, -1024);
    let got: CacheSpill =
        diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA cache_spill"), &mut conn)?;
    // Spilling stays on, its threshold read back in pages: 8 MiB over 4 KiB pages and their
    // headers.
    assert!(
        (1800..=2048).contains(&got.cache_spill),
        "{}",
        got.cache_spill
    );
    Ok(())
}

#[test]
fn sqlite_write_connections_are_never_reaped() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let settings = DatabaseSettings {
        url: format!("sqlite://{}", dir.path().join("parlor.db").display()),
        ..DatabaseSettings::default()
    };
    let db = Database::open(&settings)?;
    // r2d2's defaults would replace an idle connection after 10 minutes and every
    // connection after 30, and each reopen stepped the server's memory up.
    assert_eq!(db.write_pool.idle_timeout(), None);
    assert_eq!(db.write_pool.max_lifetime(), None);
    Ok(())
}
