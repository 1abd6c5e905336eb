//! The support desk in the room (docs/PROTOCOL.md, *Support desk*): who may post what (notes,
//! a customer's message into a resolved conversation), what a stored message changes in the
//! conversation (the wait, a reopening, announced as `conversation:status`), and the desk's
//! events: `conversation:status` (with `conversation:closed` for a resolution),
//! `conversation:assigned` (also to every session of the assignee) and `csat`.
//!
//! Status and assignee changes are written by the HTTP handlers (and the snooze sweep) through
//! the writer; the room announces them after the last message committed before them
//! ([`DeskAnnounce`]), here and, through Redis, on the other nodes.

use actix::prelude::*;

use super::order::{Applied, Audience, Delivery};
use super::{PostMessage, RoomActor, RoomState, event};
use crate::actors::presence::NotifyUsers;
use crate::cluster::envelope::{Effect, Event};
use crate::db::models::ConversationRow;
use crate::db::queries::desk::DeskTouch;
use crate::domain::{ConversationKind, ConversationStatus, UserId};
use crate::error::AppError;
use crate::policy::{self, Action, DeskAction};
use crate::protocol::{Assigned, ClosedEvent, CsatEvent, ServerFrame, StatusChanged};

/// Something the desk changed, for the room to announce to its sessions.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum DeskAnnounce {
    /// The status changed (written already): `conversation:status`, and `conversation:closed`
    /// for a resolution.
    Status {
        /// The conversation after the change.
        row: ConversationRow,
        /// Who changed it (`None`: the snooze ran out).
        by: Option<UserId>,
    },
    /// The assignee changed (written already): `conversation:assigned`.
    Assigned {
        /// The conversation after the change.
        row: ConversationRow,
        /// Who assigned it (`None`: auto-assignment).
        by: Option<UserId>,
    },
    /// A customer rated it: `csat`.
    Csat {
        /// The rating.
        data: CsatEvent,
        /// The conversation's last seq then.
        seq: i64,
    },
}

impl Handler<DeskAnnounce> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: DeskAnnounce, ctx: &mut Self::Context) {
        match msg {
            DeskAnnounce::Status { row, by } => self.announce_status(&row, by, ctx),
            DeskAnnounce::Assigned { row, by } => {
                let data = Assigned {
                    conversation_id: self.id,
                    assignee_id: row.assignee_id,
                    assigned_by: by,
                };
                let frame = event(&ServerFrame::ConversationAssigned { data });
                let effect = Effect::Assigned {
                    assignee_id: row.assignee_id,
                };
                // The assignee hears of it wherever they are, joined or not.
                let audience = match row.assignee_id {
                    Some(user) => {
                        self.deps.presence.do_send(NotifyUsers {
                            users: vec![user],
                            frame: frame.clone(),
                        });
                        Audience::AllBut(user)
                    }
                    None => Audience::All,
                };
                self.announce(
                    frame,
                    row.last_seq,
                    (effect, Applied::Nothing),
                    audience,
                    ctx,
                );
            }
            DeskAnnounce::Csat { data, seq } => {
                let frame = event(&ServerFrame::Csat { data });
                let effects = (Effect::None, Applied::Nothing);
                self.announce(frame, seq, effects, Audience::All, ctx);
            }
        }
    }
}

impl RoomActor {
    /// Asks the access policy about a send: a note needs [`DeskAction::Note`]; a customer's
    /// message into a resolved support conversation needs `desk.resolved_reply = "reopen"`.
    pub(super) fn allow_post(&self, msg: &PostMessage) -> Result<(), AppError> {
        if msg.private {
            return self.allow(&msg.actor, Action::Desk(DeskAction::Note));
        }
        self.allow(&msg.actor, Action::Post)?;
        let facts = self.facts(Some(msg.actor.user_id))?;
        let reopen = self.deps.config.reopen_resolved;
        Ok(policy::check_resolved_reply(
            msg.actor.role,
            &facts,
            reopen,
        )?)
    }

    /// What `msg`, once stored, changes in a support conversation: a customer's starts the wait
    /// (and may open it again), the team's public answer ends it. Notes and system messages
    /// change nothing.
    pub(super) fn desk_touch(&self, msg: &PostMessage) -> Option<DeskTouch> {
        let loaded = self.loaded().ok()?;
        if loaded.kind != ConversationKind::Support || msg.private || msg.system {
            return None;
        }
        Some(if msg.actor.role.is_staff() {
            DeskTouch::Team
        } else {
            DeskTouch::Customer {
                reopen: self.deps.config.reopen_resolved,
            }
        })
    }

    /// After a customer's message is stored: a `pending`, `snoozed` or (per the setting)
    /// `resolved` conversation was opened again in the same transaction; announce it.
    pub(super) fn desk_posted(&mut self, msg: &PostMessage, ctx: &mut Context<Self>) {
        let Some(DeskTouch::Customer { reopen }) = self.desk_touch(msg) else {
            return;
        };
        let Ok(loaded) = self.loaded() else {
            return;
        };
        let wakes = match loaded.status {
            ConversationStatus::Pending | ConversationStatus::Snoozed => true,
            ConversationStatus::Resolved => reopen,
            ConversationStatus::Open | ConversationStatus::Closed => false,
        };
        if !wakes {
            return;
        }
        let data = StatusChanged {
            conversation_id: self.id,
            status: ConversationStatus::Open,
            snoozed_until: None,
            changed_by: Some(msg.actor.user_id),
            seq: loaded.last_seq,
        };
        let (frame, seq) = (event(&ServerFrame::ConversationStatus { data }), data.seq);
        let effects = (
            Effect::Status {
                status: ConversationStatus::Open,
            },
            Applied::Status(ConversationStatus::Open),
        );
        // Open at once here, so the customer's next message does not announce it again.
        if let RoomState::Ready(loaded) = &mut self.state {
            loaded.status = ConversationStatus::Open;
        }
        self.announce(frame, seq, effects, Audience::All, ctx);
    }

    /// Announces `row`'s status (changed by `by`): `conversation:status`, then
    /// `conversation:closed` for a resolution.
    pub(super) fn announce_status(
        &mut self,
        row: &ConversationRow,
        by: Option<UserId>,
        ctx: &mut Context<Self>,
    ) {
        let status = row.status();
        let data = StatusChanged {
            conversation_id: self.id,
            status,
            snoozed_until: row.snoozed_until.map(|t| t.and_utc()),
            changed_by: by,
            seq: row.last_seq,
        };
        let frame = event(&ServerFrame::ConversationStatus { data });
        let effects = (Effect::Status { status }, Applied::Status(status));
        self.announce(frame, row.last_seq, effects, Audience::All, ctx);
        if status == ConversationStatus::Resolved {
            self.stop_all_typing(ctx);
            let frame = event(&ServerFrame::ConversationClosed {
                data: ClosedEvent {
                    conversation_id: self.id,
                    closed_by: row.closed_by,
                    closed_at: row.closed_at.map(|t| t.and_utc()),
                },
            });
            let effects = (Effect::None, Applied::Nothing);
            self.announce(frame, row.last_seq, effects, Audience::All, ctx);
        }
    }

    /// Publishes `frame` for the other nodes and delivers it here after message `seq`.
    fn announce(
        &mut self,
        frame: bytestring::ByteString,
        seq: i64,
        (effect, applied): (Effect, Applied),
        audience: Audience,
        ctx: &mut Context<Self>,
    ) {
        self.publish(
            Event::After {
                conversation_id: self.id,
                seq,
                effect,
            },
            &frame,
        );
        let delivery = Delivery {
            frame: Some(frame),
            except: None,
            ack: None,
            ack_first: true,
            audience,
            effect: applied,
        };
        self.sequence_after(seq, delivery, ctx);
    }
}
