//! SQLite specifics: the pragmas every connection gets, WAL, and reads run on tokio's blocking
//! pool through diesel-async's [`SyncConnectionWrapper`].

use std::error::Error;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use deadpool::managed::{Manager, Metrics, RecycleError, RecycleResult};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

/// An async SQLite connection for reads: diesel-async's [`SyncConnectionWrapper`], which runs
/// each query on tokio's blocking pool, and the count of its queries still running there.
///
/// Dereferences to the wrapper, so diesel-async's query methods take `&mut **reader`.
pub struct SqliteReader {
    conn: SyncConnectionWrapper<SqliteConnection, ActixBlocking>,
    running: Arc<AtomicUsize>,
}

impl Deref for SqliteReader {
    type Target = SyncConnectionWrapper<SqliteConnection, ActixBlocking>;

    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl DerefMut for SqliteReader {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

/// Runs blocking SQLite calls on tokio's blocking pool without ever blocking the caller, and
/// counts those still running.
///
/// diesel-async's default runtime adapter waits for an unfinished query with `block_in_place`
/// when its future is dropped, and `block_in_place` panics on the current-thread runtimes actix
/// uses for every worker. Here a dropped future (a request whose client went away) lets the
/// query finish in the background, and [`SqliteReaders::recycle`] retires the connection
/// instead of handing it out again while that query still holds it: diesel-async panics
/// ("Cannot access shared transaction state") when a connection whose query was cancelled is
/// checked for breakage (diesel-rs/diesel_async#281, open).
pub struct ActixBlocking {
    running: Arc<AtomicUsize>,
}

/// Lowers the running count when the blocking task ends, after the task has dropped its hold
/// on the connection (or panicked).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

impl SpawnBlocking for ActixBlocking {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, Result<R, Box<dyn Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        self.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.running.clone());
        tokio::task::spawn_blocking(move || {
            let _running = running;
            task()
        })
        .map(|joined| joined.map_err(|e| Box::new(e) as Box<dyn Error + Send + Sync>))
        .boxed()
    }

    fn get_runtime() -> Self {
        Self {
            running: Arc::default(),
        }
    }
}

/// The read pool's manager: opens [`SqliteReader`]s with the [`Pragmas`], and recycles one
/// only when no cancelled query still runs on it and its transaction state is sound.
///
/// Unlike diesel-async's own manager it sends no `SELECT 1` before each checkout: the file is
/// local and a failing connection reports its error on its next query.
pub struct SqliteReaders {
    path: String,
    pragmas: Pragmas,
}

impl SqliteReaders {
    /// Readers of the database file at `path`.
    pub fn new(path: String, pragmas: Pragmas) -> Self {
        Self { path, pragmas }
    }
}

impl Manager for SqliteReaders {
    type Type = SqliteReader;
    type Error = diesel::ConnectionError;

    async fn create(&self) -> Result<SqliteReader, diesel::ConnectionError> {
        self.pragmas.clone().open_reader(self.path.clone()).await
    }

    async fn recycle(
        &self,
        reader: &mut SqliteReader,
        _: &Metrics,
    ) -> RecycleResult<diesel::ConnectionError> {
        if reader.running.load(Ordering::Acquire) != 0 {
            return Err(RecycleError::message("a cancelled query still runs on it"));
        }
        if std::thread::panicking() || reader.conn.is_broken() {
            return Err(RecycleError::message("broken connection"));
        }
        Ok(())
    }
}

/// Pragmas applied to every SQLite connection (write and read pools and the CLI).
#[derive(Debug, Clone)]
pub struct Pragmas {
    /// `busy_timeout`, in milliseconds: how long a connection waits for another's lock.
    pub busy_timeout_ms: u64,
    /// `synchronous` (`NORMAL` or `FULL`).
    pub synchronous: String,
    /// `cache_size`, in KiB (`database.sqlite_cache_kib`).
    pub cache_kib: u32,
    /// `cache_spill`, in KiB (`database.sqlite_spill_kib`), given negative as for `cache_size`:
    /// a positive page count is also read as a boolean truncated to its low byte, so 2048 or
    /// 8192 pages would turn spilling off altogether (sqlite3 `pragma.c`, `getSafetyLevel`).
    pub spill_kib: u32,
    /// `wal_autocheckpoint`, in pages, when not SQLite's default (1000).
    pub wal_autocheckpoint: Option<u32>,
}

impl Pragmas {
    /// The pragmas `database` settings ask for.
    pub fn from_settings(settings: &crate::config::DatabaseSettings) -> Self {
        Self {
            busy_timeout_ms: settings.busy_timeout_ms,
            synchronous: settings.sqlite_synchronous.to_ascii_uppercase(),
            cache_kib: settings.sqlite_cache_kib,
            spill_kib: settings.sqlite_spill_kib,
            wal_autocheckpoint: None,
        }
    }

    /// Applies them to `conn`. Statement journals (the undo log of one statement inside a
    /// transaction, needed by every multi-row `INSERT`) stay in memory (`temp_store`), and a
    /// transaction may hold `database.sqlite_spill_kib` of changed pages (32 MiB by default)
    /// before SQLite spills them to the WAL, so a group commit that touches many conversations'
    /// index pages keeps them until its commit (both seen in perf profiles of the `ack`
    /// benchmark, docs/BENCHMARKS.md). Between transactions the page cache shrinks back to
    /// `database.sqlite_cache_kib` (SQLite frees unpinned pages beyond `cache_size`), so a
    /// long-running server's memory does not grow toward the spill size as the file grows.
    ///
    /// # Errors
    /// A pragma failed.
    pub fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; \
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{}; PRAGMA cache_spill = -{};",
            self.busy_timeout_ms, self.synchronous, self.cache_kib, self.spill_kib
        ))?;
        if let Some(pages) = self.wal_autocheckpoint {
            conn.batch_execute(&format!("PRAGMA wal_autocheckpoint = {pages};"))?;
        }
        Ok(())
    }

    /// Opens a reader: the connection, these pragmas, and the blocking-pool wrapper (for
    /// [`SqliteReaders`]).
    ///
    /// # Errors
    /// The file cannot be opened or a pragma failed.
    fn open_reader(
        self,
        path: String,
    ) -> BoxFuture<'static, Result<SqliteReader, diesel::ConnectionError>> {
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = SqliteConnection::establish(&path)?;
                self.apply(&mut conn)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                let running = Arc::new(AtomicUsize::new(0));
                let runtime = ActixBlocking {
                    running: running.clone(),
                };
                Ok(SqliteReader {
                    conn: SyncConnectionWrapper::with_runtime(conn, runtime),
                    running,
                })
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

#[cfg(test)]
mod tests;
