//! The support desk's writes (issue 15; docs/PROTOCOL.md, *Support desk*), run by the
//! [`DbWriter`] like every write, and the snooze sweep that opens snoozed conversations again
//! when their time comes.

use std::time::Duration;

use actix::prelude::*;

use super::db_writer::DbWriter;
use super::room::DeskAnnounce;
use super::room_registry::{RoomRegistry, send_to_room};
use crate::db::DbError;
use crate::db::models::ConversationRow;
use crate::db::queries::desk::{
    self, CannedChange, CannedRow, CsatRow, LabelChange, LabelRow, StatusChange,
};
use crate::domain::{Availability, ConversationId, ProjectId, UserId};

/// Write a support conversation's status ([`desk::set_status`]): answers its row and whether
/// it changed.
#[derive(Message, Debug)]
#[rtype(result = "Result<(ConversationRow, bool), DbError>")]
pub struct WriteStatus(pub StatusChange);

/// Assign a support conversation ([`desk::assign`]): answers its row and whether it changed.
#[derive(Message, Debug)]
#[rtype(result = "Result<(ConversationRow, bool), DbError>")]
pub struct WriteAssignee {
    /// The caller's project.
    pub project_id: ProjectId,
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// The agent (`None`: unassign).
    pub assignee: Option<UserId>,
    /// Who assigns it.
    pub by: UserId,
}

/// Give a new support conversation to an online agent ([`desk::auto_assign`]): answers its
/// row when it was assigned.
#[derive(Message, Debug)]
#[rtype(result = "Result<Option<ConversationRow>, DbError>")]
pub struct AutoAssign {
    /// Its project.
    pub project_id: ProjectId,
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// `desk.max_open_per_agent`.
    pub max_open: u32,
}

/// Set an agent's availability ([`desk::set_availability`]).
#[derive(Message, Debug)]
#[rtype(result = "Result<(), DbError>")]
pub struct WriteAvailability {
    /// Their project.
    pub project_id: ProjectId,
    /// The agent.
    pub user_id: UserId,
    /// `online`, `busy` or `offline`.
    pub availability: Availability,
}

/// Open the snoozed conversations whose time has come ([`desk::wake_snoozed`]).
#[derive(Message, Debug)]
#[rtype(result = "Result<Vec<ConversationRow>, DbError>")]
pub struct WakeSnoozed;

/// Create, change or delete a canned response of a project ([`desk::write_canned`]): the
/// row made or changed (`None` after a deletion).
#[derive(Message, Debug)]
#[rtype(result = "Result<Option<CannedRow>, DbError>")]
pub struct WriteCanned {
    /// The caller's project: ids of other projects are not found.
    pub project_id: ProjectId,
    /// The agent or admin writing it (`created_by` of a new one).
    pub by: UserId,
    /// What to do.
    pub change: CannedChange,
}

impl Handler<WriteCanned> for DbWriter {
    type Result = Result<Option<CannedRow>, DbError>;
    fn handle(&mut self, msg: WriteCanned, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| desk::write_canned(conn, msg.project_id, msg.by, &msg.change))
    }
}

/// Create, change or delete a label of a project ([`desk::write_label`]): the row made or
/// changed (`None` after a deletion).
#[derive(Message, Debug)]
#[rtype(result = "Result<Option<LabelRow>, DbError>")]
pub struct WriteLabel {
    /// The caller's project: ids of other projects are not found.
    pub project_id: ProjectId,
    /// What to do.
    pub change: LabelChange,
}

impl Handler<WriteLabel> for DbWriter {
    type Result = Result<Option<LabelRow>, DbError>;
    fn handle(&mut self, msg: WriteLabel, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| desk::write_label(conn, msg.project_id, &msg.change))
    }
}

/// Put a label on a support conversation or take it off ([`desk::label_conversation`]):
/// its label titles afterwards, ascending.
#[derive(Message, Debug)]
#[rtype(result = "Result<Vec<String>, DbError>")]
pub struct LabelConversation {
    /// The conversation's project.
    pub project_id: ProjectId,
    /// Which conversation (already authorized).
    pub conversation_id: ConversationId,
    /// The label's title (made when adding one the project lacks).
    pub title: String,
    /// Put on (`true`) or take off.
    pub add: bool,
}

impl Handler<LabelConversation> for DbWriter {
    type Result = Result<Vec<String>, DbError>;
    fn handle(&mut self, msg: LabelConversation, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            desk::label_conversation(
                conn,
                msg.project_id,
                msg.conversation_id,
                &msg.title,
                msg.add,
            )
        })
    }
}

/// Store a customer's rating of a resolved conversation ([`desk::rate`]): the row and the
/// conversation's last seq.
#[derive(Message, Debug)]
#[rtype(result = "Result<(CsatRow, i64), DbError>")]
pub struct Rate {
    /// The conversation's project.
    pub project_id: ProjectId,
    /// Which conversation (already authorized).
    pub conversation_id: ConversationId,
    /// The customer.
    pub user_id: UserId,
    /// 1 to 5.
    pub rating: i32,
    /// At most 1000 characters.
    pub comment: Option<String>,
}

impl Handler<Rate> for DbWriter {
    type Result = Result<(CsatRow, i64), DbError>;
    fn handle(&mut self, msg: Rate, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            desk::rate(
                conn,
                msg.project_id,
                msg.conversation_id,
                msg.user_id,
                msg.rating,
                msg.comment.as_deref(),
            )
        })
    }
}

impl Handler<WriteStatus> for DbWriter {
    type Result = Result<(ConversationRow, bool), DbError>;
    fn handle(&mut self, msg: WriteStatus, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| desk::set_status(conn, &msg.0))
    }
}

impl Handler<WriteAssignee> for DbWriter {
    type Result = Result<(ConversationRow, bool), DbError>;
    fn handle(&mut self, msg: WriteAssignee, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            desk::assign(
                conn,
                msg.project_id,
                msg.conversation_id,
                msg.assignee,
                Some(msg.by),
            )
        })
    }
}

impl Handler<AutoAssign> for DbWriter {
    type Result = Result<Option<ConversationRow>, DbError>;
    fn handle(&mut self, msg: AutoAssign, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            desk::auto_assign(conn, msg.project_id, msg.conversation_id, msg.max_open)
        })
    }
}

impl Handler<WriteAvailability> for DbWriter {
    type Result = Result<(), DbError>;
    fn handle(&mut self, msg: WriteAvailability, _: &mut Self::Context) -> Self::Result {
        self.with_conn(|conn| {
            desk::set_availability(conn, msg.project_id, msg.user_id, msg.availability)
        })
    }
}

impl Handler<WakeSnoozed> for DbWriter {
    type Result = Result<Vec<ConversationRow>, DbError>;
    fn handle(&mut self, _: WakeSnoozed, _: &mut Self::Context) -> Self::Result {
        self.with_conn(desk::wake_snoozed)
    }
}

/// Every `interval`, opens the snoozed conversations whose time has come and has their rooms
/// announce it (`conversation:status`, `changed_by: null`). Every node runs it; the
/// conditional update opens each once.
pub fn spawn_snooze_sweep(writer: Addr<DbWriter>, rooms: Addr<RoomRegistry>, interval: Duration) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            let woken = match writer.send(WakeSnoozed).await {
                Ok(Ok(rows)) => rows,
                Ok(Err(err)) => {
                    tracing::warn!(error = ?err, "snooze sweep failed");
                    continue;
                }
                // The writer is gone: the server is stopping.
                Err(_) => return,
            };
            for row in woken {
                let id = row.id;
                let announce = DeskAnnounce::Status { row, by: None };
                if send_to_room(&rooms, id, announce).await.is_err() {
                    tracing::warn!(conversation_id = %id, "could not announce a woken snooze");
                }
            }
        }
    });
}
