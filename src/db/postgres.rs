//! PostgreSQL connections, in pure Rust: diesel-async's [`AsyncPgConnection`] (over
//! tokio-postgres) for reads, and the same connection behind diesel-async's
//! [`AsyncConnectionWrapper`] for the synchronous writers, the CLI and migrations. No libpq.
//!
//! Every connection's socket is driven by one small tokio runtime of its own
//! ([`io_runtime`], thread `parlor-pg-io`), not by the actix worker or the writer thread that
//! happens to open it. A query's future only talks to that background task over channels, so a
//! synchronous caller waits for it with a plain executor ([`Blocking`]) and never needs, or
//! disturbs, a tokio runtime of its own: the writers' threads have none, and the CLI and tests
//! may call from inside one.

use std::future::Future;
use std::sync::OnceLock;

use diesel::ConnectionError;
use diesel_async::AsyncConnection;
use diesel_async::async_connection_wrapper::{AsyncConnectionWrapper, BlockOn};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

pub use diesel_async::AsyncPgConnection;

/// A synchronous PostgreSQL connection: [`AsyncPgConnection`] waited on with [`Blocking`].
/// Open one with [`connect_sync`], never with `Connection::establish`.
pub type PgConnection = AsyncConnectionWrapper<AsyncPgConnection, Blocking>;

/// Waits for a PostgreSQL query on the calling thread with `futures`' executor. The socket work
/// happens on [`io_runtime`], so this neither needs nor starts a tokio runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocking;

impl BlockOn for Blocking {
    fn block_on<F>(&self, f: F) -> F::Output
    where
        F: Future,
    {
        futures_executor::block_on(f)
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// The runtime that drives every PostgreSQL socket of this process (two worker threads named
/// `parlor-pg-io`), started on first use.
///
/// # Errors
/// The runtime could not be started (no threads left).
pub fn io_runtime() -> Result<&'static tokio::runtime::Runtime, ConnectionError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("parlor-pg-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ConnectionError::BadConnection(format!("PostgreSQL I/O runtime: {e}")))
}

/// Opens an [`AsyncPgConnection`] whose socket [`io_runtime`] drives. Usable from any runtime
/// (it is the read pool's connection setup).
///
/// # Errors
/// The server cannot be reached or refuses the connection.
pub fn connect_async(url: &str) -> BoxFuture<'static, Result<AsyncPgConnection, ConnectionError>> {
    let url = url.to_string();
    async move {
        let runtime = io_runtime()?;
        runtime
            .spawn(async move { AsyncPgConnection::establish(&url).await })
            .await
            .map_err(|e| ConnectionError::BadConnection(format!("connection task: {e}")))?
    }
    .boxed()
}

/// Opens a synchronous [`PgConnection`], blocking the calling thread until it is open.
///
/// # Errors
/// As [`connect_async`].
pub fn connect_sync(url: &str) -> Result<PgConnection, ConnectionError> {
    futures_executor::block_on(connect_async(url)).map(PgConnection::from)
}
