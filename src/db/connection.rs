//! The connection types every query is written against, one variant per backend, and the two
//! macros that run a query on whichever backend a connection holds.
//!
//! A query is written once with diesel's DSL and expanded for each backend by [`on_conn!`]
//! (synchronous writes) or [`on_read!`] (async reads), so the compiler checks it against both
//! SQLite and PostgreSQL. A query that must differ per backend matches on the variants itself.

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Object;

use super::postgres::{self, AsyncPgConnection, PgConnection};
use super::sqlite::{Pragmas, SqliteReaders};

/// A synchronous connection, for the writers and the CLI.
pub enum DbConnection {
    /// An SQLite file.
    Sqlite(SqliteConnection),
    /// A PostgreSQL server (boxed: it is several times the size of the SQLite connection).
    Postgres(Box<PgConnection>),
}

/// A connection checked out of the read pool.
pub enum ReadConn {
    /// SQLite, each query on tokio's blocking pool.
    Sqlite(deadpool::managed::Object<SqliteReaders>),
    /// PostgreSQL, natively async (boxed, as in [`DbConnection`]).
    Postgres(Box<Object<AsyncPgConnection>>),
}

/// Runs `$body` with `$c` bound to the concrete connection inside `$conn` (a
/// `&mut DbConnection`): `&mut SqliteConnection` or `&mut PgConnection`. The body is
/// type-checked once per backend.
///
/// ```ignore
/// let n: i64 = on_conn!(conn, c => users::table.count().get_result(c))?;
/// ```
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres(boxed) => {
                let $c = &mut **boxed;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the concrete async connection inside `$conn` (a
/// `&mut ReadConn`). The body may `.await`.
#[macro_export]
macro_rules! on_read {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::ReadConn::Sqlite(object) => {
                let $c = &mut ***object;
                $body
            }
            $crate::db::ReadConn::Postgres(object) => {
                let $c = &mut ***object;
                $body
            }
        }
    };
}

pub use crate::{on_conn, on_read};

impl DbConnection {
    /// Runs statements separated by `;` (no results, no binds).
    ///
    /// # Errors
    /// The first failing statement.
    pub fn batch_execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        on_conn!(self, c => c.batch_execute(sql))
    }

    /// Whether this is a PostgreSQL connection.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    fn begin(&mut self) -> diesel::QueryResult<()> {
        match self {
            // `BEGIN IMMEDIATE` (see `write_transaction`); nested calls use savepoints.
            Self::Sqlite(c) => {
                let depth = AnsiTransactionManager::transaction_manager_status_mut(c)
                    .transaction_depth()?;
                if depth.is_none() {
                    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
                } else {
                    AnsiTransactionManager::begin_transaction(c)
                }
            }
            Self::Postgres(c) => {
                <PgConnection as Connection>::TransactionManager::begin_transaction(&mut **c)
            }
        }
    }

    fn commit(&mut self) -> diesel::QueryResult<()> {
        match self {
            Self::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
            Self::Postgres(c) => {
                <PgConnection as Connection>::TransactionManager::commit_transaction(&mut **c)
            }
        }
    }

    fn rollback(&mut self) -> diesel::QueryResult<()> {
        match self {
            Self::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
            Self::Postgres(c) => {
                <PgConnection as Connection>::TransactionManager::rollback_transaction(&mut **c)
            }
        }
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise. On
    /// SQLite the outermost one is `BEGIN IMMEDIATE`; inside another, a savepoint.
    ///
    /// # Errors
    /// `f`'s error, or the transaction's own failure.
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.begin()?;
        match f(self) {
            Ok(value) => match self.commit() {
                Ok(()) => Ok(value),
                Err(err) => {
                    // A failed COMMIT may leave the transaction open (PostgreSQL keeps it
                    // until a ROLLBACK); the commit's error is the one to report.
                    let _ = self.rollback();
                    Err(err.into())
                }
            },
            Err(err) => {
                self.rollback()?;
                Err(err)
            }
        }
    }

    fn is_broken(&mut self) -> bool {
        match self {
            Self::Sqlite(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
            Self::Postgres(c) => {
                <PgConnection as Connection>::TransactionManager::is_broken_transaction_manager(
                    &mut **c,
                )
            }
        }
    }
}

/// Opens [`DbConnection`]s for the write pool (r2d2).
#[derive(Debug, Clone)]
pub struct WriteManager {
    target: Target,
}

#[derive(Debug, Clone)]
enum Target {
    Sqlite { path: String, pragmas: Pragmas },
    Postgres { url: String, lock_timeout_ms: u64 },
}

impl WriteManager {
    /// Connections to the SQLite file at `path`, with `pragmas` applied to each.
    pub(super) fn sqlite(path: String, pragmas: Pragmas) -> Self {
        Self {
            target: Target::Sqlite { path, pragmas },
        }
    }

    /// Connections to the PostgreSQL server at `url`, each waiting at most `lock_timeout_ms`
    /// for a lock another connection holds (as SQLite's `busy_timeout`).
    pub(super) fn postgres(url: String, lock_timeout_ms: u64) -> Self {
        Self {
            target: Target::Postgres {
                url,
                lock_timeout_ms,
            },
        }
    }

    /// Opens one connection, as the pool would.
    ///
    /// # Errors
    /// The database cannot be opened or set up.
    pub fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.target {
            Target::Sqlite { path, pragmas } => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                pragmas.apply(&mut conn).map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Target::Postgres {
                url,
                lock_timeout_ms,
            } => {
                let mut conn = postgres::connect_sync(url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!("SET lock_timeout = {lock_timeout_ms}"))
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgres(Box::new(conn)))
            }
        }
    }
}

impl ManageConnection for WriteManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}
