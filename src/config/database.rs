//! `[database]`: where the data lives (SQLite or PostgreSQL), SQLite's pragmas, the pools and
//! group commit.

use serde::Deserialize;

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or a plain file path (relative to the working directory; the folder is
    /// created if missing), or `postgres://USER@HOST:PORT/DB` for PostgreSQL (needed by
    /// several nodes; the database must exist, Parlor creates its tables).
    pub url: String,
    /// SQLite `synchronous` pragma: `normal` survives a process crash, `full` survives power loss.
    pub sqlite_synchronous: String,
    /// The page cache of each SQLite connection (the writer and each reader), in KiB: SQLite's
    /// `cache_size` pragma (as a negative number), 2048 by default as SQLite's own. Memory
    /// grows toward this as the database grows; pages beyond it come from the OS's file cache.
    pub sqlite_cache_kib: u32,
    /// How many KiB of changed pages one write transaction may hold in memory before SQLite
    /// spills them to the WAL mid-transaction: the `cache_spill` pragma (as a negative number,
    /// like `cache_size`), 32768 by default. A group commit that touches many
    /// conversations' index pages keeps them in memory until its commit (docs/BENCHMARKS.md),
    /// and the pages beyond `sqlite_cache_kib` are freed once it commits.
    pub sqlite_spill_kib: u32,
    /// How long a write waits for a lock another connection holds, in milliseconds: SQLite's
    /// `busy_timeout`, PostgreSQL's `lock_timeout` on the writers' connections.
    pub busy_timeout_ms: u64,
    /// Connections in the read pool (async reads on request paths).
    pub read_pool_size: usize,
    /// Writer threads, each with its own connection, on PostgreSQL (SQLite always has one).
    pub writers: usize,
    /// Most messages written in one transaction (group commit); 1 disables batching.
    pub group_commit_max_batch: usize,
    /// How long a lone message waits for company before its batch is written, in
    /// microseconds; 0 writes at once (batches still form while the writer is busy).
    pub group_commit_max_wait_us: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/parlor.db".into(),
            sqlite_synchronous: "normal".into(),
            sqlite_cache_kib: 2048,
            sqlite_spill_kib: 32_768,
            busy_timeout_ms: 5000,
            read_pool_size: 4,
            writers: 4,
            group_commit_max_batch: 256,
            group_commit_max_wait_us: 0,
        }
    }
}
