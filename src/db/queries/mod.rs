//! Queries, one module per table family. Functions taking `&mut DbConnection` are writes (run by
//! the DbWriter actors and the CLI); functions taking `&mut AsyncConn` are async reads.

pub mod conversations;
pub mod messages;
pub mod participants;
pub mod tokens;
pub mod users;
