//! Queries, one module per table family. Functions taking `&mut DbConnection` are writes (run by
//! the DbWriter actors and the CLI, inside [`write_transaction`](crate::db::write_transaction)
//! where they need more than one statement); functions taking `&mut AsyncConn` are async
//! reads. Every query is built with diesel's DSL (or, for the one hot statement, a query
//! fragment with bound parameters): no raw SQL text with backend-specific placeholders, but for
//! full-text search, which each backend spells its own way ([`search`]).

diesel::define_sql_function! {
    /// SQL `lower(text)`, available on every backend (NULL stays NULL).
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

pub mod api_keys;
pub mod bans;
pub mod conversations;
pub mod desk;
pub mod email_tokens;
pub mod extras;
pub mod invites;
pub mod membership;
pub mod messages;
pub mod participants;
pub mod projects;
pub mod room_directory;
mod rooms;
pub mod search;
pub mod server;
pub mod system;
pub mod tokens;
pub mod uploads;
pub mod user_tokens;
pub mod users;
pub mod webhooks;
