//! The DbWriter messages of account email (see [`crate::db::queries::email_tokens`]), sent by
//! the account email handlers and handled on the writer threads like every other write.

use actix::prelude::*;
use chrono::NaiveDateTime;

use crate::actors::db_writer::DbWriter;
use crate::db::DbError;
use crate::db::models::{NewEmailToken, UserRow};
use crate::db::queries::email_tokens::{self, Refused};
use crate::domain::UserId;

/// Store a new mailed token, deleting the user's unused ones of its purpose.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), DbError>")]
pub struct IssueEmailToken {
    /// The hashed token row.
    pub token: NewEmailToken,
}

/// Check a verification code; the right one proves the address.
#[derive(Message, Debug)]
#[rtype(result = "Result<Result<UserRow, Refused>, DbError>")]
pub struct CheckCode {
    /// Whose code.
    pub user_id: UserId,
    /// The stored form of the code given.
    pub code_hash: String,
    /// Now (expiry is compared with it).
    pub now: NaiveDateTime,
}

/// Use a reset link and set the password.
#[derive(Message, Debug)]
#[rtype(result = "Result<Result<UserRow, Refused>, DbError>")]
pub struct ResetPassword {
    /// The stored form of the link's token.
    pub token_hash: String,
    /// bcrypt hash of the new password.
    pub password_hash: String,
    /// Now.
    pub now: NaiveDateTime,
}

/// Use an address change link: answers the user and their previous address.
#[derive(Message, Debug)]
#[rtype(result = "Result<Result<(UserRow, Option<String>), Refused>, DbError>")]
pub struct ConfirmEmailChange {
    /// The stored form of the link's token.
    pub token_hash: String,
    /// Now.
    pub now: NaiveDateTime,
}

/// Delete tokens that expired before `cutoff`.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<usize, DbError>")]
pub struct SweepEmailTokens {
    /// Expired before this.
    pub cutoff: NaiveDateTime,
}

impl Handler<IssueEmailToken> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: IssueEmailToken, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| email_tokens::issue(conn, &msg.token))
    }
}

impl Handler<CheckCode> for DbWriter {
    type Result = Result<Result<UserRow, Refused>, DbError>;
    fn handle(&mut self, msg: CheckCode, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            email_tokens::check_code(
                conn,
                msg.user_id,
                &msg.code_hash,
                msg.now,
                super::MAX_CODE_ATTEMPTS,
            )
        })
    }
}

impl Handler<ResetPassword> for DbWriter {
    type Result = Result<Result<UserRow, Refused>, DbError>;
    fn handle(&mut self, msg: ResetPassword, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            email_tokens::reset_password(conn, &msg.token_hash, &msg.password_hash, msg.now)
        })
    }
}

impl Handler<ConfirmEmailChange> for DbWriter {
    type Result = Result<Result<(UserRow, Option<String>), Refused>, DbError>;
    fn handle(&mut self, msg: ConfirmEmailChange, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| email_tokens::change_email(conn, &msg.token_hash, msg.now))
    }
}

impl Handler<SweepEmailTokens> for DbWriter {
    type Result = Result<usize, DbError>;
    fn handle(&mut self, msg: SweepEmailTokens, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| email_tokens::sweep(conn, msg.cutoff))
    }
}

/// How often expired tokens are deleted.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes, every hour, the tokens that expired more than a day ago (used or not): a used or
/// expired token is refused either way, the rows only take space.
pub fn spawn_sweep(writer: Addr<DbWriter>) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            let cutoff = crate::db::now() - chrono::TimeDelta::days(1);
            match writer.send(SweepEmailTokens { cutoff }).await {
                Ok(Ok(n)) if n > 0 => tracing::debug!(deleted = n, "expired email tokens deleted"),
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::warn!(error = ?err, "email token sweep failed"),
                // The writer is gone: the server is stopping.
                Err(_) => return,
            }
        }
    });
}
