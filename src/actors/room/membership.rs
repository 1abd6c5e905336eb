//! Participant changes (server API): written by the writer, then announced after the last
//! message committed before them, like the close, so every node's room updates its participant
//! set at the same point of the conversation. A removed user's sessions get
//! `participant:removed` as their last frame of the room and are detached.

use actix::prelude::*;

use super::order::{Applied, Delivery};
use super::{RoomActor, event};
use crate::actors::db_writer::WriteParticipants;
use crate::cluster::envelope::{Effect, Event};
use crate::db::DbError;
use crate::db::queries::membership::Changed;
use crate::domain::{ProjectId, UserId};
use crate::error::AppError;
use crate::protocol::{ParticipantEvent, ServerFrame};

/// Add and remove participants. The caller (the server API, through the access policy) has
/// checked that the conversation is of `project_id`; the writer checks again. Answers what
/// changed; users already in (or out) change nothing.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Changed, AppError>")]
pub struct ChangeParticipants {
    /// The conversation's project.
    pub project_id: ProjectId,
    /// Who to add (active users of the project).
    pub add: Vec<UserId>,
    /// Who to remove.
    pub remove: Vec<UserId>,
    /// `limits.max_participants`.
    pub max_participants: usize,
}

impl Handler<ChangeParticipants> for RoomActor {
    type Result = ResponseActFuture<Self, Result<Changed, AppError>>;

    fn handle(&mut self, msg: ChangeParticipants, _: &mut Self::Context) -> Self::Result {
        self.in_flight += 1;
        let write = self.deps.writer.send(WriteParticipants {
            project_id: msg.project_id,
            conversation_id: self.id,
            add: msg.add,
            remove: msg.remove,
            max_participants: msg.max_participants,
        });
        Box::pin(write.into_actor(self).map(|result, room, ctx| {
            room.in_flight -= 1;
            let changed = result.map_err(|_| DbError::WriterGone)??;
            let seq = changed.row.last_seq;
            let changes = changed
                .added
                .iter()
                .map(|u| (*u, true))
                .chain(changed.removed.iter().map(|u| (*u, false)));
            for (user_id, added) in changes {
                let data = ParticipantEvent {
                    conversation_id: room.id,
                    user_id,
                    seq,
                };
                let frame = event(&if added {
                    ServerFrame::ParticipantAdded { data }
                } else {
                    ServerFrame::ParticipantRemoved { data }
                });
                room.publish(
                    Event::After {
                        conversation_id: room.id,
                        seq,
                        effect: Effect::Participant { user_id, added },
                    },
                    &frame,
                );
                let delivery = Delivery {
                    frame: Some(frame),
                    except: None,
                    ack: None,
                    ack_first: true,
                    effect: Applied::Participant {
                        user: user_id,
                        added,
                    },
                };
                room.sequence_after(seq, delivery, ctx);
            }
            Ok(changed)
        }))
    }
}
