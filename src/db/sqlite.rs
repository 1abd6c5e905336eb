//! SQLite specifics: the pragmas every connection gets, WAL, and reads run on tokio's blocking
//! pool through diesel-async's [`SyncConnectionWrapper`].

use std::error::Error;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

/// An async SQLite connection for reads.
pub type SqliteReader = SyncConnectionWrapper<SqliteConnection, ActixBlocking>;

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

/// Pragmas applied to every SQLite connection (write and read pools and the CLI).
#[derive(Debug, Clone)]
pub struct Pragmas {
    /// `busy_timeout`, in milliseconds: how long a connection waits for another's lock.
    pub busy_timeout_ms: u64,
    /// `synchronous` (`NORMAL` or `FULL`).
    pub synchronous: String,
}

impl Pragmas {
    /// The pragmas `database` settings ask for.
    pub fn from_settings(settings: &crate::config::DatabaseSettings) -> Self {
        Self {
            busy_timeout_ms: settings.busy_timeout_ms,
            synchronous: settings.sqlite_synchronous.to_ascii_uppercase(),
        }
    }

    /// Applies them to `conn`.
    ///
    /// # Errors
    /// A pragma failed.
    pub fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = {};",
            self.busy_timeout_ms, self.synchronous
        ))
    }

    /// Opens a reader: the connection, these pragmas, and the blocking-pool wrapper.
    ///
    /// # Errors
    /// The file cannot be opened or a pragma failed.
    pub fn open_reader(
        self,
        path: String,
    ) -> BoxFuture<'static, Result<SqliteReader, diesel::ConnectionError>> {
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = SqliteConnection::establish(&path)?;
                self.apply(&mut conn)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(SyncConnectionWrapper::with_runtime(conn, ActixBlocking))
            })
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?
        }
        .boxed()
    }
}
