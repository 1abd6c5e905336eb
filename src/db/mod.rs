//! Storage: connection pools, SQLite pragmas, embedded migrations, rows and queries.
//!
//! Two pools open the same database:
//! - the **write pool** (r2d2, synchronous diesel) belongs to the [`DbWriter`] actors, which are
//!   the only code that writes while the server runs (and the `parlor user create` CLI, which
//!   may run beside a server: SQLite's `busy_timeout` serializes the two);
//! - the **read pool** (diesel-async over deadpool) serves request-path reads without blocking
//!   actix workers. On SQLite each read runs on tokio's blocking pool through
//!   [`SyncConnectionWrapper`] with [`ActixBlocking`].
//!
//! The backend is chosen from the URL scheme ([`DatabaseUrl::parse`]); only SQLite is compiled
//! in today, and every query is written with diesel's DSL against the [`DbConnection`] alias so
//! a PostgreSQL backend can be added without rewriting them.
//!
//! [`DbWriter`]: crate::actors::db_writer::DbWriter

mod error;
mod ids;
pub mod models;
pub mod queries;
pub mod schema;

pub use error::DbError;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::config::DatabaseSettings;

/// The synchronous connection type all queries are written against.
pub type DbConnection = SqliteConnection;
/// The write pool owned by the DbWriter actors.
pub type WritePool = r2d2::Pool<ConnectionManager<DbConnection>>;
/// An async connection for reads.
pub type AsyncConn = SyncConnectionWrapper<DbConnection, ActixBlocking>;
/// The read pool.
pub type ReadPool = Pool<AsyncConn>;
/// A connection checked out of the read pool.
pub type ReadConn = Object<AsyncConn>;

/// Migrations compiled into the binary and run at start (and by `parlor migrate`).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Runs blocking SQLite calls on tokio's blocking pool without ever blocking the caller.
///
/// diesel-async's default runtime adapter waits for an unfinished query with `block_in_place`
/// when its future is dropped, and `block_in_place` panics on the current-thread runtimes actix
/// uses for every worker. Here a dropped future simply lets the query finish in the background;
/// the connection's mutex keeps the next user waiting until it has.
pub struct ActixBlocking;

impl SpawnBlocking for ActixBlocking {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, Result<R, Box<dyn Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        tokio::task::spawn_blocking(task)
            .map(|joined| joined.map_err(|e| Box::new(e) as Box<dyn Error + Send + Sync>))
            .boxed()
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// A parsed `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (`sqlite://PATH` or a plain path).
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH` or a plain path.
    ///
    /// # Errors
    /// `postgres://` and `postgresql://` URLs are refused until the multi-node backend lands;
    /// other schemes are refused as unknown.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            anyhow::bail!(
                "database.url: PostgreSQL is not available in this build yet; use sqlite://PATH"
            );
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            anyhow::bail!("database.url: empty path");
        }
        if path.contains("://") {
            anyhow::bail!("database.url: unknown scheme in {url:?}");
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The folder holding the database file (where `jwt_secret` is kept).
    pub fn data_dir(&self) -> PathBuf {
        match self {
            Self::Sqlite(path) => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }

    fn sqlite_path(&self) -> &Path {
        match self {
            Self::Sqlite(path) => path,
        }
    }
}

/// Pragmas applied to every connection (write and read pools and the CLI).
#[derive(Debug, Clone)]
struct Pragmas {
    busy_timeout_ms: u64,
    synchronous: String,
}

impl Pragmas {
    fn apply(&self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = {};",
            self.busy_timeout_ms, self.synchronous
        ))
    }
}

impl CustomizeConnection<DbConnection, r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        self.apply(conn).map_err(r2d2::Error::QueryError)
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
}

impl Database {
    /// Creates the folder, opens the database in WAL mode, runs pending migrations and builds
    /// both pools. Safe to call while another process has the database open.
    ///
    /// # Errors
    /// Bad URL, unwritable folder, unreadable database, or a failed migration.
    pub fn open(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(&settings.url)?;
        let path = url.sqlite_path().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
        }
        let pragmas = Pragmas {
            busy_timeout_ms: settings.busy_timeout_ms,
            synchronous: settings.sqlite_synchronous.to_ascii_uppercase(),
        };
        let path_str = path
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("database path is not valid UTF-8"))?
            .to_string();

        let mut conn = SqliteConnection::establish(&path_str)?;
        pragmas.apply(&mut conn)?;
        // WAL lets readers proceed while the writer commits; the mode is stored in the file.
        conn.batch_execute("PRAGMA journal_mode = WAL;")?;
        run_migrations(&mut conn)?;
        drop(conn);

        let write_pool = r2d2::Pool::builder()
            // One writer thread on SQLite (one connection each); a spare lets the CLI-style
            // helpers and health checks never starve the writer.
            .max_size(2)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(pragmas.clone()))
            .build(ConnectionManager::<DbConnection>::new(path_str.clone()))?;

        let mut manager_config = ManagerConfig::<AsyncConn>::default();
        let setup_pragmas = pragmas;
        manager_config.custom_setup = Box::new(move |url| {
            let url = url.to_string();
            let pragmas = setup_pragmas.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut conn = SqliteConnection::establish(&url)?;
                    pragmas
                        .apply(&mut conn)
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                    Ok(SyncConnectionWrapper::with_runtime(conn, ActixBlocking))
                })
                .await
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?
            }
            .boxed()
        });
        let manager =
            AsyncDieselConnectionManager::<AsyncConn>::new_with_config(path_str, manager_config);
        let read_pool = Pool::builder(manager)
            .max_size(settings.read_pool_size)
            .build()?;

        Ok(Self {
            url,
            write_pool,
            read_pool,
        })
    }

    /// Checks a read connection out of the pool.
    ///
    /// # Errors
    /// [`DbError::ReadPool`] when no connection can be had.
    pub async fn read(&self) -> Result<ReadConn, DbError> {
        self.read_pool
            .get()
            .await
            .map_err(|e| DbError::ReadPool(e.to_string()))
    }
}

/// Runs `f` in a write transaction, committing when it returns `Ok` and rolling back otherwise.
///
/// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken at the start, so a busy
/// database makes the transaction wait up to `busy_timeout` before anything was read, instead
/// of failing at its first write after reading (a read lock cannot be upgraded while another
/// connection writes). Every multi-statement write goes through here, so a second backend
/// changes this one function.
///
/// # Errors
/// `f`'s error, or the transaction's own failure.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.immediate_transaction(f)
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

/// Applies every pending embedded migration.
///
/// # Errors
/// The first failing migration.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(())
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
        assert!(DatabaseUrl::parse("postgres://localhost/x").is_err());
        assert!(DatabaseUrl::parse("mysql://localhost/x").is_err());
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/parlor.db")
                .map(|u| u.data_dir())
                .ok(),
            Some(PathBuf::from("data"))
        );
    }
}
