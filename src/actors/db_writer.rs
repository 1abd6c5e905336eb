//! `DbWriter`: the only code that writes to the database while the server runs.
//!
//! State: one r2d2 pool handle; each handler checks a connection out for its transaction.
//! Runs on an actix `SyncArbiter` (dedicated OS threads; 1 on SQLite, which has one writer at a
//! time anyway). Handles the typed write messages declared below, each answering
//! `Result<T, DbError>` only after its transaction committed, so callers can acknowledge to
//! clients knowing the data is stored. Senders: the commit queues (message batches), room actors
//! (closes, receipts), the presence
//! registry (last seen) and HTTP handlers (users, tokens, conversations). Started by
//! `startup`, stops when every address to it is dropped.

use actix::prelude::*;
use chrono::NaiveDateTime;

use crate::db::models::{
    ConversationRow, ConversationView, NewRefreshToken, NewUpload, NewUser, UploadRow, UserRow,
};
use crate::db::queries::messages::{Change, Changed, Inserted, MessageDraft};
use crate::db::queries::participants::{self, Advanced, ReceiptKind};
use crate::db::queries::tokens::RotateOutcome;
use crate::db::queries::{conversations, messages, tokens, users};
use crate::db::{DbConnection, WritePool};
use crate::domain::{ConversationId, MessageId, ProjectId, Role, UserId};
use crate::error::DbError;

/// Create a user (register, admin create).
#[derive(Message, Debug)]
#[rtype(result = "Result<UserRow, DbError>")]
pub struct CreateUser {
    /// The validated row.
    pub user: NewUser,
}

/// Store a freshly issued refresh token.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), DbError>")]
pub struct StoreRefreshToken {
    /// The hashed token row.
    pub token: NewRefreshToken,
}

/// Rotate a refresh token (or detect its reuse).
#[derive(Message, Debug)]
#[rtype(result = "Result<RotateOutcome, DbError>")]
pub struct RotateRefreshToken {
    /// Hash of the presented token.
    pub presented_hash: String,
    /// Hash of its replacement.
    pub new_hash: String,
    /// Expiry of the replacement.
    pub expires_at: NaiveDateTime,
}

/// Revoke one refresh token (logout).
#[derive(Message, Debug)]
#[rtype(result = "Result<(), DbError>")]
pub struct RevokeRefreshToken {
    /// Hash of the token.
    pub hash: String,
}

/// Create a conversation with its participants.
#[derive(Message, Debug)]
#[rtype(result = "Result<ConversationView, DbError>")]
pub struct CreateConversation {
    /// Tenant.
    pub project_id: ProjectId,
    /// Creator (included in `participant_ids`).
    pub created_by: UserId,
    /// Deduplicated participants, all existing users of the project.
    pub participant_ids: Vec<UserId>,
    /// Optional title.
    pub title: Option<String>,
}

/// Insert messages, each with the next seq of its conversation, in one transaction (sent by
/// the [`CommitQueue`](crate::actors::commit_queue::CommitQueue)). One result per draft, in
/// order; the outer error means the transaction itself failed.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Vec<Result<Inserted, DbError>>, DbError>")]
pub struct InsertBatch {
    /// What to store, in order.
    pub drafts: Vec<MessageDraft>,
}

/// Move a receipt watermark forward.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<Advanced, DbError>")]
pub struct UpdateWatermark {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Participant.
    pub user_id: UserId,
    /// Which watermark.
    pub kind: ReceiptKind,
    /// The new value (ignored if lower).
    pub seq: i64,
}

/// Edit or delete a message.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Changed, DbError>")]
pub struct ChangeMessage {
    /// Which message.
    pub message_id: MessageId,
    /// Who asks.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// What to do.
    pub change: Change,
}

/// Close a conversation.
#[derive(Message, Debug)]
#[rtype(result = "Result<ConversationRow, DbError>")]
pub struct CloseConversation {
    /// Which.
    pub conversation_id: ConversationId,
    /// The agent or admin closing it.
    pub closed_by: UserId,
}

/// Record when a user's last session ended.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), DbError>")]
pub struct TouchLastSeen {
    /// Who.
    pub user_id: UserId,
    /// When.
    pub at: NaiveDateTime,
}

/// A database writer thread.
pub struct DbWriter {
    /// Shared write pool.
    pool: WritePool,
}

impl DbWriter {
    /// Starts `threads` writer threads over `pool`.
    pub fn start(pool: WritePool, threads: usize) -> Addr<Self> {
        SyncArbiter::start(threads.max(1), move || Self { pool: pool.clone() })
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }
}

impl Actor for DbWriter {
    type Context = SyncContext<Self>;
}

impl Handler<CreateUser> for DbWriter {
    type Result = Result<UserRow, DbError>;
    fn handle(&mut self, msg: CreateUser, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| users::insert(conn, &msg.user))
    }
}

impl Handler<StoreRefreshToken> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: StoreRefreshToken, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| tokens::insert(conn, &msg.token))
    }
}

impl Handler<RotateRefreshToken> for DbWriter {
    type Result = Result<RotateOutcome, DbError>;
    fn handle(&mut self, msg: RotateRefreshToken, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            tokens::rotate(conn, &msg.presented_hash, &msg.new_hash, msg.expires_at)
        })
    }
}

impl Handler<RevokeRefreshToken> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: RevokeRefreshToken, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| tokens::revoke(conn, &msg.hash))
    }
}

impl Handler<CreateConversation> for DbWriter {
    type Result = Result<ConversationView, DbError>;
    fn handle(&mut self, msg: CreateConversation, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            conversations::create(
                conn,
                msg.project_id,
                msg.created_by,
                &msg.participant_ids,
                msg.title,
            )
        })
    }
}

impl Handler<InsertBatch> for DbWriter {
    type Result = Result<Vec<Result<Inserted, DbError>>, DbError>;
    fn handle(&mut self, msg: InsertBatch, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| messages::insert_batch(conn, &msg.drafts))
    }
}

impl Handler<UpdateWatermark> for DbWriter {
    type Result = Result<Advanced, DbError>;
    fn handle(&mut self, msg: UpdateWatermark, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            participants::advance(conn, msg.conversation_id, msg.user_id, msg.kind, msg.seq)
        })
    }
}

impl Handler<ChangeMessage> for DbWriter {
    type Result = Result<Changed, DbError>;
    fn handle(&mut self, msg: ChangeMessage, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            messages::change(conn, msg.message_id, msg.user_id, msg.role, &msg.change)
        })
    }
}

/// Record an upload whose blob is already on disk.
#[derive(Message, Debug)]
#[rtype(result = "Result<UploadRow, DbError>")]
pub struct CreateUpload {
    /// The row.
    pub upload: NewUpload,
}

impl Handler<CreateUpload> for DbWriter {
    type Result = Result<UploadRow, DbError>;
    fn handle(&mut self, msg: CreateUpload, _: &mut Self::Context) -> Self::Result {
        use diesel::RunQueryDsl as _;
        use diesel::SelectableHelper as _;
        self.with_conn(|conn| {
            Ok(diesel::insert_into(crate::db::schema::uploads::table)
                .values(&msg.upload)
                .returning(UploadRow::as_returning())
                .get_result(conn)?)
        })
    }
}

/// Answers once every write queued before it is done (used at shutdown).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Flush;

impl Handler<Flush> for DbWriter {
    type Result = ();
    fn handle(&mut self, _: Flush, _: &mut Self::Context) {}
}

impl Handler<CloseConversation> for DbWriter {
    type Result = Result<ConversationRow, DbError>;
    fn handle(&mut self, msg: CloseConversation, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| conversations::close(conn, msg.conversation_id, msg.closed_by))
    }
}

impl Handler<TouchLastSeen> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: TouchLastSeen, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| users::touch_last_seen(conn, msg.user_id, msg.at))
    }
}
