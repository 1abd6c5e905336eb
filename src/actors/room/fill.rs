//! Catching up from the database: what the room's sequencer is missing (a gap that did not
//! fill in `cluster.gap_fill_ms`, a version the sweep saw, a catch-up after a Redis outage) is
//! read as a `since_version` replay would, delivered in order, and, too far behind, replaced
//! by a `resync`.

use std::collections::HashMap;

use actix::prelude::*;

use super::join::replayed;
use super::order::{Applied, Audience, Delivery};
use super::{RoomActor, RoomState, event};
use crate::api::{Extras, Watermarks};
use crate::db::models::MessageRow;
use crate::db::queries::{conversations, extras, messages, participants};
use crate::db::{Database, DbError};
use crate::domain::{
    ConversationId, ConversationStatus, MemberRole, MessageId, ReceiptKind, UserId,
};
use crate::protocol::{ReceiptEvent, ServerFrame};

/// What a read of missing changes found.
struct Read {
    /// The changes: `(version, seq of a new message, row)`.
    rows: Vec<(i64, Option<i64>, MessageRow)>,
    /// Their replies, mentions, reactions (`me` null: every member gets them) and pins.
    extras: HashMap<MessageId, Extras>,
    /// The version they reach.
    through: i64,
    /// The conversation's last seq and status.
    last_seq: i64,
    status: ConversationStatus,
    /// Every participant's watermarks, when asked for (a catch-up after an outage).
    marks: Option<Vec<Watermarks>>,
}

impl RoomActor {
    /// Reads every change after the delivered version from the database and delivers it, as a
    /// `since_version` replay would; then what was held behind it follows. More than
    /// `realtime.max_replay` changes behind, the room starts again from the database's state
    /// and tells its sessions to `resync`.
    pub(super) fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.filling || !matches!(self.state, RoomState::Ready(_)) {
            return;
        }
        if let Some(timer) = self.gap_timer.take() {
            ctx.cancel_future(timer);
        }
        self.filling = true;
        self.in_flight += 1;
        let (db, id) = (self.deps.db.clone(), self.id);
        let after = self.sequencer.version();
        let limit = self.deps.config.max_replay;
        let with_marks = self.catching_up;
        let read = read_changes(db, id, after, limit, with_marks);
        ctx.spawn(read.into_actor(self).map(move |read, room, ctx| {
            room.in_flight -= 1;
            room.filling = false;
            match read {
                Ok(Some(Read {
                    rows,
                    mut extras,
                    through,
                    last_seq,
                    status,
                    marks,
                })) => {
                    let links = room.deps.links.clone();
                    let items = rows
                        .into_iter()
                        .map(|(version, seq, row)| {
                            let more = extras.remove(&row.id).unwrap_or_default();
                            let audience = if row.private {
                                Audience::Staff
                            } else {
                                Audience::All
                            };
                            let frame = event(&replayed(row, more, Some(after), &links));
                            let delivery = Delivery {
                                frame: Some(frame),
                                except: None,
                                ack: None,
                                ack_first: true,
                                audience,
                                effect: Applied::Version { version, seq },
                            };
                            (version, seq, delivery)
                        })
                        .collect();
                    let ready = room.sequencer.fill(items, through);
                    room.deliver(ready, ctx);
                    room.catch_status(status, last_seq, ctx);
                    if let Some(marks) = marks {
                        room.catch_participants(&marks, last_seq, ctx);
                        room.catch_receipts(marks, ctx);
                    }
                    if room.catching_up {
                        if with_marks {
                            room.catching_up = false;
                            room.resync_members(ctx);
                        } else {
                            // A read that started before the catch-up: read again, marks too.
                            room.fill(ctx);
                        }
                    }
                }
                Ok(None) => room.resync(ctx),
                Err(err) => {
                    tracing::warn!(conversation_id = %room.id, error = ?err, "gap fill failed");
                }
            }
            room.watch_gaps(ctx);
        }));
    }

    /// A node is back from a Redis outage: read what was missed (watermarks included), deliver
    /// it, then tell the members to `resync` for what cannot be read back (typing indicators).
    pub(super) fn catch_up(&mut self, ctx: &mut Context<Self>) {
        self.catching_up = true;
        self.fill(ctx);
        if !self.filling {
            // Not loaded yet: nothing was delivered from it, so nothing was missed.
            self.catching_up = false;
            self.resync_members(ctx);
        }
    }

    /// Receipts the room missed (their events lost): announced from the stored watermarks.
    fn catch_receipts(&mut self, marks: Vec<Watermarks>, ctx: &mut Context<Self>) {
        let RoomState::Ready(loaded) = &self.state else {
            return;
        };
        let mut missed = Vec::new();
        for mark in marks {
            let cached = loaded
                .participants
                .get(&mark.user_id)
                .copied()
                .unwrap_or_default();
            if mark.last_delivered_seq > cached.delivered {
                missed.push((
                    mark.user_id,
                    ReceiptKind::Delivered,
                    mark.last_delivered_seq,
                ));
            }
            if mark.last_read_seq > cached.read {
                missed.push((mark.user_id, ReceiptKind::Read, mark.last_read_seq));
            }
        }
        for (user, kind, seq) in missed {
            let data = ReceiptEvent {
                conversation_id: self.id,
                user_id: user,
                seq,
            };
            let frame = event(&match kind {
                ReceiptKind::Delivered => ServerFrame::Delivered { data },
                ReceiptKind::Read => ServerFrame::Read { data },
            });
            let delivery = Delivery {
                frame: Some(frame),
                except: None,
                ack: None,
                ack_first: true,
                audience: Audience::All,
                effect: Applied::Receipt { user, kind, seq },
            };
            self.sequence_after(seq, delivery, ctx);
        }
    }

    /// Participant changes the room missed (their events lost): the stored participants are
    /// those with watermarks.
    fn catch_participants(&mut self, marks: &[Watermarks], last_seq: i64, ctx: &mut Context<Self>) {
        let RoomState::Ready(loaded) = &self.state else {
            return;
        };
        let stored: std::collections::HashSet<UserId> = marks.iter().map(|m| m.user_id).collect();
        let added = stored
            .iter()
            .filter(|u| !loaded.participants.contains_key(u))
            .map(|u| (*u, true));
        let removed = loaded
            .participants
            .keys()
            .filter(|u| !stored.contains(u))
            .map(|u| (*u, false));
        // Roles are not among the watermarks: an added user starts with the kind's.
        let role = crate::domain::joining_role(loaded.kind);
        let missed: Vec<(UserId, Option<MemberRole>)> = added
            .map(|(u, _)| (u, Some(role)))
            .chain(removed.map(|(u, _)| (u, None)))
            .collect();
        for (user_id, role) in missed {
            let delivery = super::membership::delivery(self.id, user_id, role, false, last_seq);
            self.sequence_after(last_seq, delivery, ctx);
        }
    }

    /// A close the room missed (its event lost): learnt from the database.
    fn catch_status(&mut self, status: ConversationStatus, last_seq: i64, ctx: &mut Context<Self>) {
        if status == ConversationStatus::Closed && !self.is_closed() {
            let frame = event(&ServerFrame::ConversationClosed {
                data: crate::protocol::ClosedEvent {
                    conversation_id: self.id,
                    closed_by: None,
                    closed_at: None,
                },
            });
            let delivery = Delivery {
                frame: Some(frame),
                except: None,
                ack: None,
                ack_first: true,
                audience: Audience::All,
                effect: Applied::Closed,
            };
            self.sequence_after(last_seq, delivery, ctx);
        }
    }

    /// Too far behind to catch up by events: start again from the database and have every
    /// member rejoin with `since_seq` ([`RoomActor::resync_members`]).
    fn resync(&mut self, ctx: &mut Context<Self>) {
        self.in_flight += 1;
        let (db, id) = (self.deps.db.clone(), self.id);
        let load = async move {
            let mut conn = db.read().await?;
            conversations::find(&mut conn, id).await
        };
        ctx.spawn(load.into_actor(self).map(|row, room, ctx| {
            room.in_flight -= 1;
            let Ok(Some(row)) = row else {
                return;
            };
            let remnants = room.sequencer.reset(row.version, row.last_seq);
            room.catching_up = false;
            if let RoomState::Ready(loaded) = &mut room.state {
                loaded.version = row.version;
                loaded.last_seq = row.last_seq;
                loaded.status = row.status();
            }
            room.deliver(remnants, ctx);
            room.resync_members(ctx);
        }));
    }
}

/// Reads the changes after version `after` (and every participant's watermarks, `with_marks`):
/// `None` when there are more than `limit`.
async fn read_changes(
    db: Database,
    id: ConversationId,
    after: i64,
    limit: i64,
    with_marks: bool,
) -> Result<Option<Read>, DbError> {
    const PAGE: i64 = 200;
    let mut conn = db.read().await?;
    let Some(conversation) = conversations::find(&mut conn, id).await? else {
        return Ok(Some(Read {
            rows: Vec::new(),
            extras: HashMap::new(),
            through: after,
            last_seq: 0,
            status: ConversationStatus::Open,
            marks: None,
        }));
    };
    let until = conversation.version;
    let mut rows = Vec::new();
    if until > after {
        // Changes in (after, until], by version.
        let mut cursor = after;
        loop {
            let page = messages::changed_since(&mut conn, id, cursor, until, PAGE).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= PAGE;
            for row in page {
                cursor = row.version;
                let seq = (row.created_version > after).then_some(row.seq);
                rows.push((row.version, seq, row));
            }
            if i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit {
                return Ok(None);
            }
            if !full {
                break;
            }
        }
        // Messages stored in (after, until] and changed again since: new to the sessions,
        // ordered by when they were stored; their later change arrives as an event.
        let mut cursor = after;
        loop {
            let page =
                messages::stored_then_changed(&mut conn, id, (after, until), cursor, PAGE).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= PAGE;
            for row in page {
                cursor = row.version;
                rows.push((row.created_version, Some(row.seq), row));
            }
            if i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit {
                return Ok(None);
            }
            if !full {
                break;
            }
        }
    }
    let marks = if with_marks {
        Some(participants::of_conversation(&mut conn, id).await?)
    } else {
        None
    };
    let changed: Vec<MessageRow> = rows.iter().map(|(_, _, row)| row.clone()).collect();
    let mut more = HashMap::new();
    for chunk in changed.chunks(500) {
        more.extend(extras::load(&mut conn, chunk, None).await?);
    }
    Ok(Some(Read {
        rows,
        extras: more,
        through: until.max(after),
        last_seq: conversation.last_seq,
        status: conversation.status(),
        marks,
    }))
}
