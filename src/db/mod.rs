//! Storage: connection pools, embedded migrations, rows and queries, on SQLite or PostgreSQL,
//! chosen at run time by the scheme of `database.url` ([`DatabaseUrl::parse`]).
//!
//! Two pools open the same database:
//! - the **write pool** (r2d2 of synchronous [`DbConnection`]s) belongs to the [`DbWriter`]
//!   actors, which are the only code that writes while the server runs (and the `parlor user
//!   create` CLI, which may run beside a server);
//! - the **read pool** (diesel-async over deadpool, [`ReadConn`]) serves request-path reads
//!   without blocking actix workers: on SQLite each read runs on tokio's blocking pool
//!   ([`sqlite`]), on PostgreSQL natively ([`postgres`], tokio-postgres, no libpq).
//!
//! Every query is written once with diesel's DSL and run through [`on_conn!`] or [`on_read!`],
//! which expand it for both backends, so the compiler checks it against each.
//!
//! [`DbWriter`]: crate::actors::db_writer::DbWriter

mod connection;
mod error;
mod ids;
#[cfg(test)]
mod migration_tests;
pub mod models;
pub mod postgres;
pub mod queries;
pub mod schema;
pub mod scratch;
pub mod sqlite;

pub use connection::{DbConnection, ReadConn, WriteManager, on_conn, on_read};
pub use error::DbError;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseSettings;
use postgres::AsyncPgConnection;
use sqlite::{Checkpointer, Pragmas, SqliteReaders};

/// The write pool owned by the DbWriter actors.
pub type WritePool = r2d2::Pool<WriteManager>;

/// The read pool, one kind per backend.
#[derive(Clone)]
pub enum ReadPool {
    /// SQLite readers.
    Sqlite(deadpool::managed::Pool<SqliteReaders>),
    /// PostgreSQL connections.
    Postgres(Pool<AsyncPgConnection>),
}

/// SQLite migrations, compiled into the binary and run at start (and by `parlor migrate`).
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// PostgreSQL migrations, the same schema in PostgreSQL's dialect.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A parsed `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (`sqlite://PATH` or a plain path).
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgres://` or `postgresql://`, as libpq's connection URIs).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, a plain path, or a `postgres://` /
    /// `postgresql://` URL.
    ///
    /// # Errors
    /// An empty path or an unknown scheme.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            anyhow::bail!("database.url: empty path");
        }
        if path.contains("://") {
            anyhow::bail!("database.url: unknown scheme in {url:?}; use sqlite:// or postgres://");
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The folder for the server's own files (the generated `jwt_secret`): the database's
    /// folder on SQLite, `data` in the working directory on PostgreSQL.
    pub fn data_dir(&self) -> PathBuf {
        match self {
            Self::Sqlite(path) => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
            Self::Postgres(_) => PathBuf::from("data"),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The name of the backend, as `/health` and the logs report it.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Everything storage-related that the application holds.
#[derive(Clone)]
pub struct Database {
    /// The parsed URL.
    pub url: DatabaseUrl,
    /// Pool for the DbWriter actors (and nothing else while the server runs).
    pub write_pool: WritePool,
    /// Pool for async reads.
    pub read_pool: ReadPool,
    /// How many DbWriter threads to start: 1 on SQLite, which writes one transaction at a
    /// time anyway; `database.writers` on PostgreSQL.
    pub writers: usize,
    /// SQLite's background checkpoints, while any clone of this is alive.
    _checkpointer: Option<Checkpointer>,
}

impl Database {
    /// Opens the database, runs pending migrations and builds both pools. On SQLite it creates
    /// the folder and turns WAL on; on PostgreSQL the migrations run under an advisory lock, so
    /// nodes starting together migrate once. Safe to call while another process has the
    /// database open. Blocks the calling thread while it migrates.
    ///
    /// # Errors
    /// Bad URL, unwritable folder, unreachable server, or a failed migration.
    pub fn open(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(&settings.url)?;
        let (manager, read_pool, writers, checkpointer) = match &url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    create_private_dir(parent)
                        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
                }
                let path = sqlite_path(path)?;
                let pragmas = Pragmas::from_settings(settings);
                let readers = SqliteReaders::new(path.clone(), pragmas.clone());
                let read_pool = deadpool::managed::Pool::builder(readers)
                    .max_size(settings.read_pool_size)
                    .build()?;
                let checkpointer = Checkpointer::start(path.clone(), pragmas.clone())?;
                (
                    WriteManager::sqlite(path, Checkpointer::writer_pragmas(&pragmas)),
                    ReadPool::Sqlite(read_pool),
                    1,
                    Some(checkpointer),
                )
            }
            DatabaseUrl::Postgres(server) => {
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                config.custom_setup = Box::new(|url| postgres::connect_async(url));
                let readers = AsyncDieselConnectionManager::new_with_config(server, config);
                let read_pool = Pool::builder(readers)
                    .max_size(settings.read_pool_size)
                    .build()?;
                (
                    WriteManager::postgres(server.clone(), settings.busy_timeout_ms),
                    ReadPool::Postgres(read_pool),
                    settings.writers.max(1),
                    None,
                )
            }
        };

        let mut conn = manager
            .open()
            .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        if let DbConnection::Sqlite(c) = &mut conn {
            // WAL lets readers proceed while the writer commits; the mode is stored in the file.
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
        }
        run_migrations(&mut conn)?;
        drop(conn);

        // r2d2 closes a connection idle for 10 minutes and any connection 30 minutes old, and
        // opens another in its place. Against a server that bounds a client's memory that is
        // housekeeping; an SQLite connection is the file itself, and each reopen parses the
        // schema and refills a page cache in memory freed by the last one, so the server's
        // memory stepped up every 10 minutes (the soak, docs/BENCHMARKS.md). SQLite's
        // connections live as long as the server; PostgreSQL's keep r2d2's defaults.
        let mut write_pool = r2d2::Pool::builder()
            // One connection per writer thread, and a spare so that health checks and the
            // CLI-style helpers never starve a writer.
            .max_size(u32::try_from(writers + 1).unwrap_or(u32::MAX))
            .connection_timeout(Duration::from_secs(10));
        if matches!(url, DatabaseUrl::Sqlite(_)) {
            write_pool = write_pool.idle_timeout(None).max_lifetime(None);
        }
        let write_pool = write_pool.build(manager)?;

        Ok(Self {
            url,
            write_pool,
            read_pool,
            writers,
            _checkpointer: checkpointer,
        })
    }

    /// Checks a read connection out of the pool.
    ///
    /// # Errors
    /// [`DbError::ReadPool`] when no connection can be had.
    pub async fn read(&self) -> Result<ReadConn, DbError> {
        let failed = |e: &dyn std::fmt::Display| DbError::ReadPool(e.to_string());
        match &self.read_pool {
            ReadPool::Sqlite(pool) => pool
                .get()
                .await
                .map(ReadConn::Sqlite)
                .map_err(|e| failed(&e)),
            ReadPool::Postgres(pool) => pool
                .get()
                .await
                .map(|c| ReadConn::Postgres(Box::new(c)))
                .map_err(|e| failed(&e)),
        }
    }
}

/// Opens one synchronous connection to the database `settings` name, set up as the writers'
/// are, without migrating: for the CLI and tools working beside a running server.
///
/// # Errors
/// Bad URL, or the database cannot be opened.
pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<DbConnection> {
    let manager = match DatabaseUrl::parse(&settings.url)? {
        DatabaseUrl::Sqlite(path) => {
            WriteManager::sqlite(sqlite_path(&path)?, Pragmas::from_settings(settings))
        }
        DatabaseUrl::Postgres(server) => WriteManager::postgres(server, settings.busy_timeout_ms),
    };
    manager
        .open()
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))
}

fn sqlite_path(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("database path is not valid UTF-8"))
}

/// Runs `f` in a write transaction, committing when it returns `Ok` and rolling back otherwise.
///
/// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken at the start, so a busy
/// database makes the transaction wait up to `busy_timeout` before anything was read, instead
/// of failing at its first write after reading (a read lock cannot be upgraded while another
/// connection writes). On PostgreSQL it is `BEGIN` (read committed); writes that must
/// serialize take row locks (the seq reservation's `UPDATE`). Every multi-statement write goes
/// through here.
///
/// # Errors
/// `f`'s error, or the transaction's own failure.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Creates `dir` and its missing parents; a folder this creates is private to the server's
/// user (mode 0700 on Unix): it holds the database and the JWT secret.
///
/// # Errors
/// The folder cannot be created.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Applies every pending embedded migration of the connection's backend. On PostgreSQL the
/// run holds a session advisory lock, so nodes that start together migrate one at a time
/// (the second finds nothing left to do). The lock is per schema: deployments (and test runs)
/// in other schemas of the same database migrate without waiting for each other.
///
/// # Errors
/// The first failing migration.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    /// `pg_advisory_lock` key of migrations: "parlor" in ASCII.
    const MIGRATION_LOCK: i64 = 0x7061_726c_6f72;
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
        DbConnection::Postgres(c) => {
            let key = format!("{MIGRATION_LOCK}::bigint # hashtext(current_schema())::bigint");
            c.batch_execute(&format!("SELECT pg_advisory_lock({key})"))?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({key})"))?;
            applied
        }
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// The current time as stored: UTC, truncated to microseconds (the precision every backend
/// keeps).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now();
    let micros = now.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or(now)
        .naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_choose_the_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/parlor.db").ok(),
            Some(DatabaseUrl::Sqlite("data/parlor.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/x.db").ok(),
            Some(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://localhost/x").ok(),
            Some(DatabaseUrl::Postgres("postgres://localhost/x".into()))
        );
        assert!(DatabaseUrl::parse("mysql://localhost/x").is_err());
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/parlor.db")
                .map(|u| u.data_dir())
                .ok(),
            Some(PathBuf::from("data"))
        );
    }
}
