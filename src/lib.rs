//! Parlor: a realtime chat server.
//!
//! Browsers talk to it over WebSocket, support agents over REST; everything is stored in SQLite
//! (embedded, the default). The code is a set of actors:
//!
//! ```text
//!  browser ──ws──▶ SessionActor ──typed msg──▶ RoomActor ──InsertMessage──▶ DbWriter (SyncArbiter)
//!     ▲               │   ▲                      │   │                          │ commit
//!     └──frames───────┘   └──Deliver(bytes)──────┘   └◀────────── Ok(row) ─────┘
//!                     │
//!                     └──Connect/Disconnect──▶ PresenceRegistry ──user:status──▶ contacts
//!
//!  agent ──REST──▶ handler ──Close──▶ RoomActor ──▶ DbWriter ──▶ conversation:closed
//!                     └── reads (history, lists) through the async read pool
//! ```
//!
//! Layout:
//! - [`cli`], [`config`], [`startup`], [`telemetry`], [`error`]: the process.
//! - [`protocol`]: WebSocket frames. [`domain`]: ids and validated values.
//! - [`actors`]: sessions, rooms, presence, the database writers.
//! - [`http`]: REST handlers and the WebSocket upgrade. [`auth`]: tokens and passwords.
//! - [`db`]: pools, migrations, rows and queries.

pub mod actors;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod protocol;
pub mod startup;
pub mod telemetry;
pub mod uploads;
