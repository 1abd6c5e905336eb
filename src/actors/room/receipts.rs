//! Receipts: delivery and read watermarks, only ever moved forward. The room keeps every
//! participant's watermarks, so a receipt that would not move one is answered at once and
//! costs no write.

use actix::prelude::*;

use super::order::{Applied, Audience, Delivery};
use super::{MarkReceipt, Marks, RoomActor, RoomState, event};
use crate::actors::db_writer::UpdateWatermark;
use crate::api::Watermarks;
use crate::cluster::envelope::{Effect, Event};
use crate::db::DbError;
use crate::domain::{ReceiptKind, UserId};
use crate::error::AppError;
use crate::policy::Action;
use crate::protocol::{ReceiptEvent, ServerFrame};

impl RoomActor {
    fn marks(&self, user: UserId) -> Marks {
        match &self.state {
            RoomState::Ready(loaded) => loaded.participants.get(&user).copied().unwrap_or_default(),
            _ => Marks::default(),
        }
    }

    fn watermarks(&self, user: UserId) -> Watermarks {
        let marks = self.marks(user);
        Watermarks {
            conversation_id: self.id,
            user_id: user,
            last_delivered_seq: marks.delivered,
            last_read_seq: marks.read,
        }
    }
}

impl Handler<MarkReceipt> for RoomActor {
    type Result = ResponseActFuture<Self, Result<Watermarks, AppError>>;

    fn handle(&mut self, msg: MarkReceipt, _: &mut Self::Context) -> Self::Result {
        if let Err(err) = self.allow(&msg.actor, Action::Receipt) {
            return Box::pin(fut::ready(Err(err)));
        }
        if msg.seq < 0 {
            let err = AppError::Validation("seq: must not be negative".into());
            return Box::pin(fut::ready(Err(err)));
        }
        let user = msg.actor.user_id;
        // Nothing beyond the last message can have been delivered or read.
        let seq = msg.seq.min(self.last_seq());
        let marks = self.marks(user);
        let moves = match msg.kind {
            ReceiptKind::Delivered => seq > marks.delivered,
            ReceiptKind::Read => seq > marks.read,
        };
        if !moves {
            return Box::pin(fut::ready(Ok(self.watermarks(user))));
        }
        self.in_flight += 1;
        let update = self.deps.writer.send(UpdateWatermark {
            conversation_id: self.id,
            user_id: user,
            kind: msg.kind,
            seq,
        });
        Box::pin(update.into_actor(self).map(move |result, room, ctx| {
            room.in_flight -= 1;
            let outcome = result.map_err(|_| DbError::WriterGone)??;
            let marks = outcome.watermarks;
            if let RoomState::Ready(loaded) = &mut room.state {
                let cached = loaded.participants.entry(user).or_default();
                cached.delivered = cached.delivered.max(marks.last_delivered_seq);
                cached.read = cached.read.max(marks.last_read_seq);
            }
            let seq = match msg.kind {
                ReceiptKind::Delivered => marks.last_delivered_seq,
                ReceiptKind::Read => marks.last_read_seq,
            };
            let announced = room.announced.entry((user, msg.kind)).or_insert(0);
            if outcome.moved && seq > *announced {
                *announced = seq;
                let data = ReceiptEvent {
                    conversation_id: room.id,
                    user_id: user,
                    seq,
                };
                let frame = event(&match msg.kind {
                    ReceiptKind::Delivered => ServerFrame::Delivered { data },
                    ReceiptKind::Read => ServerFrame::Read { data },
                });
                room.publish(
                    Event::After {
                        conversation_id: room.id,
                        seq,
                        effect: Effect::Receipt {
                            user_id: user,
                            receipt: msg.kind,
                            seq,
                        },
                    },
                    &frame,
                );
                let delivery = Delivery {
                    frame: Some(frame),
                    except: msg.session_id,
                    ack: None,
                    ack_first: true,
                    audience: Audience::All,
                    effect: Applied::Receipt {
                        user,
                        kind: msg.kind,
                        seq,
                    },
                };
                room.sequence_after(seq, delivery, ctx);
            }
            Ok(marks)
        }))
    }
}
