//! Participant changes: asked of the access policy with the roles the room holds, written by
//! the writer, then announced after the last message committed before them, like the close,
//! so every node's room updates its participant set at the same point of the conversation.
//! A removed (or banned, or leaving) user's sessions get `participant:removed` as their last
//! frame of the room and are detached; they can no longer join, send, type or mark receipts.

use actix::prelude::*;

use super::order::{Applied, Audience, Delivery};
use super::{RoomActor, event};
use crate::actors::db_writer::WriteParticipants;
use crate::cluster::envelope::{Effect, Event};
use crate::db::DbError;
use crate::db::queries::membership::{Capacity, Changed, MemberChange};
use crate::domain::{ConversationId, ConversationKind, MemberRole, ProjectId, UserId};
use crate::error::AppError;
use crate::policy::{Action, Actor as PolicyActor, RoomAction};
use crate::protocol::{ParticipantEvent, ServerFrame};

/// Change a conversation's participants. With `actor`, the room asks the access policy first
/// (add, remove, ban, role, leave; see `policy/rooms.rs`); without, the caller has decided
/// (the server API for its project; joining a public room or by invite, which need the
/// database's bans). The writer checks the project again. Answers what changed; a change that
/// changes nothing (a user already in, or already out) is not an error.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Changed, AppError>")]
pub struct ChangeParticipants {
    /// The conversation's project.
    pub project_id: ProjectId,
    /// Who asks, when the room is to ask the policy.
    pub actor: Option<PolicyActor>,
    /// What to change.
    pub change: MemberChange,
    /// `limits.max_participants` and `limits.max_followers`.
    pub capacity: Capacity,
}

impl RoomActor {
    /// Asks the policy whether `actor` may make `change`, with the roles the room holds, and
    /// completes it: an owner giving `owner` hands the ownership over.
    fn authorize_change(
        &self,
        actor: &PolicyActor,
        change: MemberChange,
    ) -> Result<MemberChange, AppError> {
        let loaded = self.loaded()?;
        let role_of = |u: &UserId| loaded.participants.get(u).map(|m| m.role);
        let allow = |action| self.allow(actor, Action::Room(action));
        match change {
            MemberChange::Add { .. } => allow(RoomAction::AddMembers)?,
            MemberChange::Remove { ref users, ban } => {
                for user in users {
                    match (role_of(user), ban) {
                        (target, Some(_)) => allow(RoomAction::Ban { target })?,
                        (Some(target), None) => allow(RoomAction::Remove { target })?,
                        (None, None) => {}
                    }
                }
            }
            MemberChange::Leave { .. } => allow(RoomAction::Leave)?,
            MemberChange::Unban { .. } => allow(RoomAction::Ban { target: None })?,
            MemberChange::SetRole { user, role, .. } => {
                let target = role_of(&user).ok_or_else(|| AppError::not_found("participant"))?;
                let channel = loaded.kind == ConversationKind::Channel;
                if (role == MemberRole::Follower && !channel)
                    || (role == MemberRole::Member && channel)
                {
                    return Err(AppError::Validation(
                        "role: channels have followers, other conversations members".into(),
                    ));
                }
                allow(RoomAction::SetRole { target, to: role })?;
                let handing_over =
                    role == MemberRole::Owner && role_of(&actor.user_id) == Some(MemberRole::Owner);
                return Ok(MemberChange::SetRole {
                    user,
                    role,
                    transfer_from: handing_over.then_some(actor.user_id),
                });
            }
        }
        Ok(change)
    }
}

/// The frame and cached-state change of one participant change: `role` is the participant's
/// role now (`None`: removed); `updated` tells a role change from an addition.
pub(super) fn delivery(
    conversation_id: ConversationId,
    user_id: UserId,
    role: Option<MemberRole>,
    updated: bool,
    seq: i64,
) -> Delivery {
    let data = ParticipantEvent {
        conversation_id,
        user_id,
        role,
        seq,
    };
    let frame = event(&match (role, updated) {
        (None, _) => ServerFrame::ParticipantRemoved { data },
        (Some(_), false) => ServerFrame::ParticipantAdded { data },
        (Some(_), true) => ServerFrame::ParticipantUpdated { data },
    });
    Delivery {
        frame: Some(frame),
        except: None,
        ack: None,
        ack_first: true,
        audience: Audience::All,
        effect: Applied::Participant {
            user: user_id,
            role,
        },
    }
}

impl Handler<ChangeParticipants> for RoomActor {
    type Result = ResponseActFuture<Self, Result<Changed, AppError>>;

    fn handle(&mut self, msg: ChangeParticipants, _: &mut Self::Context) -> Self::Result {
        let change = match &msg.actor {
            Some(actor) => self.authorize_change(actor, msg.change),
            None => Ok(msg.change),
        };
        let change = match change {
            Ok(change) => change,
            Err(err) => return Box::pin(fut::ready(Err(err))),
        };
        self.in_flight += 1;
        let write = self.deps.writer.send(WriteParticipants {
            project_id: msg.project_id,
            conversation_id: self.id,
            change,
            capacity: msg.capacity,
        });
        Box::pin(write.into_actor(self).map(|result, room, ctx| {
            room.in_flight -= 1;
            let changed = result.map_err(|_| DbError::WriterGone)??;
            let seq = changed.row.last_seq;
            let changes = changed
                .added
                .iter()
                .map(|(u, r)| (*u, Some(*r), false))
                .chain(changed.removed.iter().map(|u| (*u, None, false)))
                .chain(changed.updated.iter().map(|(u, r)| (*u, Some(*r), true)));
            for (user_id, role, updated) in changes {
                let delivery = delivery(room.id, user_id, role, updated, seq);
                if let Some(frame) = &delivery.frame {
                    room.publish(
                        Event::After {
                            conversation_id: room.id,
                            seq,
                            effect: Effect::Participant { user_id, role },
                        },
                        frame,
                    );
                }
                room.sequence_after(seq, delivery, ctx);
            }
            Ok(changed)
        }))
    }
}
