//! Parlor: a realtime chat server.
//!
//! Browsers talk to it over WebSocket, support agents over REST; everything is stored in SQLite
//! (embedded, the default). The code is a set of actors:
//!
//! ```text
//!  browser ──ws──▶ SessionActor ──typed msg──▶ RoomActor ──QueueWrite──▶ CommitQueue ──WriteBatch──▶ DbWriter
//!     ▲               │                          │   ▲        (one per thread)  ◀── results ─┘  (SyncArbiter)
//!     └──frames───Outbox◀─────push(frame)────────┘   └──── Committed (in commit order) ───┘
//!                     │
//!                     └──Connect/Disconnect──▶ PresenceRegistry ──user:status──▶ contacts
//!
//!  agent ──REST──▶ handler ──Close / PostMessage / ChangeMessage──▶ RoomActor ──▶ …as above
//!                     └── reads (history, lists) through the async read pool
//! ```
//!
//! Every "may this user do this here" is asked of [`policy`], by rooms, handlers and the
//! writer alike.
//!
//! Layout, lowest layer first:
//! - [`domain`]: ids, roles and validated values (no actix, no diesel; their OpenAPI schemas
//!   are derived with utoipa).
//! - [`policy`]: the access policy. [`api`]: REST request and response types, with their
//!   OpenAPI schemas.
//!   [`protocol`]: WebSocket frames.
//! - [`db`]: pools, migrations, rows and queries. [`uploads`]: file storage.
//! - [`actors`]: sessions, rooms, presence, the commit queues and database writers.
//! - [`auth`]: tokens, passwords, the server secret. [`http`]: REST handlers and the WebSocket
//!   upgrade; the OpenAPI document and its docs UI ([`http::openapi`]).
//! - [`webhooks`]: the transactional outbox of a project's events and the worker that delivers
//!   them.
//! - [`email`]: account mail (verification codes, reset links, address changes) over SMTP
//!   or into an outbox folder, queued so no request waits for it.
//! - [`cli`], [`config`], [`startup`], [`telemetry`], [`error`]: the process.

pub mod actors;
pub mod api;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod monitor;
pub mod policy;
pub mod project_settings;
pub mod protocol;
pub mod startup;
pub mod stats;
pub mod telemetry;
pub mod uploads;
pub mod webhooks;
