//! API tests: every test starts the real server on port 0 with its own SQLite file and drives it
//! over real HTTP and WebSocket connections.

// A panic in a test is a failed test: unwrap and expect are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod admin_stats;
mod api_keys;
mod auth;
mod cli;
mod cluster;
mod config;
mod conversations;
mod delivery;
mod desk;
mod downloads;
mod durability;
mod edge;
mod edits;
mod email;
mod enumeration;
mod extras_support;
mod files;
mod health;
mod helpers;
mod isolation;
mod limits;
mod membership;
mod mentions;
mod messages;
mod monitoring;
mod openapi;
mod pins;
mod presence;
mod project_settings;
mod projects;
mod reactions;
mod receipts;
mod replay;
mod replies;
mod restart;
mod search;
mod search_queries;
mod server_conversations;
mod server_users;
mod sessions;
mod slow;
mod upload_limits;
mod uploads;
mod user_directory;
mod user_tokens;
mod users;
mod web;
mod webhooks;
mod websocket;
mod widget;
mod ws_client;
