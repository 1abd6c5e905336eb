//! Throwaway databases for tests, on either backend.
//!
//! The whole test suite runs on SQLite by default and on PostgreSQL when
//! `PARLOR_TEST_DATABASE_URL` names a server (`postgres://USER@HOST:PORT/DB`; the database must
//! exist). On SQLite a scratch database is a file in the test's folder; on PostgreSQL it is a
//! schema of its own in that database, created empty and dropped with everything in it when the
//! [`ScratchDatabase`] is dropped, so tests run in parallel without seeing each other.

use std::path::Path;

use super::{DbConnection, postgres};

/// The variable naming the PostgreSQL server tests run against.
pub const TEST_DATABASE_URL_VAR: &str = "PARLOR_TEST_DATABASE_URL";

/// A database of a test's own. Its [`url`](Self::url) goes into `database.url`.
#[derive(Debug)]
pub struct ScratchDatabase {
    url: String,
    schema: Option<Schema>,
}

#[derive(Debug)]
struct Schema {
    server: String,
    name: String,
}

impl ScratchDatabase {
    /// A new, empty database: `dir/file` on SQLite, or a fresh schema on the server that
    /// `PARLOR_TEST_DATABASE_URL` names.
    ///
    /// # Errors
    /// The server cannot be reached or the schema cannot be created.
    pub fn new(dir: &Path, file: &str) -> anyhow::Result<Self> {
        match std::env::var(TEST_DATABASE_URL_VAR) {
            Ok(server) if !server.trim().is_empty() => Self::on_postgres(server.trim()),
            _ => Ok(Self {
                url: format!("sqlite://{}", dir.join(file).display()),
                schema: None,
            }),
        }
    }

    /// A fresh schema on the PostgreSQL server at `server`, whatever `PARLOR_TEST_DATABASE_URL`
    /// says (for tests that need PostgreSQL, such as several nodes sharing one database).
    ///
    /// # Errors
    /// As [`ScratchDatabase::new`].
    pub fn on_postgres(server: &str) -> anyhow::Result<Self> {
        let name = format!("parlor_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = postgres::connect_sync(server)
            .map_err(|e| anyhow::anyhow!("{TEST_DATABASE_URL_VAR}: cannot connect: {e}"))?;
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            &format!("CREATE SCHEMA {name}"),
        )?;
        let separator = if server.contains('?') { '&' } else { '?' };
        Ok(Self {
            // Every connection to it finds the schema's tables first (libpq's `options`).
            url: format!("{server}{separator}options=-csearch_path%3D{name}"),
            schema: Some(Schema {
                server: server.to_string(),
                name,
            }),
        })
    }

    /// The `database.url` of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    /// A connection to it, as the CLI opens one (no migrations).
    ///
    /// # Errors
    /// The database cannot be opened.
    pub fn connect(&self) -> anyhow::Result<DbConnection> {
        let settings = crate::config::DatabaseSettings {
            url: self.url.clone(),
            ..Default::default()
        };
        super::connect(&settings)
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let Some(schema) = &self.schema else {
            return;
        };
        let dropped = postgres::connect_sync(&schema.server)
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| {
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    &format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.name),
                )
                .map_err(anyhow::Error::from)
            });
        if let Err(err) = dropped {
            tracing::warn!(schema = %schema.name, error = %err, "scratch schema not dropped");
        }
    }
}
