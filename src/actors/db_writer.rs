//! `DbWriter`: the only code that writes to the database while the server runs.
//!
//! State: one r2d2 pool handle; each handler checks a connection out for its transaction.
//! Runs on an actix `SyncArbiter` (dedicated OS threads; 1 on SQLite, which has one writer at a
//! time anyway). Handles the typed write messages declared below, each answering
//! `Result<T, DbError>` only after its transaction committed, so callers can acknowledge to
//! clients knowing the data is stored. Senders: the commit queues (message batches), room actors
//! (closes, receipts), the presence registry (last seen), HTTP handlers (users, tokens,
//! conversations, uploads) and the upload sweep. Started by `startup`, stops when every address
//! to it is dropped.

use std::path::PathBuf;

use actix::prelude::*;
use chrono::NaiveDateTime;

use crate::api::ConversationView;
use crate::db::models::{
    ApiKeyRow, ConversationRow, NewApiKey, NewProject, NewRefreshToken, NewUser, ProjectRow,
    UploadRow, UserRow,
};
use crate::db::queries::conversations::NewRoom;
use crate::db::queries::membership::{self, Capacity, Changed, MemberChange};
use crate::db::queries::messages::{Write, Written};
use crate::db::queries::participants::{self, Advanced};
use crate::db::queries::projects::{self, ProjectChange, Removed};
use crate::db::queries::tokens::{self, Revoked, RotateOutcome};
use crate::db::queries::user_tokens::{self, NewUserToken, Revocation};
use crate::db::queries::users::{self, AccountChange, ExternalUser, Upserted};
use crate::db::queries::{api_keys, system};
use crate::db::queries::{conversations, messages};
use crate::db::{DbConnection, DbError, WritePool, write_transaction};
use crate::domain::{ConversationId, ProjectId, ReceiptKind, TokenId, UserId};
use crate::uploads::{PendingUpload, Sweep};

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

/// Revoke every refresh token of a user and move their token generation forward
/// (`/auth/logout-all`).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<(), DbError>")]
pub struct EndUserSessions {
    /// Whose.
    pub user_id: UserId,
    /// Recorded on the revoked tokens.
    pub reason: Revoked,
}

/// Change a user's role or disable them; answers the row and whether their sessions must end.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<(UserRow, bool), DbError>")]
pub struct ChangeAccount {
    /// What to change.
    pub change: AccountChange,
}

/// Create a conversation (a direct one whose pair has one answers that one, `false`).
#[derive(Message, Debug)]
#[rtype(result = "Result<(ConversationView, bool), DbError>")]
pub struct CreateConversation {
    /// What to create.
    pub room: NewRoom,
}

/// Write a group commit (sent by the
/// [`CommitQueue`](crate::actors::commit_queue::CommitQueue)): one result per write, in order;
/// the outer error means the transaction itself failed.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Vec<Result<Written, DbError>>, DbError>")]
pub struct WriteBatch {
    /// What to write, in order.
    pub writes: Vec<Write>,
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
    /// When their last session ended.
    pub at: NaiveDateTime,
}

/// Move a received file into the content-addressed store and record it, within its uploader's
/// quota. On the writer, so it is serialized with [`SweepUploads`], which deletes blobs.
#[derive(Message, Debug)]
#[rtype(result = "Result<UploadRow, DbError>")]
pub struct StoreUpload {
    /// The received file and its row.
    pub upload: PendingUpload,
}

/// Delete uploads never attached to a message, and the blobs nothing references any more.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<usize, DbError>")]
pub struct SweepUploads {
    /// The upload folder.
    pub root: PathBuf,
    /// Uploads older than this are swept.
    pub cutoff: NaiveDateTime,
}

/// Create a project (instance admins).
#[derive(Message, Debug)]
#[rtype(result = "Result<ProjectRow, DbError>")]
pub struct CreateProject {
    /// The validated row.
    pub project: NewProject,
}

/// Change a project's name or self-registration.
#[derive(Message, Debug)]
#[rtype(result = "Result<ProjectRow, DbError>")]
pub struct UpdateProject {
    /// What to change.
    pub change: ProjectChange,
}

/// Delete a project and all its data; answers its users (whose sessions must end) and the
/// files no upload references any more.
#[derive(Message, Debug)]
#[rtype(result = "Result<Removed, DbError>")]
pub struct DeleteProject {
    /// Which.
    pub id: ProjectId,
    /// Its name, as confirmation.
    pub confirm: String,
}

/// Create an API key.
#[derive(Message, Debug)]
#[rtype(result = "Result<ApiKeyRow, DbError>")]
pub struct CreateApiKey {
    /// The row (the key hashed).
    pub key: NewApiKey,
}

/// Revoke an API key of a project.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<(), DbError>")]
pub struct RevokeApiKey {
    /// The project.
    pub project_id: ProjectId,
    /// The key's id.
    pub id: i64,
}

/// Record that an API key was used.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<(), DbError>")]
pub struct TouchApiKey {
    /// The key's id.
    pub id: i64,
    /// When.
    pub at: NaiveDateTime,
}

/// Create or update a user known by the project backend's id.
#[derive(Message, Debug)]
#[rtype(result = "Result<Upserted, DbError>")]
pub struct UpsertExternalUser {
    /// What to set.
    pub user: ExternalUser,
}

/// Deactivate a user known by the project backend's id.
#[derive(Message, Debug)]
#[rtype(result = "Result<UserRow, DbError>")]
pub struct DeactivateExternalUser {
    /// The project.
    pub project_id: ProjectId,
    /// The backend's id.
    pub external_id: String,
}

/// Record a user token minted by the server API.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), DbError>")]
pub struct StoreUserToken {
    /// Its row.
    pub token: NewUserToken,
}

/// Revoke one user token of a project: whose it was, and its id and expiry.
#[derive(Message, Debug)]
#[rtype(result = "Result<(UserId, Revocation), DbError>")]
pub struct RevokeUserToken {
    /// The project.
    pub project_id: ProjectId,
    /// The token.
    pub id: TokenId,
}

/// Revoke every unexpired user token of a user: the ones revoked now.
#[derive(Message, Debug)]
#[rtype(result = "Result<Vec<Revocation>, DbError>")]
pub struct RevokeUserTokens {
    /// Whose.
    pub user_id: UserId,
}

/// The system user of a project, made on first use.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<UserId, DbError>")]
pub struct EnsureSystemUser {
    /// The project.
    pub project_id: ProjectId,
}

/// Add and remove participants of a conversation (sent by its room).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Changed, DbError>")]
pub struct WriteParticipants {
    /// The conversation's project.
    pub project_id: ProjectId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// What to change.
    pub change: MemberChange,
    /// `limits.max_participants` and `limits.max_followers`.
    pub capacity: Capacity,
}

/// Answers once every write queued before it is done (used at shutdown).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Flush;

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

    /// Runs `f` with a pooled connection (the handlers of other modules' writes use it too).
    pub(crate) fn with_conn<T>(
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

/// `impl Handler<$msg> for DbWriter` running `$body` with a pooled connection.
macro_rules! writes {
    ($($msg:ty => |$conn:ident, $m:ident| $body:expr;)*) => {$(
        impl Handler<$msg> for DbWriter {
            type Result = <$msg as Message>::Result;
            fn handle(&mut self, $m: $msg, _: &mut Self::Context) -> Self::Result {
                self.with_conn(|$conn| $body)
            }
        }
    )*};
}

writes! {
    CreateUser => |conn, msg| users::insert(conn, &msg.user);
    StoreRefreshToken => |conn, msg| tokens::insert(conn, &msg.token);
    RotateRefreshToken => |conn, msg| {
        tokens::rotate(conn, &msg.presented_hash, &msg.new_hash, msg.expires_at)
    };
    RevokeRefreshToken => |conn, msg| tokens::revoke(conn, &msg.hash);
    EndUserSessions => |conn, msg| {
        write_transaction(conn, |conn| tokens::end_sessions(conn, msg.user_id, msg.reason))
    };
    ChangeAccount => |conn, msg| users::change_account(conn, &msg.change);
    CreateConversation => |conn, msg| {
        conversations::create(conn, &msg.room)
    };
    WriteBatch => |conn, msg| messages::write_batch(conn, &msg.writes);
    UpdateWatermark => |conn, msg| {
        participants::advance(conn, msg.conversation_id, msg.user_id, msg.kind, msg.seq)
    };
    CloseConversation => |conn, msg| conversations::close(conn, msg.conversation_id, msg.closed_by);
    TouchLastSeen => |conn, msg| users::touch_last_seen(conn, msg.user_id, msg.at);
    StoreUpload => |conn, msg| msg.upload.commit(conn);
    SweepUploads => |conn, msg| Sweep { root: &msg.root, cutoff: msg.cutoff }.run(conn);
    CreateProject => |conn, msg| projects::insert(conn, &msg.project);
    UpdateProject => |conn, msg| projects::update(conn, &msg.change);
    DeleteProject => |conn, msg| projects::delete(conn, msg.id, &msg.confirm);
    CreateApiKey => |conn, msg| api_keys::insert(conn, &msg.key);
    RevokeApiKey => |conn, msg| api_keys::revoke(conn, msg.project_id, msg.id, crate::db::now());
    TouchApiKey => |conn, msg| api_keys::touch(conn, msg.id, msg.at);
    UpsertExternalUser => |conn, msg| users::upsert_external(conn, &msg.user);
    DeactivateExternalUser => |conn, msg| {
        users::deactivate_external(conn, msg.project_id, &msg.external_id)
    };
    StoreUserToken => |conn, msg| user_tokens::insert(conn, &msg.token);
    RevokeUserToken => |conn, msg| user_tokens::revoke(conn, msg.project_id, msg.id);
    RevokeUserTokens => |conn, msg| user_tokens::revoke_user(conn, msg.user_id);
    EnsureSystemUser => |conn, msg| system::ensure(conn, msg.project_id);
    WriteParticipants => |conn, msg| {
        membership::change(conn, msg.project_id, msg.conversation_id, &msg.change, msg.capacity)
    };
}

impl Handler<Flush> for DbWriter {
    type Result = ();
    fn handle(&mut self, _: Flush, _: &mut Self::Context) {}
}
