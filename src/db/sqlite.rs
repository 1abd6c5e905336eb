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
    /// `wal_autocheckpoint`, in pages, when not SQLite's default (1000).
    pub wal_autocheckpoint: Option<u32>,
}

impl Pragmas {
    /// The pragmas `database` settings ask for.
    pub fn from_settings(settings: &crate::config::DatabaseSettings) -> Self {
        Self {
            busy_timeout_ms: settings.busy_timeout_ms,
            synchronous: settings.sqlite_synchronous.to_ascii_uppercase(),
            wal_autocheckpoint: None,
        }
    }

    /// Applies them to `conn`. Statement journals (the undo log of one statement inside a
    /// transaction, needed by every multi-row `INSERT`) stay in memory (`temp_store`), and the
    /// page cache holds 32 MiB instead of 2, so a group commit that touches many conversations'
    /// index pages does not spill them to the WAL before its commit (both seen in perf
    /// profiles of the `ack` benchmark, docs/BENCHMARKS.md).
    ///
    /// # Errors
    /// A pragma failed.
    pub fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; \
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;",
            self.busy_timeout_ms, self.synchronous
        ))?;
        if let Some(pages) = self.wal_autocheckpoint {
            conn.batch_execute(&format!("PRAGMA wal_autocheckpoint = {pages};"))?;
        }
        Ok(())
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

/// How often [`Checkpointer`] copies committed pages from the WAL into the database file.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// WAL size, in pages, past which a writer checkpoints at commit itself: the backstop that
/// bounds the WAL and lets it restart from its beginning (a passive checkpoint from another
/// connection never catches up with a writer that commits without pause).
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 4000;

/// Checkpoints the WAL from a thread of its own, so that the writer's commits do not copy pages
/// into the database file and wait for its `fsync` (a fifth of the writer's time in the `ack`
/// benchmark at 400 conversations, docs/BENCHMARKS.md). Every [`CHECKPOINT_INTERVAL`] it runs
/// `PRAGMA wal_checkpoint(PASSIVE)`, which never blocks the writer or readers; the writers'
/// own `wal_autocheckpoint` ([`WRITER_AUTOCHECKPOINT_PAGES`]) stays as a backstop. The thread
/// ends when the last clone of the handle is dropped.
#[derive(Debug, Clone)]
pub struct Checkpointer {
    _stop: std::sync::Arc<std::sync::mpsc::Sender<()>>,
}

impl Checkpointer {
    /// Starts the thread on a connection of its own to `path`.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn start(path: String, pragmas: Pragmas) -> std::io::Result<Self> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("parlor-checkpoint".into())
            .spawn(move || {
                let mut conn: Option<SqliteConnection> = None;
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_INTERVAL)
                {
                    if conn.is_none() {
                        conn = SqliteConnection::establish(&path)
                            .map_err(|e| tracing::warn!(error = %e, "checkpointer cannot open"))
                            .ok()
                            .and_then(|mut c| pragmas.apply(&mut c).ok().map(|()| c));
                    }
                    if let Some(c) = conn.as_mut()
                        && let Err(err) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                    {
                        tracing::warn!(error = %err, "background checkpoint failed");
                        conn = None;
                    }
                }
            })?;
        Ok(Self {
            _stop: std::sync::Arc::new(stop),
        })
    }

    /// `pragmas` for a writer connection that leaves checkpoints to this thread, but for the
    /// backstop.
    pub fn writer_pragmas(pragmas: &Pragmas) -> Pragmas {
        Pragmas {
            wal_autocheckpoint: Some(WRITER_AUTOCHECKPOINT_PAGES),
            ..pragmas.clone()
        }
    }
}
